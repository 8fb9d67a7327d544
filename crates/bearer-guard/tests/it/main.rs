//! bearer-guard's integration tests: the guard in front of an in-process
//! actix app, checking tokens issued over real HTTP by a real
//! `oauth-server` process (see `support.rs`).

#![allow(
    unreachable_pub,
    reason = "the modules of this test binary share helpers; none of it is a public API"
)]

mod availability;
mod example;
mod jwt;
mod modes;
mod rfc6750;
mod support;
