//! Error codes of the OAuth family of RFCs, and the error for invalid values.
//!
//! Each enum is the closed list of codes one endpoint may answer; the doc
//! comment of each variant is the sentence of the RFC that defines it. How a
//! code becomes an HTTP status is the server's business, not this crate's.

use std::borrow::Cow;
use std::fmt;

/// A value that failed to parse into one of the domain's types.
///
/// The message is one line, fit to show to the person who typed the value.
/// It never repeats a secret: types holding secrets build it without the
/// input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct InvalidValue {
    what: &'static str,
    reason: Cow<'static, str>,
}

impl InvalidValue {
    pub fn new(what: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            what,
            reason: reason.into(),
        }
    }

    /// Which kind of value was rejected ("redirect URI", "scope", ...).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $code:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )*
        }

        impl $name {
            /// Every code, in the order the RFC lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// Parses a wire code; `None` for a code this enum does not hold.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

error_codes! {
    /// Errors of the authorization endpoint: RFC 6749 §4.1.2.1 and §4.2.2.1,
    /// plus those OpenID Connect Core §3.1.2.6 adds.
    AuthorizeErrorCode {
        /// "The request is missing a required parameter, includes an invalid
        /// parameter value, includes a parameter more than once, or is
        /// otherwise malformed."
        InvalidRequest => "invalid_request",
        /// "The client is not authorized to request an authorization code
        /// using this method."
        UnauthorizedClient => "unauthorized_client",
        /// "The resource owner or authorization server denied the request."
        AccessDenied => "access_denied",
        /// "The authorization server does not support obtaining an
        /// authorization code using this method."
        UnsupportedResponseType => "unsupported_response_type",
        /// "The requested scope is invalid, unknown, or malformed."
        InvalidScope => "invalid_scope",
        /// "The authorization server encountered an unexpected condition that
        /// prevented it from fulfilling the request."
        ServerError => "server_error",
        /// "The authorization server is currently unable to handle the request
        /// due to a temporary overloading or maintenance of the server."
        TemporarilyUnavailable => "temporarily_unavailable",
        /// OIDC: "The Authorization Server requires End-User interaction of
        /// some form to proceed."
        InteractionRequired => "interaction_required",
        /// OIDC: "The Authorization Server requires End-User authentication."
        LoginRequired => "login_required",
        /// OIDC: "The End-User is REQUIRED to select a session at the
        /// Authorization Server."
        AccountSelectionRequired => "account_selection_required",
        /// OIDC: "The Authorization Server requires End-User consent."
        ConsentRequired => "consent_required",
        /// OIDC: "The request_uri in the Authorization Request returns an error
        /// or contains invalid data."
        InvalidRequestUri => "invalid_request_uri",
        /// OIDC: "The request parameter contains an invalid Request Object."
        InvalidRequestObject => "invalid_request_object",
        /// OIDC: "The OP does not support use of the request parameter."
        RequestNotSupported => "request_not_supported",
        /// OIDC: "The OP does not support use of the request_uri parameter."
        RequestUriNotSupported => "request_uri_not_supported",
        /// OIDC: "The OP does not support use of the registration parameter."
        RegistrationNotSupported => "registration_not_supported",
        /// RFC 8707: "The requested resource is invalid, missing, unknown, or
        /// malformed."
        InvalidTarget => "invalid_target",
    }
}

error_codes! {
    /// Errors of the token endpoint: RFC 6749 §5.2.
    TokenErrorCode {
        /// "The request is missing a required parameter, includes an
        /// unsupported parameter value (other than grant type), repeats a
        /// parameter, includes multiple credentials, utilizes more than one
        /// mechanism for authenticating the client, or is otherwise malformed."
        InvalidRequest => "invalid_request",
        /// "Client authentication failed (e.g., unknown client, no client
        /// authentication included, or unsupported authentication method)."
        InvalidClient => "invalid_client",
        /// "The provided authorization grant (e.g., authorization code,
        /// resource owner credentials) or refresh token is invalid, expired,
        /// revoked, does not match the redirection URI used in the
        /// authorization request, or was issued to another client."
        InvalidGrant => "invalid_grant",
        /// "The authenticated client is not authorized to use this
        /// authorization grant type."
        UnauthorizedClient => "unauthorized_client",
        /// "The authorization grant type is not supported by the authorization
        /// server."
        UnsupportedGrantType => "unsupported_grant_type",
        /// "The requested scope is invalid, unknown, malformed, or exceeds the
        /// scope granted by the resource owner."
        InvalidScope => "invalid_scope",
        /// RFC 8707: "The requested resource is invalid, missing, unknown, or
        /// malformed."
        InvalidTarget => "invalid_target",
    }
}

error_codes! {
    /// Errors a protected resource answers: RFC 6750 §3.1.
    BearerErrorCode {
        /// "The request is missing a required parameter, includes an
        /// unsupported parameter or parameter value, repeats the same
        /// parameter, uses more than one method for including an access token,
        /// or is otherwise malformed."
        InvalidRequest => "invalid_request",
        /// "The access token provided is expired, revoked, malformed, or
        /// invalid for other reasons."
        InvalidToken => "invalid_token",
        /// "The request requires higher privileges than provided by the access
        /// token."
        InsufficientScope => "insufficient_scope",
    }
}

error_codes! {
    /// The error RFC 7009 §2.2.1 adds to the token endpoint's for revocation.
    RevocationErrorCode {
        /// "The authorization server does not support the revocation of the
        /// presented token type. That is, the client tried to revoke an access
        /// token on a server not supporting this feature."
        UnsupportedTokenType => "unsupported_token_type",
    }
}

error_codes! {
    /// Errors of dynamic client registration: RFC 7591 §3.2.2.
    RegistrationErrorCode {
        /// "The value of one or more redirection URIs is invalid."
        InvalidRedirectUri => "invalid_redirect_uri",
        /// "The value of one of the client metadata fields is invalid and the
        /// server has rejected this request."
        InvalidClientMetadata => "invalid_client_metadata",
        /// "The software statement presented is invalid."
        InvalidSoftwareStatement => "invalid_software_statement",
        /// "The software statement presented is not approved for use by this
        /// authorization server."
        UnapprovedSoftwareStatement => "unapproved_software_statement",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_form() {
        for code in TokenErrorCode::ALL {
            assert_eq!(TokenErrorCode::from_code(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            let back: TokenErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
        }
        assert_eq!(AuthorizeErrorCode::ALL.len(), 17);
        assert_eq!(
            BearerErrorCode::from_code("invalid_token"),
            Some(BearerErrorCode::InvalidToken)
        );
        assert_eq!(RegistrationErrorCode::from_code("nope"), None);
    }
}
