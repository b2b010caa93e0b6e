//! Integration tests of `mcp-server-log` over real HTTP, each on SQLite and
//! on a real PostgreSQL: ingest over `POST /v1/logs`, every tool, retention,
//! the stall watch with its gauge, and an attack corpus for the ingest path.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod throughput;

use std::time::Duration;

use mcp_server_log::{Config, server, start};
use mcp_test::raw::Reply;
use mcp_test::{TEST_TOKEN, TestServer};
use serde_json::{Value, json};

pub struct Fixture {
    pub server: TestServer,
    pub label: &'static str,
    http: reqwest::Client,
}

/// One program (server + routes + background loop) per backend.
async fn fixtures(dir: &std::path::Path, f: impl Fn(&mut Config)) -> Vec<Fixture> {
    let mut out = Vec::new();
    for (label, url) in mcp_test::services::both_backends(dir, "log") {
        let mut c = Config::for_url(&url);
        f(&mut c);
        let core = mcp_core::CoreConfig::defaults(mcp_server_log::NAME);
        let server = TestServer::start_program(start(c, core.clone()).await.unwrap()).await;
        out.push(Fixture { server, label, http: reqwest::Client::new() });
    }
    out
}

impl Fixture {
    async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    async fn post(&self, body: impl Into<reqwest::Body>, token: Option<&str>) -> (u16, Value) {
        let mut rb = self.http.post(format!("{}/v1/logs", self.server.base())).body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ingest(&self, lines: &[Value]) -> Value {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let (status, v) = self.post(body, Some(TEST_TOKEN)).await;
        assert_eq!(status, 200, "[{}] {v}", self.label);
        v
    }

    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.server.base()))
            .bearer_auth(TEST_TOKEN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

use mcp_test::raw::{err, ok};

fn line(service: &str, level: &str, trace: Option<&str>, message: &str) -> Value {
    json!({"timestamp": mcp_core::clock::now_rfc3339(), "level": level, "service": service,
           "trace_id": trace, "span_id": trace.map(|_| "00f067aa0ba902b7"), "target": "t", "message": message,
           "fields": {"k": 1}})
}

const T1: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const T2: &str = "0af7651916cd43dd8448eb211c80319c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_is_compliant_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |_| {}).await {
        mcp_test::assert_server_compliance(&f.server, mcp_test::Probe::new("task_list", json!({}))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = server(Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "g"))).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_then_read_by_trace_search_and_rest() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |_| {}).await {
        let l = f.label;
        let v = f
            .ingest(&[
                line("mcp-client-planner", "INFO", Some(T1), "planning step build"),
                line("mcp-server-shell", "INFO", Some(T1), "ran cargo build"),
                line("mcp-server-shell", "ERROR", Some(T1), "exit status 101"),
                line("mcp-server-git", "INFO", Some(T2), "other trace"),
                line("mcp-server-git", "DEBUG", None, "no trace at all"),
            ])
            .await;
        assert_eq!(v["accepted"], 5, "[{l}] {v}");

        // Upper-case trace ids are the same trace.
        let r = f.call("logs_by_trace", json!({"trace_id": T1.to_uppercase()})).await;
        let out = ok(&r);
        let msgs: Vec<&str> = out["lines"].as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap()).collect();
        assert_eq!(msgs, ["planning step build", "ran cargo build", "exit status 101"], "[{l}]");
        assert_eq!(out["services"], json!({"mcp-client-planner": 1, "mcp-server-shell": 2}), "[{l}]");
        assert_eq!(out["lines"][0]["fields"], json!({"k": 1}), "[{l}]");
        assert_eq!(out["lines"][0]["span_id"], "00f067aa0ba902b7", "[{l}]");

        let r = f.call("logs_by_trace", json!({"trace_id": T1, "min_level": "error"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 1, "[{l}]");

        let r = f.call("logs_search", json!({"query": "CARGO", "service": "mcp-server-shell"})).await;
        let out = ok(&r);
        assert_eq!(out["lines"].as_array().unwrap().len(), 1, "[{l}] {out}");
        assert_eq!(out["lines"][0]["message"], "ran cargo build");

        // The REST view answers the same question.
        let (status, v) = f.get(&format!("/api/logs?trace_id={T1}&service=mcp-server-shell")).await;
        assert_eq!(status, 200, "[{l}] {v}");
        assert_eq!(v["lines"].as_array().unwrap().len(), 2, "[{l}] {v}");
        let (status, v) = f.get("/api/logs?level=LOUD").await;
        assert_eq!(status, 400, "[{l}] {v}");
        assert_eq!(v["kind"], "invalid_input", "[{l}] an RFC 9457 problem: {v}");
        assert!(v["detail"].as_str().unwrap().contains("unknown level"));

        let metrics = f.server.raw().get("/metrics").await.text;
        assert!(metrics.contains("mcp_log_lines_ingested_total 5"), "[{l}] {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_is_bounded_in_time_and_literal() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |_| {}).await {
        let l = f.label;
        let two_hours_ago = mcp_core::clock::rfc3339(mcp_core::clock::now_ms() / 1000 - 7200, 0);
        let mut old = line("svc", "WARN", None, "disk 50% full");
        old["timestamp"] = json!(two_hours_ago);
        f.ingest(&[old, line("svc", "INFO", None, "disk 50_ full"), line("svc", "INFO", None, "disk 5000 full")]).await;
        // Default range: the last hour. The old line is outside it.
        let r = f.call("logs_search", json!({"query": "50%"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 0, "[{l}] {}", r.text);
        // % and _ are literal, not wildcards.
        let r = f.call("logs_search", json!({"query": "50%", "since": "3h"})).await;
        let out = ok(&r);
        assert_eq!(out["lines"].as_array().unwrap().len(), 1, "[{l}] {out}");
        assert_eq!(out["lines"][0]["message"], "disk 50% full");
        let r = f.call("logs_search", json!({"query": "50_", "since": "3h"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 1, "[{l}]");
        let r = f.call("logs_search", json!({"since": "3h", "until": "90m"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 1, "[{l}]");
        let r = f.call("logs_search", json!({"since": "3h", "limit": 2})).await;
        assert_eq!(ok(&r)["truncated"], true, "[{l}]");
        assert!(err(&f.call("logs_search", json!({"since": "last tuesday"})).await).contains("RFC 3339"));
        assert!(err(&f.call("logs_search", json!({"since": "1h", "until": "2h"})).await).contains("after"));
        assert!(err(&f.call("logs_search", json!({"limit": 0})).await).contains("limit"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_follows_with_a_cursor_and_errors_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |_| {}).await {
        let l = f.label;
        let r = f.call("logs_tail", json!({})).await;
        let cursor = ok(&r)["cursor"].as_i64().unwrap();
        f.ingest(&[
            line("a", "ERROR", Some(T1), "boom"),
            line("a", "ERROR", Some(T2), "boom"),
            line("b", "WARN", None, "slow"),
            line("b", "INFO", None, "fine"),
        ])
        .await;
        let r = f.call("logs_tail", json!({"after": cursor})).await;
        let out = ok(&r);
        assert_eq!(out["lines"].as_array().unwrap().len(), 4, "[{l}] {out}");
        let next = out["cursor"].as_i64().unwrap();
        assert!(next > cursor);
        let r = f.call("logs_tail", json!({"after": next})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 0, "[{l}]");
        assert_eq!(ok(&r)["cursor"], next);
        let r = f.call("logs_tail", json!({"service": "b", "min_level": "warn"})).await;
        assert_eq!(ok(&r)["lines"][0]["message"], "slow", "[{l}]");

        let r = f.call("error_summary", json!({})).await;
        let out = ok(&r);
        assert_eq!(out["total"], 3, "[{l}] {out}");
        assert_eq!(out["groups"][0]["message"], "boom", "[{l}] {out}");
        assert_eq!(out["groups"][0]["count"], 2, "[{l}] {out}");
        assert!(out["groups"][0]["trace_id"].is_string());
        let r = f.call("error_summary", json!({"min_level": "error"})).await;
        assert_eq!(ok(&r)["total"], 2, "[{l}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_finish_and_stall() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |c| c.stall = Duration::from_secs(1)).await {
        let l = f.label;
        let r = f
            .call("task_start", json!({"name": "build", "project": "demo", "trace_id": T1, "detail": "starting"}))
            .await;
        let t = ok(&r).clone();
        let id = t["id"].as_str().unwrap().to_owned();
        assert_eq!(t["state"], "running", "[{l}]");
        assert_eq!(t["stalled"], false);
        assert_eq!(t["trace_id"], T1);

        // Idempotent start with our own id; a name clash is a conflict.
        let r = f.call("task_start", json!({"name": "test", "project": "demo", "id": "plan-1:test"})).await;
        assert_eq!(ok(&r)["id"], "plan-1:test", "[{l}]");
        let r = f.call("task_start", json!({"name": "test", "project": "demo", "id": "plan-1:test"})).await;
        assert_eq!(ok(&r)["id"], "plan-1:test", "[{l}]");
        assert!(
            err(&f.call("task_start", json!({"name": "lint", "project": "demo", "id": "plan-1:test"})).await)
                .contains("conflict")
        );
        assert!(err(&f.call("task_start", json!({"name": "x", "id": "a b"})).await).contains("id may hold"));

        // Keep `id` alive; let plan-1:test go silent.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            ok(&f.call("task_heartbeat", json!({"id": id, "detail": "compiling"})).await);
        }
        let r = f.call("task_list", json!({"state": "stalled"})).await;
        let out = ok(&r);
        let ids: Vec<&str> = out["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["plan-1:test"], "[{l}] {out}");
        assert_eq!(out["stalled"], 1);
        // The watch loop ticks every 500 ms here: the gauge follows.
        let mut seen = String::new();
        for _ in 0..20 {
            seen = f.server.raw().get("/metrics").await.text;
            if seen.contains("mcp_tasks_stalled 1") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(seen.contains("mcp_tasks_stalled 1"), "[{l}] {seen}");

        let r = f.call("task_finish", json!({"id": id, "outcome": "succeeded", "result": {"artifacts": 2}})).await;
        assert_eq!(ok(&r)["state"], "succeeded", "[{l}]");
        assert_eq!(ok(&r)["result"], json!({"artifacts": 2}));
        // A retried finish is fine; a different outcome is not; no more heartbeats.
        ok(&f.call("task_finish", json!({"id": id, "outcome": "succeeded"})).await);
        assert!(err(&f.call("task_finish", json!({"id": id, "outcome": "failed"})).await).contains("already finished"));
        assert!(err(&f.call("task_heartbeat", json!({"id": id})).await).contains("not running"));
        assert!(err(&f.call("task_heartbeat", json!({"id": "nope"})).await).contains("not found"));
        assert!(
            err(&f.call("task_start", json!({"name": "build", "project": "demo", "id": id})).await)
                .contains("already finished")
        );
        // A heartbeat brings a stalled task back.
        ok(&f.call("task_heartbeat", json!({"id": "plan-1:test"})).await);
        let r = f.call("task_list", json!({"project": "demo", "state": "all"})).await;
        let out = ok(&r);
        assert_eq!(out["tasks"].as_array().unwrap().len(), 2, "[{l}] {out}");
        assert_eq!(out["stalled"], 0, "[{l}] {out}");
        let r = f.call("task_list", json!({"state": "finished"})).await;
        assert_eq!(ok(&r)["tasks"][0]["id"], id.as_str(), "[{l}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_lines_then_the_oldest_beyond_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(dir.path(), "ret") {
        let mut c = Config::for_url(&url);
        c.max_rows = 5;
        c.retention = Duration::from_secs(86_400);
        let (_s, state) = server(c).await.unwrap();
        let mut batch = Vec::new();
        let two_days_ago = mcp_core::clock::rfc3339(mcp_core::clock::now_ms() / 1000 - 2 * 86_400, 0);
        for i in 0..3 {
            let mut l = line("svc", "INFO", None, &format!("old {i}"));
            l["timestamp"] = json!(two_days_ago);
            batch.push(l);
        }
        for i in 0..8 {
            batch.push(line("svc", "INFO", None, &format!("new {i}")));
        }
        let body: String = batch.iter().map(|l| format!("{l}\n")).collect();
        let (n, refused) = mcp_server_log::api::ingest_body(&state, body.as_bytes()).await.unwrap();
        assert_eq!((n, refused.len()), (11, 0), "[{label}]");
        let removed = mcp_server_log::retention::prune(&state).await.unwrap();
        assert_eq!(removed, 6, "[{label}]");
        let f = mcp_server_log::tools::query::Filter { since: Some("7d".into()), ..Default::default() };
        let left = mcp_server_log::tools::query::run(&state, f, None, mcp_server_log::tools::query::Order::Oldest)
            .await
            .unwrap();
        let msgs: Vec<&str> = left.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(msgs, ["new 3", "new 4", "new 5", "new 6", "new 7"], "[{label}]");
    }
}

/// Hostile and broken input at the ingest route and the tools: each is
/// refused with a reason, and nothing already stored is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_attack_corpus() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |c| c.max_batch = 100).await {
        let l = f.label;
        f.ingest(&[line("keep", "INFO", Some(T1), "precious")]).await;

        // No token, wrong token.
        assert_eq!(f.post("{}", None).await.0, 401, "[{l}]");
        assert_eq!(f.post("{}", Some("wrong")).await.0, 401, "[{l}]");
        // Unusable bodies.
        let (s, v) = f.post(vec![0xffu8, 0xfe, 0x00], Some(TEST_TOKEN)).await;
        assert_eq!(s, 400, "[{l}] {v}");
        let (s, v) = f.post("[1, 2", Some(TEST_TOKEN)).await;
        assert_eq!(s, 400, "[{l}] {v}");
        let too_many: String = (0..101).map(|i| format!("{}\n", line("x", "INFO", None, &i.to_string()))).collect();
        let (s, v) = f.post(too_many, Some(TEST_TOKEN)).await;
        assert_eq!(s, 400, "[{l}] {v}");
        assert!(v["detail"].as_str().unwrap().contains("over the limit"));
        // Bigger than the server's body limit: 413, or — when the server answers and closes before the client
        // has finished writing — a broken pipe on the client's side. Either way nothing is stored. A client of
        // its own: the server closes that connection, and a pooled one would be reused by the next request
        // and fail it (hyper's IncompleteMessage), which is the harness's race, not the server's.
        let oversized = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().unwrap();
        let r = oversized
            .post(format!("{}/v1/logs", f.server.base()))
            .bearer_auth(TEST_TOKEN)
            .body(vec![b' '; 5 << 20])
            .send()
            .await;
        match r {
            Ok(r) => assert_eq!(r.status().as_u16(), 413, "[{l}]"),
            Err(e) => assert!(e.is_request() || e.is_body(), "[{l}] {e}"),
        }

        // Line by line: each bad one refused, good ones around them stored.
        let evil = [
            json!({"level": "INFO", "service": "x'); DROP TABLE log_lines; --", "message": "sql in a name"}),
            json!({"level": "INFO", "service": "x", "message": "nul \u{0000} byte"}),
            json!({"level": "INFO", "service": "x", "message": "m", "trace_id": "' OR 1=1 --"}),
            json!({"level": "INFO", "service": "x", "message": "m", "span_id": "zz"}),
            json!({"level": "INFO", "service": "line\nbreak", "message": "m"}),
            json!({"level": "INFO", "service": "x", "message": "x".repeat(20_000)}),
            json!({"level": "INFO", "service": "x", "message": "m", "fields": "not an object"}),
            json!({"level": "INFO", "service": "x", "message": "m", "timestamp": "2026-13-45T99:00:00Z"}),
            json!({"level": "SHOUT", "service": "x", "message": "m"}),
            json!({"service": "x", "message": "no level"}),
            json!("just a string"),
            json!({"level": "INFO", "service": "x", "message": "'; DELETE FROM log_lines; --"}),
        ];
        let body: String = evil.iter().map(|v| format!("{v}\n")).collect();
        let (s, v) = f.post(body, Some(TEST_TOKEN)).await;
        assert_eq!(s, 207, "[{l}] {v}");
        // The name with SQL in it is a valid name: stored as text, harmless.
        assert_eq!(v["accepted"], 2, "[{l}] {v}");
        let idx: Vec<u64> = v["rejected"].as_array().unwrap().iter().map(|r| r["index"].as_u64().unwrap()).collect();
        assert_eq!(idx, (1..=10).collect::<Vec<u64>>(), "[{l}] {v}");

        // Tools refuse bad filters instead of running them.
        assert!(err(&f.call("logs_by_trace", json!({"trace_id": "' OR ''='"})).await).contains("hex"));
        assert!(err(&f.call("logs_search", json!({"min_level": "x' OR 1=1"})).await).contains("level"));
        assert!(err(&f.call("log_write", json!({"lines": []})).await).contains("empty"));
        let r = f.call("logs_search", json!({"query": "' OR 1=1 --"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 0, "[{l}]");
        let r = f.call("logs_search", json!({"query": "DELETE FROM"})).await;
        assert_eq!(ok(&r)["lines"].as_array().unwrap().len(), 1, "[{l}]");

        // Everything stored before is still there.
        let r = f.call("logs_by_trace", json!({"trace_id": T1})).await;
        assert_eq!(ok(&r)["lines"][0]["message"], "precious", "[{l}]");
        let metrics = f.server.raw().get("/metrics").await.text;
        assert!(metrics.contains(r#"mcp_log_lines_rejected_total{reason="line"} 10"#), "[{l}] {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_write_takes_the_callers_trace() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures(dir.path(), |_| {}).await {
        let l = f.label;
        let tp = format!("00-{T2}-00f067aa0ba902b7-01");
        let r = f
            .server
            .raw()
            .request(
                "tools/call",
                json!({"name": "log_write", "arguments": {"lines": [
                    {"level": "info", "service": "build-script", "message": "step 1"},
                    {"level": "bogus", "service": "build-script", "message": "step 2"}
                ]}}),
                json!({"traceparent": tp}),
                &[],
            )
            .await;
        let out = ok(&r);
        assert_eq!(out["accepted"], 1, "[{l}] {out}");
        assert_eq!(out["rejected"][0]["index"], 1);
        let r = f.call("logs_by_trace", json!({"trace_id": T2})).await;
        assert_eq!(ok(&r)["lines"][0]["message"], "step 1", "[{l}] {}", r.text);
    }
}
