//! Real processes exporting real OTLP: one call that crosses two servers is
//! one trace in the observer with the right parent/child links, its log lines
//! from both services are in the log server, the decision recorded under it
//! is in the project timeline, and the monitor script prints all of it.
//!
//! The two servers are the observer binary itself (its `project_audit` calls
//! the sql server over MCP) and `mcp-server-sql`, run as a separate process by
//! re-executing this test binary in a child role ([`child_process_entry_point`]),
//! so each has its own process-wide telemetry exporting to the observer over
//! OTLP/HTTP with the fleet's peer token (mcp-core sends it to the OTLP
//! endpoint), and shipping its log lines to a log server, exactly as in
//! compose.
//!
//! Also here: the observer exporting to itself does not feed itself, a bad
//! configuration exits 64, and SIGTERM stops it cleanly.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::otlp::{PROTOBUF, S, now_ns, protobuf, span_id, trace_id};
use crate::{Running, eventually, get_json, ok};

const OBSERVER: &str = env!("CARGO_BIN_EXE_mcp-client-observer");
/// Set in a child's environment to pick its role.
const ROLE: &str = "OBSERVER_IT_ROLE";

/// Not a test of its own: when this binary is re-executed with
/// `OBSERVER_IT_ROLE=sql`, this runs `mcp-server-sql` as the real program
/// would (`mcp_core::run`: configuration from the environment, telemetry,
/// SIGTERM). In a normal test run it does nothing.
#[test]
fn child_process_entry_point() {
    if std::env::var(ROLE).as_deref() == Ok("sql") {
        let code = mcp_core::run(mcp_server_sql::NAME, mcp_server_sql::Config::read, |config, _core| async move {
            mcp_server_sql::server(config).await.map(Into::into)
        });
        assert_eq!(code, std::process::ExitCode::SUCCESS);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process whose stdout lines are collected as they come.
pub struct Child {
    pub port: u16,
    proc: std::process::Child,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Child {
    pub fn spawn(mut cmd: Command, port: u16) -> Self {
        // The test's own HTTP clients need the TLS provider even when this
        // test runs alone.
        mcp_core::install_crypto_provider();
        let mut proc = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let out = proc.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        Self { port, proc, lines }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Wait until `/health` answers.
    pub async fn ready(&mut self, what: &str) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/health", self.base())).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Some(status) = self.proc.try_wait().unwrap() {
                panic!("{what} exited early with {status}: {:?}", self.lines.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "{what} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The JSON log lines written so far.
    pub fn json_lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).collect()
    }

    /// SIGTERM, then wait; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.proc.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.proc.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.proc.try_wait().ok().flatten().is_none() {
            let _ = self.proc.kill();
            let _ = self.proc.wait();
        }
    }
}

/// The environment every child gets: a clean one, exporting to `observer_port`.
fn base_env(cmd: &mut Command, port: u16, observer_port: u16) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN", TEST_TOKEN)
        .env("RUST_LOG", "info,rmcp=warn")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{observer_port}"))
        // Export every 200 ms instead of every 5 s, so the test waits less.
        .env("OTEL_BSP_SCHEDULE_DELAY", "200");
}

/// The observer binary on `db`, its sql peer on `sql_port`, exporting to
/// itself, shipping its log lines to `log` when given.
pub fn observer(db: &str, sql_port: u16, log: Option<&str>) -> Child {
    let port = free_port();
    let mut cmd = Command::new(OBSERVER);
    base_env(&mut cmd, port, port);
    if let Some(l) = log {
        cmd.env("MCP_LOG_ENDPOINT", l);
    }
    cmd.env("OBSERVER_DATABASE_URL", db).env("MCP_SERVER_SQL_URL", format!("http://127.0.0.1:{sql_port}/mcp"));
    Child::spawn(cmd, port)
}

