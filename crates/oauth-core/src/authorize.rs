//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2.1): parsing, validation against the client, and the decisions
//! that follow (log in again? ask for consent?).
//!
//! Errors come in two kinds, and the difference is the security of the
//! endpoint. Until the client and its redirect URI are established, an
//! error must never redirect (RFC 6749 §4.1.2.1: an attacker would get an
//! open redirector); the user sees an error page. After that, errors go
//! back to the client's redirect URI with `error`, `error_description` and
//! `state`.

use std::time::Duration;

use crate::client::{Client, GrantType, ResponseType};
use crate::error::AuthorizeErrorCode as Code;
use crate::ids::ClientId;
use crate::params::Params;
use crate::pkce::{CodeChallenge, CodeChallengeMethod};
use crate::redirect_uri::RedirectUri;
use crate::resource::{self, Resource};
use crate::scope::ScopeSet;
use crate::time::Timestamp;

/// Longest `state` or `nonce` accepted. Both travel in URLs and are stored
/// with the code; a few kilobytes is more than any client needs.
pub const MAX_STATE_LEN: usize = 2048;

/// Parameters that must not repeat. `client_id` and `redirect_uri` are
/// checked first, as their errors cannot redirect.
const SINGLE_VALUED: &[&str] = &[
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "display",
    "acr_values",
    "claims",
    "response_type",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "response_mode",
    "request",
    "request_uri",
];

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: ClientId,
    /// Where to send the user back: the request's `redirect_uri` exactly as
    /// written (it matched a registered one), or the client's default.
    pub redirect_uri: String,
    /// Did the request name the redirect URI? If so, the token request must
    /// repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub response_type: ResponseType,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// RFC 8707 resource indicators: what the tokens will be for.
    pub resources: Vec<Resource>,
    pub prompt: Prompt,
    /// OIDC `max_age`: the longest time since the user last logged in.
    pub max_age: Option<Duration>,
    /// OIDC `id_token_hint`: an ID token we issued, naming the user the
    /// client expects.
    pub id_token_hint: Option<String>,
    /// OIDC `login_hint`: what to prefill on the login page.
    pub login_hint: Option<String>,
}

/// The OIDC `prompt` values, as flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// Why an authorization request failed, and where the user should learn it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page,
    /// never redirect.
    Page { code: Code, description: String },
    /// Send the error to the client's redirect URI.
    Redirect(RedirectError),
}

/// An error to deliver at the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub code: Code,
    pub description: String,
    pub state: Option<String>,
    /// Deliver in the fragment (implicit grant, RFC 6749 §4.2.2.1) rather
    /// than the query.
    pub fragment: bool,
}

