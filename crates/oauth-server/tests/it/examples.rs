//! The documentation's examples run as written.

use std::path::{Path, PathBuf};
use std::process::Command;

use oauth_store::test_support::TestDb;

use crate::support::{TestServer, oauthctl_bin};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_readme_quick_start_is_the_example_script() {
    let script = std::fs::read_to_string(repo().join("docs/examples/seed-flow.sh")).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let body = script.split_once("set -euo pipefail\n").unwrap().1;
    assert!(
        readme.contains(body),
        "README.md must show docs/examples/seed-flow.sh as it is"
    );
}

#[test]
fn the_seed_flow_script_runs_against_a_server() {
    let t = TestDb::sqlite();
    let app = TestServer::start(&t);
    let output = Command::new("bash")
        .arg(repo().join("docs/examples/seed-flow.sh"))
        .env("BASE", &app.base)
        .env("OAUTHCTL", oauthctl_bin())
        .env("DATABASE_URL", t.url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the script failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("state=xyz"), "{stdout}");
    assert!(stdout.contains("\"token_type\":\"Bearer\""), "{stdout}");
    assert!(stdout.contains("userinfo: {\"sub\":"), "{stdout}");
    assert!(stdout.contains("refreshed: {\"access_token\""), "{stdout}");
    assert!(
        stdout.contains("revoked: {\"message\":\"success\"}"),
        "{stdout}"
    );
}
