//! The real binary: configuration errors exit 64 with every problem listed,
//! and SIGTERM shuts it down cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-fs");

#[test]
fn bad_configuration_exits_64_listing_every_problem() {
    let out = Command::new(BIN)
        .env_clear()
        .env("MCP_LISTEN_ADDR", "not-an-address")
        .env("LOG_FORMAT", "xml")
        .env("FS_DELETE", "true")
        .env("FS_MAX_READ_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["MCP_LISTEN_ADDR", "LOG_FORMAT", "FS_DELETE", "FS_MAX_READ_BYTES"] {
        assert!(err.contains(needle), "{needle} not reported: {err}");
    }
}

#[test]
fn a_missing_root_exits_64() {
    let out = Command::new(BIN).env_clear().env("FS_ROOTS", "/definitely/not/here").output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FS_ROOTS"));
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .env_clear()
        .env("FS_ROOTS", dir.path())
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // `--health` (the images' HEALTHCHECK) sees it up, and down afterwards.
    let probe = || {
        Command::new(BIN)
            .arg("--health")
            .env_clear()
            .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .output()
            .unwrap()
    };
    assert!(probe().status.success());
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "exit status {s:?}");
            let down = probe();
            assert!(!down.status.success());
            assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The binary confines itself (Landlock: the roots, the system directories)
/// before it starts any thread; every tool still works inside the roots, and
/// `/ready` says what it is confined to. That the kernel refuses the rest is
/// shown in mcp-core (`sandbox::tests`), because every path escape a tool
/// could try is refused first by `openat2`.
#[tokio::test]
async fn the_confined_binary_works_in_its_roots_and_says_so() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let env = [("FS_ROOTS", root.display().to_string()), ("FS_WRITE", "true".into()), ("FS_DELETE", "true".into())];
    let bin = mcp_test::process::Binary::start(BIN, &env).await;
    let sandbox = bin.sandbox_check().await;
    assert!(sandbox["detail"].as_str().unwrap().contains(root.to_str().unwrap()), "{sandbox}");
    let raw = &bin.raw;
    let ok = |r: mcp_test::raw::Reply| {
        mcp_test::raw::ok(&r);
        r
    };
    ok(raw.call("write_file", json!({"path": "a/b.txt", "content": "one", "create_parents": true})).await);
    ok(raw.call("edit_file", json!({"path": "a/b.txt", "edits": [{"old_text": "one", "new_text": "two"}]})).await);
    ok(raw.call("move", json!({"source": "a/b.txt", "destination": "a/c.txt"})).await);
    let read = ok(raw.call("read_file", json!({"path": "a/c.txt"})).await);
    assert!(read.text.contains("two"), "{}", read.text);
    ok(raw.call("delete", json!({"path": "a", "recursive": true})).await);
    assert!(!root.join("a").exists());
}