impl RedirectError {
    /// The redirect URL: the error parameters, `state`, and the issuer
    /// (RFC 9207) appended to the redirect URI's query.
    pub fn location(&self, issuer: &str) -> String {
        let mut params = vec![
            ("error", self.code.as_str()),
            ("error_description", self.description.as_str()),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        if self.fragment {
            append_fragment(&self.redirect_uri, &params)
        } else {
            append_query(&self.redirect_uri, &params)
        }
    }
}

fn page(code: Code, description: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page {
        code,
        description: description.into(),
    }
}

/// The `client_id` of a request, before anything else can be checked.
pub fn requested_client_id(params: &Params) -> Result<ClientId, AuthorizeError> {
    let raw = params
        .get("client_id")
        .map_err(|d| page(Code::InvalidRequest, d.to_string()))?
        .ok_or_else(|| page(Code::InvalidRequest, "the client_id parameter is missing"))?;
    ClientId::parse(raw).map_err(|e| page(Code::InvalidRequest, e.to_string()))
}

/// Validates a request against the client it names (the one
/// [`requested_client_id`] returned, found in storage).
pub fn validate(params: &Params, client: &Client) -> Result<AuthorizeRequest, AuthorizeError> {
    let m = &client.metadata;

    // 1. The redirect URI; its errors show a page.
    let given = params
        .get("redirect_uri")
        .map_err(|d| page(Code::InvalidRequest, d.to_string()))?;
    let redirect_uri = match given {
        Some(uri) => {
            if RedirectUri::parse(uri).is_err()
                || RedirectUri::find_match(&m.redirect_uris, uri).is_none()
            {
                return Err(page(
                    Code::InvalidRequest,
                    "the redirect_uri is not one of the client's registered redirect URIs",
                ));
            }
            uri.to_owned()
        }
        None => match &m.default_redirect_uri {
            Some(default) => default.as_str().to_owned(),
            None => {
                return Err(page(
                    Code::InvalidRequest,
                    "the redirect_uri parameter is missing",
                ));
            }
        },
    };

    // 2. From here on, errors redirect: in the fragment for the implicit
    // grant, else in the query. `state` first, so they can carry it.
    let fragment =
        params.get("response_type") == Ok(Some("token")) && m.allows_grant(GrantType::Implicit);
    let state = params.get("state").map_err(|d| RedirectError {
        redirect_uri: redirect_uri.clone(),
        code: Code::InvalidRequest,
        description: d.to_string(),
        state: None,
        fragment,
    });
    let state = match state {
        Ok(s) => s.map(str::to_owned),
        Err(e) => return Err(AuthorizeError::Redirect(e)),
    };
    let fail = |code: Code, description: String| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            code,
            description,
            state: state.clone(),
            fragment,
        })
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(fail(
            Code::InvalidRequest,
            format!("state is longer than {MAX_STATE_LEN} bytes"),
        ));
    }
    if state
        .as_ref()
        .is_some_and(|s| s.chars().any(char::is_control))
    {
        return Err(fail(
            Code::InvalidRequest,
            "state must not contain control characters".into(),
        ));
    }
    if let Some(dup) = params.first_duplicate(SINGLE_VALUED) {
        return Err(fail(Code::InvalidRequest, dup.to_string()));
    }
    let get = |name: &'static str| params.get(name).unwrap_or_default();

    // OIDC Core §6: request objects are optional; refuse rather than ignore.
    if get("request").is_some() {
        return Err(fail(
            Code::RequestNotSupported,
            "request objects are not supported".into(),
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            Code::RequestUriNotSupported,
            "request_uri is not supported".into(),
        ));
    }

    let response_type = match get("response_type") {
        None => {
            return Err(fail(
                Code::InvalidRequest,
                "the response_type parameter is missing".into(),
            ));
        }
        Some("code") => ResponseType::Code,
        Some("token") if m.allows_grant(GrantType::Implicit) => ResponseType::Token,
        Some(other) => {
            return Err(fail(
                Code::UnsupportedResponseType,
                format!("response_type {other:?} is not supported for this client"),
            ));
        }
    };
    if response_type == ResponseType::Code && !m.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            Code::UnauthorizedClient,
            "this client may not use the authorization code grant".into(),
        ));
    }
    let expected_mode = match response_type {
        ResponseType::Code => "query",
        ResponseType::Token => "fragment",
    };
    if let Some(mode) = get("response_mode").filter(|m| *m != expected_mode) {
        return Err(fail(
            Code::InvalidRequest,
            format!("response_mode {mode:?} is not supported; use {expected_mode}"),
        ));
    }

    let scopes = match get("scope").map(ScopeSet::parse) {
        None => m.scopes.clone(),
        Some(Err(e)) => return Err(fail(Code::InvalidScope, e.to_string())),
        Some(Ok(s)) if s.is_empty() => m.scopes.clone(),
        Some(Ok(s)) => {
            let extra = s.difference(&m.scopes);
            if !extra.is_empty() {
                return Err(fail(
                    Code::InvalidScope,
                    format!("this client may not ask for: {extra}"),
                ));
            }
            s
        }
    };

    let resources =
        resource::requested(params).map_err(|e| fail(Code::InvalidTarget, e.to_string()))?;

    let nonce = get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_STATE_LEN) {
        return Err(fail(
            Code::InvalidRequest,
            format!("nonce is longer than {MAX_STATE_LEN} bytes"),
        ));
    }
    if nonce
        .as_ref()
        .is_some_and(|n| n.chars().any(char::is_control))
    {
        return Err(fail(
            Code::InvalidRequest,
            "nonce must not contain control characters".into(),
        ));
    }

    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, Some(_)) => {
            return Err(fail(
                Code::InvalidRequest,
                "code_challenge_method without code_challenge".into(),
            ));
        }
        (None, None) => None,
        (Some(challenge), method) => {
            let method = CodeChallengeMethod::parse(method)
                .map_err(|e| fail(Code::InvalidRequest, e.to_string()))?;
            if method == CodeChallengeMethod::Plain && !m.allow_plain_pkce {
                return Err(fail(
                    Code::InvalidRequest,
                    "code_challenge_method must be S256 for this client".into(),
                ));
            }
            Some(
                CodeChallenge::parse(challenge, method)
                    .map_err(|e| fail(Code::InvalidRequest, e.to_string()))?,
            )
        }
    };
    if m.is_public() && response_type == ResponseType::Code && code_challenge.is_none() {
        return Err(fail(
            Code::InvalidRequest,
            "public clients must use PKCE: send code_challenge with code_challenge_method=S256"
                .into(),
        ));
    }

    let prompt = parse_prompt(get("prompt")).map_err(|e| fail(Code::InvalidRequest, e))?;
    let max_age = match get("max_age") {
        None => None,
        Some(v) => Some(Duration::from_secs(v.parse::<u64>().map_err(|_| {
            fail(
                Code::InvalidRequest,
                "max_age must be a whole number of seconds".into(),
            )
        })?)),
    };

    // Accepted as OIDC Core §3.1.2.1 defines them. `ui_locales`, `display`,
    // `acr_values` and `claims` are optional to honour and change nothing
    // here (discovery says claims_parameter_supported=false).
    let id_token_hint = get("id_token_hint").map(str::to_owned);
    let login_hint = get("login_hint")
        .filter(|h| h.len() <= 256 && !h.chars().any(char::is_control))
        .map(str::to_owned);

    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_uri_given: given.is_some(),
        response_type,
        scopes,
        state,
        nonce,
        code_challenge,
        resources,
        prompt,
        max_age,
        id_token_hint,
        login_hint,
    })
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, String> {
    let mut prompt = Prompt::default();
    for v in value.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            other => return Err(format!("prompt value {other:?} is not supported")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err("prompt=none cannot be combined with other prompt values".into());
    }
    Ok(prompt)
}

