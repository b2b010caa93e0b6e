//! The server contract, and the golden tool list.

use mcp_server_fs::{Config, server};
use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_is_compliant() {
    let f = Fixture::new(false, false).await;
    f.put("probe.txt", "hello");
    assert_server_compliance(&f.server, Probe::new("read_file", json!({"path": "probe.txt"}))).await;
}

#[test]
fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(Config::for_root(dir.path(), true, true)).unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_hides_writing_tools() {
    let f = Fixture::new(false, false).await;
    let r = f.raw().list_tools().await;
    let names: Vec<&str> =
        r.result()["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["changes", "find", "grep", "list_directory", "list_roots", "read_file", "read_many", "stat", "tree"]
    );
    // Hidden means not callable either: a JSON-RPC error, and nothing written.
    let r = f.call("write_file", json!({"path": "x.txt", "content": "x"})).await;
    assert!(r.error()["code"].is_i64(), "{}", r.text);
    assert!(!f.root().join("x.txt").exists());
    // Every listed tool is read-only.
    for t in r_tools(&f).await {
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_mode_without_delete_hides_delete() {
    let f = Fixture::new(true, false).await;
    let names: Vec<String> = r_tools(&f).await.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"write_file".to_owned()));
    assert!(!names.contains(&"delete".to_owned()));
    f.put("keep.txt", "x");
    let r = f.call("delete", json!({"path": "keep.txt"})).await;
    assert!(r.error()["code"].is_i64());
    assert!(f.root().join("keep.txt").exists());
}

async fn r_tools(f: &Fixture) -> Vec<serde_json::Value> {
    f.raw().list_tools().await.result()["tools"].as_array().unwrap().clone()
}
