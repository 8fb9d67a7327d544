//! `oauthctl token …` and `oauthctl gc`: grants and their tokens.

use anyhow::{anyhow, bail};
use clap::Subcommand;
use oauth_core::{ClientId, Token};
use oauth_store::grants::{self, GrantSummary};
use oauth_store::{gc, tokens, users};
use serde::Serialize;

use crate::context::Context;
use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// List active grants (one per authorization) with their tokens.
    /// Tokens themselves are stored only as digests and cannot be shown.
    #[command(after_help = "\
Examples:
  oauthctl token list
  oauthctl token list --user alice --json
  oauthctl token list --client 8Hq0pCw3JcH5bW1Jq4yX9g")]
    List {
        /// Only this user's grants.
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
        /// Only this client's grants.
        #[arg(long, value_name = "CLIENT_ID", allow_hyphen_values = true)]
        client: Option<String>,
    },
    /// Revoke one token (and, for a refresh token, its whole grant), or
    /// every grant of a user or a client. Takes effect on the next request.
    #[command(after_help = "\
Examples:
  oauthctl token revoke tWVQ-nWvjZQGUMYp1SB1UNum6h8n-WBHxZF-NDzlIsY
  oauthctl token revoke --user alice
  oauthctl token revoke --client 8Hq0pCw3JcH5bW1Jq4yX9g")]
    Revoke {
        /// The access or refresh token to revoke.
        #[arg(
            conflicts_with_all = ["user", "client"],
            required_unless_present_any = ["user", "client"],
            allow_hyphen_values = true
        )]
        token: Option<String>,
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
        #[arg(long, value_name = "CLIENT_ID", allow_hyphen_values = true)]
        client: Option<String>,
    },
}

pub(crate) fn run(ctx: &mut Context, cmd: TokenCommand) -> anyhow::Result<()> {
    let now = ctx.now();
    match cmd {
        TokenCommand::List { user, client } => {
            let (user, client) = filters(ctx, user.as_deref(), client.as_deref())?;
            let found =
                grants::list_active(&mut *ctx.conn()?, user.as_ref(), client.as_ref(), now)?;
            let views: Vec<GrantView<'_>> = found.iter().map(GrantView::from).collect();
            if ctx.json {
                return output::json(&views);
            }
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    vec![
                        v.grant_id.to_owned(),
                        v.client_id.to_owned(),
                        v.user_id.unwrap_or("(client)").to_owned(),
                        v.scope.clone(),
                        v.active_access_tokens.to_string(),
                        if v.refreshable { "yes" } else { "no" }.to_owned(),
                        v.expires_at.clone(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "GRANT",
                    "CLIENT",
                    "USER",
                    "SCOPE",
                    "ACCESS TOKENS",
                    "REFRESHABLE",
                    "ENDS",
                ],
                &rows,
            );
            Ok(())
        }
        TokenCommand::Revoke {
            token: Some(token), ..
        } => {
            let token = Token::presented(token)?;
            let digest = token.digest();
            let mut conn = ctx.conn()?;
            let what = if tokens::find_access(&mut conn, &digest)?.is_some() {
                tokens::revoke_access(&mut conn, &digest, now)?;
                "access token"
            } else if let Some(refresh) = tokens::find_refresh(&mut conn, &digest)? {
                grants::revoke(&mut conn, &refresh.grant_id, now)?;
                "refresh token and its grant"
            } else {
                bail!("no such token (tokens are matched by their digest; was it copied whole?)");
            };
            done(ctx, &format!("Revoked the {what}"), 1)
        }
        TokenCommand::Revoke {
            token: None,
            user,
            client,
        } => {
            let (user, client) = filters(ctx, user.as_deref(), client.as_deref())?;
            let n = grants::revoke_all(&mut *ctx.conn()?, user.as_ref(), client.as_ref(), now)?;
            done(ctx, &format!("Revoked {n} grant(s) and their tokens"), n)
        }
    }
}

/// `oauthctl gc`: deletes what has ended, reporting progress per table.
pub(crate) fn gc(ctx: &mut Context) -> anyhow::Result<()> {
    let json = ctx.json;
    let removed = gc::collect(&mut *ctx.conn()?, ctx.now(), |r| {
        if !json && r.rows >= usize::try_from(gc::BATCH).unwrap_or(usize::MAX) {
            eprintln!("  {}: {} rows so far", r.table, r.rows);
        }
    })?;
    if json {
        let map: serde_json::Map<String, serde_json::Value> = removed
            .iter()
            .map(|r| (r.table.to_owned(), r.rows.into()))
            .collect();
        return output::json(&serde_json::json!({ "removed": map }));
    }
    for r in &removed {
        output::line(&format!("{:<20} {} removed", r.table, r.rows));
    }
    Ok(())
}

fn filters(
    ctx: &Context,
    user: Option<&str>,
    client: Option<&str>,
) -> anyhow::Result<(Option<oauth_core::UserId>, Option<ClientId>)> {
    let user = match user {
        Some(name) => Some(
            users::find_by_username(&mut *ctx.conn()?, name)?
                .ok_or_else(|| anyhow!("no user named {name:?}"))?
                .id,
        ),
        None => None,
    };
    let client = client.map(ClientId::parse).transpose()?;
    Ok((user, client))
}

fn done(ctx: &Context, message: &str, count: usize) -> anyhow::Result<()> {
    if ctx.json {
        output::json(&serde_json::json!({ "ok": true, "message": message, "revoked": count }))
    } else {
        output::line(message);
        Ok(())
    }
}

#[derive(Serialize)]
struct GrantView<'a> {
    grant_id: &'a str,
    client_id: &'a str,
    user_id: Option<&'a str>,
    scope: String,
    active_access_tokens: i64,
    refreshable: bool,
    created_at: String,
    expires_at: String,
}

impl<'a> From<&'a GrantSummary> for GrantView<'a> {
    fn from(s: &'a GrantSummary) -> Self {
        let g = &s.grant;
        Self {
            grant_id: &g.id,
            client_id: g.client_id.as_str(),
            user_id: g.user_id.as_ref().map(|u| u.as_str()),
            scope: g.scopes.to_string(),
            active_access_tokens: s.active_access_tokens,
            refreshable: s.refreshable,
            created_at: output::time(g.created_at),
            expires_at: output::time(g.expires_at),
        }
    }
}
