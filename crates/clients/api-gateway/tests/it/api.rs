//! The REST API end to end: the gateway in-process on `127.0.0.1:0` over a
//! real SQLite store, with real upstreams (the fs and log servers) and the
//! agent, planner and observer pointed at a closed port (down).
//!
//! What it proves: keys are created, used, listed without secrets and
//! revoked (then refused); roles are enforced per route (403 problems);
//! tools are listed per role and called through REST (a tool failure is a
//! result with its kind, a hidden tool is unknown); every error is an RFC
//! 9457 problem (malformed JSON, wrong media type, oversized body, unknown
//! fields, bad ids, unknown routes, wrong methods, upstream down → 503);
//! the audit pages backwards with `before`; the UI refuses POSTs without
//! the CSRF token; and the OpenAPI document names every route. REST tool
//! calls and the routes' calls go the gateway's own way: audited with the
//! caller and `via: rest`, a tool over its quota is 429 with `Retry-After`,
//! the route's role replaces the tool's (a key's globs still apply).
//! Failed sign-ins to the UI are limited and successful ones do not count.
//!
//! The full request and approval flow needs the real agent (an LLM) and
//! planner; those routes are checked here up to the upstream call (input
//! validation, roles, 503 when the upstream is down) and end to end by the
//! fleet's e2e test.

use std::net::SocketAddr;

use anyhow::{Context, Result, ensure};
use mcp_core::CoreConfig;
use mcp_test::{TEST_TOKEN, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The fleet token of the gateway under test (its holder is the admin `fleet`).
pub const FLEET_TOKEN: &str = "gw-fleet-token-0123456789abcdef";
/// A port nothing listens on: upstreams configured there are down.
const DOWN: &str = "http://127.0.0.1:9/mcp";

/// A running gateway with its upstreams.
pub struct Gw {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where its database and the fs root live.
    pub dir: tempfile::TempDir,
    /// The gateway's database URL (tests write audit rows into it).
    pub db_url: String,
    _fs: TestServer,
    _log: TestServer,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Gw {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Start the fs and log servers and a gateway in front of them (agent,
/// planner and observer down).
pub async fn start() -> Result<Gw> {
    start_with(&[]).await
}

/// [`start`] with extra gateway variables (`GATEWAY_TOOL_QUOTA_PER_MINUTE`...).
pub async fn start_with(extra: &[(&str, &str)]) -> Result<Gw> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("hello.txt"), "hello from the fs server\n")?;
    let fs = mcp_server_fs::server(mcp_core::config::read_vars(
        &[("FS_ROOTS", root.display().to_string())],
        mcp_server_fs::Config::read,
    )?)?;
    let fs = TestServer::start(fs).await;
    let log_url = format!("sqlite:{}", dir.path().join("log.db").display());
    let (log, _) = mcp_server_log::server(mcp_core::config::read_vars(
        &[("LOG_DATABASE_URL", log_url)],
        mcp_server_log::Config::read,
    )?)
    .await?;
    let log = TestServer::start(log).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let db_url = format!("sqlite:{}", dir.path().join("gw.db").display());
    let mut vars: Vec<(&str, String)> = vec![
        ("GATEWAY_DATABASE_URL", db_url.clone()),
        ("GATEWAY_KEY_SECRET", "test-key-secret-0123456789abcdef0123456789".into()),
        ("GATEWAY_UPSTREAMS", "fs,log,llm_agent,planner,observer".into()),
        ("GATEWAY_REFRESH_SECS", "1".into()),
        ("MCP_SERVER_FS_URL", fs.url()),
        ("MCP_SERVER_LOG_URL", log.url()),
        ("MCP_CLIENT_LLM_AGENT_URL", DOWN.into()),
        ("MCP_CLIENT_PLANNER_URL", DOWN.into()),
        ("MCP_CLIENT_OBSERVER_URL", DOWN.into()),
    ];
    for (k, v) in extra {
        vars.retain(|(x, _)| x != k);
        vars.push((k, (*v).to_owned()));
    }
    let config = mcp_core::config::read_vars(&vars, mcp_client_api_gateway::Config::read)?;
    let mut core = CoreConfig::defaults(mcp_client_api_gateway::NAME);
    core.auth_token = Some(FLEET_TOKEN.into());
    core.peer_token = Some(TEST_TOKEN.into());
    // The browser's own origin, as a deployment sets MCP_ALLOWED_ORIGINS.
    core.allowed_origins = vec![base.clone()];
    let program = mcp_client_api_gateway::start(config, core.clone()).await.context("start the gateway")?;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = mcp_core::serve::serve_program(program, &core, listener, async move {
            let _ = rx.await;
        })
        .await;
    });
    Ok(Gw { base, dir, db_url, _fs: fs, _log: log, stop: Some(tx), task: Some(task) })
}

