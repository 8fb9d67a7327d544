//! Configuration: flags, their environment variables, an optional TOML
//! file, and defaults, in that order of precedence.
//!
//! ```toml
//! # oauth-server --config oauth.toml
//! bind = "0.0.0.0:8000"
//! database_url = "postgres://oauth@db.internal/oauth"
//! issuer = "https://auth.example.com"
//! log_format = "json"            # or "human"
//! trusted_proxies = ["10.0.0.0/8"]   # believe their X-Forwarded-For
//!
//! [lifetimes]                    # seconds
//! access_token = 3600
//!
//! [login_throttle.account]       # see docs/abuse.md
//! lock_after = 30
//!
//! [rate_limits]                  # requests per minute per address, per node
//! token_per_minute = 1200
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use oauth_core::authorize::ConsentMode;
use oauth_core::jose::SigningAlg;
use oauth_core::throttle::ThrottlePolicy;
use oauth_store::secret::SecretSource;
use serde::Deserialize;

use crate::client_ip::{Cidr, TrustedProxies};

/// The OAuth 2.0 and OpenID Connect authorization server.
#[derive(Debug, Parser)]
#[command(name = "oauth-server", version, max_term_width = 100)]
#[command(after_help = "\
Examples:
  oauth-server                                   # http://127.0.0.1:8000, SQLite file oauth.db
  oauth-server --bind 0.0.0.0:8000 --issuer https://auth.example.com \\
      --database-url postgres://oauth@db.internal/oauth
  oauth-server --config /etc/oauth-server.toml --log-format json

Every option may also come from the TOML file given to --config; flags and
environment variables win over the file.")]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "OAUTH_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://oauth.db].
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The issuer identifier: the public base URL of this server
    /// [default: http://<bind>].
    #[arg(long, env = "OAUTH_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,
    /// A TOML file with further settings.
    #[arg(long, env = "OAUTH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log lines for people (human) or for collectors (json).
    #[arg(long, env = "OAUTH_LOG_FORMAT", value_name = "FORMAT", value_parser = ["human", "json"])]
    pub log_format: Option<String>,
    /// The server's secret (32 characters or more), from which the session
    /// cookie keys are derived. Every instance behind one load balancer
    /// needs the same one. Without it, a key file is created beside the
    /// SQLite database.
    #[arg(
        long,
        env = "OAUTH_SECRET_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose
    /// X-Forwarded-For is believed for the client's address. Without
    /// them the header is ignored.
    #[arg(
        long,
        env = "OAUTH_TRUSTED_PROXIES",
        value_name = "CIDR,...",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<Cidr>>,
}

/// The settings a TOML file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    database_url: Option<String>,
    issuer: Option<String>,
    log_format: Option<LogFormat>,
    consent_mode: Option<ConsentMode>,
    templates_dir: Option<PathBuf>,
    secret_key_file: Option<PathBuf>,
    #[serde(default)]
    lifetimes: FileLifetimes,
    #[serde(default)]
    registration: FileRegistration,
    signing_alg: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    login_throttle: FileLoginThrottle,
    #[serde(default)]
    rate_limits: FileRateLimits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLoginThrottle {
    #[serde(default)]
    account: FileThrottlePolicy,
    #[serde(default)]
    address: FileThrottlePolicy,
}

/// A `ThrottlePolicy`, durations in seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileThrottlePolicy {
    free_attempts: Option<u32>,
    base_delay: Option<u64>,
    max_delay: Option<u64>,
    lock_after: Option<u32>,
    lock_duration: Option<u64>,
    reset_after: Option<u64>,
}

