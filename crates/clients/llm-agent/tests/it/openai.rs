//! The `openai` provider against a scripted OpenAI-compatible server — a
//! test double, because no model can run here; it follows the documented
//! Chat Completions API (`POST /v1/chat/completions`, `choices[0].message`
//! with `content` or `tool_calls`, `usage`). Its answers are deterministic:
//! the first request fails with 503 (retried), the first extraction reply is
//! not JSON (one corrective retry), the coder's first turn proposes a call
//! with broken arguments and a path outside the project (both refused and
//! reported back to the model), then it writes a test that fails, runs the
//! tests and finishes; the planner's fix loop then hands the failing output
//! to `llm_fix`, whose conversation corrects the test. The same
//! email-to-project flow must hold.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::{Fleet, git, ok};

const KEY: &str = "sk-scripted-secret-0123456789";

#[derive(Default)]
struct Script {
    requests: Vec<(Option<String>, Value)>,
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-scripted", "object": "chat.completion", "model": "scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    })
}

fn call(id: &str, name: &str, arguments: &str) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// The model's test, with the greeting it expects.
fn test_file(expected: &str) -> String {
    format!(
        "\"\"\"A test written by the model.\"\"\"\n\nfrom greeter.cli import greeting\n\n\n\
         def test_greeting_names_the_person():\n    assert greeting(\"Ada\") == \"{expected}\"\n"
    )
}

