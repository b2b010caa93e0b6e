//! `assert_server_compliance`: the server contract of `docs/specs/server.md`,
//! checked over HTTP the way a client and an operator see a server.
//!
//! Every check is independent and reports its own failure, so a broken server
//! yields a precise list. Each check is proven to fail on a server with that
//! one defect (`tests/it/broken.rs` in this crate, through [`crate::proxy`]).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::raw::RawClient;
use crate::{TestServer, telemetry};

/// The tool call used where a check needs one: pick a read-only tool and
/// arguments that succeed or fail harmlessly.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Tool name.
    pub tool: String,
    /// Arguments.
    pub args: Value,
}

impl Probe {
    /// A probe calling `tool` with `args`.
    pub fn new(tool: &str, args: Value) -> Self {
        Self { tool: tool.to_owned(), args }
    }
}

/// What is checked: where, and with which credentials.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://host:port`.
    pub base: String,
    /// The token the server requires.
    pub token: Option<String>,
}

/// The names of all checks, in the order they run.
pub const CHECKS: &[&str] = &[
    "health",
    "ready",
    "metrics_series",
    "metrics_move",
    "tools_described",
    "trace_meta",
    "trace_header",
    "auth_missing",
    "auth_wrong",
    "origin",
    "parse_error",
    "unknown_tool",
    "stateless",
    "legacy_session",
];

/// The outcome of every check.
#[derive(Debug)]
pub struct Report {
    /// `(check, Ok or why it failed)`.
    pub results: Vec<(&'static str, Result<(), String>)>,
}

impl Report {
    /// Names of the failed checks.
    pub fn failed(&self) -> Vec<&'static str> {
        self.results.iter().filter(|(_, r)| r.is_err()).map(|(n, _)| *n).collect()
    }
    /// Whether `check` failed.
    pub fn has_failed(&self, check: &str) -> bool {
        self.failed().contains(&check)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, r) in &self.results {
            match r {
                Ok(()) => writeln!(f, "  ok    {n}")?,
                Err(e) => writeln!(f, "  FAIL  {n}: {e}")?,
            }
        }
        Ok(())
    }
}

/// Run every check against `server` and panic with the report if any fails.
pub async fn assert_server_compliance(server: &TestServer, probe: Probe) {
    let report = check(&Target { base: server.base(), token: server.core.auth_token.clone() }, &probe).await;
    assert!(report.failed().is_empty(), "{} is not compliant:\n{report}", server.server.name());
}

/// Run every check against `target`.
pub async fn check(target: &Target, probe: &Probe) -> Report {
    telemetry::init();
    let c = RawClient::new(&target.base, target.token.clone());
    let mut results = Vec::new();
    for name in CHECKS {
        let r = match *name {
            "health" => health(&c).await,
            "ready" => ready(&c).await,
            "metrics_series" => metrics_series(&c).await,
            "metrics_move" => metrics_move(&c, probe).await,
            "tools_described" => tools_described(&c).await,
            "trace_meta" => trace(&c, probe, true).await,
            "trace_header" => trace(&c, probe, false).await,
            "auth_missing" => auth(&c, target, None).await,
            "auth_wrong" => auth(&c, target, Some("wrong-token-000000000000")).await,
            "origin" => origin(&c).await,
            "parse_error" => parse_error(&c).await,
            "unknown_tool" => unknown_tool(&c).await,
            "stateless" => stateless(&c, probe).await,
            "legacy_session" => legacy(&c, probe).await,
            _ => Err("unknown check".into()),
        };
        results.push((*name, r));
    }
    Report { results }
}

fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

async fn health(c: &RawClient) -> Result<(), String> {
    // Liveness must not need a token: orchestrators probe it bare.
    let r = c.with_token(None).get("/health").await;
    ensure(r.status == 200, || format!("GET /health without a token answered {}", r.status))?;
    ensure(r.body["status"] == "ok", || format!("/health body has no status \"ok\": {}", r.text))
}

