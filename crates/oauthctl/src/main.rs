//! `oauthctl`: manage the authorization server's clients and users from the
//! terminal, against the same database the server uses.
//!
//! `main` only parses the command line and dispatches; each subcommand
//! lives in its own module. Errors print as one line on stderr and exit 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod client;
mod context;
mod keys;
mod migrate;
mod output;
mod password;
mod token;
mod user;

use context::Context;

/// Manage the OAuth 2.0 / OpenID Connect server's clients and users.
#[derive(Debug, Parser)]
#[command(
    name = "oauthctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = "\
Examples:
  oauthctl user add alice --email alice@example.com --password-stdin <<< 'a long passphrase'
  oauthctl client add --name Demo --redirect-uri http://localhost:3000/oauth_code --scope \"openid project\"
  oauthctl client list --json
  DATABASE_URL=postgres://oauth@db.internal/oauth oauthctl migrate

The database is created and migrated on first use.")]
struct Cli {
    /// Database to manage: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://oauth.db",
        global = true,
        hide_env_values = true
    )]
    database_url: String,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations.
    #[command(
        after_help = "Example:\n  oauthctl --database-url postgres://postgres@127.0.0.1/oauth migrate"
    )]
    Migrate,
    /// Manage users: the people who log in and grant access.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage OAuth clients: the applications that ask for access.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage the keys that sign ID tokens and JWT access tokens.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// List and revoke grants and tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Delete expired and revoked codes, tokens and grants, unanswered
    /// consent dialogs, and keys no longer published.
    #[command(after_help = "Example (a daily cron job):\n  oauthctl gc --json")]
    Gc,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` joins the causes into one line: "what failed: why".
            eprintln!("oauthctl: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut ctx = Context::open(&cli.database_url, cli.json)?;
    match cli.command {
        Command::Migrate => migrate::run(&mut ctx),
        Command::User(cmd) => user::run(&mut ctx, cmd),
        Command::Client(cmd) => client::run(&mut ctx, cmd),
        Command::Keys(cmd) => keys::run(&mut ctx, cmd),
        Command::Token(cmd) => token::run(&mut ctx, cmd),
        Command::Gc => token::gc(&mut ctx),
    }
}
