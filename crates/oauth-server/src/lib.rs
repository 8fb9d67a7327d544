//! The authorization server: configuration, routes and the process around
//! them. The binary (`main.rs`) only parses the command line and calls
//! [`run`]; tests build the same app with [`app::app`].
//!
//! Where things live: `handlers/` has one module per endpoint; `grants/`
//! has the token endpoint's grants; `errors.rs` is the one place errors
//! become HTTP; `session.rs` the login session and CSRF; `templates.rs` the
//! pages.

pub mod app;
pub mod client_ip;
pub mod config;
pub mod errors;
pub mod grants;
pub mod handlers;
pub mod keyring;
pub mod rate_limit;
pub mod session;
pub mod state;
pub mod telemetry;
pub mod templates;

use actix_web::{HttpServer, web};
use anyhow::Context as _;
use oauth_store::{Db, PoolOptions};
use tokio::signal::unix::{SignalKind, signal};

use crate::config::Config;
use crate::keyring::KeyRing;
use crate::state::AppState;
use crate::templates::Templates;
use oauth_store::secret::ServerSecret;

/// Everything the server needs before it can serve: the database (opened
/// and migrated), the templates and the session key.
pub async fn prepare(
    config: Config,
) -> anyhow::Result<(web::Data<AppState>, actix_web::cookie::Key)> {
    let url = config.database_url.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&url, &PoolOptions::default()))
        .await
        .context("opening the database")??;
    let secret = ServerSecret::load(&config.secret)?;
    if let Some(path) = secret.created() {
        tracing::warn!(
            path = %path.display(),
            "created a new server secret; back it up, and give every instance the same one \
             (OAUTH_SECRET_KEY) when running several"
        );
    }
    let session_key = actix_web::cookie::Key::from(&secret.session_key());
    let templates = Templates::load(config.templates_dir.as_deref())?;
    let state = web::Data::new(AppState::new(config, db, templates, KeyRing::new(secret)));
    state
        .keys
        .ensure_active(&state, state.config.signing_alg)
        .await
        .map_err(|e| e.into_anyhow().context("preparing the signing key"))?;
    Ok((state, session_key))
}

/// Serves until SIGINT or SIGTERM, finishing requests in flight before it
/// exits.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Take over SIGTERM and SIGINT before anything else, so that a signal
    // arriving at any moment after start, even before the server says it is
    // listening, shuts it down gracefully instead of killing it.
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let bind = config.bind;
    let (state, key) = prepare(config).await?;
    let server = HttpServer::new({
        let state = state.clone();
        move || app::app(state.clone(), key.clone())
    })
    .bind(bind)
    .with_context(|| format!("cannot listen on {bind}"))?
    .shutdown_timeout(30)
    .disable_signals()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let which = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!("{which} received; finishing requests in flight");
        handle.stop(true).await;
    });
    tracing::info!(
        issuer = %state.config.issuer,
        database = %state.db.url(),
        "oauth-server listening on http://{bind}",
    );
    server.await.context("serving")?;
    tracing::info!("oauth-server stopped");
    Ok(())
}