async fn ready(c: &RawClient) -> Result<(), String> {
    let r = c.get("/ready").await;
    ensure(r.status == 200, || format!("GET /ready answered {} ({})", r.status, r.text))?;
    ensure(r.body["checks"].is_array(), || format!("/ready does not list its dependency checks: {}", r.text))?;
    ensure(r.body["status"] == "ready", || format!("/ready status is not \"ready\": {}", r.text))
}

async fn metrics_text(c: &RawClient) -> Result<String, String> {
    let r = c.get("/metrics").await;
    ensure(r.status == 200, || format!("GET /metrics answered {}", r.status))?;
    Ok(r.text)
}

async fn metrics_series(c: &RawClient) -> Result<(), String> {
    let text = metrics_text(c).await?;
    let missing: Vec<&&str> =
        mcp_core::metrics::REQUIRED_SERIES.iter().filter(|s| !text.lines().any(|l| l.starts_with(**s))).collect();
    ensure(missing.is_empty(), || format!("/metrics lacks {missing:?}"))?;
    ensure(text.contains("# TYPE mcp_server_operation_duration_seconds histogram"), || {
        "mcp_server_operation_duration_seconds is not a histogram".into()
    })
}

/// Sum of `mcp_server_requests_total` samples for `tool`.
fn calls_of(text: &str, tool: &str) -> f64 {
    let label = format!("tool=\"{tool}\"");
    text.lines()
        .filter(|l| l.starts_with("mcp_server_requests_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics_move(c: &RawClient, p: &Probe) -> Result<(), String> {
    let before = calls_of(&metrics_text(c).await?, &p.tool);
    let r = c.call(&p.tool, p.args.clone()).await;
    ensure(r.status == 200 && r.result().is_object(), || format!("probe call failed: {} {}", r.status, r.text))?;
    let after_text = metrics_text(c).await?;
    let after = calls_of(&after_text, &p.tool);
    ensure(after > before, || {
        format!("mcp_server_requests_total{{tool=\"{}\"}} did not move ({before} -> {after})", p.tool)
    })?;
    let hist = format!("mcp_server_operation_duration_seconds_count{{method=\"tools/call\",tool=\"{}\"}}", p.tool);
    ensure(after_text.lines().any(|l| l.starts_with(&hist)), || format!("no latency histogram sample for {}", p.tool))
}

async fn tools_described(c: &RawClient) -> Result<(), String> {
    let r = c.list_tools().await;
    let tools = r.result()["tools"].as_array().cloned().ok_or_else(|| format!("tools/list failed: {}", r.text))?;
    ensure(!tools.is_empty(), || "tools/list is empty".into())?;
    let mut problems = Vec::new();
    for t in &tools {
        let name = t["name"].as_str().unwrap_or("?");
        if t["description"].as_str().is_none_or(|d| d.trim().len() < 10) {
            problems.push(format!("{name}: no useful description"));
        }
        if t["inputSchema"]["type"] != "object" {
            problems.push(format!("{name}: inputSchema is not an object schema"));
        }
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint"] {
            if !t["annotations"][hint].is_boolean() {
                problems.push(format!("{name}: annotation {hint} missing"));
            }
        }
    }
    ensure(problems.is_empty(), || problems.join("; "))
}

async fn trace(c: &RawClient, p: &Probe, in_meta: bool) -> Result<(), String> {
    let tp = mcp_core::trace::new_traceparent();
    let trace_id = mcp_core::trace::trace_id_of(&tp).unwrap_or_default().to_owned();
    let parent_span = tp.split('-').nth(2).unwrap_or_default().to_owned();
    let params = json!({"name": p.tool, "arguments": p.args});
    let r = if in_meta {
        c.request("tools/call", params, json!({"traceparent": tp}), &[]).await
    } else {
        c.request("tools/call", params, json!({}), &[("traceparent", &tp)]).await
    };
    ensure(r.status == 200, || format!("probe call failed: {} {}", r.status, r.text))?;
    let carrier = if in_meta { "_meta.traceparent" } else { "the traceparent header" };
    // Logs: a line of this call carrying the caller's trace_id.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = telemetry::logs().iter().any(|l| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|v| v["trace_id"] == trace_id.as_str() && v["fields"]["gen_ai.tool.name"] == p.tool.as_str())
        });
        if found {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("no log line of the call carries the trace_id sent in {carrier}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Spans: the server span, named per the MCP conventions, child of the caller's span.
    let want = format!("tools/call {}", p.tool);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        telemetry::flush().await;
        let spans = telemetry::collector().trace(&trace_id);
        if let Some(s) = spans.iter().find(|s| s.name == want) {
            ensure(s.parent_span_id == parent_span, || {
                format!("span {want} has parent {} instead of the caller's {parent_span}", s.parent_span_id)
            })?;
            ensure(s.attr("mcp.method.name") == Some("tools/call"), || "span lacks mcp.method.name".into())?;
            ensure(s.attr("gen_ai.tool.name") == Some(p.tool.as_str()), || "span lacks gen_ai.tool.name".into())?;
            ensure(s.attr("jsonrpc.request.id").is_some(), || "span lacks jsonrpc.request.id".into())?;
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no exported span {want:?} in the trace sent in {carrier}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn auth(c: &RawClient, t: &Target, token: Option<&str>) -> Result<(), String> {
    ensure(t.token.is_some(), || "the server runs without MCP_AUTH_TOKEN; compliance needs a protected server".into())?;
    let bad = c.with_token(token);
    let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .unwrap_or_default();
    let r = bad.post_raw(body, &[]).await;
    ensure(r.status == 401, || {
        format!("/mcp with {} token answered {}", if token.is_some() { "a wrong" } else { "no" }, r.status)
    })?;
    ensure(
        r.headers.get("www-authenticate").is_some_and(|v| v.to_str().is_ok_and(|s| s.starts_with("Bearer"))),
        || "401 without a WWW-Authenticate: Bearer header".into(),
    )?;
    for path in ["/metrics", "/ready"] {
        let r = bad.get(path).await;
        ensure(r.status == 401, || format!("{path} without a valid token answered {}", r.status))?;
    }
    Ok(())
}

async fn origin(c: &RawClient) -> Result<(), String> {
    let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .unwrap_or_default();
    let r = c.post_raw(body, &[("origin", "https://evil.example")]).await;
    ensure(r.status == 403, || format!("a foreign Origin got {}", r.status))
}

async fn parse_error(c: &RawClient) -> Result<(), String> {
    let r = c.post_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ", &[]).await;
    ensure(r.body["error"]["code"] == -32700, || format!("malformed JSON got {} {}", r.status, r.text))
}

async fn unknown_tool(c: &RawClient) -> Result<(), String> {
    let r = c.call("no_such_tool_for_compliance", json!({})).await;
    ensure(r.error()["code"].is_i64() && r.result().is_null(), || {
        format!("an unknown tool did not get a JSON-RPC error: {}", r.text)
    })
}

async fn stateless(c: &RawClient, p: &Probe) -> Result<(), String> {
    let r = c.call(&p.tool, p.args.clone()).await;
    ensure(r.status == 200 && r.result()["content"].is_array(), || {
        format!("2026-07-28 tools/call failed: {}", r.text)
    })?;
    ensure(r.headers.get("mcp-session-id").is_none(), || "a stateless request was given a session".into())?;
    let d = c.request("server/discover", json!({}), json!({}), &[]).await;
    ensure(d.result()["supportedVersions"].as_array().is_some_and(|v| v.iter().any(|x| x == "2026-07-28")), || {
        format!("server/discover does not offer 2026-07-28: {}", d.text)
    })
}

async fn legacy(c: &RawClient, p: &Probe) -> Result<(), String> {
    let mut s = c.clone();
    let init = s.open_session().await;
    ensure(init.result()["protocolVersion"] == "2025-11-25", || {
        format!("initialize did not negotiate 2025-11-25: {}", init.text)
    })?;
    ensure(init.headers.get("mcp-session-id").is_some(), || "initialize returned no Mcp-Session-Id".into())?;
    let list = s.session_request(2, "tools/list", json!({})).await;
    ensure(list.result()["tools"].is_array(), || format!("tools/list in a session failed: {}", list.text))?;
    let call = s.session_request(3, "tools/call", json!({"name": p.tool, "arguments": p.args})).await;
    ensure(call.result()["content"].is_array(), || format!("tools/call in a session failed: {}", call.text))
}
