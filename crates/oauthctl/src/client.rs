//! `oauthctl client …`: the applications that ask for access.

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use oauth_core::{
    AccessTokenFormat, Client, ClientId, ClientMetadata, ClientSecret, GrantType, RedirectUri,
    Role, ScopeSet, TokenEndpointAuthMethod,
};
use oauth_store::clients;
use serde::Serialize;

use crate::context::Context;
use crate::output;

/// The scopes a client gets when `--scope` is not given.
const DEFAULT_SCOPES: &str = "openid profile email";

#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client. Prints its client_id and, for confidential
    /// clients, its client_secret: shown this once, stored only hashed.
    #[command(after_help = "\
Examples:
  # A web app (confidential, client_secret_basic), as in Frappe's guide:
  oauthctl client add --name Demo --redirect-uri http://localhost:3000/oauth_code \\
      --scope \"openid project\" --json
  # A single-page or native app (public, PKCE S256 required):
  oauthctl client add --name 'Mobile' --public --redirect-uri com.example.app:/callback
  # A service calling APIs on its own behalf:
  oauthctl client add --name 'Reports job' --grant-type client_credentials --scope project")]
    Add(AddArgs),
    /// List clients.
    #[command(after_help = "Example:\n  oauthctl client list --json")]
    List,
    /// Show one client (never its secret).
    #[command(after_help = "Example:\n  oauthctl client show 8Hq0pCw3JcH5bW1Jq4yX9g --json")]
    Show {
        /// Client ids may begin with `-`; they are never taken for flags.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Change a client's settings. Only the options given change; a list
    /// option (--redirect-uri, --allowed-role, ...) replaces the whole list.
    #[command(after_help = "\
Examples:
  oauthctl client update 8Hq0pCw3JcH5bW1Jq4yX9g --scope \"openid profile project\"
  oauthctl client update 8Hq0pCw3JcH5bW1Jq4yX9g --redirect-uri https://app.example.com/cb \\
      --redirect-uri http://localhost:3000/oauth_code --skip-authorization true")]
    Update(UpdateArgs),
    /// Issue a new client secret; the old one stops working at once, or
    /// at the end of the --grace period.
    #[command(after_help = "Examples:
  oauthctl client rotate-secret 8Hq0pCw3JcH5bW1Jq4yX9g --json
  oauthctl client rotate-secret 8Hq0pCw3JcH5bW1Jq4yX9g --grace 1h")]
    RotateSecret {
        /// Client ids may begin with `-`; they are never taken for flags.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// Keep the old secret working this long (e.g. 90s, 30m, 1h, 7d;
        /// a bare number is seconds), so deployments can switch without
        /// downtime. Default: none. Any earlier secret still in a grace
        /// period stops at once.
        #[arg(long, value_name = "DURATION", value_parser = parse_grace)]
        grace: Option<std::time::Duration>,
    },
    /// Delete a client, with every grant, token and consent it holds.
    #[command(after_help = "Example:\n  oauthctl client delete 8Hq0pCw3JcH5bW1Jq4yX9g")]
    Delete {
        /// Client ids may begin with `-`; they are never taken for flags.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Name shown to users on the consent page.
    #[arg(long)]
    name: String,
    /// Where users are sent back after authorizing (repeat for several).
    /// Matched exactly; loopback IP URIs (http://127.0.0.1/cb) match any
    /// port, per RFC 8252.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// Redirect URI used when a request names none [default: the first].
    #[arg(long, value_name = "URI")]
    default_redirect_uri: Option<String>,
    /// Space-separated scopes the client may ask for.
    #[arg(long, value_name = "SCOPES", default_value = DEFAULT_SCOPES)]
    scope: String,
    /// Grant types, comma-separated or repeated.
    #[arg(
        long = "grant-type",
        value_name = "TYPE",
        value_delimiter = ',',
        default_value = "authorization_code,refresh_token",
        value_parser = ["authorization_code", "refresh_token", "client_credentials", "implicit"],
    )]
    grant_types: Vec<String>,
    /// How the client authenticates at the token endpoint.
    #[arg(
        long,
        value_name = "METHOD",
        conflicts_with = "public",
        value_parser = ["client_secret_basic", "client_secret_post", "none"],
    )]
    auth_method: Option<String>,
    /// A public client (browser or native app) with no secret; short for
    /// --auth-method none. Public clients must use PKCE with S256.
    #[arg(long)]
    public: bool,
    /// Trusted first-party client: users are not asked for consent.
    #[arg(long)]
    skip_authorization: bool,
    /// Users need one of these roles to use the client (repeat for several).
    #[arg(long = "allowed-role", value_name = "ROLE")]
    allowed_roles: Vec<String>,
    /// Access tokens as opaque strings or as RFC 9068 JWTs.
    #[arg(long, value_name = "FORMAT", default_value = "opaque", value_parser = ["opaque", "jwt"])]
    access_token_format: String,
    /// Accept PKCE code_challenge_method=plain (confidential clients only).
    #[arg(long)]
    allow_plain_pkce: bool,
    /// Home page of the client, shown on the consent page.
    #[arg(long, value_name = "URL")]
    client_uri: Option<String>,
    /// Logo of the client, shown on the consent page.
    #[arg(long, value_name = "URL")]
    logo_uri: Option<String>,
    /// Who to contact about the client (repeat for several).
    #[arg(long = "contact", value_name = "EMAIL")]
    contacts: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[arg(allow_hyphen_values = true)]
    client_id: String,
    #[arg(long)]
    name: Option<String>,
    /// Replaces the redirect URIs (repeat for several).
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    #[arg(long, value_name = "URI")]
    default_redirect_uri: Option<String>,
    /// Replaces the scopes.
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// Replaces the grant types, comma-separated or repeated.
    #[arg(
        long = "grant-type",
        value_name = "TYPE",
        value_delimiter = ',',
        value_parser = ["authorization_code", "refresh_token", "client_credentials", "implicit"],
    )]
    grant_types: Vec<String>,
    /// Switching a public client to a secret method issues a secret (shown
    /// once); switching to none removes it.
    #[arg(
        long,
        value_name = "METHOD",
        conflicts_with = "public",
        value_parser = ["client_secret_basic", "client_secret_post", "none"],
    )]
    auth_method: Option<String>,
    /// Short for --auth-method none.
    #[arg(long)]
    public: bool,
    #[arg(long, value_name = "BOOL")]
    skip_authorization: Option<bool>,
    /// Replaces the allowed roles (repeat for several).
    #[arg(
        long = "allowed-role",
        value_name = "ROLE",
        conflicts_with = "clear_allowed_roles"
    )]
    allowed_roles: Vec<String>,
    /// Let any user use the client.
    #[arg(long)]
    clear_allowed_roles: bool,
    #[arg(long, value_name = "FORMAT", value_parser = ["opaque", "jwt"])]
    access_token_format: Option<String>,
    #[arg(long, value_name = "BOOL")]
    allow_plain_pkce: Option<bool>,
    #[arg(long, value_name = "URL")]
    client_uri: Option<String>,
    #[arg(long, value_name = "URL")]
    logo_uri: Option<String>,
    /// Replaces the contacts (repeat for several).
    #[arg(long = "contact", value_name = "EMAIL")]
    contacts: Vec<String>,
}

