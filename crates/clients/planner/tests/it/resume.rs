//! Crashes and what comes after them. The planner binary killed with
//! SIGKILL mid-run, twice, and restarted: the run resumes at the
//! interrupted step and finishes with exactly one commit per commit step,
//! one tag, one completion email (and one record of it) and one decision of
//! each kind. And a crash at the worst instant for the writing steps —
//! after the write, before its checkpoint — replayed: the servers'
//! idempotency keys turn every repeated write into the first one.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_client_planner::store::{StepState, Store};
use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::{Fleet, ok, spec, wait_done};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-client-planner");

/// The planner process, killed when dropped (a failing assertion must not leave it running).
struct Planner(Child);

impl Drop for Planner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(fleet: &Fleet, db: &str, port: u16, otlp: &str) -> Planner {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in fleet.planner_env(db) {
        cmd.env(k, v);
    }
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp);
    cmd.env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}")).stdout(Stdio::null()).stderr(Stdio::inherit());
    Planner(cmd.spawn().unwrap())
}

async fn ready(c: &RawClient, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    // Until the port listens, `get` cannot even connect.
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() || c.get("/health").await.status != 200 {
        assert!(Instant::now() < deadline, "planner did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until `key` — or, when a loaded machine polled past it, a later
/// step — is the running step, then SIGKILL. A short step can start and end
/// between two polls; killing at the next one still interrupts the run
/// mid-way, which is what the test is about.
async fn kill_during(c: &RawClient, child: &mut Planner, run_id: &str, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let r = c.call("plan_status", json!({"run_id": run_id})).await;
        let v: Value = ok(&r).clone();
        let steps = v["steps"].as_array().unwrap();
        let at = |k: &Value| steps.iter().position(|s| &s["def"]["key"] == k);
        let wanted = at(&json!(key));
        let running = steps.iter().position(|s| s["state"] == "running");
        if running.is_some() && running >= wanted {
            break;
        }
        assert!(Instant::now() < deadline, "step {key} never ran: {v}");
        assert!(!["succeeded", "failed"].contains(&v["state"].as_str().unwrap()), "finished before {key}: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_resumes_without_doing_anything_twice() {
    let fleet = Fleet::start().await;
    let db = mcp_test::services::sqlite_url(fleet.dir.path(), "planner-bin");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = RawClient::new(&format!("http://127.0.0.1:{port}"), Some(TEST_TOKEN.into()));
    let collector = mcp_test::collector::Collector::start();
    let otlp = collector.endpoint();
    let mut child = start(&fleet, &db, port, &otlp);
    ready(&c, port).await;
    let mail = fleet.request_mail("Resume me").await;
    let request = json!({"request_id": "req-resume", "requester": "alice@example.test", "reply_to": mail});
    let v = ok(&c.call("plan_start", json!({"spec": spec("Resume Me", "python", "cli"), "request": request})).await)
        .clone();
    let run_id = v["id"].as_str().unwrap().to_owned();

    kill_during(&c, &mut child, &run_id, "install").await;
    // The steps the killed planner finished are in the trace: exported at each step's end, not lost with
    // the exporter's batch.
    let trace_id = v["trace_id"].as_str().unwrap().to_owned();
    let steps: Vec<String> = collector.trace(&trace_id).iter().map(|s| s.name.clone()).collect();
    for step in ["step scaffold", "step git_init", "step commit_scaffold"] {
        assert!(steps.iter().any(|s| s == step), "{step} lost with the SIGKILLed planner: {steps:?}");
    }
    let mut child = start(&fleet, &db, port, &otlp);
    ready(&c, port).await;
    kill_during(&c, &mut child, &run_id, "test").await;
    let child = start(&fleet, &db, port, &otlp);
    ready(&c, port).await;

    let done = crate::wait_done_raw(&c, &run_id, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let install = &done["steps"][3];
    assert!(install["attempts"].as_i64().unwrap() >= 2, "install ran again after the kill: {install}");
    assert_eq!(fleet.commits("resume-me"), ["Scaffold resume-me from the python-cli template"]);
    assert_eq!(fleet.tags("resume-me"), ["v0.1.0"]);
    assert_eq!(fleet.outbox().len(), 1, "exactly one completion email");
    let d = ok(&fleet.sql.raw().call("decision_list", json!({"project": "resume-me"})).await).clone();
    let kinds: Vec<&str> = d["items"].as_array().unwrap().iter().map(|i| i["decision"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["planned", "completed"], "{d}");
    assert_eq!(messages(&fleet, "resume-me").await, 1, "exactly one recorded email");
    drop(child);
}

/// Rows of a project's communication log.
async fn messages(fleet: &Fleet, project: &str) -> usize {
    let m = ok(&fleet.sql.raw().call("message_list", json!({"project": project})).await).clone();
    m["items"].as_array().unwrap().len()
}

/// Put steps of a finished run back to "running" after their writes, which
/// is what a planner killed between a write and its checkpoint leaves
/// behind, with the run's lease held by the dead planner; `retouch` may
/// change stored steps first. The next planner to start runs them again.
pub(crate) async fn crash_after_writes(fleet: &Fleet, run_id: &str, steps: &[i64], retouch: impl AsyncFnOnce(&Store)) {
    let store = Store::open(&mcp_test::services::sqlite_url(fleet.dir.path(), "planner")).await.unwrap();
    retouch(&store).await;
    for idx in steps {
        // An attempt begun (the step is running again, the run too) and never checkpointed.
        store.begin_attempt(run_id, *idx).await.unwrap();
    }
    // The crashed planner's lease, already expired.
    assert!(store.claim(run_id, "crashed", 0, 1).await.unwrap());
}

/// The steps that write outside the planner — both commits, the tag, the
/// report (email, its record, the decision) — replayed after a crash that
/// came between their writes and their checkpoints: each write comes back
/// as the first one. Then the report alone again, with a test summary that
/// reads differently, so its email text and decision outputs differ from
/// the first attempt's: the servers answer "different arguments", and the
/// first email and records stand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_replayed_after_a_crash_before_their_checkpoint_happen_once() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|_| {}).await;
    let mail = fleet.request_mail("Replay me").await;
    let request = json!({"request_id": "req-replay", "requester": "alice@example.test", "reply_to": mail});
    let v = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Replay Me", "python", "cli"), "request": request}))
        .await)
    .clone();
    let run_id = v["id"].as_str().unwrap().to_owned();
    let first = wait_done(&planner, &run_id, Duration::from_secs(300)).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    planner.stop().await;
    let idx = |key: &str| first["steps"].as_array().unwrap().iter().position(|s| s["def"]["key"] == key).unwrap();
    let once = async || {
        assert_eq!(fleet.commits("replay-me"), ["Scaffold replay-me from the python-cli template"]);
        assert_eq!(fleet.tags("replay-me"), ["v0.1.0"]);
        assert_eq!(fleet.outbox().len(), 1, "exactly one email");
        assert_eq!(messages(&fleet, "replay-me").await, 1, "exactly one recorded email");
        let d = ok(&fleet.sql.raw().call("decision_list", json!({"project": "replay-me"})).await).clone();
        let kinds: Vec<&str> = d["items"].as_array().unwrap().iter().map(|i| i["decision"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["planned", "completed"], "{d}");
        d
    };

    let replayed = ["commit_scaffold", "commit_work", "tag", "report"];
    let steps: Vec<i64> = replayed.iter().map(|k| idx(k) as i64).collect();
    crash_after_writes(&fleet, &run_id, &steps, async |_| {}).await;
    let planner = fleet.planner(|_| {}).await;
    let again = wait_done(&planner, &run_id, Duration::from_secs(120)).await;
    planner.stop().await;
    assert_eq!(again["state"], "succeeded", "{again}");
    for key in replayed {
        let (a, b) = (&first["steps"][idx(key)], &again["steps"][idx(key)]);
        assert_eq!(b["state"], "succeeded", "{key}: {again}");
        // The first attempt, the one the crash cut short, the replay.
        assert_eq!(b["attempts"], 3, "{key} ran again: {again}");
        if key != "report" {
            assert_eq!(a["result"], b["result"], "{key} answered with its first result");
        }
    }
    assert_eq!(again["steps"][idx("commit_work")]["result"]["nothing_to_commit"], true, "{again}");
    assert_eq!(again["steps"][idx("report")]["result"]["email"]["duplicate"], true, "{again}");
    once().await;

    let report = idx("report");
    crash_after_writes(&fleet, &run_id, &[report as i64], async |store| {
        let mut test = first["steps"][idx("test")]["result"].clone();
        test["summary"] = json!(format!("{} (read again)", test["summary"].as_str().unwrap()));
        store.finish_step(&run_id, idx("test") as i64, StepState::Succeeded, Some(&test), None, None).await.unwrap();
    })
    .await;
    let planner = fleet.planner(|_| {}).await;
    let third = wait_done(&planner, &run_id, Duration::from_secs(120)).await;
    assert_eq!(third["state"], "succeeded", "{third}");
    assert_eq!(third["steps"][report]["state"], "succeeded", "a conflict means already done: {third}");
    assert!(third["steps"][report]["result"]["text"].as_str().unwrap().contains("read again"), "{third}");
    let d = once().await;
    let checks = d["items"][1]["outputs"]["checks"].to_string();
    assert!(checks.contains("passed") && !checks.contains("read again"), "the first decision stands: {d}");
}
