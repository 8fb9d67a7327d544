//! The authorization endpoint (RFC 6749 §3.1, §4.1.1; OpenID Connect Core
//! §3.1.2), on `GET`/`POST /oauth/authorize` and Frappe's
//! `frappe.integrations.oauth2.authorize`.
//!
//! The flow: validate the request (errors before the redirect URI is
//! trusted show a page; later ones redirect), make sure the user is logged
//! in (or send them to the login page and back with the request byte for
//! byte), check the client's allowed roles, then either show the consent
//! dialog or issue a code at once.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::authorize::{
    self, Authentication, AuthorizeError, AuthorizeRequest, RedirectError, append_fragment,
    append_query,
};
use oauth_core::claims::describe_scope;
use oauth_core::error::AuthorizeErrorCode as Code;
use oauth_core::params::Params;
use oauth_core::token::AuthorizationCode;
use oauth_core::{Client, ResponseType, Token, User};
use oauth_store::{clients, codes, consents, users};

use super::{MAX_FORM_BYTES, is_form};
use crate::errors::{Internal, error_page, html, see_other};
use crate::grants::{self, GrantContext};
use crate::session::{self, Login};
use crate::state::AppState;
use crate::templates::{ConsentPage, ScopeView};

/// `GET`: the parameters are the query string.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, Internal> {
    let raw = req.query_string().to_owned();
    handle(&req, &state, &session, raw).await
}

/// `POST`: the parameters are the form body (OIDC Core §3.1.2.1).
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    if !is_form(&req) || body.len() > MAX_FORM_BYTES {
        return bad_page(&state, "The request must be a form post of at most 64 KiB.");
    }
    let Ok(raw) = String::from_utf8(body.to_vec()) else {
        return bad_page(&state, "The request is not valid UTF-8.");
    };
    handle(&req, &state, &session, raw).await
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    raw: String,
) -> Result<HttpResponse, Internal> {
    match load_and_validate(state, &raw).await? {
        Validated::Request(client, request) => {
            respond(req, state, session, &raw, &client, *request).await
        }
        Validated::Answer(response) => Ok(response),
    }
}

/// A request checked against its client, or the answer to a bad one.
pub(crate) enum Validated {
    Request(Client, Box<AuthorizeRequest>),
    Answer(HttpResponse),
}

/// Finds the client the request names and validates the request against
/// it. Errors before the redirect URI is trusted become a 400 page; later
/// ones a redirect to the client.
pub(crate) async fn load_and_validate(state: &AppState, raw: &str) -> Result<Validated, Internal> {
    let params = Params::parse(raw);
    let client_id = match authorize::requested_client_id(&params) {
        Ok(id) => id,
        Err(e) => return Ok(Validated::Answer(error_answer(state, e)?)),
    };
    let lookup = client_id.clone();
    let Some(client) = state.db(move |conn| clients::find(conn, &lookup)).await? else {
        let page = error_page(
            &state.templates,
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "No application is registered with this client_id.",
            Some(Code::InvalidRequest.as_str()),
        )?;
        return Ok(Validated::Answer(page));
    };
    match authorize::validate(&params, &client) {
        Ok(request) => Ok(Validated::Request(client, Box::new(request))),
        Err(e) => Ok(Validated::Answer(error_answer(state, e)?)),
    }
}

fn error_answer(state: &AppState, e: AuthorizeError) -> Result<HttpResponse, Internal> {
    match e {
        AuthorizeError::Page { code, description } => error_page(
            &state.templates,
            StatusCode::BAD_REQUEST,
            "Invalid authorization request",
            &description,
            Some(code.as_str()),
        ),
        AuthorizeError::Redirect(e) => Ok(see_other(&e.location(&state.config.issuer))),
    }
}

async fn respond(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    raw: &str,
    client: &Client,
    request: AuthorizeRequest,
) -> Result<HttpResponse, Internal> {
    let now = state.now();
    let login = session::login(state, session).await?;
    let fresh = session::take_fresh_login(session, raw);
    let login = match (
        authorize::authentication(&request, login.as_ref().map(|l| l.auth_time), fresh, now),
        login,
    ) {
        (Authentication::Proceed, Some(login)) => login,
        (Authentication::LoginRequired, _) => {
            return Ok(redirect_error(
                state,
                &request,
                Code::LoginRequired,
                "the user must log in",
            ));
        }
        _ => return Ok(to_login(req, raw, request.login_hint.as_deref())),
    };
    let id = login.user_id.clone();
    let user = match state.db(move |conn| users::find_by_id(conn, &id)).await? {
        Some(user) if user.enabled => user,
        _ => {
            // Deleted or disabled since logging in: the session is void.
            session::logout(state, session).await?;
            if request.prompt.none {
                return Ok(redirect_error(
                    state,
                    &request,
                    Code::LoginRequired,
                    "the user must log in",
                ));
            }
            return Ok(to_login(req, raw, request.login_hint.as_deref()));
        }
    };
    if let Some(hint) = &request.id_token_hint {
        let jwks = state.keys.public_jwks(state).await?;
        let claims = match oauth_core::jose::verify_own(hint, &jwks) {
            Ok(claims) => claims,
            Err(_) => {
                return Ok(redirect_error(
                    state,
                    &request,
                    Code::InvalidRequest,
                    "id_token_hint is not an ID token of this server",
                ));
            }
        };
        let for_client = claims["aud"] == client.id.as_str()
            || claims["aud"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == client.id.as_str()));
        if !for_client {
            return Ok(redirect_error(
                state,
                &request,
                Code::InvalidRequest,
                "id_token_hint was issued to another client",
            ));
        }
        if claims["sub"] != user.id.as_str() {
            // The client expects another user than the one logged in.
            if request.prompt.none {
                return Ok(redirect_error(
                    state,
                    &request,
                    Code::LoginRequired,
                    "another user is logged in",
                ));
            }
            session::logout(state, session).await?;
            return Ok(to_login(req, raw, request.login_hint.as_deref()));
        }
    }
    if !client.admits_roles(&user.roles) {
        return Ok(redirect_error(
            state,
            &request,
            Code::AccessDenied,
            "the user does not hold a role this application requires",
        ));
    }
    let remembered = match state.config.consent_mode {
        authorize::ConsentMode::Auto => {
            let (u, c) = (user.id.clone(), client.id.clone());
            state.db(move |conn| consents::find(conn, &u, &c)).await?
        }
        authorize::ConsentMode::Force => None,
    };
    if authorize::needs_consent(
        state.config.consent_mode,
        client,
        &request,
        remembered.as_ref(),
    ) {
        if request.prompt.none {
            return Ok(redirect_error(
                state,
                &request,
                Code::ConsentRequired,
                "the user must approve this application",
            ));
        }
        return consent_page(state, session, client, &user, &request, raw).await;
    }
    grant(state, client, &request, &user, &login).await
}

