//! Integration tests of the server: a real server on a loopback port, over
//! a fresh database per test, SQLite always and PostgreSQL when
//! `TEST_DATABASE_URL` is set.

#![allow(
    unreachable_pub,
    reason = "the modules of this test binary share helpers; none of it is a public API"
)]

mod abuse;
mod apps;
mod authorize;
mod browser;
mod discovery;
mod examples;
mod introspect;
mod lifecycle;
mod oidc;
mod process;
mod register;
mod resources;
mod revoke;
mod security;
mod support;
mod token;
mod userinfo;
