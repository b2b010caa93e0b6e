//! Upstreams coming and going at one address: an upstream down at start is
//! reported with its reason and appears once it answers; one that stops
//! vanishes after a refresh; one that drops a tool is listed again as soon
//! as a call hears "unknown tool"; and session callers are told with
//! `notifications/tools/list_changed`.

use std::time::{Duration, Instant};

use mcp_test::TEST_TOKEN;
use mcp_test::raw::{LEGACY, err, ok};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{AtPort, Gw, free_addr, fs_server, log_server, names};

fn server_named<'a>(servers: &'a Value, name: &str) -> &'a Value {
    servers["servers"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

fn has_fs(gw_list: &mcp_test::raw::Reply) -> bool {
    names(gw_list).iter().any(|n| n.starts_with("fs__"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_appear_when_they_answer_and_vanish_when_they_stop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let addr = free_addr();
    let log = log_server(dir.path()).await;
    let gw = Gw::start(&[("log", log.url()), ("fs", format!("http://{addr}/mcp"))], &[]).await;

    // Down at start: absent, and gateway__servers says why.
    assert!(!has_fs(&gw.raw().list_tools().await));
    let r = gw.raw().call("gateway__servers", json!({})).await;
    let fs = server_named(ok(&r), "fs").clone();
    assert_eq!(fs["state"], "down", "{fs}");
    let why = fs["last_error"].as_str().unwrap().to_ascii_lowercase();
    assert!(why.contains("connect") || why.contains("refused"), "{why}");
    assert!(!why.contains(TEST_TOKEN));
    assert_eq!(server_named(ok(&r), "log")["state"], "up");
    assert!(r.result()["content"][0]["text"].as_str().unwrap().contains("fs (mcp-server-fs): down"), "{}", r.text);

    // Started later: it appears with the next refresh.
    let fs = AtPort::start(fs_server(&std::fs::canonicalize(&root).unwrap(), true), addr).await;
    assert!(gw.state.refresh().await, "the merged set changed");
    assert!(!gw.state.refresh().await, "and not again without a change");
    let listed = gw.raw().list_tools().await;
    assert!(names(&listed).contains(&"fs__stat".to_owned()));
    ok(&gw.raw().call("fs__stat", json!({"path": ".", "missing_ok": true})).await);
    let r = gw.raw().call("gateway__servers", json!({"name": "fs"})).await;
    let s = &ok(&r)["servers"][0];
    assert_eq!(s["state"], "up");
    assert!(s["tool_count"].as_u64().unwrap() > 10 && s["last_error"].is_null(), "{s}");

    // Stopped: a call says the upstream is unavailable (and makes the
    // gateway look again at once); a refresh takes its tools away.
    fs.stop().await;
    let r = gw.raw().call("fs__stat", json!({"path": "."})).await;
    assert!(err(&r).contains("upstream fs is unavailable"), "{}", r.text);
    assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "unavailable");
    gw.state.refresh().await;
    assert!(!has_fs(&gw.raw().list_tools().await));
    let r = gw.raw().call("gateway__servers", json!({"name": "fs"})).await;
    let s = &ok(&r)["servers"][0];
    assert_eq!(s["state"], "down");
    assert!(s["last_error"].is_string() && s["consecutive_failures"].as_u64().unwrap() >= 1, "{s}");
    // Its tools are now unknown tools.
    let r = gw.raw().call("fs__stat", json!({"path": "."})).await;
    assert_eq!(r.error()["code"], -32602, "{}", r.text);
    // The metrics say so too.
    let m = gw.raw().get("/metrics").await.text;
    assert!(m.lines().any(|l| l == "gateway_upstream_up{upstream=\"fs\"} 0"), "{m}");
    assert!(m.lines().any(|l| l == "gateway_upstream_up{upstream=\"log\"} 1"));
    assert!(m.lines().any(|l| l.starts_with("gateway_calls_total{")
        && l.contains("outcome=\"unavailable\"")
        && l.contains("upstream=\"fs\"")
        && !l.ends_with(" 0")));
    assert!(m.contains("gateway_call_duration_seconds_bucket") && m.contains("gateway_audit_dropped_total 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tool_at_the_upstream_refreshes_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let addr = free_addr();
    let fs = AtPort::start(fs_server(&root, true), addr).await;
    let gw = Gw::start(&[("fs", format!("http://{addr}/mcp"))], &[]).await;
    assert!(names(&gw.raw().list_tools().await).contains(&"fs__write_file".to_owned()));
    // The upstream restarts without its write tools; the gateway has not
    // listed it since.
    fs.stop().await;
    let _fs = AtPort::start(fs_server(&root, false), addr).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = gw.raw().call("fs__write_file", json!({"path": "a.txt", "content": "x"})).await;
    assert!(err(&r).contains("no longer offered"), "{}", r.text);
    assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "not_found");
    let deadline = Instant::now() + Duration::from_secs(5);
    while names(&gw.raw().list_tools().await).contains(&"fs__write_file".to_owned()) {
        assert!(Instant::now() < deadline, "the catalogue still lists fs__write_file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(names(&gw.raw().list_tools().await).contains(&"fs__stat".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_callers_hear_list_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let addr = free_addr();
    let log = log_server(dir.path()).await;
    let gw = Gw::start(&[("log", log.url()), ("fs", format!("http://{addr}/mcp"))], &[]).await;
    let key = gw.key("listener", "viewer", &[], &[]).await;
    let mut s = gw.as_key(&key);
    let init = s.open_session().await;
    let session = init.headers.get("mcp-session-id").unwrap().to_str().unwrap().to_owned();
    // The session's stream of server-initiated messages.
    let resp = reqwest::Client::new()
        .get(format!("{}/mcp", gw.server.base()))
        .bearer_auth(&key)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut resp = resp;
        let mut seen = String::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("notifications/tools/list_changed") {
                let _ = tx.send(seen);
                return;
            }
        }
    });
    // Give the stream a moment to be registered, then change the set.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _fs = AtPort::start(fs_server(&root, false), addr).await;
    assert!(gw.state.refresh().await);
    let seen = tokio::time::timeout(Duration::from_secs(10), rx).await.expect("list_changed within 10 s").unwrap();
    assert!(seen.contains("notifications/tools/list_changed"), "{seen}");
    // And the session's next list has the new tools.
    let list = s.session_request(5, "tools/list", json!({})).await;
    assert!(names(&list).contains(&"fs__stat".to_owned()));
}