/// `mcp-server-sql` as a process (this binary in the sql role), shipping its
/// log lines to `log`.
pub fn sql_server(db: &str, port: u16, observer_port: u16, log: &str) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["cross::child_process_entry_point", "--exact", "--nocapture", "--test-threads=1"]);
    base_env(&mut cmd, port, observer_port);
    cmd.env("MCP_LOG_ENDPOINT", log);
    cmd.env(ROLE, "sql").env("SQL_DATABASE_URL", db);
    Child::spawn(cmd, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_across_two_servers_is_one_trace() {
    let dir = tempfile::tempdir().unwrap();
    // The log server first: both processes ship their lines to it
    // (`MCP_LOG_ENDPOINT`, mcp-core's shipper), as in compose.
    let log_db = mcp_test::services::sqlite_url(dir.path(), "log");
    let mut core = mcp_core::CoreConfig::defaults(mcp_server_log::NAME);
    core.auth_token = Some(TEST_TOKEN.into());
    core.peer_token = core.auth_token.clone();
    let log = Running::start(
        mcp_server_log::start(mcp_server_log::Config::for_url(&log_db), core.clone()).await.unwrap(),
        mcp_server_log::NAME,
    )
    .await;
    let sql_port = free_port();
    let mut obs = observer(&mcp_test::services::postgres_url(), sql_port, Some(&log.base()));
    let mut sql = sql_server(&mcp_test::services::sqlite_url(dir.path(), "sql"), sql_port, obs.port, &log.base());
    obs.ready("the observer").await;
    sql.ready("the sql server").await;
    let http = reqwest::Client::new();

    // The test is the outermost caller: its span ids are known, not stored.
    let trace = trace_id();
    let (test_span_1, test_span_2) = (span_id(), span_id());
    let project = format!("req-{}", &trace[..8]);

    // The agent's decision, recorded under the trace.
    let sql_client = RawClient::new(&sql.base(), Some(TEST_TOKEN.into()));
    let r = sql_client
        .request(
            "tools/call",
            json!({"name": "decision_record", "arguments": {"project": project, "actor": "llm-agent",
                   "decision": "received", "rationale": "a complete request"}}),
            json!({"traceparent": format!("00-{trace}-{test_span_1}-01")}),
            &[],
        )
        .await;
    assert_eq!(ok(&r)["trace_id"], trace.as_str(), "the decision takes the call's trace");

    // The call that crosses two servers: observer -> sql server, twice.
    let obs_client = RawClient::new(&obs.base(), Some(TEST_TOKEN.into()));
    let audit = |span: String| {
        let c = obs_client.clone();
        let project = project.clone();
        let trace = trace.clone();
        async move {
            c.request(
                "tools/call",
                json!({"name": "project_audit", "arguments": {"project": project}}),
                json!({"traceparent": format!("00-{trace}-{span}-01")}),
                &[],
            )
            .await
        }
    };
    let r = audit(test_span_2.clone()).await;
    let a = ok(&r).clone();
    assert_eq!(a["decisions"][0]["decision"], "received", "{a}");
    assert_eq!(a["warnings"], json!([]), "{a}");

    // The observer has the whole tree: 1 sql span for the decision, the
    // audit's server span, its two client spans, and their two server spans
    // in the sql server.
    let path = format!("/api/traces/{trace}");
    let tree = eventually(30, "the whole trace in the observer", || {
        let http = http.clone();
        let base = obs.base();
        let path = path.clone();
        async move {
            let (s, v) = get_json(&http, &base, Some(TEST_TOKEN), &path).await;
            (s == 200 && v["trace"]["span_count"].as_u64() >= Some(6)).then_some(v)
        }
    })
    .await;
    let t = &tree["trace"];
    assert_eq!(t["span_count"], 6, "{t}");
    assert_eq!(t["services"], json!(["mcp-client-observer", "mcp-server-sql"]));
    let roots = t["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 2, "two calls from the test: {t}");
    let record = roots.iter().find(|r| r["name"] == "tools/call decision_record").unwrap();
    assert_eq!(record["service"], "mcp-server-sql");
    assert_eq!(record["parent_span_id"], test_span_1.as_str());
    assert_eq!(record["parent_missing"], true);
    let server = roots.iter().find(|r| r["name"] == "tools/call project_audit").unwrap();
    assert_eq!(server["service"], "mcp-client-observer");
    assert_eq!(server["kind"], "server");
    assert_eq!(server["parent_span_id"], test_span_2.as_str());
    let clients = server["children"].as_array().unwrap();
    let mut names: Vec<&str> = clients.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["tools/call decision_list", "tools/call message_list"]);
    for c in clients {
        assert_eq!(c["service"], "mcp-client-observer");
        assert_eq!(c["kind"], "client");
        assert_eq!(c["parent_span_id"], server["span_id"]);
        let kids = c["children"].as_array().unwrap();
        assert_eq!(kids.len(), 1, "{c}");
        let callee = &kids[0];
        assert_eq!(callee["service"], "mcp-server-sql");
        assert_eq!(callee["kind"], "server");
        assert_eq!(callee["name"], c["name"], "the callee's span names the same call");
        assert_eq!(callee["parent_span_id"], c["span_id"], "the sql span is the client span's child");
        assert_eq!(callee["attributes"]["mcp.method.name"], "tools/call");
        assert!(callee["offset_ms"].as_f64().unwrap() >= c["offset_ms"].as_f64().unwrap());
    }

    // The project timeline now holds the decision and the spans of its trace.
    let r = audit(span_id()).await;
    let a = ok(&r).clone();
    assert_eq!(a["decisions"][0]["trace"]["trace_id"], trace.as_str(), "{a}");
    let kinds: Vec<(&str, &str)> = a["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["who"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("decision", "llm-agent")), "{kinds:?}");
    assert!(kinds.contains(&("span", "mcp-server-sql")), "{kinds:?}");
    assert!(kinds.contains(&("span", "mcp-client-observer")), "{kinds:?}");

    // Both services logged under the trace and shipped their lines: the log
    // server returns both services' lines for that trace_id.
    let path = format!("/api/logs?trace_id={trace}");
    let v = eventually(15, "log lines of both services in the log server", || {
        let (http, base, path) = (http.clone(), log.base(), path.clone());
        async move {
            let (s, v) = get_json(&http, &base, Some(TEST_TOKEN), &path).await;
            let services: std::collections::BTreeSet<String> = v["lines"]
                .as_array()
                .map(|a| a.iter().filter_map(|l| l["service"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            (s == 200 && services.len() == 2).then_some(v)
        }
    })
    .await;
    let services: std::collections::BTreeSet<&str> =
        v["lines"].as_array().unwrap().iter().map(|l| l["service"].as_str().unwrap()).collect();
    assert_eq!(services.into_iter().collect::<Vec<_>>(), ["mcp-client-observer", "mcp-server-sql"], "{v}");
    // What was shipped is what the processes wrote to stdout.
    let written = |c: &Child| c.json_lines().into_iter().filter(|l| l["trace_id"] == trace.as_str()).count();
    assert!(written(&obs) > 0 && written(&sql) > 0);

    // The trace debugger prints the merged timeline: spans of both services,
    // the log lines and the decision.
    let out = crate::monitor_script::run(&obs.base(), &log.base(), &[&trace]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "SPAN     mcp-client-observer",
        "tools/call project_audit",
        "SPAN     mcp-server-sql",
        "DECISION llm-agent",
        "LOG      mcp-server-sql",
        "LOG      mcp-client-observer",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from the timeline:\n{text}");
    }

    assert!(obs.terminate().success());
    assert!(sql.terminate().success());
    log.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_to_itself_does_not_feed_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut obs = observer(&mcp_test::services::sqlite_url(dir.path(), "obs"), free_port(), None);
    obs.ready("the observer").await;
    let http = reqwest::Client::new();
    let t0 = now_ns();
    for _ in 0..5 {
        let tr = trace_id();
        let spans: Vec<S> = (0..20).map(|i| S::new(&tr, "mcp-server-fs", "x", t0, f64::from(i), 1.0)).collect();
        let (s, _) = crate::post_otlp(&http, &obs.base(), Some(TEST_TOKEN), protobuf(&spans), PROTOBUF).await;
        assert_eq!(s, 200);
    }
    let own = |http: reqwest::Client, base: String| async move {
        let (_, v) =
            get_json(&http, &base, Some(TEST_TOKEN), "/api/traces?service=mcp-client-observer&limit=500").await;
        v["traces"].as_array().unwrap().iter().map(|t| t["span_count"].as_i64().unwrap()).sum::<i64>()
    };
    // Several export periods pass: ingest alone produced nothing to export.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(own(http.clone(), obs.base()).await, 0);
    // One MCP call makes one span, exported once, and no more follow.
    let c = RawClient::new(&obs.base(), Some(TEST_TOKEN.into()));
    ok(&c.call("traces_search", json!({"service": "mcp-server-fs"})).await);
    eventually(10, "the observer's own span", || {
        let (h, b) = (http.clone(), obs.base());
        async move { (own(h, b).await == 1).then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(own(http.clone(), obs.base()).await, 1, "the observer's export produced more spans");
    assert!(obs.terminate().success());
}

#[test]
fn bad_configuration_exits_64_listing_every_problem() {
    let out = Command::new(OBSERVER)
        .env_clear()
        .env("MCP_LISTEN_ADDR", "nowhere")
        .env("OBSERVER_DATABASE_URL", "mysql://db/x")
        .env("OBSERVER_RETENTION_DAYS", "forever")
        .env("MCP_SERVER_SQL_URL", "mcp-server-sql:8080")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["MCP_LISTEN_ADDR", "OBSERVER_DATABASE_URL", "OBSERVER_RETENTION_DAYS", "MCP_SERVER_SQL_URL"] {
        assert!(err.contains(needle), "{needle} not reported: {err}");
    }
    // A database that cannot be opened is a configuration error too.
    let out =
        Command::new(OBSERVER).env_clear().env("OBSERVER_DATABASE_URL", "sqlite:/proc/nope/x.db").output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut obs = observer(&mcp_test::services::sqlite_url(dir.path(), "obs"), free_port(), None);
    obs.ready("the observer").await;
    assert!(obs.terminate().success());
}
