//! `scripts/mcp_monitor.sh`: shellcheck-clean, and run against real servers
//! (the observer and the log server, in-process): the merged timeline of one
//! trace, and `--follow` printing only what is new. The cross-service test
//! in `cross.rs` runs it against real processes too.

use std::process::{Output, Stdio};
use std::time::Duration;

use mcp_core::CoreConfig;
use mcp_test::TEST_TOKEN;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::otlp::{PROTOBUF, S, now_ns, protobuf, trace_id};
use crate::{Obs, Running, need, ok, workspace};

fn script() -> std::path::PathBuf {
    workspace().join("scripts/mcp_monitor.sh")
}

fn command(observer: &str, log: &str, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("bash");
    c.arg(script())
        .args(args)
        .env("OBSERVER_URL", observer)
        .env("LOG_URL", log)
        .env("MCP_TOKEN", TEST_TOKEN)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// Run the script to completion.
pub async fn run(observer: &str, log: &str, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(60), command(observer, log, args).output()).await.unwrap().unwrap()
}

#[test]
fn shellcheck_is_clean() {
    let sc = need("shellcheck", "shellcheck");
    let out = std::process::Command::new(sc).arg(script()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// The observer with a two-service trace and a decision, and the log server
/// with lines of that trace.
async fn fixture(dir: &std::path::Path) -> (Obs, Running, mcp_test::TestServer, String) {
    let sql = mcp_test::TestServer::start(
        mcp_server_sql::server(mcp_server_sql::Config::for_url(&mcp_test::services::sqlite_url(dir, "sql")))
            .await
            .unwrap(),
    )
    .await;
    let obs = Obs::start(&mcp_test::services::sqlite_url(dir, "obs"), &sql.url()).await;
    let mut core = CoreConfig::defaults(mcp_server_log::NAME);
    core.auth_token = Some(TEST_TOKEN.into());
    core.peer_token = core.auth_token.clone();
    let log_cfg = mcp_server_log::Config::for_url(&mcp_test::services::sqlite_url(dir, "log"));
    let log = Running::start(mcp_server_log::start(log_cfg, core.clone()).await.unwrap(), mcp_server_log::NAME).await;
    let tr = trace_id();
    let t0 = now_ns() - 5_000_000_000;
    let root = S::new(&tr, "mcp-client-planner", "", t0, 0.0, 40.0).tool("plan");
    let child = S::new(&tr, "mcp-server-fs", "", t0, 10.0, 5.0).tool("read_file").child_of(&root).failed();
    assert_eq!(obs.post(protobuf(&[root.clone(), child.clone()]), PROTOBUF).await.0, 200);
    ok(&sql
        .raw()
        .call(
            "decision_record",
            json!({"project": "req-9", "trace_id": tr, "actor": "planner", "decision": "proceeded", "rationale": "all set"}),
        )
        .await);
    let ts = |ms: u64| {
        mcp_core::clock::rfc3339(
            ((t0 / 1_000_000 + ms) / 1000) as i64,
            (((t0 / 1_000_000 + ms) % 1000) * 1_000_000) as i64,
        )
    };
    let lines = [
        json!({"timestamp": ts(11), "level": "INFO", "service": "mcp-server-fs", "trace_id": tr, "span_id": child.span_id,
               "target": "fs", "message": "reading src/main.rs", "fields": {}}),
        json!({"timestamp": ts(14), "level": "ERROR", "service": "mcp-server-fs", "trace_id": tr, "span_id": child.span_id,
               "target": "fs", "message": "no such file", "fields": {"path": "src/main.rs"}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/logs", log.base()))
        .bearer_auth(TEST_TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    (obs, log, sql, tr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_the_merged_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let (obs, log, _sql, tr) = fixture(dir.path()).await;
    let out = run(&obs.base(), &log.base(), &[&tr]).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().collect();
    // Time order: the root span, the child, its two log lines; the decision
    // was recorded now, after all of them.
    let pos =
        |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{text}"));
    assert!(pos("tools/call plan") < pos("tools/call read_file"));
    assert!(pos("tools/call read_file") < pos("reading src/main.rs"));
    assert!(pos("reading src/main.rs") < pos("no such file"));
    assert!(pos("no such file") < pos("DECISION planner"));
    assert!(lines[pos("tools/call read_file")].contains("ERROR"), "{text}");
    assert!(lines[pos("tools/call read_file")].contains("  tools/call read_file"), "child indented: {text}");
    assert!(lines[pos("no such file")].contains(r#"{"path":"src/main.rs"}"#));
    assert!(text.contains("proceeded: all set"));
    assert_eq!(lines.len(), 5, "{text}");

    // Unknown trace: exit 1 and say so; a bad id: exit 2; a source down: exit 3.
    let out = run(&obs.base(), &log.base(), &[&trace_id()]).await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run(&obs.base(), &log.base(), &["xyz"]).await.status.code(), Some(2));
    let out = run(&obs.base(), "http://127.0.0.1:9", &[&tr]).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tools/call plan"), "spans still printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("log server"));
    // A wrong token is reported, not silently empty.
    let out =
        command(&obs.base(), &log.base(), &[&tr]).env("MCP_TOKEN", "wrong-token-0123456789").output().await.unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_prints_only_new_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (obs, log, _sql, tr) = fixture(dir.path()).await;
    let mut child = command(&obs.base(), &log.base(), &[&tr, "--follow", "--interval", "0.3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let l = tokio::time::timeout(Duration::from_secs(20), out.next_line()).await.unwrap().unwrap().unwrap();
        seen.push(l);
    }
    // A late span of the same trace shows up once, alone.
    let late = S::new(&tr, "mcp-server-git", "", now_ns(), 0.0, 1.0).tool("git_log");
    assert_eq!(obs.post(protobuf(&[late]), PROTOBUF).await.0, 200);
    let l = tokio::time::timeout(Duration::from_secs(20), out.next_line()).await.unwrap().unwrap().unwrap();
    assert!(l.contains("tools/call git_log"), "{l}");
    // Several more polls print nothing.
    let more = tokio::time::timeout(Duration::from_millis(1200), out.next_line()).await;
    assert!(more.is_err(), "printed again: {more:?}");
    child.kill().await.unwrap();
    assert_eq!(seen.len(), 5, "{seen:?}");
}
