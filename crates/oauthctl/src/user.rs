//! `oauthctl user …`: the people who log in.

use anyhow::{Context as _, anyhow};
use clap::Subcommand;
use oauth_core::{Email, FullName, PasswordHash, Picture, Role, User, UserId, Username};
use oauth_store::users;
use serde::Serialize;

use crate::context::Context;
use crate::{output, password};

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user. The password is read from stdin (--password-stdin) or
    /// prompted for on the terminal; it is stored only as an argon2id hash.
    #[command(after_help = "\
Examples:
  printf '%s' 'a long passphrase' | oauthctl user add alice --email alice@example.com \\
      --full-name 'Alice Liddell' --role 'Projects User' --password-stdin
  oauthctl user add bob            # prompts for the password twice")]
    Add {
        /// Login name: letters, digits and . _ @ + -.
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Mark the email as verified (the OIDC email_verified claim).
        /// Relying parties may link accounts by a verified email: set it
        /// only when you know the address belongs to the user.
        #[arg(long, requires = "email")]
        email_verified: bool,
        #[arg(long)]
        full_name: Option<String>,
        /// URL of a profile picture (the OIDC picture claim).
        #[arg(long, value_name = "URL")]
        picture: Option<String>,
        /// A role the user holds (repeat for several). Clients may require
        /// one of their allowed roles.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Read the password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    #[command(after_help = "Example:\n  oauthctl user list --json")]
    List,
    /// Show one user.
    #[command(after_help = "Example:\n  oauthctl user show alice --json")]
    Show { username: String },
    /// Set a new password.
    #[command(
        after_help = "Example:\n  printf '%s' 'new passphrase' | oauthctl user passwd alice --password-stdin"
    )]
    Passwd {
        username: String,
        /// Read the password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: no more logins, and the user's tokens stop working.
    #[command(after_help = "Example:\n  oauthctl user disable alice")]
    Disable { username: String },
    /// Enable a disabled user again.
    #[command(after_help = "Example:\n  oauthctl user enable alice")]
    Enable { username: String },
    /// Delete a user, with every grant, token and consent of theirs.
    #[command(after_help = "Example:\n  oauthctl user delete alice")]
    Delete { username: String },
}

pub(crate) fn run(ctx: &mut Context, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            email,
            email_verified,
            full_name,
            picture,
            roles,
            password_stdin,
        } => {
            // Parse everything before reading the password, and read the
            // password before writing anything.
            let username = Username::parse(&username)?;
            let email = email.as_deref().map(Email::parse).transpose()?;
            let full_name = full_name.as_deref().map(FullName::parse).transpose()?;
            let picture = picture.as_deref().map(Picture::parse).transpose()?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<Result<Vec<_>, _>>()?;
            let mut conn = ctx.conn()?;
            if users::find_by_username(&mut conn, username.as_str())?.is_some() {
                return Err(anyhow!("user {username} already exists"));
            }
            let password = password::read_new(password_stdin)?;
            let now = ctx.now();
            let user = User {
                id: UserId::generate(&mut ctx.rng()),
                username,
                email,
                email_verified,
                full_name,
                picture,
                roles,
                enabled: true,
                password_hash: PasswordHash::hash(&password, &mut ctx.rng()),
                created_at: now,
                updated_at: now,
            };
            users::create(&mut conn, &user)
                .with_context(|| format!("cannot add user {}", user.username))?;
            print_user(ctx, &user, "Created user")
        }
        UserCommand::List => {
            let all = users::list(&mut *ctx.conn()?)?;
            if ctx.json {
                return output::json(&all.iter().map(UserView::from).collect::<Vec<_>>());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|u| {
                    vec![
                        u.username.to_string(),
                        u.email
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        u.full_name
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        roles(u),
                        if u.enabled { "enabled" } else { "disabled" }.to_owned(),
                    ]
                })
                .collect();
            output::table(
                &["USERNAME", "EMAIL", "FULL NAME", "ROLES", "STATUS"],
                &rows,
            );
            Ok(())
        }
        UserCommand::Show { username } => {
            let user = find(ctx, &username)?;
            print_user(ctx, &user, "User")
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let user = find(ctx, &username)?;
            let password = password::read_new(password_stdin)?;
            let hash = PasswordHash::hash(&password, &mut ctx.rng());
            users::set_password(&mut *ctx.conn()?, &user.id, &hash, ctx.now())?;
            done(ctx, &format!("Password changed for {}", user.username))
        }
        UserCommand::Disable { username } => set_enabled(ctx, &username, false),
        UserCommand::Enable { username } => set_enabled(ctx, &username, true),
        UserCommand::Delete { username } => {
            let user = find(ctx, &username)?;
            users::delete(&mut *ctx.conn()?, &user.id)?;
            done(ctx, &format!("Deleted user {}", user.username))
        }
    }
}

fn set_enabled(ctx: &mut Context, username: &str, enabled: bool) -> anyhow::Result<()> {
    let user = find(ctx, username)?;
    users::set_enabled(&mut *ctx.conn()?, &user.id, enabled, ctx.now())?;
    let verb = if enabled { "Enabled" } else { "Disabled" };
    done(ctx, &format!("{verb} user {}", user.username))
}

fn find(ctx: &Context, username: &str) -> anyhow::Result<User> {
    users::find_by_username(&mut *ctx.conn()?, username)?
        .ok_or_else(|| anyhow!("no user named {username:?}"))
}

fn done(ctx: &Context, message: &str) -> anyhow::Result<()> {
    if ctx.json {
        output::json(&serde_json::json!({ "ok": true, "message": message }))
    } else {
        output::line(message);
        Ok(())
    }
}

fn roles(u: &User) -> String {
    u.roles
        .iter()
        .map(Role::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON form of a user. The password hash is never shown.
#[derive(Serialize)]
struct UserView<'a> {
    id: &'a str,
    username: &'a str,
    email: Option<&'a str>,
    email_verified: bool,
    full_name: Option<&'a str>,
    picture: Option<&'a str>,
    roles: Vec<&'a str>,
    enabled: bool,
    created_at: String,
    updated_at: String,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            id: u.id.as_str(),
            username: u.username.as_str(),
            email: u.email.as_ref().map(Email::as_str),
            email_verified: u.email_verified,
            full_name: u.full_name.as_ref().map(FullName::as_str),
            picture: u.picture.as_ref().map(Picture::as_str),
            roles: u.roles.iter().map(Role::as_str).collect(),
            enabled: u.enabled,
            created_at: output::time(u.created_at),
            updated_at: output::time(u.updated_at),
        }
    }
}

fn print_user(ctx: &Context, user: &User, title: &str) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(&UserView::from(user));
    }
    output::line(&format!("{title} {}", user.username));
    let view = UserView::from(user);
    for (k, v) in [
        ("id (sub)", view.id.to_owned()),
        ("email", view.email.unwrap_or("-").to_owned()),
        ("full name", view.full_name.unwrap_or("-").to_owned()),
        (
            "roles",
            if user.roles.is_empty() {
                "-".to_owned()
            } else {
                roles(user)
            },
        ),
        (
            "status",
            if user.enabled { "enabled" } else { "disabled" }.to_owned(),
        ),
        ("created", view.created_at),
    ] {
        output::line(&format!("  {k:<10} {v}"));
    }
    Ok(())
}