/// What to do about authentication, given the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// The session's login will do.
    Proceed,
    /// Show the login page, then come back.
    ShowLogin,
    /// `prompt=none` and a login would be needed: `login_required`.
    LoginRequired,
}

/// Decides whether the user must log in (again). `auth_time` is when the
/// session's user logged in (`None`: nobody is logged in); `fresh` is true
/// when this very request is coming back from the login page, which
/// satisfies `prompt=login` and `max_age` once.
pub fn authentication(
    request: &AuthorizeRequest,
    auth_time: Option<Timestamp>,
    fresh: bool,
    now: Timestamp,
) -> Authentication {
    let Some(auth_time) = auth_time else {
        return if request.prompt.none {
            Authentication::LoginRequired
        } else {
            Authentication::ShowLogin
        };
    };
    if fresh {
        return Authentication::Proceed;
    }
    // max_age=0 is prompt=login (OIDC Core errata); otherwise compare.
    let too_old = request
        .max_age
        .is_some_and(|max| max.is_zero() || auth_time.plus(max) < now);
    if request.prompt.login || too_old {
        return if request.prompt.none {
            Authentication::LoginRequired
        } else {
            Authentication::ShowLogin
        };
    }
    Authentication::Proceed
}

/// How consent is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentMode {
    /// Ask every time.
    Force,
    /// Ask once per client and scope set; ask again only for new scopes.
    Auto,
}

/// Must the user be asked? `remembered` is the scopes the user approved for
/// this client before (consent mode `auto`).
pub fn needs_consent(
    mode: ConsentMode,
    client: &Client,
    request: &AuthorizeRequest,
    remembered: Option<&ScopeSet>,
) -> bool {
    if request.prompt.consent {
        return true;
    }
    if client.metadata.skip_authorization {
        return false;
    }
    match mode {
        ConsentMode::Force => true,
        ConsentMode::Auto => !remembered.is_some_and(|r| request.scopes.is_subset_of(r)),
    }
}

/// Puts `params` in a URI's fragment (the implicit grant's response, RFC
/// 6749 §4.2.2). Registered redirect URIs have no fragment of their own.
pub fn append_fragment(uri: &str, params: &[(&str, &str)]) -> String {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        encoded.append_pair(k, v);
    }
    format!("{uri}#{}", encoded.finish())
}

/// Appends `params` to a URI's query, keeping whatever query it has (RFC
/// 6749 §3.1.2: the redirection endpoint's query "MUST be retained").
pub fn append_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        encoded.append_pair(k, v);
    }
    let query = encoded.finish();
    let separator = match uri.find('?') {
        None => "?",
        Some(i) if i + 1 == uri.len() || uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{uri}{separator}{query}")
}

#[cfg(test)]
mod tests;
