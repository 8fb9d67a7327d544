//! HTML pages, rendered with tera from templates embedded in the binary.
//! A `templates_dir` may hold files of the same names to replace any of
//! them (branding); the stylesheet is overridable the same way.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

/// The built-in templates, by file name.
const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("login.html", include_str!("../../../templates/login.html")),
    (
        "consent.html",
        include_str!("../../../templates/consent.html"),
    ),
    ("error.html", include_str!("../../../templates/error.html")),
    ("home.html", include_str!("../../../templates/home.html")),
    ("apps.html", include_str!("../../../templates/apps.html")),
];

const STYLESHEET: &str = include_str!("../../../templates/static/style.css");

/// The page templates and the stylesheet.
#[derive(Debug)]
pub struct Templates {
    tera: tera::Tera,
    stylesheet: String,
}

impl Templates {
    /// The built-in templates, with any of them replaced by a file of the
    /// same name in `dir`.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut sources: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let mut stylesheet = STYLESHEET.to_owned();
        if let Some(dir) = dir {
            for (name, text) in &mut sources {
                let path = dir.join(name.as_str());
                if path.exists() {
                    *text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                }
            }
            let css = dir.join("static/style.css");
            if css.exists() {
                stylesheet = std::fs::read_to_string(&css)
                    .with_context(|| format!("reading {}", css.display()))?;
            }
        }
        let mut tera = tera::Tera::new();
        // Escape every page, whatever the file name: these pages show
        // client names and error descriptions chosen by third parties.
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_templates(sources)
            .context("parsing the page templates")?;
        Ok(Self { tera, stylesheet })
    }

    /// Renders a page with a context built from any serialisable value.
    pub fn render(&self, name: &str, context: &impl Serialize) -> anyhow::Result<String> {
        let context =
            tera::Context::from_serialize(context).context("building the template context")?;
        self.tera
            .render(name, &context)
            .with_context(|| format!("rendering {name}"))
    }

    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }
}

/// The login page's context.
#[derive(Debug, Serialize)]
pub struct LoginPage<'a> {
    pub csrf_token: &'a str,
    pub next: &'a str,
    pub error: Option<&'a str>,
    pub username: Option<&'a str>,
}

/// One scope on the consent page.
#[derive(Debug, Serialize)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// The consent page's context.
#[derive(Debug, Serialize)]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub client_uri: Option<&'a str>,
    pub logo_uri: Option<&'a str>,
    pub user_name: &'a str,
    pub redirect_host: &'a str,
    pub scopes: Vec<ScopeView>,
    pub csrf_token: &'a str,
    pub consent_token: &'a str,
    pub request: &'a str,
}

/// The error page's context.
#[derive(Debug, Serialize)]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub error: Option<&'a str>,
}

/// The signed-in landing page's context.
#[derive(Debug, Serialize)]
pub struct HomePage<'a> {
    pub user_name: &'a str,
    pub csrf_token: &'a str,
}

/// The "Authorized apps" page's context.
#[derive(Debug, Serialize)]
pub struct AppsPage<'a> {
    pub user_name: &'a str,
    pub csrf_token: &'a str,
    pub revoked: Option<&'a str>,
    pub apps: Vec<AppView>,
}

/// One authorized app, as the page shows it.
#[derive(Debug, Serialize)]
pub struct AppView {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<ScopeView>,
    pub authorized_at: TimeView,
    pub last_used: Option<TimeView>,
}

/// A moment, for `<time datetime="iso">text</time>`.
#[derive(Debug, Serialize)]
pub struct TimeView {
    pub iso: String,
    pub text: String,
}

impl TimeView {
    /// In UTC: the page has no script to learn the reader's time zone.
    pub fn utc(t: oauth_core::Timestamp) -> Self {
        let at = time::OffsetDateTime::from_unix_timestamp(t.unix())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let iso = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let text = format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        );
        Self { iso, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::load(None).unwrap()
    }

    #[test]
    fn every_page_renders() {
        let t = templates();
        let login = t
            .render(
                "login.html",
                &LoginPage {
                    csrf_token: "c",
                    next: "/n",
                    error: Some("bad"),
                    username: Some("al"),
                },
            )
            .unwrap();
        assert!(
            login.contains("id=\"login-form\"")
                && login.contains("name=\"username\"")
                && login.contains("bad")
        );
        let consent = t
            .render(
                "consent.html",
                &ConsentPage {
                    client_name: "Demo",
                    client_uri: Some("https://demo.example"),
                    logo_uri: None,
                    user_name: "alice",
                    redirect_host: "localhost:3000",
                    scopes: vec![ScopeView {
                        name: "project".into(),
                        description: "Access your project data".into(),
                    }],
                    csrf_token: "c",
                    consent_token: "t",
                    request: "client_id=x",
                },
            )
            .unwrap();
        assert!(
            consent.contains("id=\"allow\"")
                && consent.contains("id=\"deny\"")
                && consent.contains("project")
        );
        let error = t
            .render(
                "error.html",
                &ErrorPage {
                    title: "T",
                    message: "M",
                    error: Some("invalid_request"),
                },
            )
            .unwrap();
        assert!(error.contains("invalid_request"));
        let home = t
            .render(
                "home.html",
                &HomePage {
                    user_name: "alice",
                    csrf_token: "c",
                },
            )
            .unwrap();
        assert!(home.contains("alice"));
        assert!(t.stylesheet().contains("button"));
    }

    #[test]
    fn third_party_text_is_escaped() {
        let t = templates();
        let evil = "<script>alert(1)</script>\"'";
        let consent = t
            .render(
                "consent.html",
                &ConsentPage {
                    client_name: evil,
                    client_uri: Some("javascript:alert(1)"),
                    logo_uri: None,
                    user_name: evil,
                    redirect_host: evil,
                    scopes: vec![ScopeView {
                        name: evil.into(),
                        description: evil.into(),
                    }],
                    csrf_token: "c",
                    consent_token: "t",
                    request: evil,
                },
            )
            .unwrap();
        assert!(!consent.contains("<script>"), "{consent}");
        assert!(consent.contains("&lt;script&gt;"));
        assert!(!consent.contains("href=\"javascript:"));
        let error = t
            .render(
                "error.html",
                &ErrorPage {
                    title: evil,
                    message: evil,
                    error: None,
                },
            )
            .unwrap();
        assert!(!error.contains("<script>"));
    }

    #[test]
    fn a_templates_dir_overrides_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("error.html"), "custom {{ title }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let page = t
            .render(
                "error.html",
                &ErrorPage {
                    title: "<b>",
                    message: "m",
                    error: None,
                },
            )
            .unwrap();
        assert_eq!(page, "custom &lt;b&gt;");
        // The others stay built in.
        assert!(
            t.render(
                "home.html",
                &HomePage {
                    user_name: "a",
                    csrf_token: "c"
                }
            )
            .unwrap()
            .contains("signed in")
        );
    }
}
