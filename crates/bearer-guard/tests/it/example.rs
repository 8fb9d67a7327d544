//! The `resource_api` example, run as the process an operator would run,
//! against the real server: the template to copy must work as documented.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{
    Fixture, Process, access, assert_invalid_token, block_on, cargo_build, free_port, get,
    get_with, read,
};

/// Builds the example once into the same target directory.
fn example_bin() -> &'static std::path::Path {
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = cargo_build(&["-p", "bearer-guard", "--example", "resource_api"]);
        let bin = profile
            .join("examples")
            .join(format!("resource_api{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "no example at {}", bin.display());
        bin
    })
}

#[test]
fn the_resource_api_example_serves_projects_and_the_logged_user_as_documented() {
    let fx = Fixture::shared();
    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    // The secret through the environment, as the example's help advises.
    let mut process = Process::spawn(
        example_bin(),
        &[
            "--bind",
            &bind,
            "--issuer",
            fx.base(),
            "--client-id",
            &fx.rs.id,
        ],
        &[("RESOURCE_CLIENT_SECRET", &fx.rs.secret)],
    );
    block_on(async {
        let projects = format!("{base}/api/resource/Project");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(&projects).await.is_err() {
            assert!(!process.exited(), "resource_api exited");
            assert!(Instant::now() < deadline, "resource_api never listened");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }

        // No token: 401, a bare challenge.
        let reply = get(&projects).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.challenge(), r#"Bearer realm="api""#);
        assert_invalid_token(&get_with(&projects, "garbage").await);

        // List, create, list again.
        let token = fx.cc_token(&fx.app).await;
        let reply = get_with(&projects, &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), serde_json::json!({ "data": [] }));
        let created = read(
            reqwest::Client::new()
                .post(&projects)
                .bearer_auth(&token)
                .json(&serde_json::json!({ "name": "Apollo" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.json()["data"]["name"], "Apollo");
        assert_eq!(created.json()["data"]["owner"], fx.app.id.as_str());
        let reply = get_with(&projects, &token).await;
        assert_eq!(
            reply.json()["data"],
            serde_json::json!([{ "name": "Apollo", "owner": fx.app.id }])
        );

        // Without the project scope: 403 naming it.
        let other = fx.cc_token(&fx.other).await;
        let reply = get_with(&projects, &other).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(
            reply.challenge().contains("error=\"insufficient_scope\"")
                && reply.challenge().contains("scope=\"project\""),
            "{}",
            reply.challenge()
        );

        // The logged-in user, with alice's token.
        let logged = format!("{base}/api/method/frappe.auth.get_logged_user");
        let user = access(&fx.user_tokens(&fx.web, "openid project").await);
        let reply = get_with(&logged, &user).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), serde_json::json!({ "message": "alice" }));
        // Any valid user token will do: one without `project` too.
        let profile_only = access(&fx.user_tokens(&fx.web, "openid profile").await);
        assert_eq!(
            get_with(&logged, &profile_only).await.json(),
            serde_json::json!({ "message": "alice" })
        );
        assert_eq!(get(&logged).await.status, StatusCode::UNAUTHORIZED);
    });
    process.stop();
}
