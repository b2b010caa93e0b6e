//! Hostile projects. A flake8 local plugin runs project code inside every
//! flake8 run: it must see none of the server's environment, write nothing
//! outside the roots and leave no process behind. A virtualenv interpreter
//! that is not a Python is refused.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Fixture, lint_path, require, run_of};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-lint");

/// Processes whose command line contains `marker`.
fn with_marker(marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(marker)
        {
            out.push(name);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_flake8_plugin_sees_no_secret_escapes_nothing_and_leaves_no_daemon() {
    require("flake8");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    crate::copy_dir(&crate::fixtures().join("hostile-plugin"), &root.join("hostile"));
    let marker =
        format!("lint-daemon-marker-{}-{}", std::process::id(), dir.path().file_name().unwrap().to_string_lossy());
    std::fs::write(root.join("hostile/marker.txt"), &marker).unwrap();
    let secret = format!("secret-value-{}", std::process::id());
    let path = lint_path().iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let env = [
        ("LINT_ROOTS", root.display().to_string()),
        ("LINT_PATH", path),
        ("LINT_DATA_DIR", dir.path().join("data").display().to_string()),
        ("LINT_TEST_SECRET_MARKER", secret.clone()),
    ];
    let bin = mcp_test::process::Binary::start(BIN, &env).await;
    bin.sandbox_check().await;
    let r = bin.raw.call("lint_run", json!({"path": "hostile", "tools": ["flake8"]})).await;
    let v = crate::ok(&r).clone();
    assert_eq!(run_of(&v, "flake8")["status"], "ok", "{v}");

    // (a) The plugin ran and wrote its environment: none of the server's.
    let seen = std::fs::read_to_string(root.join("hostile/env.txt")).expect("the plugin did not run");
    assert!(seen.contains("PATH="), "{seen}");
    for forbidden in [secret.as_str(), "LINT_TEST_SECRET_MARKER", "MCP_AUTH_TOKEN", mcp_test::TEST_TOKEN, "LINT_ROOTS"]
    {
        assert!(!seen.contains(forbidden), "{forbidden} leaked into the run: {seen}");
    }
    // (b) Writes outside the project were refused by the kernel.
    assert!(!dir.path().join("escaped.txt").exists(), "wrote beside the root");
    assert!(!dir.path().join("data/escaped-home.txt").exists(), "wrote above HOME");
    let refused = std::fs::read_to_string(root.join("hostile/refused.txt")).unwrap();
    assert_eq!(refused.lines().count() % 2, 0, "{refused}");
    assert!(refused.contains("ermission denied"), "{refused}");
    // (c) Its daemon started, and did not outlive the run.
    let pids = std::fs::read_to_string(root.join("hostile/daemon.pid")).expect("the daemon never started");
    assert!(!pids.trim().is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = with_marker(&marker);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "daemon(s) {left:?} outlived the run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtualenv_python_that_is_a_shell_is_refused() {
    require("flake8");
    let f = Fixture::new(&["python-clean"]).await;
    let p = f.root().join("python-clean");
    std::fs::create_dir_all(p.join(".venv/bin")).unwrap();
    std::os::unix::fs::symlink("/bin/sh", p.join(".venv/bin/python")).unwrap();
    // The template names the venv's interpreter; without it, the venv is found by its path.
    for template in [true, false] {
        let t = if template { r#"{"commands":{"lint":[[".venv/bin/python","-m","flake8","src"]]}}"# } else { "{}" };
        std::fs::write(p.join("template.json"), t).unwrap();
        let v = f.lint(json!({"path": "python-clean", "tools": ["flake8"]})).await;
        let r = run_of(&v, "flake8");
        assert_eq!(r["status"], "error", "{v}");
        assert!(r["message"].as_str().unwrap().contains("refused"), "{r}");
        assert_eq!(v["passed"], false);
    }
}
