//! The `mcp-fleet` binary end to end: exit codes, stdout/stderr discipline
//! and the event stream, against a stub of the REST API on `127.0.0.1:0`.
//!
//! [`check_against`] holds the checks that need only a gateway's base URL
//! and a credential, so the same function runs against the real gateway in
//! the gateway's own integration test; the stub stands in for it here, and
//! also answers what a real gateway cannot be made to answer on demand (429,
//! a run that fails).

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The stub's one valid credential.
const TOKEN: &str = "stub-token-7f3a";

/// Streams opened for the request `flaky`.
static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Run `mcp-fleet` against `base` with `key` (environment cleared of our variables).
pub fn mcp_fleet(base: &str, key: Option<&str>, args: &[&str]) -> Result<Output> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-fleet"));
    cmd.env_remove("MCP_FLEET_KEY").env_remove("MCP_FLEET_KEY_FILE").env("MCP_FLEET_URL", base).args(args);
    if let Some(k) = key {
        cmd.env("MCP_FLEET_KEY", k);
    }
    cmd.output().context("run mcp-fleet")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What any gateway must satisfy, given its base URL and a credential that
/// may read: JSON on stdout with `--json`, tables otherwise, exit 4 without
/// or with a wrong credential, and the credential never echoed.
pub async fn check_against(base: &str, token: &str) -> Result<()> {
    let base = base.to_owned();
    let token = token.to_owned();
    // The binary blocks; keep the test's runtime (and a stub server on it) free.
    tokio::task::spawn_blocking(move || -> Result<()> {
        for (args, list) in [
            (&["servers"][..], "servers"),
            (&["tools", "list"], "tools"),
            (&["request", "list", "--limit", "5"], "requests"),
        ] {
            let json_args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
            let o = mcp_fleet(&base, Some(&token), &json_args)?;
            ensure!(code(&o) == 0, "{args:?}: exit {}: {}", code(&o), stderr(&o));
            let v: Value = serde_json::from_slice(&o.stdout).with_context(|| format!("{args:?}: stdout is JSON"))?;
            ensure!(v.get(list).is_some_and(Value::is_array), "{args:?}: no {list} array in {v}");
            let o = mcp_fleet(&base, Some(&token), args)?;
            ensure!(code(&o) == 0 && !o.stdout.is_empty(), "{args:?} as text: exit {}: {}", code(&o), stderr(&o));
        }
        let o = mcp_fleet(&base, None, &["servers"])?;
        ensure!(code(&o) == 4, "no key: exit {} ({})", code(&o), stderr(&o));
        ensure!(stderr(&o).contains("--key"), "no key: a hint names --key: {}", stderr(&o));
        let wrong = format!("{token}-wrong");
        let o = mcp_fleet(&base, Some(&wrong), &["--json", "servers"])?;
        ensure!(code(&o) == 4, "wrong key: exit {}", code(&o));
        ensure!(o.stdout.is_empty(), "wrong key: nothing on stdout with --json");
        ensure!(!stderr(&o).contains(&wrong), "the key is never printed");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn cli_against_a_stub_gateway() -> Result<()> {
    let base = stub().await?;
    check_against(&base, TOKEN).await?;
    tokio::task::spawn_blocking(move || -> Result<()> {
        // Cannot connect: a port nobody listens on.
        let o = mcp_fleet("http://127.0.0.1:9", Some(TOKEN), &["--timeout", "2", "servers"])?;
        ensure!(code(&o) == 3, "unreachable: exit {}: {}", code(&o), stderr(&o));

        // Rate limited: exit 5 after saying when to retry.
        let o = mcp_fleet(&base, Some(TOKEN), &["audit"])?;
        ensure!(code(&o) == 5, "429: exit {}", code(&o));
        ensure!(stderr(&o).contains("retry after 12 s"), "429: {}", stderr(&o));

        // A problem from the server: exit 1, its title and detail on stderr.
        let o = mcp_fleet(&base, Some(TOKEN), &["request", "show", "nope"])?;
        ensure!(code(&o) == 1, "404: exit {}", code(&o));
        ensure!(stderr(&o).contains("Not found (404): no request nope"), "404: {}", stderr(&o));

        // Usage: both credentials, and clap's own errors.
        let o = mcp_fleet(&base, Some(TOKEN), &["--key-file", "/dev/null", "servers"])?;
        ensure!(code(&o) == 2, "key and key file: exit {}", code(&o));
        ensure!(!stderr(&o).contains(TOKEN), "the key is never printed: {}", stderr(&o));
        let o = mcp_fleet(&base, Some(TOKEN), &["tools", "call", "x", "--args", "[1]"])?;
        ensure!(code(&o) == 2, "bad --args: exit {}", code(&o));

        // A tool's error result: printed, exit 1.
        let o = mcp_fleet(&base, Some(TOKEN), &["tools", "call", "fs__read_file", "--args", r#"{"path":"/nope"}"#])?;
        ensure!(code(&o) == 1 && stdout(&o) == "no such file\n", "tool error: exit {}: {}", code(&o), stdout(&o));

        // Keys: the secret once, with the warning.
        let o = mcp_fleet(&base, Some(TOKEN), &["keys", "create", "--name", "ci", "--role", "operator"])?;
        ensure!(code(&o) == 0 && stdout(&o).contains("mcpf_new_secret") && stdout(&o).contains("only time"));
        let o = mcp_fleet(&base, Some(TOKEN), &["keys", "revoke", "key-5"])?;
        ensure!(code(&o) == 0 && stdout(&o) == "key key-5 revoked\n", "revoke: {}", stdout(&o));

        // Watch: a run that succeeds exits 0, one that fails exits 1.
        let o = mcp_fleet(&base, Some(TOKEN), &["request", "watch", "ok"])?;
        ensure!(code(&o) == 0, "watch ok: exit {}: {}", code(&o), stderr(&o));
        let out = stdout(&o);
        ensure!(out.contains("step build pending -> running") && out.ends_with("run run-1 succeeded\n"), "{out}");
        let o = mcp_fleet(&base, Some(TOKEN), &["request", "watch", "flaky"])?;
        ensure!(code(&o) == 0, "watch flaky: exit {}: {}", code(&o), stderr(&o));
        ensure!(stderr(&o).contains("reconnecting"), "watch flaky: {}", stderr(&o));
        let o = mcp_fleet(&base, Some(TOKEN), &["--json", "request", "watch", "bad"])?;
        ensure!(code(&o) == 1, "watch bad: exit {}", code(&o));
        for line in stdout(&o).lines() {
            serde_json::from_str::<Value>(line).context("--json watch prints one JSON per line")?;
        }
        Ok(())
    })
    .await?
}

/// A stand-in for the gateway's REST API: a few canned answers, and the
/// bearer check every route has.
async fn stub() -> Result<String> {
    fn authed(h: &HeaderMap) -> bool {
        h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
    }
    fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
        let body =
            json!({"type": "urn:mcp-fleet:problem:x", "title": title, "status": status.as_u16(), "detail": detail});
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
    fn guarded(h: &HeaderMap, ok: impl FnOnce() -> Response) -> Response {
        if authed(h) { ok() } else { problem(StatusCode::UNAUTHORIZED, "Unauthorized", "missing or unknown key") }
    }
    fn snapshot(run_state: &str, build: &str) -> Value {
        json!({"request": {"request_id": "r", "state": "planned"},
               "run": {"run_id": "run-1", "state": run_state, "steps": [{"name": "build", "state": build, "attempts": 1}]}})
    }
    let app = Router::new()
        .route(
            "/api/v1/servers",
            get(|h: HeaderMap| async move {
                guarded(&h, || axum::Json(json!({"servers": [{"name": "fs", "state": "up", "tool_count": 3}]})).into_response())
            }),
        )
        .route(
            "/api/v1/tools",
            get(|h: HeaderMap| async move {
                guarded(&h, || axum::Json(json!({"tools": [{"name": "fs__read_file", "server": "fs"}]})).into_response())
            }),
        )
        .route(
            "/api/v1/requests",
            get(|h: HeaderMap| async move { guarded(&h, || axum::Json(json!({"requests": []})).into_response()) }),
        )
        .route(
            "/api/v1/requests/{id}",
            get(|h: HeaderMap, Path(id): Path<String>| async move {
                guarded(&h, || problem(StatusCode::NOT_FOUND, "Not found", &format!("no request {id}")))
            }),
        )
        .route(
            "/api/v1/audit",
            get(|h: HeaderMap| async move {
                guarded(&h, || {
                    let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "Rate limited", "slow down");
                    r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("12"));
                    r
                })
            }),
        )
        .route(
            "/api/v1/tools/{name}/call",
            post(|h: HeaderMap| async move {
                guarded(&h, || {
                    axum::Json(json!({"is_error": true, "error_kind": "not_found", "text": "no such file"})).into_response()
                })
            }),
        )
        .route(
            "/api/v1/keys",
            post(|h: HeaderMap| async move {
                guarded(&h, || {
                    let key = json!({"id": "key-6", "key": "mcpf_new_secret", "name": "ci", "role": "operator"});
                    (StatusCode::CREATED, axum::Json(key)).into_response()
                })
            }),
        )
        .route(
            "/api/v1/keys/{id}",
            axum::routing::delete(|h: HeaderMap| async move { guarded(&h, || StatusCode::NO_CONTENT.into_response()) }),
        )
        .route(
            "/api/v1/requests/{id}/events",
            get(|h: HeaderMap, Path(id): Path<String>| async move {
                guarded(&h, || {
                    // `flaky`: the first stream ends before `done`, the next one finishes.
                    if id == "flaky" && FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
                        let body = format!("event: state\ndata: {}\n\n", snapshot("running", "running"));
                        return ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
                    }
                    let end = if id == "bad" { "failed" } else { "succeeded" };
                    let body = format!(
                        ": keep-alive\n\nevent: state\ndata: {}\n\n: keep-alive\n\nevent: state\ndata: {}\n\nevent: done\ndata: {}\n\n",
                        snapshot("running", "pending"),
                        snapshot("running", "running"),
                        snapshot(end, end),
                    );
                    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
                })
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        // The stub lives as long as the test's runtime.
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}
