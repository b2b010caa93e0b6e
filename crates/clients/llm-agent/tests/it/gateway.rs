//! The front door end to end: the whole fleet as real processes, with the
//! release tag behind a person's approval (`PLANNER_APPROVAL_STEPS=tag`).
//!
//! 1. A request is submitted over REST (`POST /api/v1/requests`), watched in
//!    the web UI in a real Chromium — the page is opened once and never
//!    reloaded, so the step table and the approval appearing are the SSE
//!    stream's doing — and approved there with the page's own button; the
//!    project is built, tagged and reported by email. The same stream read
//!    by a program shows the step waiting and the run's end.
//! 2. A second request is driven by the `mcp-fleet` command line alone:
//!    submit, watch (exit 0 when the run succeeded), approve.

use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mcp_test::TEST_TOKEN;
use mcp_test::browser::Browser;
use serde_json::{Value, json};

use crate::Fleet;

const ALICE: &str = "alice@example.test";
/// A python-cli project through install, lint, test and tag, on two cores.
const BUILD: Duration = Duration::from_secs(300);

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = http().post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
    let r = http().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn spec(name: &str) -> String {
    format!(
        "Hello,\n\nplease build this for me.\n\nName: {name}\nSummary: Counts the words of text files.\n\
         Language: Python\nKind: CLI\n\nThanks,\nAlice"
    )
}

/// Every event of a request's stream until `done` (or the deadline): `(event, data)`.
async fn read_events(base: String, id: String, token: String) -> Vec<(String, Value)> {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{base}/api/v1/requests/{id}/events"))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = sse_stream::SseStream::from_bytes_stream(r.bytes_stream());
    let mut out = Vec::new();
    let deadline = Instant::now() + BUILD + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(Some(Ok(ev))) = tokio::time::timeout(Duration::from_secs(90), stream.next()).await else { break };
        let (Some(name), Some(data)) = (ev.event, ev.data) else { continue };
        let done = name == "done";
        out.push((name, serde_json::from_str(&data).unwrap_or(Value::String(data))));
        if done {
            break;
        }
    }
    out
}

