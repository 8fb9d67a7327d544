//! `oauthctl keys …`: the keys that sign ID tokens and JWT access tokens.

use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use oauth_core::jose::SigningAlg;
use oauth_store::keys::{self, KeyInfo};
use oauth_store::secret::{SecretSource, ServerSecret};
use serde::Serialize;

use crate::context::Context;
use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List signing keys: active ones sign, retired ones stay published in
    /// the JWKS until the tokens they signed have expired.
    #[command(after_help = "Example:\n  oauthctl keys list --json")]
    List,
    /// Make a new signing key for an algorithm; the current one retires
    /// (it stops signing at once and stays published for --keep-for).
    /// Servers pick the new key up within a minute.
    #[command(after_help = "\
Examples:
  oauthctl keys rotate                    # RS256, the default
  oauthctl keys rotate --alg ES256 --keep-for 86400
  OAUTH_SECRET_KEY=… oauthctl --database-url postgres://… keys rotate")]
    Rotate {
        /// RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
        alg: String,
        /// Seconds the retired key stays in the JWKS: at least the longest
        /// token lifetime (ID tokens and access tokens: one hour by default).
        #[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
        keep_for: u64,
        /// The server secret the keys are sealed under (as the server's
        /// OAUTH_SECRET_KEY); by default the key file beside the SQLite
        /// database.
        #[arg(long, env = "OAUTH_SECRET_KEY", hide_env_values = true)]
        secret_key: Option<String>,
    },
}

pub(crate) fn run(ctx: &mut Context, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::List => {
            let all = keys::list(&mut *ctx.conn()?)?;
            if ctx.json {
                return output::json(&all.iter().map(KeyView::from).collect::<Vec<_>>());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|k| {
                    let v = KeyView::from(k);
                    vec![
                        v.kid.to_owned(),
                        v.alg.to_owned(),
                        v.status.to_owned(),
                        v.created_at,
                        v.expires_at.unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &["KID", "ALG", "STATUS", "CREATED", "UNPUBLISHED AT"],
                &rows,
            );
            Ok(())
        }
        KeysCommand::Rotate {
            alg,
            keep_for,
            secret_key,
        } => {
            let alg = SigningAlg::parse(&alg)?;
            let source = SecretSource::resolve(secret_key, None, ctx.db().url().expose_secret())?;
            let secret = ServerSecret::load(&source)?;
            if let Some(path) = secret.created() {
                eprintln!(
                    "warning: created a new server secret in {}; the server must use the same one",
                    path.display()
                );
            }
            let key = keys::rotate(
                &mut *ctx.conn()?,
                alg,
                &secret,
                ctx.now(),
                Duration::from_secs(keep_for),
            )
            .context("rotating the signing key")?;
            if ctx.json {
                return output::json(&KeyView::from(&key));
            }
            output::line(&format!(
                "New {} signing key {}; the previous one is retired",
                key.alg, key.kid
            ));
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct KeyView<'a> {
    kid: &'a str,
    alg: &'static str,
    status: &'static str,
    created_at: String,
    retired_at: Option<String>,
    expires_at: Option<String>,
    public_jwk: &'a serde_json::Value,
}

impl<'a> From<&'a KeyInfo> for KeyView<'a> {
    fn from(k: &'a KeyInfo) -> Self {
        Self {
            kid: &k.kid,
            alg: k.alg.as_str(),
            status: if k.retired_at.is_none() {
                "active"
            } else {
                "retired"
            },
            created_at: output::time(k.created_at),
            retired_at: k.retired_at.map(output::time),
            expires_at: k.expires_at.map(output::time),
            public_jwk: &k.public_jwk,
        }
    }
}
