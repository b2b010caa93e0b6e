//! Rust projects: `cargo test --offline` read from libtest's text, and the
//! same crate through cargo-nextest's JUnit report.

use serde_json::json;

use crate::{Env, case, ok, statuses};

fn expected() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("cli::prints_help", "passed"),
        ("tests::fails", "failed"),
        ("tests::ignored", "skipped"),
        ("tests::it_works", "passed"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_test_text() {
    let env = Env::start().await;
    env.fixture("rust_basic", "rb");
    let det = ok(&env.call("test_detect", json!({"path": "rb"})).await).clone();
    assert_eq!(det["runner"], "cargo", "{det:#}");
    let out = env.run(json!({"path": "rb", "timeout_secs": 600})).await;
    let mut got = statuses(&out);
    got.retain(|(id, _)| !id.starts_with("src/lib.rs - add"));
    assert_eq!(got, expected(), "{out:#}");
    assert_eq!(out["verdict"], "failed");
    assert_eq!(out["exit_code"], 101);
    let f = case(&out, "tests::fails");
    assert_eq!((f["file"].as_str(), f["line"].as_u64()), (Some("src/lib.rs"), Some(24)), "{f:#}");
    assert!(f["message"].as_str().unwrap().contains("one plus one"));
    assert!(f["output"].as_str().unwrap().contains("printed before the failure"));
    assert!(out["cases"].as_array().unwrap().iter().any(|c| c["id"] == "src/lib.rs - add (line 5)"), "doc-tests");
    // Subsets by id and only_failed.
    let one = env.run(json!({"path": "rb", "ids": ["cli::prints_help"]})).await;
    assert_eq!(statuses(&one), [("cli::prints_help".to_owned(), "passed".to_owned())], "{one:#}");
    assert_eq!(one["verdict"], "passed");
    env.run(json!({"path": "rb"})).await;
    let again = env.run(json!({"path": "rb", "only_failed": true})).await;
    assert_eq!(statuses(&again), [("tests::fails".to_owned(), "failed".to_owned())], "{again:#}");
    let t = env.run(json!({"path": "rb", "ids": ["tests::it_works"], "test_timeout_secs": 5})).await;
    assert!(t["note"].as_str().unwrap().contains("not supported"), "{t:#}");
    let list = ok(&env.call("test_list", json!({"path": "rb"})).await).clone();
    assert!(list["tests"].as_array().unwrap().iter().any(|t| t == "tests::it_works"), "{list:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_nextest_junit() {
    let env = Env::start().await;
    if ok(&env.call("test_detect", json!({"path": "", "runner": "nextest"})).await)["tools"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["available"] == false)
    {
        eprintln!("cargo-nextest is not installed; skipped");
        return;
    }
    env.fixture("rust_basic", "rb");
    let out = env.run(json!({"path": "rb", "runner": "nextest"})).await;
    let mut want = expected();
    // nextest leaves ignored tests out of its report.
    want.retain(|(id, _)| id != "tests::ignored");
    assert_eq!(statuses(&out), want, "{out:#}");
    assert_eq!(out["verdict"], "failed");
    let f = case(&out, "tests::fails");
    assert_eq!((f["file"].as_str(), f["line"].as_u64()), (Some("src/lib.rs"), Some(24)), "{f:#}");
    let again = env.run(json!({"path": "rb", "runner": "nextest", "only_failed": true})).await;
    assert_eq!(statuses(&again), [("tests::fails".to_owned(), "failed".to_owned())], "{again:#}");
    let one = env.run(json!({"path": "rb", "runner": "nextest", "ids": ["cli::prints_help"]})).await;
    assert_eq!(one["verdict"], "passed", "{one:#}");
    let list = ok(&env.call("test_list", json!({"path": "rb", "runner": "nextest"})).await).clone();
    assert!(list["tests"].as_array().unwrap().iter().any(|t| t == "cli::prints_help"), "{list:#}");
}
