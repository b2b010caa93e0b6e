//! The server contract, and the golden tool list.

use mcp_server_git::server;
use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::{Fixture, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_is_compliant() {
    let f = Fixture::new().await;
    f.repo("probe");
    assert_server_compliance(&f.server, Probe::new("git_status", json!({"repo": "probe"}))).await;
}

#[test]
fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(test_config(dir.path())).unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_has_an_output_schema_and_sane_annotations() {
    let f = Fixture::new().await;
    let r = f.raw().list_tools().await;
    let tools = r.result()["tools"].as_array().unwrap().clone();
    assert_eq!(tools.len(), 20);
    for t in &tools {
        let name = t["name"].as_str().unwrap();
        assert!(name.starts_with("git_"), "{name}");
        assert!(t["outputSchema"].is_object(), "{name} has no outputSchema");
        let read_only = t["annotations"]["readOnlyHint"].as_bool().unwrap();
        let expect_ro = ["git_status", "git_diff", "git_log", "git_show", "git_blame", "git_reflog"].contains(&name);
        assert_eq!(read_only, expect_ro, "{name}");
        let open = t["annotations"]["openWorldHint"].as_bool().unwrap_or(false);
        let expect_open = ["git_clone", "git_fetch", "git_pull", "git_push"].contains(&name);
        assert_eq!(open, expect_open, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_checks_roots_and_git() {
    let f = Fixture::new().await;
    let r = f.raw().get("/ready").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "git" && c["ok"] == true && c["detail"].as_str().unwrap().contains("git version"))
    );
    assert!(checks.iter().any(|c| c["name"] == "roots" && c["ok"] == true));
}
