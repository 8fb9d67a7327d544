//! Developer tasks, run as `cargo xtask <task>`.
//!
//! - `ci`: everything CI checks: formatting, clippy with warnings denied,
//!   the dependency-direction rule, and the whole test suite on SQLite and
//!   PostgreSQL (`TEST_DATABASE_URL` must name a server; `--sqlite-only`
//!   runs without one).
//! - `deps`: only the dependency-direction rule.
//! - `bench`: the bearer-guard benchmarks: criterion in process, and a
//!   load test of the example API with and without the guard, reported as
//!   a ratio (`bench.rs`).
//! - `e2e`: the browser end-to-end test: the real server and `oauthctl`
//!   binaries driven through login and consent by headless Chromium
//!   (Debian's `chromium` and `chromium-driver`).

#![expect(
    clippy::print_stdout,
    reason = "a developer tool: printing progress is its job"
)]

use std::process::{Command, ExitCode};

mod bench;

/// Crates that must not appear under a package's normal dependencies:
/// the domain stays free of web, database and template crates.
const RULES: &[Rule] = &[
    Rule {
        package: "oauth-core",
        features: None,
        forbidden: &[
            "actix",
            "axum",
            "hyper",
            "tokio",
            "reqwest",
            "diesel",
            "r2d2",
            "libsqlite3-sys",
            "pq-sys",
            "sqlx",
            "tera",
            "askama",
            "handlebars",
        ],
    },
    Rule {
        // Introspection and JWT users of the guard must not build diesel.
        package: "bearer-guard",
        features: None,
        forbidden: &[
            "diesel",
            "r2d2",
            "libsqlite3-sys",
            "pq-sys",
            "oauth-store",
            "tera",
        ],
    },
];

struct Rule {
    package: &'static str,
    features: Option<&'static str>,
    forbidden: &'static [&'static str],
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(args[1..].iter().any(|a| a == "--sqlite-only")),
        Some("deps") => check_dependency_direction(),
        Some("e2e") => e2e(),
        Some("bench") => bench::bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 ci [--sqlite-only]  fmt, clippy, dependency rules, tests on SQLite and PostgreSQL\n  \
                 deps                the dependency-direction rule alone\n  \
                 bench [--load-only] bearer-guard: criterion, then guarded vs unguarded load (wrk)\n  \
                 e2e                 the browser end-to-end test in headless Chromium"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ci(sqlite_only: bool) -> Result<(), String> {
    let pg = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if pg.is_none() && !sqlite_only {
        return Err(
            "TEST_DATABASE_URL is not set; point it at a PostgreSQL server \
                    (e.g. postgres://postgres@127.0.0.1:5432/postgres) or pass --sqlite-only"
                .into(),
        );
    }
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    check_dependency_direction()?;
    // --all-features: bearer-guard's tests and bench need its `database`
    // feature (the other crates' features are test support).
    test_and_count(&["test", "--workspace", "--all-features"], &[])
}

/// Where Debian's `chromium` and `chromium-driver` packages put them.
const BROWSER_TOOLS: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromedriver"];

fn e2e() -> Result<(), String> {
    let missing: Vec<&str> = BROWSER_TOOLS
        .iter()
        .copied()
        .filter(|tool| !std::path::Path::new(tool).exists())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} not found; install Debian's packages: \
             apt-get install --no-install-recommends chromium chromium-driver",
            missing.join(" and ")
        ));
    }
    test_and_count(
        &[
            "test",
            "-p",
            "oauth-server",
            "--test",
            "it",
            "browser",
            "--",
            "--ignored",
            "--test-threads=1",
        ],
        &[("OAUTH_E2E", "1")],
    )
}

/// Runs `cargo ARGS`, passing its output through, and ends with one line
/// totalling every test binary's "test result:" line, so the last line of
/// a run says how many tests ran in all, not how many doctests did.
/// `envs` are set for cargo and the tests it runs.
fn test_and_count(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    println!("$ cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo: {e}"))?;
    let (mut passed, mut failed, mut ignored) = (0u64, 0u64, 0u64);
    let stdout = child.stdout.take().ok_or("cargo test: no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            passed += count(rest, "passed");
            failed += count(rest, "failed");
            ignored += count(rest, "ignored");
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!("{passed} passed, {failed} failed, {ignored} skipped");
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The number before `word` in "ok. 12 passed; 0 failed; ...".
fn count(summary: &str, word: &str) -> u64 {
    summary
        .split(';')
        .find_map(|part| {
            let mut it = part.split_whitespace().rev();
            (it.next() == Some(word))
                .then(|| it.next())
                .flatten()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn check_dependency_direction() -> Result<(), String> {
    for rule in RULES {
        let mut args = vec![
            "tree",
            "-p",
            rule.package,
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ];
        if let Some(features) = rule.features {
            args.extend(["--no-default-features", "--features", features]);
        }
        let output = Command::new("cargo")
            .args(&args)
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        let found: Vec<&str> = tree
            .lines()
            .filter(|line| {
                let name = line.split_whitespace().next().unwrap_or("");
                rule.forbidden.iter().any(|f| {
                    name == *f
                        || name.starts_with(&format!("{f}-"))
                        || name.starts_with(&format!("{f}_"))
                })
            })
            .collect();
        if !found.is_empty() {
            return Err(format!(
                "{} must not depend on web, database or template crates, but pulls in: {}",
                rule.package,
                found.join(", ")
            ));
        }
        println!(
            "dependency rule ok: {} pulls none of {}",
            rule.package,
            rule.forbidden.join(", ")
        );
    }
    Ok(())
}

pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), String> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}
