//! Guards actix-web resource APIs with OAuth 2.0 bearer tokens (RFC 6750).
//!
//! This crate is reserved for the resource-server middleware and
//! extractors; they arrive with the bearer-guard issue, after the server's
//! introspection and JWKS endpoints exist. It holds no code yet, on
//! purpose: a middleware that admits tokens before it can verify them would
//! be worse than none.
