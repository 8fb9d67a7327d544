//! Integration tests of the storage layer. Every test in `users` and
//! `clients` runs on SQLite and, when `TEST_DATABASE_URL` is set, on
//! PostgreSQL (a database of its own, dropped afterwards).

mod clients;
mod fixtures;
mod keys;
mod pool;
mod sessions;
mod throttle;
mod users;