async fn chat(State(s): State<Arc<Mutex<Script>>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let n = {
        let mut s = s.lock().unwrap();
        s.requests.push((auth, body.clone()));
        s.requests.len()
    };
    if n == 1 {
        return (StatusCode::SERVICE_UNAVAILABLE, "warming up").into_response();
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let count = |role: &str| messages.iter().filter(|m| m["role"] == role).count();
    let reply = if body.get("response_format").is_some() {
        if count("user") == 1 {
            completion(json!({"role": "assistant", "content": "Sure! It is a greeter CLI in Python."}), "stop")
        } else {
            let spec = json!({
                "name": "Greeter", "summary": "Greets the person named on the command line.", "language": "Python",
                "kind": "cli", "features": ["greets by name"], "acceptance": ["greeting('Ada') is 'Hello, Ada!'"],
                "delivery": null, "refuse": null,
            });
            completion(json!({"role": "assistant", "content": spec.to_string()}), "stop")
        }
    } else if messages.get(1).and_then(|m| m["content"].as_str()).is_some_and(|t| t.contains("phase fails")) {
        // llm_fix: the failing output names the wrong expectation; correct it, then finish.
        let fixed = json!({"path": "tests/test_feature.py", "content": test_file("Hello, Ada!")}).to_string();
        match count("tool") {
            0 => completion(
                json!({"role": "assistant", "content": null, "tool_calls": [call("f1", "write_file", &fixed)]}),
                "tool_calls",
            ),
            _ => completion(json!({"role": "assistant", "content": "Corrected the expected greeting."}), "stop"),
        }
    } else {
        // llm_implement: a test with a wrong expectation, so the fix loop has work to do.
        let write = json!({"path": "tests/test_feature.py", "content": test_file("Hi, Ada!")}).to_string();
        let escape = json!({"path": "../../escape.py", "content": "import os"}).to_string();
        let run = json!({"argv": [".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]}).to_string();
        match count("tool") {
            0 => completion(
                json!({"role": "assistant", "content": null,
                       "tool_calls": [call("c1", "write_file", "{not json"), call("c2", "write_file", &escape)]}),
                "tool_calls",
            ),
            2 => completion(
                json!({"role": "assistant", "content": null, "tool_calls": [call("c3", "write_file", &write)]}),
                "tool_calls",
            ),
            3 => completion(
                json!({"role": "assistant", "content": null, "tool_calls": [call("c4", "run", &run)]}),
                "tool_calls",
            ),
            _ => completion(
                json!({"role": "assistant", "content": "Added tests/test_feature.py for the greeting."}),
                "stop",
            ),
        }
    };
    Json(reply).into_response()
}

async fn scripted() -> (SocketAddr, Arc<Mutex<Script>>) {
    let state = Arc::new(Mutex::new(Script::default()));
    let app = Router::new().route("/v1/chat/completions", post(chat)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_provider_runs_the_same_flow_and_survives_bad_model_output() {
    let (addr, script) = scripted().await;
    let f = Fleet::start(&[
        ("LLM_PROVIDER", "openai".into()),
        ("LLM_BASE_URL", format!("http://{addr}/v1")),
        ("LLM_MODEL", "scripted".into()),
        ("LLM_API_KEY", KEY.into()),
    ])
    .await;
    let id = f.send(
        "alice@example.test",
        "agent@example.test",
        "The greeter",
        "Hello, please build the greeter we discussed on the phone.",
        "",
    );
    let (m, _) = f.wait_mail("alice", Duration::from_secs(420), |m| m.in_reply_to == id).await;
    assert!(m.body.contains("is ready"), "{}", m.body);
    // The planner ran the LLM step through the agent and counted its tokens.
    let r = f.client("mcp-client-planner").call("plan_list", json!({})).await;
    let run = ok(&r)["runs"][0].clone();
    let r = f.client("mcp-client-planner").call("plan_status", json!({"run_id": run["id"]})).await;
    let status = ok(&r).clone();
    let implement =
        status["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "implement").unwrap().clone();
    assert_eq!(implement["state"], "succeeded", "{implement}");
    assert_eq!(implement["result"]["files_written"], json!(["tests/test_feature.py"]));
    assert!(status["tokens_used"].as_i64().unwrap() > 0, "{status}");
    let test = status["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "test").unwrap().clone();
    assert_eq!(test["result"]["passed"], false, "the model's first test fails: {test}");
    let fix = status["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "fix").unwrap().clone();
    assert_eq!(fix["state"], "succeeded", "{fix}");
    assert_eq!((fix["result"]["rounds"].clone(), fix["result"]["passed"].clone()), (json!(1), json!(true)), "{fix}");

    let repo = f.projects().join("greeter");
    let files = git(&repo, &["ls-files"]);
    assert!(
        files.lines().any(|l| l == "tests/test_feature.py"),
        "the model's file is committed: {files}\nstatus: {}\nsteps: {}",
        git(&repo, &["status", "--porcelain", "--ignored"]),
        status["steps"]
    );
    assert_eq!(git(&repo, &["tag", "--list"]), "v0.1.0");
    assert!(!f.dir.path().join("escape.py").exists() && !f.projects().join("escape.py").exists());

    // The model saw its mistakes as tool results, not as crashes.
    let requests = script.lock().unwrap().requests.clone();
    assert!(
        requests.iter().any(|(_, b)| b["messages"][1]["content"].as_str().is_some_and(|t| t.contains("Hi, Ada!"))),
        "llm_fix was given the failing output"
    );
    // ... as data: the failing test by its id, from the test server's results.
    assert!(
        requests.iter().any(|(_, b)| b["messages"][1]["content"]
            .as_str()
            .is_some_and(|t| t.contains("- test tests/test_feature.py::") && t.contains(" failed"))),
        "llm_fix was given the failing test by its id"
    );
    assert!(requests.iter().all(|(auth, _)| auth.as_deref() == Some(&format!("Bearer {KEY}"))), "the key is sent");
    let tool_results: Vec<String> = requests
        .iter()
        .flat_map(|(_, b)| b["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(tool_results.iter().any(|t| t.contains("arguments must be a JSON object")), "{tool_results:?}");
    assert!(tool_results.iter().any(|t| t.contains("stay inside the project")), "{tool_results:?}");
    assert!(
        tool_results.iter().any(|t| t.contains("1 passed") || t.contains("2 passed") || t.contains("passed")),
        "{tool_results:?}"
    );

    // The malformed extraction is on the record.
    let r = f.client("mcp-server-sql").call("decision_list", json!({"decision": "proceeded"})).await;
    let d = ok(&r)["items"][0].clone();
    assert!(d["outputs"]["inputs"]["notes"].to_string().contains("malformed"), "{d}");
    assert_eq!(d["inputs"]["provider"], "openai");

    // The key never reaches a log.
    for e in std::fs::read_dir(f.dir.path().join("logs")).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(!text.contains(KEY), "{} logs the API key", e.path().display());
    }
}
