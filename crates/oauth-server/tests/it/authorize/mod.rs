//! The authorization endpoint, login and consent.

mod consent;
mod login;
mod prompts;
mod requests;
