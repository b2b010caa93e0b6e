//! A Rust project linted with its template's own commands: clippy with
//! `-D warnings` and rustfmt's check.

use serde_json::json;

use crate::{Fixture, owned, require, rules_of, run_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clippy_and_rustfmt_with_the_projects_own_flags() {
    for t in ["cargo", "cargo-clippy", "rustfmt"] {
        require(t);
    }
    let f = Fixture::new(&["rust-bad"]).await;
    let d = crate::ok(&f.call("lint_detect", json!({"path": "rust-bad"})).await).clone();
    let clippy = d["tools"].as_array().unwrap().iter().find(|t| t["tool"] == "clippy").unwrap();
    assert!(clippy["reason"].as_str().unwrap().starts_with("template.json commands.lint[1]"), "{clippy}");
    let argv: Vec<&str> = clippy["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(
        argv,
        ["cargo", "clippy", "--offline", "--all-targets", "--message-format=json", "--", "-D", "warnings"]
    );

    let v = f.lint(json!({"path": "rust-bad"})).await;
    assert_eq!(v["passed"], false);
    let lints = rules_of(&v, "clippy");
    assert!(lints.contains(&("clippy::needless_return".into(), "src/main.rs".into(), 6)), "{lints:?}");
    // `-D warnings` from the project makes rustc's lints errors too; the bin
    // and test targets' copies of one message are reported once.
    assert_eq!(lints.iter().filter(|l| l.0 == "clippy::needless_return").count(), 1);
    let nr = v["findings"].as_array().unwrap().iter().find(|d| d["rule"] == "clippy::needless_return").unwrap();
    assert_eq!(nr["severity"], "error");
    assert_eq!(nr["help_uri"], "https://rust-lang.github.io/rust-clippy/master/index.html#needless_return");
    assert!(nr["fix"].as_str().unwrap().contains("replace"), "{nr}");
    assert_eq!(rules_of(&v, "rustfmt"), owned(&[("rustfmt", "src/main.rs", 9)]));
    assert_eq!(run_of(&v, "rustfmt")["status"], "findings");
    assert_eq!(run_of(&v, "clippy")["status"], "findings");
    // Narrowed to a path that has none of them.
    let none = f.lint(json!({"path": "rust-bad", "paths": ["Cargo.toml"]})).await;
    assert_eq!((none["total"].as_u64(), none["passed"].as_bool()), (Some(0), Some(true)), "{none}");
}