/// Sends the user back to the client with what it asked for: an
/// authorization code (RFC 6749 §4.1.2), or for the implicit grant the
/// access token in the fragment (§4.2.2); with `state` and the issuer (RFC
/// 9207). Returns the response, having written the code or tokens.
pub(crate) async fn grant(
    state: &AppState,
    client: &Client,
    request: &AuthorizeRequest,
    user: &User,
    login: &Login,
) -> Result<HttpResponse, Internal> {
    let now = state.now();
    let issuer = state.config.issuer.as_str();
    if request.response_type == ResponseType::Token {
        let ctx = GrantContext {
            lifetimes: state.config.lifetimes.clone(),
            issuer: issuer.to_owned(),
            signer: state.keys.signer(state, state.config.signing_alg).await?,
        };
        let (client, user, request_owned, auth_time) = (
            client.clone(),
            user.clone(),
            request.clone(),
            login.auth_time,
        );
        let response = state
            .db(move |conn| {
                grants::implicit::issue(conn, &ctx, &client, &user, &request_owned, auth_time, now)
            })
            .await?;
        let expires_in = response.expires_in.to_string();
        let mut params = vec![
            ("access_token", response.access_token.as_str()),
            ("token_type", "Bearer"),
            ("expires_in", expires_in.as_str()),
            ("scope", response.scope.as_str()),
        ];
        if let Some(s) = &request.state {
            params.push(("state", s));
        }
        params.push(("iss", issuer));
        return Ok(see_other(&append_fragment(&request.redirect_uri, &params)));
    }
    let code = Token::generate(&mut rand::rng());
    let record = AuthorizationCode {
        client_id: request.client_id.clone(),
        user_id: user.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        resources: request.resources.clone(),
        auth_time: login.auth_time,
        created_at: now,
        expires_at: now.plus(state.config.lifetimes.authorization_code),
        redeemed_at: None,
        grant_id: None,
    };
    let digest = code.digest();
    state
        .db(move |conn| codes::insert(conn, &digest, &record))
        .await?;
    let mut params = vec![("code", code.expose_secret())];
    if let Some(s) = &request.state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    Ok(see_other(&append_query(&request.redirect_uri, &params)))
}

/// An error delivered to the client's redirect URI.
pub(crate) fn redirect_error(
    state: &AppState,
    request: &AuthorizeRequest,
    code: Code,
    description: &str,
) -> HttpResponse {
    let e = RedirectError {
        redirect_uri: request.redirect_uri.clone(),
        code,
        description: description.to_owned(),
        state: request.state.clone(),
        fragment: request.response_type == ResponseType::Token,
    };
    see_other(&e.location(&state.config.issuer))
}

/// To the login page, which sends the user back to this very request.
fn to_login(req: &HttpRequest, raw: &str, login_hint: Option<&str>) -> HttpResponse {
    let next = format!("{}?{raw}", req.path());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", &next);
    if let Some(hint) = login_hint {
        query.append_pair("login_hint", hint);
    }
    see_other(&format!("/login?{}", query.finish()))
}

async fn consent_page(
    state: &AppState,
    session: &Session,
    client: &Client,
    user: &User,
    request: &AuthorizeRequest,
    raw: &str,
) -> Result<HttpResponse, Internal> {
    let consent_token = session::begin_consent(state, session, raw, &user.id).await?;
    let csrf = session::csrf_token(session)?;
    let scopes = request
        .scopes
        .iter()
        .map(|s| ScopeView {
            name: s.as_str().to_owned(),
            description: describe_scope(s.as_str()),
        })
        .collect();
    let host = redirect_host(&request.redirect_uri);
    let m = &client.metadata;
    let page = ConsentPage {
        client_name: &m.name,
        client_uri: m.client_uri.as_deref(),
        logo_uri: m.logo_uri.as_deref(),
        user_name: user
            .full_name
            .as_ref()
            .map_or(user.username.as_str(), |n| n.as_str()),
        redirect_host: &host,
        scopes,
        csrf_token: &csrf,
        consent_token: &consent_token,
        request: raw,
    };
    Ok(html(
        StatusCode::OK,
        state.templates.render("consent.html", &page)?,
    ))
}

/// What the consent page names as the destination: `host[:port]` for web
/// URIs, the scheme for an app's private-use scheme.
fn redirect_host(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => format!("the {} app", u.scheme()),
        },
        Err(_) => uri.to_owned(),
    }
}

fn bad_page(state: &AppState, message: &str) -> Result<HttpResponse, Internal> {
    error_page(
        &state.templates,
        StatusCode::BAD_REQUEST,
        "Invalid authorization request",
        message,
        Some("invalid_request"),
    )
}
