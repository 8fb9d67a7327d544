//! The resource API twice in one process, for `cargo xtask bench`: guarded
//! under `/` exactly as `resource_api` serves it, and unguarded under
//! `/open`, so the guard's cost is measured against the same handlers on
//! the same server. Never deploy this: `/open` has no guard.
//!
//! Same arguments and environment as `resource_api`.

#[path = "resource_api/api.rs"]
mod api;

use actix_web::{App, HttpServer, web};
use bearer_guard::BearerGuard;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"));
    let bind: std::net::SocketAddr = env("RESOURCE_BIND")?.parse()?;
    let guard = BearerGuard::introspection(
        &env("OAUTH_ISSUER")?,
        &env("RESOURCE_CLIENT_ID")?,
        &env("RESOURCE_CLIENT_SECRET")?,
    )?;
    let projects = web::Data::new(api::Projects::default());
    HttpServer::new(move || {
        App::new()
            .app_data(projects.clone())
            .configure(|cfg| api::routes(cfg, Some(&guard)))
            .service(web::scope("/open").configure(|cfg| api::routes(cfg, None)))
    })
    .bind(bind)?
    .run()
    .await?;
    Ok(())
}
