//! The server contract, the golden tool list, annotations and readiness.

use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::{Fixture, config_from, maildir_vars};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_is_compliant() {
    let f = Fixture::maildir(|_| {}).await;
    assert_server_compliance(&f.server, Probe::new("list_mailboxes", json!({}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let started = mcp_server_email::open(config_from(&maildir_vars(dir.path()))).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&started.server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_match_what_tools_do() {
    let f = Fixture::maildir(|_| {}).await;
    let r = f.server.raw().list_tools().await;
    let tools = r.result()["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "get_attachment",
            "get_message",
            "list_mailboxes",
            "list_messages",
            "mark",
            "move_message",
            "reply",
            "send",
            "thread",
            "wait_for_new"
        ]
    );
    for t in &tools {
        let name = t["name"].as_str().unwrap();
        assert!(t["outputSchema"].is_object(), "{name} has no outputSchema");
        let ro = t["annotations"]["readOnlyHint"].as_bool().unwrap();
        let expect_ro = !["mark", "move_message", "reply", "send"].contains(&name);
        assert_eq!(ro, expect_ro, "{name}");
        let open = t["annotations"]["openWorldHint"].as_bool().unwrap_or(false);
        assert_eq!(open, ["reply", "send"].contains(&name), "{name}");
        // No tool takes credentials.
        let schema = t["inputSchema"].to_string().to_lowercase();
        assert!(!schema.contains("password") && !schema.contains("\"username\""), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_checks_mail_and_database() {
    let f = Fixture::maildir(|_| {}).await;
    let r = f.server.raw().get("/ready").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "mail" && c["ok"] == true), "{v}");
    assert!(checks.iter().any(|c| c["name"] == "database" && c["ok"] == true), "{v}");
    // The inbox gone: not ready.
    std::fs::remove_dir_all(f.inbox()).unwrap();
    let r = f.server.raw().get("/ready").await;
    assert_eq!(r.status, 503, "{}", r.text);
}
