//! Logging: human-readable lines by default, JSON lines with
//! `--log-format json`; the level comes from `RUST_LOG` (default `info`).
//!
//! Whatever `RUST_LOG` says, the HTTP and TLS stacks' own targets
//! ([`CAPPED`]) log at most at `debug`: `trace` is the level at which
//! such crates dump what crosses the wire (header fields, frames,
//! buffers), and on this server that means codes, tokens, client secrets,
//! passwords and session cookies. Turning on `RUST_LOG=trace` to debug a
//! deployment must not put credentials in its logs. The test
//! `security::logs::secrets_never_reach_the_logs_at_trace_level` runs a
//! whole flow at `trace` and searches the output for every secret.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, fmt};

use crate::config::LogFormat;

/// Targets that never log below `debug`: they would print the wire.
pub const CAPPED: &[&str] = &[
    "actix_http",
    "actix_web",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
];

/// Installs the global subscriber. Call once, at start.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second filter rather than directives added to `filter`: a more
    // specific `RUST_LOG` directive (`actix_http::h1=trace`) would win
    // over an added one, but it cannot get past this.
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED.iter().map(|target| (*target, LevelFilter::DEBUG)));
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in files or pipes.
        .with_ansi(std::io::stderr().is_terminal());
    let layer = match format {
        LogFormat::Human => layer.boxed(),
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter).with_filter(caps))
        .init();
}