impl FileThrottlePolicy {
    fn over(&self, d: ThrottlePolicy) -> ThrottlePolicy {
        let secs = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_secs);
        ThrottlePolicy {
            free_attempts: self.free_attempts.unwrap_or(d.free_attempts),
            base_delay: secs(self.base_delay, d.base_delay),
            max_delay: secs(self.max_delay, d.max_delay),
            lock_after: self.lock_after.unwrap_or(d.lock_after),
            lock_duration: secs(self.lock_duration, d.lock_duration),
            reset_after: secs(self.reset_after, d.reset_after),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimits {
    token_per_minute: Option<u32>,
    revocation_per_minute: Option<u32>,
    introspection_per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegistration {
    enabled: Option<bool>,
    per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLifetimes {
    authorization_code: Option<u64>,
    access_token: Option<u64>,
    refresh_token: Option<u64>,
    session: Option<u64>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// How long what the server issues stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetimes {
    /// RFC 6749 §4.1.2 recommends at most ten minutes.
    pub authorization_code: Duration,
    /// The seed's `expires_in: 3600`.
    pub access_token: Duration,
    /// Absolute: refresh tokens rotate, but the grant ends this long after
    /// the user authorized.
    pub refresh_token: Duration,
    /// How long a login lasts before the user must log in again.
    pub session: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code: Duration::from_secs(600),
            access_token: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(30 * 24 * 3600),
            session: Duration::from_secs(12 * 3600),
        }
    }
}

/// The server's resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    pub log_format: LogFormat,
    pub lifetimes: Lifetimes,
    /// `force`: ask for consent every time (Frappe's default); `auto`:
    /// remember approvals per client and ask again only for new scopes.
    pub consent_mode: ConsentMode,
    /// A directory whose templates (same file names) replace the built-in
    /// ones, for branding.
    pub templates_dir: Option<PathBuf>,
    /// Where the server secret comes from.
    pub secret: SecretSource,
    /// Dynamic client registration (RFC 7591).
    pub registration: Registration,
    /// The algorithm ID tokens and JWT access tokens are signed with unless
    /// a client registered another.
    pub signing_alg: SigningAlg,
    /// Brute-force and abuse defences (docs/abuse.md).
    pub abuse: Abuse,
}

/// Brute-force and abuse defences: see docs/abuse.md.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Abuse {
    /// Whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    pub login: LoginThrottle,
    pub rate_limits: RateLimits,
}

/// Failed-login throttling, per account and per client address; the
/// counters are in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    pub account: ThrottlePolicy,
    pub address: ThrottlePolicy,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            account: ThrottlePolicy::ACCOUNT,
            address: ThrottlePolicy::ADDRESS,
        }
    }
}

/// Requests per minute per client address, per node; 0 turns a limit
/// off. Generous: one client's back end sends all its users' token
/// requests from one address, and resource servers introspect on every
/// call. Registration's limit is `registration.per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub token_per_minute: u32,
    pub revocation_per_minute: u32,
    pub introspection_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            token_per_minute: 1200,
            revocation_per_minute: 600,
            introspection_per_minute: 6000,
        }
    }
}

/// Dynamic client registration settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// On by default, as in Frappe.
    pub enabled: bool,
    /// Registrations accepted per client IP per minute.
    pub per_minute: u32,
}

impl Default for Registration {
    fn default() -> Self {
        Self {
            enabled: true,
            per_minute: 10,
        }
    }
}

impl std::fmt::Debug for Config {
    /// The database URL is shown without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let db = oauth_store::DatabaseUrl::parse(&self.database_url)
            .map_or_else(|_| "[unparsed]".to_owned(), |u| u.to_string());
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &db)
            .field("issuer", &self.issuer)
            .field("log_format", &self.log_format)
            .field("lifetimes", &self.lifetimes)
            .field("consent_mode", &self.consent_mode)
            .field("templates_dir", &self.templates_dir)
            .field("secret", &self.secret)
            .field("registration", &self.registration)
            .field("signing_alg", &self.signing_alg)
            .field("abuse", &self.abuse)
            .finish()
    }
}

