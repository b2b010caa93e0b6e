//! The server contract and the golden tool list.

use mcp_server_shell::{Config, server};
use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_is_compliant() {
    let f = Fixture::new().await;
    assert_server_compliance(&f.server, Probe::new("policy", json!({}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::for_root(dir.path(), &["true"], &[]);
    c.data_dir = Some(dir.path().join("data"));
    let s = server(c).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}
