//! The planner binary killed with SIGKILL mid-run, twice, and restarted:
//! the run resumes at the interrupted step and finishes with exactly one
//! commit per commit step, one completion email and one decision of each
//! kind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::{Fleet, ok, spec};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-client-planner");

/// The planner process, killed when dropped (a failing assertion must not leave it running).
struct Planner(Child);

impl Drop for Planner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(fleet: &Fleet, db: &str, port: u16) -> Planner {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in fleet.planner_env(db) {
        cmd.env(k, v);
    }
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

/// Wait until `key` is the running step, then SIGKILL.
async fn kill_during(c: &RawClient, child: &mut Planner, run_id: &str, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let r = c.call("plan_status", json!({"run_id": run_id})).await;
        let v: Value = ok(&r).clone();
        let running =
            v["steps"].as_array().unwrap().iter().find(|s| s["state"] == "running").map(|s| s["def"]["key"].clone());
        if running == Some(json!(key)) {
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
    let mut child = start(&fleet, &db, port);
    ready(&c, port).await;
    let mail = fleet.request_mail("Resume me").await;
    let request = json!({"request_id": "req-resume", "requester": "alice@example.test", "reply_to": mail});
    let v = ok(&c.call("plan_start", json!({"spec": spec("Resume Me", "python", "cli"), "request": request})).await)
        .clone();
    let run_id = v["id"].as_str().unwrap().to_owned();

    kill_during(&c, &mut child, &run_id, "install").await;
    let mut child = start(&fleet, &db, port);
    ready(&c, port).await;
    kill_during(&c, &mut child, &run_id, "test").await;
    let child = start(&fleet, &db, port);
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
    drop(child);
}
