//! Routes.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// Registers every route on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    cfg.app_data(state)
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// Liveness: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers too.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let ready = web::block(move || db.ping().is_ok()).await.unwrap_or(false);
    if ready {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}