pub(crate) fn run(ctx: &mut Context, cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Add(args) => add(ctx, args),
        ClientCommand::List => {
            let all = clients::list(&mut *ctx.conn()?)?;
            if ctx.json {
                return output::json(
                    &all.iter()
                        .map(|c| ClientView::new(c, None))
                        .collect::<Vec<_>>(),
                );
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|c| {
                    let m = &c.metadata;
                    vec![
                        c.id.to_string(),
                        m.name.clone(),
                        m.token_endpoint_auth_method.to_string(),
                        m.grant_types
                            .iter()
                            .map(|g| g.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        m.redirect_uris
                            .iter()
                            .map(RedirectUri::as_str)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect();
            output::table(
                &[
                    "CLIENT_ID",
                    "NAME",
                    "AUTH METHOD",
                    "GRANT TYPES",
                    "REDIRECT URIS",
                ],
                &rows,
            );
            Ok(())
        }
        ClientCommand::Show { client_id } => {
            let client = find(ctx, &client_id)?;
            print_client(ctx, &client, None, "Client")
        }
        ClientCommand::Update(args) => update(ctx, args),
        ClientCommand::RotateSecret { client_id, grace } => {
            let mut client = find(ctx, &client_id)?;
            if client.metadata.is_public() {
                bail!(
                    "client {client_id} is public (auth method none) and has no secret to rotate"
                );
            }
            let secret = ClientSecret::generate(&mut ctx.rng());
            client.rotate_secret(&secret, grace, ctx.now());
            clients::update(&mut *ctx.conn()?, &client)?;
            print_client(ctx, &client, Some(Some(&secret)), "New secret for client")
        }
        ClientCommand::Delete { client_id } => {
            let client = find(ctx, &client_id)?;
            clients::delete(&mut *ctx.conn()?, &client.id)?;
            let message = format!("Deleted client {} ({})", client.id, client.metadata.name);
            if ctx.json {
                output::json(&serde_json::json!({ "ok": true, "message": message }))
            } else {
                output::line(&message);
                Ok(())
            }
        }
    }
}

fn add(ctx: &mut Context, args: AddArgs) -> anyhow::Result<()> {
    let redirect_uris = parse_redirects(&args.redirect_uris)?;
    let mut metadata = ClientMetadata::new(args.name, redirect_uris, ScopeSet::parse(&args.scope)?);
    metadata.default_redirect_uri = args
        .default_redirect_uri
        .as_deref()
        .map(RedirectUri::parse)
        .transpose()?;
    metadata.grant_types = parse_grants(&args.grant_types)?;
    metadata.token_endpoint_auth_method = auth_method(args.auth_method.as_deref(), args.public)?
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic);
    metadata.skip_authorization = args.skip_authorization;
    metadata.allowed_roles = parse_roles(&args.allowed_roles)?;
    metadata.access_token_format = AccessTokenFormat::parse(&args.access_token_format)?;
    metadata.allow_plain_pkce = args.allow_plain_pkce;
    metadata.client_uri = args.client_uri;
    metadata.logo_uri = args.logo_uri;
    metadata.contacts = args.contacts;
    let metadata = metadata.validate()?;

    let (client, secret) = Client::create(metadata, &mut ctx.rng(), ctx.now());
    clients::create(&mut *ctx.conn()?, &client).context("cannot add the client")?;
    print_client(ctx, &client, Some(secret.as_ref()), "Created client")
}

fn update(ctx: &mut Context, args: UpdateArgs) -> anyhow::Result<()> {
    let mut client = find(ctx, &args.client_id)?;
    let m = &mut client.metadata;
    if let Some(name) = args.name {
        m.name = name;
    }
    if !args.redirect_uris.is_empty() {
        m.redirect_uris = parse_redirects(&args.redirect_uris)?;
        // The old default may no longer be registered; validate() picks the
        // first URI unless a new default is given.
        m.default_redirect_uri = None;
    }
    if let Some(default) = &args.default_redirect_uri {
        m.default_redirect_uri = Some(RedirectUri::parse(default)?);
    }
    if let Some(scope) = &args.scope {
        m.scopes = ScopeSet::parse(scope)?;
    }
    if !args.grant_types.is_empty() {
        m.grant_types = parse_grants(&args.grant_types)?;
    }
    if let Some(method) = auth_method(args.auth_method.as_deref(), args.public)? {
        m.token_endpoint_auth_method = method;
    }
    if let Some(skip) = args.skip_authorization {
        m.skip_authorization = skip;
    }
    if args.clear_allowed_roles {
        m.allowed_roles.clear();
    } else if !args.allowed_roles.is_empty() {
        m.allowed_roles = parse_roles(&args.allowed_roles)?;
    }
    if let Some(format) = &args.access_token_format {
        m.access_token_format = AccessTokenFormat::parse(format)?;
    }
    if let Some(plain) = args.allow_plain_pkce {
        m.allow_plain_pkce = plain;
    }
    if args.client_uri.is_some() {
        m.client_uri = args.client_uri;
    }
    if args.logo_uri.is_some() {
        m.logo_uri = args.logo_uri;
    }
    if !args.contacts.is_empty() {
        m.contacts = args.contacts;
    }
    client.metadata = client.metadata.validate()?;

    // Keep the secret in step with the auth method.
    let mut new_secret = None;
    if client.metadata.is_public() {
        client.secret_digest = None;
    } else if client.secret_digest.is_none() {
        let secret = ClientSecret::generate(&mut ctx.rng());
        client.secret_digest = Some(secret.digest());
        new_secret = Some(secret);
    }
    client.updated_at = ctx.now();
    clients::update(&mut *ctx.conn()?, &client)?;
    // Show a secret only when this update created one.
    print_client(
        ctx,
        &client,
        new_secret.as_ref().map(Some),
        "Updated client",
    )
}

fn find(ctx: &Context, client_id: &str) -> anyhow::Result<Client> {
    let id = ClientId::parse(client_id)?;
    clients::find(&mut *ctx.conn()?, &id)?.ok_or_else(|| anyhow!("no client with id {client_id:?}"))
}

fn parse_redirects(uris: &[String]) -> anyhow::Result<Vec<RedirectUri>> {
    Ok(uris
        .iter()
        .map(|u| RedirectUri::parse(u))
        .collect::<Result<_, _>>()?)
}

fn parse_grants(grants: &[String]) -> anyhow::Result<Vec<GrantType>> {
    Ok(grants
        .iter()
        .map(|g| GrantType::parse(g.trim()))
        .collect::<Result<_, _>>()?)
}

fn parse_roles(roles: &[String]) -> anyhow::Result<Vec<Role>> {
    Ok(roles
        .iter()
        .map(|r| Role::parse(r))
        .collect::<Result<_, _>>()?)
}

fn auth_method(
    method: Option<&str>,
    public: bool,
) -> anyhow::Result<Option<TokenEndpointAuthMethod>> {
    if public {
        return Ok(Some(TokenEndpointAuthMethod::None));
    }
    Ok(method.map(TokenEndpointAuthMethod::parse).transpose()?)
}

/// The JSON form of a client. `client_secret` appears only when a secret
/// is being shown this once (`null` for a new public client); `show` and
/// `list` never carry the key at all.
#[derive(Serialize)]
struct ClientView<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<Option<&'a str>>,
    name: &'a str,
    redirect_uris: Vec<&'a str>,
    default_redirect_uri: Option<&'a str>,
    scopes: Vec<&'a str>,
    grant_types: Vec<&'static str>,
    response_types: Vec<&'static str>,
    token_endpoint_auth_method: &'static str,
    skip_authorization: bool,
    allowed_roles: Vec<&'a str>,
    access_token_format: &'static str,
    allow_plain_pkce: bool,
    client_uri: Option<&'a str>,
    logo_uri: Option<&'a str>,
    contacts: &'a [String],
    created_at: String,
    updated_at: String,
    /// Until when the secret before the last rotation still works.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<String>,
}

impl<'a> ClientView<'a> {
    fn new(c: &'a Client, secret: Option<Option<&'a ClientSecret>>) -> Self {
        let m = &c.metadata;
        Self {
            client_id: c.id.as_str(),
            client_secret: secret.map(|s| s.map(ClientSecret::expose_secret)),
            name: &m.name,
            redirect_uris: m.redirect_uris.iter().map(RedirectUri::as_str).collect(),
            default_redirect_uri: m.default_redirect_uri.as_ref().map(RedirectUri::as_str),
            scopes: m.scopes.iter().map(|s| s.as_str()).collect(),
            grant_types: m.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: m.response_types().iter().map(|r| r.as_str()).collect(),
            token_endpoint_auth_method: m.token_endpoint_auth_method.as_str(),
            skip_authorization: m.skip_authorization,
            allowed_roles: m.allowed_roles.iter().map(Role::as_str).collect(),
            access_token_format: m.access_token_format.as_str(),
            allow_plain_pkce: m.allow_plain_pkce,
            client_uri: m.client_uri.as_deref(),
            logo_uri: m.logo_uri.as_deref(),
            contacts: &m.contacts,
            created_at: output::time(c.created_at),
            updated_at: output::time(c.updated_at),
            previous_secret_expires_at: c
                .previous_secret
                .as_ref()
                .map(|p| output::time(p.expires_at)),
        }
    }
}

/// `--grace`: a number with an optional unit, `s` (the default), `m`, `h`
/// or `d`; at most 30 days, since a grace period is a changeover, not a
/// second secret.
fn parse_grace(text: &str) -> Result<std::time::Duration, String> {
    const MAX_SECS: u64 = 30 * 86_400;
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (examples: 90s, 30m, 1h, 7d)"))?;
    let per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    let secs = n
        .checked_mul(per)
        .filter(|s| *s <= MAX_SECS)
        .ok_or_else(|| format!("{text:?} is longer than the 30 days a grace period may last"))?;
    Ok(std::time::Duration::from_secs(secs))
}

fn print_client(
    ctx: &Context,
    client: &Client,
    secret: Option<Option<&ClientSecret>>,
    title: &str,
) -> anyhow::Result<()> {
    let view = ClientView::new(client, secret);
    if ctx.json {
        return output::json(&view);
    }
    output::line(&format!("{title} {:?}", view.name));
    let none = || "-".to_owned();
    let list = |v: &[&str]| if v.is_empty() { none() } else { v.join(" ") };
    let mut fields = vec![("client_id", view.client_id.to_owned())];
    if let Some(Some(secret)) = view.client_secret {
        fields.push((
            "client_secret",
            format!("{secret}   (shown once: store it now)"),
        ));
    }
    fields.extend([
        ("redirect_uris", list(&view.redirect_uris)),
        (
            "default_redirect",
            view.default_redirect_uri.map_or_else(none, str::to_owned),
        ),
        ("scopes", list(&view.scopes)),
        ("grant_types", list(&view.grant_types)),
        ("auth_method", view.token_endpoint_auth_method.to_owned()),
        ("skip_consent", view.skip_authorization.to_string()),
        ("allowed_roles", list(&view.allowed_roles)),
        ("token_format", view.access_token_format.to_owned()),
        ("created", view.created_at.clone()),
    ]);
    if let Some(until) = &view.previous_secret_expires_at {
        fields.push(("old_secret_until", until.clone()));
    }
    for (k, v) in fields {
        output::line(&format!("  {k:<17} {v}"));
    }
    Ok(())
}
