//! A Frappe-like REST API guarded by bearer-guard: the template to copy.
//!
//! ```sh
//! cargo run -p bearer-guard --example resource_api -- \
//!     --bind 127.0.0.1:8001 --issuer http://127.0.0.1:8000 \
//!     --client-id RESOURCE_CLIENT --client-secret RESOURCE_SECRET
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/api/resource/Project
//! ```
//!
//! Tokens are checked by introspection at the issuer, with the resource
//! server's own confidential client (`oauthctl client add --name api
//! --redirect-uri … --confidential`).

mod api;

use actix_web::{App, HttpServer, web};
use bearer_guard::BearerGuard;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "A Frappe-like project API guarded by OAuth bearer tokens")]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "RESOURCE_BIND", default_value = "127.0.0.1:8001")]
    bind: std::net::SocketAddr,
    /// The authorization server's issuer URL; its introspection endpoint is
    /// discovered from its metadata.
    #[arg(long, env = "OAUTH_ISSUER", default_value = "http://127.0.0.1:8000")]
    issuer: String,
    /// This API's client id at the issuer (a confidential client).
    #[arg(long, env = "RESOURCE_CLIENT_ID")]
    client_id: String,
    /// Its secret. Prefer the environment variable: arguments show in `ps`.
    #[arg(long, env = "RESOURCE_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();

    // One guard for the whole service; clones share its cache.
    let guard = BearerGuard::introspection(&args.issuer, &args.client_id, &args.client_secret)?;
    let projects = web::Data::new(api::Projects::default());

    tracing::info!(bind = %args.bind, issuer = %args.issuer, "resource API listening");
    HttpServer::new(move || {
        App::new()
            .app_data(projects.clone())
            .configure(|cfg| api::routes(cfg, Some(&guard)))
    })
    .bind(args.bind)?
    .run()
    .await?;
    Ok(())
}