impl Config {
    /// Resolves flags and environment (already in `cli`) over the TOML file
    /// over defaults.
    pub fn resolve(cli: Cli) -> anyhow::Result<Self> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("in {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let bind = cli
            .bind
            .or(file.bind)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000)));
        let issuer = cli
            .issuer
            .or(file.issuer)
            .unwrap_or_else(|| format!("http://{bind}"));
        let log_format = match cli.log_format.as_deref() {
            Some("json") => LogFormat::Json,
            Some(_) => LogFormat::Human,
            None => file.log_format.unwrap_or(LogFormat::Human),
        };
        let defaults = Lifetimes::default();
        let secs = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_secs);
        let lifetimes = Lifetimes {
            authorization_code: secs(
                file.lifetimes.authorization_code,
                defaults.authorization_code,
            ),
            access_token: secs(file.lifetimes.access_token, defaults.access_token),
            refresh_token: secs(file.lifetimes.refresh_token, defaults.refresh_token),
            session: secs(file.lifetimes.session, defaults.session),
        };
        let database_url = cli
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://oauth.db".to_owned());
        let secret = SecretSource::resolve(cli.secret_key, file.secret_key_file, &database_url)?;
        let trusted_proxies = match (cli.trusted_proxies, file.trusted_proxies) {
            (Some(flag), _) => flag,
            (None, Some(list)) => list
                .iter()
                .map(|s| s.parse::<Cidr>().map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<_>>()
                .context("in trusted_proxies")?,
            (None, None) => Vec::new(),
        };
        let limits = RateLimits::default();
        let abuse = Abuse {
            trusted_proxies: TrustedProxies(trusted_proxies),
            login: LoginThrottle {
                account: file.login_throttle.account.over(ThrottlePolicy::ACCOUNT),
                address: file.login_throttle.address.over(ThrottlePolicy::ADDRESS),
            },
            rate_limits: RateLimits {
                token_per_minute: file
                    .rate_limits
                    .token_per_minute
                    .unwrap_or(limits.token_per_minute),
                revocation_per_minute: file
                    .rate_limits
                    .revocation_per_minute
                    .unwrap_or(limits.revocation_per_minute),
                introspection_per_minute: file
                    .rate_limits
                    .introspection_per_minute
                    .unwrap_or(limits.introspection_per_minute),
            },
        };
        let config = Self {
            bind,
            database_url,
            issuer: validate_issuer(&issuer)?,
            log_format,
            lifetimes,
            consent_mode: file.consent_mode.unwrap_or(ConsentMode::Force),
            registration: Registration {
                enabled: file.registration.enabled.unwrap_or(true),
                per_minute: file.registration.per_minute.unwrap_or(10),
            },
            signing_alg: match file.signing_alg.as_deref() {
                Some(alg) => SigningAlg::parse(alg)?,
                None => SigningAlg::Rs256,
            },
            templates_dir: file.templates_dir,
            secret,
            abuse,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        let l = &self.lifetimes;
        for (name, d) in [
            ("authorization_code", l.authorization_code),
            ("access_token", l.access_token),
            ("refresh_token", l.refresh_token),
            ("session", l.session),
        ] {
            if d.is_zero() {
                bail!("lifetimes.{name} must be at least one second");
            }
        }
        if self.registration.per_minute == 0 {
            bail!(
                "registration.per_minute must be at least 1 (set registration.enabled = false to turn registration off)"
            );
        }
        for (name, p) in [
            ("account", &self.abuse.login.account),
            ("address", &self.abuse.login.address),
        ] {
            if p.enabled() && (p.lock_duration.is_zero() || p.reset_after.is_zero()) {
                bail!(
                    "login_throttle.{name}: lock_duration and reset_after must be at least one second"
                );
            }
            if p.enabled() && p.free_attempts >= p.lock_after {
                bail!("login_throttle.{name}: free_attempts must be less than lock_after");
            }
        }
        if l.authorization_code > Duration::from_secs(600) {
            bail!("lifetimes.authorization_code must be at most 600 seconds (RFC 6749 §4.1.2)");
        }
        Ok(())
    }
}

