//! The server contract, and the golden tool list.

use mcp_server_docker::{Config, server};
use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_is_compliant() {
    let e = Env::start("compliance").await;
    assert_server_compliance(&e.server, Probe::new("system_info", json!({}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let s =
        server(Config::for_instance("golden", Some(dir.path().to_path_buf()), dir.path().join("data"))).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}
