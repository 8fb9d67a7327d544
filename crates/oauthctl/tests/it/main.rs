//! Runs the real `oauthctl` binary against a fresh database: SQLite always,
//! PostgreSQL too when `TEST_DATABASE_URL` is set.

mod cli;
mod clients;
mod keys;
mod tokens;
mod users;