/// An issuer is an https (or, for development, http) URL with no query or
/// fragment (RFC 8414 §2); a trailing slash is dropped so endpoint URLs
/// join cleanly.
fn validate_issuer(issuer: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(issuer).with_context(|| format!("issuer {issuer:?} is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        bail!("issuer {issuer:?} must be an https:// (or http:// for development) URL");
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || issuer.contains('?')
        || issuer.contains('#')
    {
        bail!("issuer {issuer:?} must not have a query or fragment (RFC 8414 §2)");
    }
    // The server serves every endpoint at the root of its host, so an
    // issuer with a path would advertise URLs nobody answers.
    if url.path() != "/" {
        bail!(
            "issuer {issuer:?} must not have a path: serve the server at the root of its own host name"
        );
    }
    Ok(issuer.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["oauth-server"];
        all.extend(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = Config::resolve(Cli {
            bind: None,
            database_url: None,
            issuer: None,
            config: None,
            log_format: None,
            secret_key: None,
            trusted_proxies: None,
        })
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(c.database_url, "sqlite://oauth.db");
        assert_eq!(c.issuer, "http://127.0.0.1:8000");
        assert_eq!(c.lifetimes.access_token, Duration::from_secs(3600));
        assert_eq!(c.abuse, Abuse::default());
        assert!(c.abuse.trusted_proxies.0.is_empty());
    }

    #[test]
    fn abuse_settings_come_from_flags_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "trusted_proxies = [\"10.0.0.0/8\"]\n[login_throttle.account]\nlock_after = 7\nlock_duration = 60\n[rate_limits]\ntoken_per_minute = 5\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let c = Config::resolve(cli(&["--config", p])).unwrap();
        assert!(
            c.abuse
                .trusted_proxies
                .contains("10.1.2.3".parse().unwrap())
        );
        assert_eq!(c.abuse.login.account.lock_after, 7);
        assert_eq!(c.abuse.login.account.lock_duration, Duration::from_secs(60));
        assert_eq!(c.abuse.login.address, ThrottlePolicy::ADDRESS);
        assert_eq!(c.abuse.rate_limits.token_per_minute, 5);
        let c =
            Config::resolve(cli(&["--config", p, "--trusted-proxies", "192.0.2.1,::1"])).unwrap();
        assert!(
            !c.abuse
                .trusted_proxies
                .contains("10.1.2.3".parse().unwrap())
        );
        assert!(c.abuse.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(Cli::try_parse_from(["oauth-server", "--trusted-proxies", "10.0.0.0/40"]).is_err());
        std::fs::write(&path, "trusted_proxies = [\"proxy.internal\"]\n").unwrap();
        assert!(Config::resolve(cli(&["--config", p])).is_err());
        std::fs::write(&path, "[login_throttle.address]\nlock_after = 3\n").unwrap();
        assert!(Config::resolve(cli(&["--config", p])).is_err());
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9000\"\nissuer = \"https://file.example/\"\n[lifetimes]\naccess_token = 60\n").unwrap();
        let p = path.to_str().unwrap();
        let c = Config::resolve(cli(&["--config", p, "--bind", "127.0.0.1:9100"])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:9100");
        assert_eq!(c.issuer, "https://file.example");
        assert_eq!(c.lifetimes.access_token, Duration::from_secs(60));
    }

    #[test]
    fn bad_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "unknown_key = 1\n").unwrap();
        assert!(Config::resolve(cli(&["--config", path.to_str().unwrap()])).is_err());
        std::fs::write(&path, "[lifetimes]\nauthorization_code = 3600\n").unwrap();
        assert!(Config::resolve(cli(&["--config", path.to_str().unwrap()])).is_err());
        for bad in [
            "ftp://x",
            "https://x.example/?q=1",
            "https://x.example/#f",
            "https://x.example/tenant",
            "not a url",
        ] {
            assert!(Config::resolve(cli(&["--issuer", bad])).is_err(), "{bad}");
        }
    }
}