/// One HTTP answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Check this is a problem document of `status` and `kind`.
    pub fn problem(&self, status: u16, kind: &str) -> Result<()> {
        ensure!(self.status.as_u16() == status, "want {status}, got {}: {}", self.status, self.text);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        ensure!(ct.starts_with("application/problem+json"), "content type {ct:?} for {}", self.text);
        let v = self.json();
        ensure!(v["kind"] == kind, "kind: want {kind}, got {v}");
        ensure!(v["status"] == status, "status member: {v}");
        ensure!(v["type"].as_str().is_some_and(|t| t.starts_with("urn:mcp-fleet:problem:")), "type: {v}");
        ensure!(v["title"].is_string() && v["detail"].is_string(), "title/detail: {v}");
        Ok(())
    }
}

/// A client of the gateway.
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(base: &str) -> Self {
        mcp_core::install_crypto_provider();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();
        Self { base: base.to_owned(), client }
    }

    /// Send `method path` with `auth` (a bearer credential) and a raw body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        if let Some(b) = body {
            r = r.body(b);
        }
        let resp = r.send().await?;
        Ok(Answer { status: resp.status(), headers: resp.headers().clone(), text: resp.text().await? })
    }

    pub async fn get(&self, path: &str, auth: Option<&str>) -> Result<Answer> {
        self.raw(Method::GET, path, auth, None, None).await
    }

    pub async fn post(&self, path: &str, auth: Option<&str>, body: &Value) -> Result<Answer> {
        self.raw(Method::POST, path, auth, Some("application/json"), Some(serde_json::to_vec(body)?)).await
    }

    pub async fn delete(&self, path: &str, auth: Option<&str>) -> Result<Answer> {
        self.raw(Method::DELETE, path, auth, None, None).await
    }

    /// Create a key with `role` as the fleet; its secret.
    pub async fn key(&self, name: &str, role: &str, extra: Value) -> Result<(String, String)> {
        let mut body = json!({"name": name, "role": role});
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        let a = self.post("/api/v1/keys", Some(FLEET_TOKEN), &body).await?;
        ensure!(a.status == StatusCode::CREATED, "create key: {} {}", a.status, a.text);
        let v = a.json();
        Ok((v["id"].as_str().unwrap_or_default().to_owned(), v["key"].as_str().unwrap_or_default().to_owned()))
    }
}

#[tokio::test]
async fn keys_are_created_used_listed_without_secrets_and_revoked() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);

    // No credential, a wrong one: 401 before any route.
    ensure!(h.get("/api/v1/servers", None).await?.status == StatusCode::UNAUTHORIZED);
    ensure!(h.get("/api/v1/servers", Some("mcpf_000000000000_nope")).await?.status == StatusCode::UNAUTHORIZED);

    let a = h
        .post("/api/v1/keys", Some(FLEET_TOKEN), &json!({"name": "ci", "role": "operator", "expires_in_days": 30}))
        .await?;
    ensure!(a.status == StatusCode::CREATED, "{} {}", a.status, a.text);
    let created = a.json();
    let key = created["key"].as_str().context("key")?.to_owned();
    let id = created["id"].as_str().context("id")?.to_owned();
    ensure!(key.starts_with("mcpf_") && key.contains(&id), "{created}");
    ensure!(created["role"] == "operator" && created["expires_at"].is_string() && created["created_at"].is_string());

    // The key works at once.
    let a = h.get("/api/v1/servers", Some(&key)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);

    // Listed without its secret or hash.
    let a = h.get("/api/v1/keys", Some(FLEET_TOKEN)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    ensure!(!a.text.contains(&key) && !a.text.contains("hash"), "the list shows no secret: {}", a.text);
    let listed = a.json();
    let row =
        listed["keys"].as_array().and_then(|k| k.iter().find(|k| k["id"] == id.as_str())).context("listed")?.clone();
    ensure!(row["name"] == "ci" && row["created_by"] == "fleet" && row["allow"] == json!([]), "{row}");
    ensure!(row.get("revoked_at").is_none());

    // An operator may not manage keys.
    h.get("/api/v1/keys", Some(&key)).await?.problem(403, "forbidden")?;
    h.post("/api/v1/keys", Some(&key), &json!({"name": "x", "role": "viewer"})).await?.problem(403, "forbidden")?;

    // Bad keys are refused with what to change.
    for bad in [
        json!({"name": "x", "role": "root"}),
        json!({"name": "", "role": "viewer"}),
        json!({"name": "x", "role": "viewer", "allow": ["fs__{"]}),
        json!({"name": "x", "role": "viewer", "expires_in_days": 0}),
    ] {
        h.post("/api/v1/keys", Some(FLEET_TOKEN), &bad).await?.problem(400, "invalid_input")?;
    }
    // Unknown fields are refused (a typo must not silently widen a key).
    let a = h.post("/api/v1/keys", Some(FLEET_TOKEN), &json!({"name": "x", "role": "viewer", "alow": ["a"]})).await?;
    a.problem(422, "invalid_input")?;

    // Revoke: 204, then the key is refused; revoking a stranger is 404; a bad id 400.
    ensure!(h.delete(&format!("/api/v1/keys/{id}"), Some(FLEET_TOKEN)).await?.status == StatusCode::NO_CONTENT);
    ensure!(h.get("/api/v1/servers", Some(&key)).await?.status == StatusCode::UNAUTHORIZED);
    h.delete("/api/v1/keys/0123456789ab", Some(FLEET_TOKEN)).await?.problem(404, "not_found")?;
    h.delete("/api/v1/keys/NOT-AN-ID", Some(FLEET_TOKEN)).await?.problem(400, "invalid_input")?;
    let listed = h.get("/api/v1/keys", Some(FLEET_TOKEN)).await?.json();
    let row =
        listed["keys"].as_array().and_then(|k| k.iter().find(|k| k["id"] == id.as_str())).context("listed")?.clone();
    ensure!(row["revoked_at"].is_string(), "{row}");
    Ok(())
}

