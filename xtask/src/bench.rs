//! `cargo xtask bench`: the guard's cost, measured two ways in one run.
//!
//! 1. criterion, in process: a route behind bearer-guard with a warm cache
//!    against the same route unguarded (`crates/bearer-guard/benches`).
//! 2. load, over real HTTP: the release `oauth-server` issues a token, the
//!    example API runs guarded (`/api/resource/Project`, introspection
//!    mode) and unguarded (`/open/api/resource/Project`) in one process,
//!    and `wrk` drives each in alternating rounds. The result is the ratio
//!    of guarded to unguarded throughput per round, so machine noise that
//!    hits both sides of a round cancels out.
//!
//! Needs `wrk` (Debian's package; installed with apt-get when missing and
//! running as root).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run;

/// Rounds of (guarded, unguarded) load, and each one's length. Many short
/// rounds rather than a few long ones: on a shared machine the noise comes
/// in bursts of seconds (seen here: one binary's single rounds ranged from
/// 0.72 to 1.06), and the median of 21 paired rounds moves less than that
/// of five.
const ROUNDS: usize = 21;
const SECONDS_PER_RUN: u32 = 2;
/// The bar: guarded throughput at least this share of unguarded.
const BAR: f64 = 0.90;

pub(crate) fn bench(args: &[String]) -> Result<(), String> {
    let load_only = args.iter().any(|a| a == "--load-only");
    if !load_only {
        run(
            "cargo",
            &[
                "bench",
                "-p",
                "bearer-guard",
                "--features",
                "database",
                "--bench",
                "cached",
            ],
        )?;
    }
    ensure_wrk()?;
    run(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "oauth-server",
            "-p",
            "oauthctl",
            "--bins",
        ],
    )?;
    run(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "bearer-guard",
            "--example",
            "bench_api",
        ],
    )?;
    let release = target_dir()?.join("release");
    let dir = TempDir::new()?;
    let db = format!("sqlite://{}", dir.0.join("bench.db").display());
    let secret = "bench secret that is long enough for the server's rule";

    let server_addr = free_port()?;
    let issuer = format!("http://{server_addr}");
    let _server = Process(
        Command::new(release.join("oauth-server"))
            .args(["--bind", &server_addr.to_string(), "--issuer", &issuer])
            .args(["--database-url", &db])
            .env("OAUTH_SECRET_KEY", secret)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("oauth-server: {e}"))?,
    );
    wait_for(server_addr, "/readyz")?;

    let oauthctl = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(release.join("oauthctl"))
            .args(["--database-url", &db])
            .args(args)
            .env("OAUTH_SECRET_KEY", secret)
            .output()
            .map_err(|e| format!("oauthctl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "oauthctl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let cb = "http://localhost:3000/cb";
    let api = oauthctl(&[
        "client",
        "add",
        "--name",
        "bench API",
        "--redirect-uri",
        cb,
        "--json",
    ])?;
    let app = oauthctl(&[
        "client",
        "add",
        "--name",
        "bench app",
        "--grant-type",
        "client_credentials",
        "--scope",
        "project",
        "--json",
    ])?;
    let (api_id, api_secret) = (
        json_str(&api, "client_id")?,
        json_str(&api, "client_secret")?,
    );
    let (app_id, app_secret) = (
        json_str(&app, "client_id")?,
        json_str(&app, "client_secret")?,
    );
    let body = format!(
        "grant_type=client_credentials&scope=project&client_id={app_id}&client_secret={app_secret}"
    );
    let answer = http(server_addr, "POST", "/oauth/token", &[], Some(&body))?;
    let token = json_str(&answer, "access_token")?;

    let api_addr = free_port()?;
    let _api = Process(
        Command::new(release.join("examples").join("bench_api"))
            .env("RESOURCE_BIND", api_addr.to_string())
            .env("OAUTH_ISSUER", &issuer)
            .env("RESOURCE_CLIENT_ID", &api_id)
            .env("RESOURCE_CLIENT_SECRET", &api_secret)
            .env("RUST_LOG", "warn")
            .spawn()
            .map_err(|e| format!("bench_api: {e}"))?,
    );
    wait_for(api_addr, "/open/api/resource/Project")?;
    let auth = format!("Authorization: Bearer {token}");
    let warm = http(
        api_addr,
        "GET",
        "/api/resource/Project",
        &[auth.as_str()],
        None,
    )?;
    if !warm.contains("\"data\"") {
        return Err(format!("the guarded API refused the token: {warm}"));
    }

    println!(
        "\nload: {ROUNDS} rounds of {SECONDS_PER_RUN} s each side, wrk -t2 -c32, alternating order"
    );
    let guarded_url = format!("http://{api_addr}/api/resource/Project");
    let open_url = format!("http://{api_addr}/open/api/resource/Project");
    // One unmeasured run of each: the first connections and allocations.
    wrk(&guarded_url, Some(&auth))?;
    wrk(&open_url, None)?;
    let mut ratios = Vec::new();
    for round in 0..ROUNDS {
        let (guarded, open) = if round % 2 == 0 {
            let g = wrk(&guarded_url, Some(&auth))?;
            (g, wrk(&open_url, None)?)
        } else {
            let o = wrk(&open_url, None)?;
            (wrk(&guarded_url, Some(&auth))?, o)
        };
        let ratio = guarded / open;
        println!(
            "round {}: guarded {guarded:.0} req/s, unguarded {open:.0} req/s, ratio {ratio:.3}",
            round + 1
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "guarded/unguarded throughput: median {median:.3} (min {:.3}, max {:.3}); bar {BAR:.2}: {}",
        ratios[0],
        ratios[ratios.len() - 1],
        if median >= BAR { "met" } else { "NOT met" }
    );
    if median >= BAR {
        Ok(())
    } else {
        Err("the guard costs more than the bar allows".into())
    }
}

fn ensure_wrk() -> Result<(), String> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    println!("wrk not found; installing Debian's package");
    run(
        "apt-get",
        &["install", "-y", "--no-install-recommends", "wrk"],
    )
    .map_err(|e| format!("{e}; install wrk (apt-get install wrk) and run again"))
}

/// Requests per second `wrk` reached against `url`.
fn wrk(url: &str, header: Option<&str>) -> Result<f64, String> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{SECONDS_PER_RUN}s")]);
    if let Some(h) = header {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw error responses from {url}:\n{text}"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("wrk printed no Requests/sec for {url}:\n{text}"))
}

/// One HTTP/1.1 request on a fresh connection; returns the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    form: Option<&str>,
) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    if let Some(body) = form {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        request.push_str("\r\n");
    }
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("{addr}: {e}"))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    if !head.starts_with("HTTP/1.1 2") {
        return Err(format!("{method} {path}: {head}\n{body}"));
    }
    Ok(body.to_owned())
}

/// The string value of `"key": "…"` in a flat JSON object (no escapes in
/// the values this reads: ids, secrets and tokens are URL-safe).
fn json_str(json: &str, key: &str) -> Result<String, String> {
    let needle = format!("\"{key}\"");
    let after = json
        .find(&needle)
        .map(|i| &json[i + needle.len()..])
        .ok_or_else(|| format!("no {key} in {json}"))?;
    let value = after
        .trim_start()
        .strip_prefix(':')
        .map(str::trim_start)
        .and_then(|v| v.strip_prefix('"'))
        .ok_or_else(|| format!("{key} is not a string in {json}"))?;
    let end = value
        .find('"')
        .ok_or_else(|| format!("unterminated {key} in {json}"))?;
    Ok(value[..end].to_owned())
}

fn wait_for(addr: SocketAddr, path: &str) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http(addr, "GET", path, &[], None).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing answered {path} at {addr} within 30 s"))
}

fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

fn target_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask has no parent directory")?;
    Ok(root.join("target"))
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