fn step_states(snapshot: &Value) -> Vec<(String, String)> {
    snapshot["run"]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    let key = s["key"].as_str().or(s["name"].as_str()).or(s["def"]["key"].as_str()).unwrap_or("");
                    (key.to_owned(), s["state"].as_str().unwrap_or("").to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_through_the_gateway_is_watched_and_approved_in_the_ui_and_by_the_cli() {
    let f = Fleet::start_with(&[], &[("PLANNER_APPROVAL_STEPS", "tag".into())]).await;
    let gw = f.base("mcp-client-api-gateway");

    // The first key is made with the fleet token; then the key is all a person uses.
    let (status, key) = post(&gw, "/api/v1/keys", TEST_TOKEN, json!({"name": ALICE, "role": "operator"})).await;
    assert_eq!(status, 201, "{key}");
    let key = key["key"].as_str().unwrap().to_owned();

    // 1. REST in, UI to watch and approve.
    let (status, submitted) = post(
        &gw,
        "/api/v1/requests",
        &key,
        json!({"requester": ALICE, "subject": "Word tally", "text": spec("Word Tally")}),
    )
    .await;
    assert_eq!(status, 202, "{submitted}\n{}", f.log("mcp-client-api-gateway"));
    let id = submitted["request_id"].as_str().unwrap().to_owned();
    let events = tokio::spawn(read_events(gw.clone(), id.clone(), key.clone()));

    let (base, id2, key2, dir) = (gw.clone(), id.clone(), key.clone(), f.dir.path().to_owned());
    let ui = tokio::task::spawn_blocking(move || -> anyhow::Result<(String, String)> {
        let mut b = Browser::launch(&dir)?;
        b.goto(&format!("{base}/ui/login"))?;
        b.eval(&format!(
            "document.querySelector('#credential').value = {}; document.querySelector('form').submit(); true",
            json!(key2)
        ))?;
        b.arrive("/ui/requests")?;
        let page = format!("/ui/requests/{id2}");
        b.goto(&format!("{base}{page}"))?;
        b.shot("request-submitted")?;
        // From here on the page is never reloaded: what appears comes over SSE.
        b.eval("window.__opened = true")?;
        let until = Instant::now() + BUILD;
        while b.eval("!!document.querySelector('[data-approval] button.ok')")? != json!(true) {
            anyhow::ensure!(Instant::now() < until, "no approval appeared: {}", b.text("main")?);
            std::thread::sleep(Duration::from_millis(250));
        }
        anyhow::ensure!(b.eval("window.__opened === true")? == json!(true), "the page was reloaded");
        let waiting = b.text("#live")?;
        // The run's latest log lines are on the page, under the step that waits.
        let tail = b.text("#log-tail")?;
        anyhow::ensure!(!tail.trim().is_empty(), "no log tail: {waiting}");
        b.shot("request-awaiting-approval")?;
        b.eval("document.querySelector('[data-approval] button.ok').click(); true")?;
        b.arrive(&page)?;
        let until = Instant::now() + BUILD;
        while b.eval("!!document.querySelector('#final')")? != json!(true) {
            anyhow::ensure!(Instant::now() < until, "the run did not finish: {}", b.text("main")?);
            std::thread::sleep(Duration::from_millis(250));
        }
        b.shot("request-finished")?;
        Ok((waiting, b.text("#live")?))
    });
    let (waiting, finished) = ui.await.unwrap().unwrap_or_else(|e| {
        panic!("{e}\nplanner:\n{}\ngateway:\n{}", f.log("mcp-client-planner"), f.log("mcp-client-api-gateway"))
    });
    assert!(waiting.contains("Waiting for approval") && waiting.contains("awaiting_approval"), "{waiting}");
    assert!(finished.contains("succeeded"), "{finished}");

    // The stream a program reads said the same: the tag waited, then the run ended well.
    let events = events.await.unwrap();
    let states: Vec<&Value> = events.iter().filter(|(n, _)| n == "state").map(|(_, d)| d).collect();
    assert!(
        states.iter().any(|s| step_states(s).iter().any(|(k, st)| k == "tag" && st == "awaiting_approval")),
        "{events:?}"
    );
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert_eq!(done["run"]["state"], "succeeded", "{done}");
    // The approval records who decided: the key's holder, through the UI.
    let (_, approvals) = get(&gw, "/api/v1/approvals?state=approved", &key).await;
    let a = approvals["approvals"].as_array().unwrap().iter().find(|a| a["request_id"] == id.as_str()).cloned();
    assert_eq!(a.as_ref().map(|a| a["decided_by"].clone()), Some(json!(ALICE)), "{approvals}");
    // The project was built and tagged; the requester got the report.
    f.wait_mail("alice", Duration::from_secs(30), |m| m.subject.contains("Word tally") && m.body.contains("is ready"))
        .await;
    let repo = f.projects().join("word-tally");
    let tags = Command::new("git").args(["tag", "--list"]).current_dir(&repo).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&tags.stdout).trim(), "v0.1.0");

    // 2. The command line alone.
    let cli = |args: &[&str]| {
        let mut c = Command::new(crate::bin_dir().join("mcp-fleet"));
        c.args(["--url", &gw]).args(args).env("MCP_FLEET_KEY", &key).env_remove("MCP_FLEET_KEY_FILE");
        c.env("NO_PROXY", "127.0.0.1").env("no_proxy", "127.0.0.1");
        c
    };
    let out = cli(&[
        "--json",
        "request",
        "submit",
        "--from",
        ALICE,
        "--subject",
        "Line tally",
        "--text",
        &spec("Line Tally"),
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let submitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = submitted["request_id"].as_str().unwrap().to_owned();
    let watch = cli(&["request", "watch", &id]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let until = Instant::now() + BUILD;
    let approval = loop {
        let out = cli(&["--json", "approvals", "--state", "pending"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Some(a) = list["approvals"].as_array().unwrap().iter().find(|a| a["request_id"] == id.as_str()) {
            break a["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < until, "no approval for {id}:\n{}", f.log("mcp-client-planner"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let out = cli(&["approve", &approval, "--reason", "looks good"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let watched = tokio::task::spawn_blocking(move || watch.wait_with_output()).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&watched.stdout);
    assert!(watched.status.success(), "watch said:\n{text}");
    assert!(text.contains("awaiting_approval") && text.contains("succeeded"), "{text}");
}