#[tokio::test]
async fn tools_are_listed_and_called_per_role_through_rest() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    let (_, viewer) = h.key("viewer", "viewer", json!({})).await?;
    let (_, narrow) = h.key("narrow", "viewer", json!({"deny": ["fs__*"]})).await?;

    let a = h.get("/api/v1/tools", Some(&viewer)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let tools = a.json()["tools"].as_array().cloned().context("tools")?;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    ensure!(names.contains(&"fs__read_file") && names.contains(&"log__logs_search"), "{names:?}");
    ensure!(tools.iter().all(|t| t["role"] == "viewer"), "a viewer sees only read-only tools");
    let read = tools.iter().find(|t| t["name"] == "fs__read_file").context("read_file")?;
    ensure!(
        read["server"] == "fs"
            && read["input_schema"]["type"] == "object"
            && read["annotations"]["readOnlyHint"] == true
    );
    let mut sorted = names.clone();
    sorted.sort_unstable();
    ensure!(sorted == names, "sorted by name");

    // The key's deny globs hide tools from REST too.
    let a = h.get("/api/v1/tools", Some(&narrow)).await?;
    ensure!(a.json()["tools"].as_array().is_some_and(|t| t.iter().all(|t| t["server"] != "fs")), "{}", a.text);
    let args = json!({"arguments": {"path": "hello.txt"}});
    h.post("/api/v1/tools/fs__read_file/call", Some(&narrow), &args).await?.problem(404, "not_found")?;

    // A call, a tool failure (a result with its kind), a hidden or unknown tool.
    let a = h.post("/api/v1/tools/fs__read_file/call", Some(&viewer), &args).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let v = a.json();
    ensure!(
        v["is_error"] == false && v["text"].as_str().is_some_and(|t| t.contains("hello from the fs server")),
        "{v}"
    );
    let a = h
        .post("/api/v1/tools/fs__read_file/call", Some(&viewer), &json!({"arguments": {"path": "missing.txt"}}))
        .await?;
    let v = a.json();
    ensure!(a.status == StatusCode::OK && v["is_error"] == true && v["error_kind"] == "not_found", "{v}");
    h.post("/api/v1/tools/fs__no_such_tool/call", Some(&viewer), &json!({})).await?.problem(404, "not_found")?;
    h.post("/api/v1/tools/nope/call", Some(&viewer), &json!({})).await?.problem(400, "invalid_input")?;
    h.post("/api/v1/tools/fs__read_file/call", Some(&viewer), &json!({"arguments": [1]}))
        .await?
        .problem(400, "invalid_input")?;

    // Servers: the real ones up, the closed port down with why.
    let a = h.get("/api/v1/servers", Some(&viewer)).await?;
    let servers = a.json()["servers"].as_array().cloned().context("servers")?;
    let state = |n: &str| servers.iter().find(|s| s["name"] == n).map(|s| s["state"].clone());
    ensure!(state("fs") == Some(json!("up")) && state("log") == Some(json!("up")), "{servers:?}");
    let agent = servers.iter().find(|s| s["name"] == "llm_agent").context("agent")?;
    ensure!(agent["state"] == "down" && agent["last_error"].is_string() && agent["tool_count"] == 0, "{agent}");
    let fs = servers.iter().find(|s| s["name"] == "fs").context("fs")?;
    ensure!(fs["tool_count"].as_u64().is_some_and(|n| n > 3), "{fs}");

    // Logs through the log server (up), traces through the observer (down).
    let a = h.get("/api/v1/logs?limit=5", Some(&viewer)).await?;
    ensure!(a.status == StatusCode::OK && a.json()["lines"].is_array(), "{}", a.text);
    h.get("/api/v1/traces", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.get("/api/v1/logs?limit=0", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/logs?limit=abc", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/logs?trace_id=xyz", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/traces/not-a-trace", Some(&viewer)).await?.problem(400, "invalid_input")?;
    Ok(())
}

#[tokio::test]
async fn roles_inputs_and_upstreams_answer_with_problems() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    let (_, viewer) = h.key("viewer", "viewer", json!({})).await?;
    let (_, operator) = h.key("operator", "operator", json!({})).await?;
    let new = json!({"requester": "dev@example.com", "subject": "A tool", "text": "Build a word counter"});

    // Roles first: a viewer may not submit, cancel, retry or decide; nor read the audit.
    h.post("/api/v1/requests", Some(&viewer), &new).await?.problem(403, "forbidden")?;
    h.post("/api/v1/requests/r-1/cancel", Some(&viewer), &json!({})).await?.problem(403, "forbidden")?;
    h.post("/api/v1/requests/r-1/retry", Some(&viewer), &json!({})).await?.problem(403, "forbidden")?;
    h.post("/api/v1/approvals/a-1/approve", Some(&viewer), &json!({})).await?.problem(403, "forbidden")?;
    h.post("/api/v1/approvals/a-1/deny", Some(&viewer), &json!({"reason": "no"})).await?.problem(403, "forbidden")?;
    h.get("/api/v1/audit", Some(&viewer)).await?.problem(403, "forbidden")?;
    h.get("/api/v1/audit", Some(&operator)).await?.problem(403, "forbidden")?;

    // Input is checked before any upstream is asked.
    let bad_requester = json!({"requester": "not an address", "subject": "A tool", "text": "x"});
    h.post("/api/v1/requests", Some(&operator), &bad_requester).await?.problem(400, "invalid_input")?;
    let long = json!({"requester": "dev@example.com", "subject": "A tool", "text": "x".repeat(40_000)});
    h.post("/api/v1/requests", Some(&operator), &long).await?.problem(400, "invalid_input")?;
    let extra = json!({"requester": "dev@example.com", "subject": "A tool", "text": "x", "priority": 1});
    h.post("/api/v1/requests", Some(&operator), &extra).await?.problem(422, "invalid_input")?;
    h.post("/api/v1/approvals/a-1/deny", Some(&operator), &json!({"reason": "  "}))
        .await?
        .problem(400, "invalid_input")?;
    h.post("/api/v1/approvals/a-1/deny", Some(&operator), &json!({})).await?.problem(422, "invalid_input")?;
    h.get("/api/v1/requests?state=sleeping", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/requests?limit=100000", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/approvals?state=maybe", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/requests/bad%20id", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/requests/..%2F..%2Fetc", Some(&viewer)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/approvals/%3Cscript%3E", Some(&viewer)).await?.problem(400, "invalid_input")?;

    // Malformed JSON, a wrong media type, an oversized body.
    let path = "/api/v1/requests";
    h.raw(Method::POST, path, Some(&operator), Some("application/json"), Some(b"{\"requester\":".to_vec()))
        .await?
        .problem(400, "invalid_input")?;
    h.raw(Method::POST, path, Some(&operator), Some("text/plain"), Some(b"{}".to_vec()))
        .await?
        .problem(415, "invalid_input")?;
    let big = format!("{{\"requester\":\"dev@example.com\",\"subject\":\"s\",\"text\":\"{}\"}}", "x".repeat(300_000));
    // On a client of its own: the server may close that connection after
    // answering, and a pooled one would fail the next request (a race of the
    // harness's connection reuse, not of the gateway).
    Http::new(&h.base)
        .raw(Method::POST, path, Some(&operator), Some("application/json"), Some(big.into_bytes()))
        .await?
        .problem(413, "invalid_input")?;

    // Unknown routes and methods under /api/v1 are problems too.
    h.get("/api/v1/nothing-here", Some(&viewer)).await?.problem(404, "not_found")?;
    h.delete("/api/v1/requests", Some(&viewer)).await?.problem(405, "invalid_input")?;

    // The agent, planner and observer are down: 503 with the kind, never a 500.
    h.post("/api/v1/requests", Some(&operator), &new).await?.problem(503, "unavailable")?;
    h.get("/api/v1/requests", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.get("/api/v1/requests/r-1", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.get("/api/v1/requests/r-1/events", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.post("/api/v1/requests/r-1/cancel", Some(&operator), &json!({"reason": "changed my mind"}))
        .await?
        .problem(503, "unavailable")?;
    h.raw(Method::POST, "/api/v1/requests/r-1/cancel", Some(&operator), None, None)
        .await?
        .problem(503, "unavailable")?;
    h.post("/api/v1/requests/r-1/retry", Some(&operator), &json!({})).await?.problem(503, "unavailable")?;
    h.get("/api/v1/approvals", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.get("/api/v1/approvals/a-1", Some(&viewer)).await?.problem(503, "unavailable")?;
    h.post("/api/v1/approvals/a-1/approve", Some(&operator), &json!({"reason": "ok"}))
        .await?
        .problem(503, "unavailable")?;
    h.post("/api/v1/approvals/a-1/deny", Some(&operator), &json!({"reason": "not now"}))
        .await?
        .problem(503, "unavailable")?;
    h.get("/api/v1/traces/0af7651916cd43dd8448eb211c80319c", Some(&viewer)).await?.problem(503, "unavailable")?;
    Ok(())
}

/// The audit entries matching `query` (`subject=...&tool=...`), once at
/// least one satisfies `pred` (the writer batches every 200 ms).
pub async fn audit_until(h: &Http, query: &str, pred: impl Fn(&Value) -> bool) -> Result<Vec<Value>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let a = h.get(&format!("/api/v1/audit?{query}"), Some(FLEET_TOKEN)).await?;
        ensure!(a.status == StatusCode::OK, "{}", a.text);
        let entries = a.json()["entries"].as_array().cloned().unwrap_or_default();
        if entries.iter().any(&pred) {
            return Ok(entries);
        }
        ensure!(std::time::Instant::now() < deadline, "no audit entry for {query} matches: {entries:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn rest_and_route_calls_take_the_gateways_path_quota_and_audit() -> Result<()> {
    let gw = start_with(&[("GATEWAY_TOOL_QUOTA_PER_MINUTE", "2")]).await?;
    let h = Http::new(&gw.base);
    let (_, viewer) = h.key("viewer", "viewer", json!({})).await?;
    let (_, operator) = h.key("operator", "operator", json!({})).await?;
    let (_, narrow) = h.key("narrow", "operator", json!({"deny": ["llm_agent__*"]})).await?;
    let args = json!({"arguments": {"path": "hello.txt"}});

    // A REST tool call is audited like an MCP one: the caller, the door, the decision.
    let a = h.post("/api/v1/tools/fs__read_file/call", Some(&viewer), &args).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let rows = audit_until(&h, "subject=viewer&tool=fs__read_file", |e| e["decision"] == "allowed").await?;
    let row = &rows[0];
    ensure!(row["via"] == "rest" && row["role"] == "viewer" && row["outcome"] == "ok", "{row}");
    ensure!(row["args_shape"] == json!({"path": "string"}), "shapes, never values: {row}");

    // Over the quota (2 a minute per caller and tool): 429 with Retry-After,
    // audited as rate_limited; another tool still answers.
    let a = h.post("/api/v1/tools/fs__read_file/call", Some(&viewer), &args).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let a = h.post("/api/v1/tools/fs__read_file/call", Some(&viewer), &args).await?;
    a.problem(429, "rate_limited")?;
    let retry = a.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    ensure!(retry.is_some_and(|s| (1..=60).contains(&s)), "Retry-After: {:?}", a.headers.get("retry-after"));
    audit_until(&h, "subject=viewer&tool=fs__read_file&decision=rate_limited", |e| e["via"] == "rest").await?;
    let a = h.post("/api/v1/tools/fs__stat/call", Some(&viewer), &args).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);

    // A submit through the route is audited with its caller, whatever the
    // agent answered (down here: 503 naming it).
    let new = json!({"requester": "dev@example.com", "subject": "A tool", "text": "Build a word counter"});
    let a = h.post("/api/v1/requests", Some(&operator), &new).await?;
    a.problem(503, "unavailable")?;
    ensure!(a.json()["detail"].as_str().is_some_and(|d| d.contains("llm_agent")), "names the upstream: {}", a.text);
    let rows = audit_until(&h, "subject=operator&tool=llm_agent__submit_request", |e| e["via"] == "rest").await?;
    ensure!(rows[0]["decision"] == "allowed" && rows[0]["error_kind"] == "unavailable", "{}", rows[0]);
    // The route is the policy: `request_cancel` needs admin over /mcp, an
    // operator reaches it through the route (the agent being down is the
    // only thing in the way), and the call is audited.
    h.post("/api/v1/requests/r-1/cancel", Some(&operator), &json!({"reason": "not needed"}))
        .await?
        .problem(503, "unavailable")?;
    audit_until(&h, "subject=operator&tool=llm_agent__request_cancel", |e| e["decision"] == "allowed").await?;
    // A key's deny globs still narrow the routes.
    h.post("/api/v1/requests", Some(&narrow), &new).await?.problem(403, "forbidden")?;
    audit_until(&h, "subject=narrow&tool=llm_agent__submit_request", |e| e["decision"] == "denied").await?;
    // A read through a route whose upstream is up: one row per call.
    let a = h.get("/api/v1/logs?limit=5", Some(&viewer)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    audit_until(&h, "subject=viewer&tool=log__logs_search", |e| e["outcome"] == "ok").await?;

    // /servers carries the p95 of the calls that went through (every door).
    let servers = h.get("/api/v1/servers", Some(&viewer)).await?.json();
    let fs = servers["servers"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "fs")).cloned();
    ensure!(fs.as_ref().is_some_and(|f| f["p95_ms"].as_f64().is_some()), "{servers}");
    Ok(())
}

#[tokio::test]
async fn the_audit_pages_backwards_for_admins() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    // Rows as the audit writer stores them, written straight into the gateway's database.
    let store = mcp_client_api_gateway::store::Store::open(&gw.db_url).await?;
    let rows: Vec<_> = (0..5)
        .map(|i| mcp_client_api_gateway::store::AuditRow {
            at_ms: 1_700_000_000_000 + i,
            subject: if i % 2 == 0 { "alice".into() } else { "bob".into() },
            key_id: None,
            role: "operator".into(),
            tool: "fs__read_file".into(),
            args_shape: r#"{"path":"string"}"#.into(),
            args_sha256: "00".repeat(32),
            decision: mcp_client_api_gateway::store::Decision::Allowed,
            outcome: Some("ok".into()),
            error_kind: None,
            duration_ms: 1.5,
            trace_id: None,
            via: "rest".into(),
        })
        .collect();
    store.insert_audit(&rows).await?;

    let a = h.get("/api/v1/audit?subject=alice&limit=2", Some(FLEET_TOKEN)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let page = a.json();
    let entries = page["entries"].as_array().cloned().context("entries")?;
    ensure!(entries.len() == 2 && entries.iter().all(|e| e["subject"] == "alice"), "{page}");
    ensure!(entries[0]["id"].as_i64() > entries[1]["id"].as_i64(), "newest first");
    ensure!(entries[0]["args_shape"] == json!({"path": "string"}), "{page}");
    let before = page["next_before"].as_i64().context("a next page")?;
    let a = h.get(&format!("/api/v1/audit?subject=alice&limit=2&before={before}"), Some(FLEET_TOKEN)).await?;
    let page = a.json();
    ensure!(page["entries"].as_array().map(Vec::len) == Some(1) && page.get("next_before").is_none(), "{page}");
    h.get("/api/v1/audit?decision=perhaps", Some(FLEET_TOKEN)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/audit?before=0", Some(FLEET_TOKEN)).await?.problem(400, "invalid_input")?;
    h.get("/api/v1/audit?limit=501", Some(FLEET_TOKEN)).await?.problem(400, "invalid_input")?;
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_names_every_route_and_docs_render_offline() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    let a = h.get("/openapi.json", Some(FLEET_TOKEN)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    let doc: Value = serde_json::from_str(&a.text).context("the document is JSON")?;
    ensure!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    ensure!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
    ensure!(doc["components"]["schemas"]["ProblemDoc"].is_object());
    for (path, methods) in [
        ("/api/v1/requests", &["get", "post"][..]),
        ("/api/v1/requests/{id}", &["get"]),
        ("/api/v1/requests/{id}/cancel", &["post"]),
        ("/api/v1/requests/{id}/retry", &["post"]),
        ("/api/v1/requests/{id}/events", &["get"]),
        ("/api/v1/approvals", &["get"]),
        ("/api/v1/approvals/{id}", &["get"]),
        ("/api/v1/approvals/{id}/approve", &["post"]),
        ("/api/v1/approvals/{id}/deny", &["post"]),
        ("/api/v1/tools", &["get"]),
        ("/api/v1/tools/{name}/call", &["post"]),
        ("/api/v1/servers", &["get"]),
        ("/api/v1/traces", &["get"]),
        ("/api/v1/traces/{trace_id}", &["get"]),
        ("/api/v1/logs", &["get"]),
        ("/api/v1/audit", &["get"]),
        ("/api/v1/keys", &["get", "post"]),
        ("/api/v1/keys/{id}", &["delete"]),
    ] {
        for m in methods {
            let op = &doc["paths"][path][m];
            ensure!(op.is_object(), "{m} {path} is documented");
            ensure!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{m} {path} has responses");
        }
    }
    let n = doc["paths"].as_object().map(|p| p.values().map(|v| v.as_object().map_or(0, |o| o.len())).sum::<usize>());
    ensure!(n == Some(20), "20 operations, got {n:?}");
    let a = h.get("/docs/", Some(FLEET_TOKEN)).await?;
    ensure!(
        a.status == StatusCode::OK && a.text.contains("swagger"),
        "{} {}",
        a.status,
        &a.text[..a.text.len().min(200)]
    );
    Ok(())
}

/// Found by schemathesis: the approval routes read a JSON body too, and
/// answered its rejections (415, 422) without documenting them. Every route
/// that reads a JSON body documents what the extractor may answer, and the
/// answers are the documented problems.
#[tokio::test]
async fn every_json_body_route_documents_its_rejections() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    let doc = h.get("/openapi.json", Some(FLEET_TOKEN)).await?.json();
    for path in [
        "/api/v1/requests",
        "/api/v1/approvals/{id}/approve",
        "/api/v1/approvals/{id}/deny",
        "/api/v1/tools/{name}/call",
        "/api/v1/keys",
    ] {
        for status in ["413", "415", "422"] {
            let r = &doc["paths"][path]["post"]["responses"][status];
            ensure!(r["content"]["application/problem+json"].is_object(), "POST {path} documents {status}: {r}");
        }
    }
    ensure!(doc["paths"]["/api/v1/requests/{id}/cancel"]["post"]["responses"]["413"].is_object());
    let (_, operator) = h.key("operator", "operator", json!({})).await?;
    for path in ["/api/v1/approvals/a-1/approve", "/api/v1/approvals/a-1/deny"] {
        h.raw(Method::POST, path, Some(&operator), None, None).await?.problem(415, "invalid_input")?;
        h.post(path, Some(&operator), &json!({"reason": 1})).await?.problem(422, "invalid_input")?;
    }
    Ok(())
}

/// Found by schemathesis: OpenAPI 3.1 describes an event stream by the
/// schema of one event (`{event, data}`), and the events route documented
/// a plain string.
#[tokio::test]
async fn the_event_stream_is_documented_event_by_event() -> Result<()> {
    let gw = start().await?;
    let h = Http::new(&gw.base);
    let doc = h.get("/openapi.json", Some(FLEET_TOKEN)).await?.json();
    let schema = &doc["paths"]["/api/v1/requests/{id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    let name = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()).unwrap_or_default();
    let event = &doc["components"]["schemas"][name];
    ensure!(event["type"] == "object", "one event is an object: {schema} {event}");
    for field in ["event", "data"] {
        ensure!(event["properties"][field]["type"] == "string", "{field}: {event}");
    }
    Ok(())
}

const FORM: &str = "application/x-www-form-urlencoded";

/// An urlencoded form body.
pub fn form_body(fields: &[(&str, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

#[tokio::test]
async fn ui_posts_need_the_csrf_token_and_the_same_origin() -> Result<()> {
    let gw = start().await?;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let url = |p: &str| format!("{}{p}", gw.base);
    let cookie = format!("mcpf_session={FLEET_TOKEN}");

    // The keys page carries the token in its forms.
    let page = client.get(url("/ui/keys")).header("cookie", &cookie).send().await?;
    ensure!(page.status() == StatusCode::OK);
    ensure!(
        page.headers()
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("script-src 'self'")))
    );
    let html = page.text().await?;
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("a csrf field")?
        .to_owned();
    ensure!(token.len() == 64);

    let post = |form: Vec<(&str, String)>, extra: Option<(&'static str, String)>| {
        let mut r =
            client.post(url("/ui/keys")).header("cookie", &cookie).header("content-type", FORM).body(form_body(&form));
        if let Some((k, v)) = extra {
            r = r.header(k, v);
        }
        r.send()
    };
    let fields =
        |csrf: &str| vec![("name", "from-ui".to_owned()), ("role", "viewer".to_owned()), ("csrf", csrf.to_owned())];
    // No token, a wrong token, another site: refused, and no key is made.
    ensure!(post(fields(""), None).await?.status() == StatusCode::FORBIDDEN);
    ensure!(post(fields(&"0".repeat(64)), None).await?.status() == StatusCode::FORBIDDEN);
    let cross = post(fields(&token), Some(("sec-fetch-site", "cross-site".into()))).await?;
    ensure!(cross.status() == StatusCode::FORBIDDEN);
    let keys = Http::new(&gw.base).get("/api/v1/keys", Some(FLEET_TOKEN)).await?.json();
    ensure!(keys["keys"].as_array().is_some_and(|k| k.iter().all(|k| k["name"] != "from-ui")), "{keys}");
    // With the token, from this site: the key is shown once.
    let ok = post(fields(&token), Some(("origin", gw.base.clone()))).await?;
    ensure!(ok.status() == StatusCode::OK);
    let html = ok.text().await?;
    ensure!(html.contains("id=\"new-key\"") && html.contains("mcpf_"), "the new key is on the page");
    // The token of one session is not the token of another.
    let other = format!("mcpf_session={}", Http::new(&gw.base).key("other", "admin", json!({})).await?.1);
    let r = client
        .post(url("/ui/keys"))
        .header("cookie", other)
        .header("content-type", FORM)
        .body(form_body(&fields(&token)))
        .send()
        .await?;
    ensure!(r.status() == StatusCode::FORBIDDEN);

    // The sign-in form without its double-submit cookie is refused.
    let r = client
        .post(url("/ui/login"))
        .header("content-type", FORM)
        .body(form_body(&[("credential", FLEET_TOKEN.into()), ("csrf", "abc".into())]))
        .send()
        .await?;
    ensure!(r.status() == StatusCode::FORBIDDEN);
    ensure!(r.headers().get("set-cookie").is_some_and(|c| c.to_str().is_ok_and(|c| c.starts_with("mcpf_login_csrf="))));
    Ok(())
}

/// One sign-in through the form: the status and the `Retry-After` header.
async fn sign_in(client: &reqwest::Client, base: &str, credential: &str) -> Result<(StatusCode, Option<String>)> {
    let page = client.get(format!("{base}/ui/login")).send().await?;
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().filter(|c| c.starts_with("mcpf_login_csrf=")).map(str::to_owned))
        .context("the sign-in form sets its csrf cookie")?;
    let token = cookie.trim_start_matches("mcpf_login_csrf=").to_owned();
    let r = client
        .post(format!("{base}/ui/login"))
        .header("cookie", cookie)
        .header("content-type", FORM)
        .body(form_body(&[("credential", credential.into()), ("csrf", token)]))
        .send()
        .await?;
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok((r.status(), retry))
}

#[tokio::test]
async fn failed_sign_ins_are_limited_and_successes_do_not_count() -> Result<()> {
    let gw = start().await?;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let budget = mcp_client_api_gateway::limits::SIGN_IN_FAILURES_PER_MINUTE;
    // All but one failure of the minute's budget, then successes: they take nothing.
    for i in 1..budget {
        let (status, _) = sign_in(&client, &gw.base, "mcpf_000000000000_wrong").await?;
        ensure!(status == StatusCode::UNAUTHORIZED, "failure {i}: {status}");
    }
    for _ in 0..5 {
        let (status, _) = sign_in(&client, &gw.base, FLEET_TOKEN).await?;
        ensure!(status == StatusCode::SEE_OTHER, "a good credential signs in: {status}");
    }
    // The last failure of the budget is still a plain refusal; the next is 429.
    let (status, _) = sign_in(&client, &gw.base, "wrong-token").await?;
    ensure!(status == StatusCode::UNAUTHORIZED, "failure {budget}: {status}");
    let (status, retry) = sign_in(&client, &gw.base, "wrong-token").await?;
    ensure!(status == StatusCode::TOO_MANY_REQUESTS, "over the budget: {status}");
    ensure!(retry.as_deref().and_then(|r| r.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s)), "{retry:?}");
    // While the form is closed no credential is checked, a good one included;
    // API clients with a bearer header are not affected.
    let (status, retry) = sign_in(&client, &gw.base, FLEET_TOKEN).await?;
    ensure!(status == StatusCode::TOO_MANY_REQUESTS && retry.is_some(), "closed: {status}");
    let a = Http::new(&gw.base).get("/api/v1/servers", Some(FLEET_TOKEN)).await?;
    ensure!(a.status == StatusCode::OK, "{}", a.text);
    Ok(())
}
