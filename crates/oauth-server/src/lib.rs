//! The authorization server: configuration, routes and the process around
//! them. The binary (`main.rs`) only parses the command line and calls
//! [`run`]; tests build the same app in-process with [`app::configure`].

pub mod app;
pub mod config;
pub mod state;
pub mod telemetry;

use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use oauth_store::{Db, PoolOptions};

use crate::config::Config;
use crate::state::AppState;

/// Opens the database (applying migrations), then serves until SIGINT or
/// SIGTERM, finishing requests in flight before it exits.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let url = config.database_url.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&url, &PoolOptions::default()))
        .await
        .context("opening the database")??;
    let state = web::Data::new(AppState::new(config.clone(), db));
    let server = HttpServer::new({
        let state = state.clone();
        move || App::new().configure(|cfg| app::configure(cfg, state.clone()))
    })
    .bind(config.bind)
    .with_context(|| format!("cannot listen on {}", config.bind))?
    .shutdown_timeout(30);
    tracing::info!(
        issuer = %config.issuer,
        database = %state.db.url(),
        "oauth-server listening on http://{}",
        config.bind,
    );
    server.run().await.context("serving")?;
    tracing::info!("oauth-server stopped");
    Ok(())
}
