//! The API itself: Frappe-like routes over projects kept in memory. The
//! handlers know nothing of tokens beyond the `Caller` they are handed.

use std::sync::Mutex;

use actix_web::{HttpResponse, web};
use bearer_guard::Caller;
use serde::{Deserialize, Serialize};

/// The service's data: projects, in memory (a real service has a database).
#[derive(Debug, Default)]
pub(crate) struct Projects(Mutex<Vec<Project>>);

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Project {
    name: String,
    /// Who created it: the token's subject.
    owner: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewProject {
    name: String,
}

/// `GET /api/resource/Project`: Frappe answers a list as `{"data": […]}`.
pub(crate) async fn list(projects: web::Data<Projects>) -> HttpResponse {
    let all = projects.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    HttpResponse::Ok().json(serde_json::json!({ "data": all }))
}

/// `POST /api/resource/Project` with `{"name": …}`.
pub(crate) async fn create(
    caller: Caller,
    projects: web::Data<Projects>,
    body: web::Json<NewProject>,
) -> HttpResponse {
    let name = body.into_inner().name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 140 {
        return HttpResponse::BadRequest()
            .json(serde_json::json!({ "error": "name must be 1 to 140 characters" }));
    }
    let mut all = projects.0.lock().unwrap_or_else(|e| e.into_inner());
    if all.iter().any(|p| p.name == name) {
        return HttpResponse::Conflict()
            .json(serde_json::json!({ "error": "a project with this name exists" }));
    }
    let project = Project {
        name,
        owner: caller.subject().to_owned(),
    };
    all.push(project.clone());
    HttpResponse::Created().json(serde_json::json!({ "data": project }))
}

/// `GET /api/method/frappe.auth.get_logged_user`: `{"message": username}`.
pub(crate) async fn logged_user(caller: Caller) -> HttpResponse {
    if !caller.is_user() {
        // A client-credentials token acts for the client, not for a user.
        return HttpResponse::Forbidden()
            .json(serde_json::json!({ "error": "this token was not granted by a user" }));
    }
    let name = caller.username().unwrap_or(caller.subject());
    HttpResponse::Ok().json(serde_json::json!({ "message": name }))
}

/// Mounts the API's routes: projects need scope `project`; the logged-in
/// user needs any valid token. `guard` is `None` only in the benchmark's
/// unguarded copy.
pub(crate) fn routes(cfg: &mut web::ServiceConfig, guard: Option<&bearer_guard::BearerGuard>) {
    let projects = web::resource("/api/resource/Project")
        .route(web::get().to(list))
        .route(web::post().to(create));
    let user =
        web::resource("/api/method/frappe.auth.get_logged_user").route(web::get().to(logged_user));
    match guard {
        Some(guard) => {
            cfg.service(projects.wrap(guard.require_scope("project")))
                .service(user.wrap(guard.clone()));
        }
        None => {
            cfg.service(projects).service(user);
        }
    }
}
