//! The routes, and the app that serves them.

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, web};

use crate::handlers::{
    apps, authorize, consent, discovery, health, introspect, login, revoke, token, userinfo,
};
use crate::rate_limit::{Bucket, guard};
use crate::state::AppState;

/// Frappe's paths for the same endpoints (`/api/method/…`), from the seed.
pub mod frappe {
    pub const AUTHORIZE: &str = "/api/method/frappe.integrations.oauth2.authorize";
    pub const TOKEN: &str = "/api/method/frappe.integrations.oauth2.get_token";
    pub const REVOKE: &str = "/api/method/frappe.integrations.oauth2.revoke_token";
    pub const USERINFO: &str = "/api/method/frappe.integrations.oauth2.openid_profile";
    pub const INTROSPECT: &str = "/api/method/frappe.integrations.oauth2.introspect_token";
    /// Frappe's page of the apps a user authorized.
    pub const THIRD_PARTY_APPS: &str = "/third_party_apps";
}

/// The whole application: routes, sessions and headers.
pub fn app(
    state: web::Data<AppState>,
    session_key: Key,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let secure = state.config.issuer.starts_with("https://");
    // `__Host-` makes the browser refuse the cookie unless it is Secure,
    // host-only and for path `/`, so no subdomain can plant one.
    let cookie_name = if secure {
        "__Host-oauth_session"
    } else {
        "oauth_session"
    };
    let sessions = SessionMiddleware::builder(CookieSessionStore::default(), session_key)
        .cookie_name(cookie_name.to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build();
    let mut headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"));
    if secure {
        // Only over https: sent over http it would be ignored, and a
        // development server on http must not pin a name to https.
        headers = headers.add(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY));
    }
    App::new()
        .wrap(sessions)
        .wrap(from_fn(log_request))
        .wrap(headers)
        .configure(|cfg| routes(cfg, state))
}

/// The pages' policy. No script at all and styles only from our own
/// stylesheet (no `unsafe-inline`), so markup that slipped past escaping
/// could neither run nor restyle the page into a different dialog; images
/// from anywhere on the web, for the client's logo; no `<base>`, no
/// plugins, and no framing (clickjacking of the consent button).
///
/// Deliberately no `form-action`: Chromium applies it to every redirect
/// that follows a form submission, and the consent form's answer (and a
/// login that continues straight into an authorization response) is a
/// redirect to the client's own origin, which a static policy cannot list.
/// Keycloak leaves it out for the same reason. Our forms' actions are
/// fixed, server-relative paths in the templates, and with no script and
/// every value escaped nothing can rewrite them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
    img-src 'self' https: http:; base-uri 'none'; frame-ancestors 'none'";

/// Two years, subdomains included: the value the HSTS preload list asks for.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    cfg.app_data(state)
        .app_data(web::FormConfig::default().limit(crate::handlers::MAX_FORM_BYTES))
        .app_data(web::PayloadConfig::new(crate::handlers::MAX_FORM_BYTES))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .configure(crate::handlers::register::routes)
        .route("/static/style.css", web::get().to(health::stylesheet))
        .route("/", web::get().to(login::home))
        .route("/login", web::get().to(login::page))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .service(
            web::resource(["/account/apps", frappe::THIRD_PARTY_APPS])
                .route(web::get().to(apps::page))
                .route(web::post().to(apps::revoke)),
        )
        .service(
            web::resource(["/oauth/authorize", frappe::AUTHORIZE])
                .route(web::get().to(authorize::get))
                .route(web::post().to(authorize::post)),
        )
        .route("/oauth/authorize/decision", web::post().to(consent::decide))
        .service(
            web::resource(["/oauth/token", frappe::TOKEN])
                .wrap(from_fn(|req, next| guard(Bucket::Token, req, next)))
                .route(web::post().to(token::token))
                .default_service(web::to(token::method_not_allowed)),
        )
        .service(
            web::resource("/oauth/revoke")
                .wrap(from_fn(|req, next| guard(Bucket::Revocation, req, next)))
                .route(web::post().to(revoke::standard))
                .default_service(web::to(token::method_not_allowed)),
        )
        .service(
            web::resource(frappe::REVOKE)
                .wrap(from_fn(|req, next| guard(Bucket::Revocation, req, next)))
                .route(web::post().to(revoke::frappe))
                .default_service(web::to(token::method_not_allowed)),
        )
        .service(
            web::resource(["/oauth/introspect", frappe::INTROSPECT])
                .wrap(from_fn(|req, next| guard(Bucket::Introspection, req, next)))
                .route(web::post().to(introspect::introspect))
                .default_service(web::to(token::method_not_allowed)),
        )
        .route("/oauth/jwks", web::get().to(discovery::jwks))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            web::get().to(discovery::protected_resource),
        )
        .service(
            web::resource(["/oauth/userinfo", frappe::USERINFO])
                .route(web::get().to(userinfo::get))
                .route(web::post().to(userinfo::post)),
        );
}

/// One log line per request: method, path, status and duration. Never the
/// query string or any header: they can hold codes, tokens and secrets.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let response = next.call(req).await?;
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    Ok(response)
}
