//! `oauth-server`: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser as _;
use oauth_server::config::{Cli, Config};

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match Config::resolve(Cli::parse()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("oauth-server: error: {err:#}");
            return ExitCode::from(2);
        }
    };
    oauth_server::telemetry::init(config.log_format);
    match oauth_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
