//! The server contract, the golden tool list, and opt-in tools staying
//! unregistered.

use mcp_server_browser::{Config, server};
use mcp_test::{Probe, assert_server_compliance};
use serde_json::json;

use crate::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_is_compliant() {
    let e = Env::start("http://127.0.0.1:*").await;
    assert_server_compliance(&e.server, Probe::new("browser_console", json!({}))).await;
    e.assert_no_protocol_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::for_tests("http://127.0.0.1:*", dir.path().to_path_buf(), true).unwrap();
    c.enable_evaluate = true;
    c.enable_pdf = true;
    let s = server(c).unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_in_tools_are_not_registered_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(Config::for_tests("http://127.0.0.1:*", dir.path().to_path_buf(), true).unwrap()).unwrap();
    let t = mcp_test::TestServer::start(s).await;
    let list = t.raw().list_tools().await;
    let names: Vec<&str> =
        list.result()["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"browser_navigate") && names.contains(&"browser_screenshot"), "{names:?}");
    assert!(!names.contains(&"browser_evaluate") && !names.contains(&"browser_pdf"), "{names:?}");
    let r = t.raw().call("browser_evaluate", json!({"expression": "1"})).await;
    assert!(r.error()["message"].as_str().unwrap_or_default().contains("Unknown tool"), "{}", r.text);
}

/// The sandbox is never dropped silently: as root (these tests' containers)
/// a start without `BROWSER_NO_SANDBOX` is refused and says which variable
/// to set; as another user it starts. A missing Chromium is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_checks_the_sandbox_and_the_executable() {
    let dir = tempfile::tempdir().unwrap();
    let core = || mcp_core::CoreConfig::defaults(mcp_server_browser::NAME);
    let sandboxed = Config::for_tests("http://127.0.0.1:*", dir.path().to_path_buf(), false).unwrap();
    let r = mcp_server_browser::start(sandboxed, core()).await;
    if rustix::process::geteuid().is_root() {
        let e = r.err().expect("refused as root").to_string();
        assert!(e.contains("BROWSER_NO_SANDBOX"), "{e}");
    } else {
        assert!(r.is_ok());
    }
    let mut missing = Config::for_tests("http://127.0.0.1:*", dir.path().to_path_buf(), true).unwrap();
    missing.chromium = dir.path().join("no-chromium");
    let e = mcp_server_browser::start(missing, core()).await.err().expect("refused").to_string();
    assert!(e.contains("BROWSER_CHROMIUM"), "{e}");
}
