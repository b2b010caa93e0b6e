//! How REST and the UI reach the upstreams: the one place that turns a
//! qualified tool name (`planner__approvals_list`) into a call, a tool
//! failure or an unreachable upstream into a [`Problem`], and lists tools
//! and servers for a caller.
//!
//! Every call a person makes through REST or the UI goes through [`call`],
//! under the same rule as `/mcp`: a tool the caller's role may not use
//! (read-only tools for viewers, non-destructive ones for operators,
//! everything for admins) is hidden, and a hidden tool answers exactly as an
//! unknown one (`not_found`), so a key cannot probe for tools it may not see.
//!
//! This module talks to the upstreams with its own [`McpClient`]s (one per
//! upstream, the peer token, a short retry budget so a REST caller hears
//! "unavailable" in about a second), and keeps each upstream's tool list for
//! a few seconds to decide roles without listing on every call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mcp_core::auth::Caller;
use mcp_core::{CallResult, ClientError, ClientOptions, CoreConfig, ErrorKind, McpClient, Problem, ToolInfo};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ApiState;
use crate::config::{Config, Upstream};
use crate::policy::{KeyGlobs, may_use};

/// How long a listed catalogue is trusted for role decisions.
const LIST_TTL: Duration = Duration::from_secs(10);

/// The upstream clients.
pub struct Upstreams {
    clients: BTreeMap<String, (Upstream, McpClient)>,
    lists: Mutex<HashMap<String, (Instant, Vec<ToolInfo>)>>,
    status: Mutex<HashMap<String, Probe>>,
}

/// What the last contact with an upstream said.
#[derive(Debug, Clone, Default)]
struct Probe {
    error: Option<String>,
    at_ms: i64,
    latencies: Vec<f64>,
}

/// A tool as REST shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolView {
    /// Qualified name, `{server}__{tool}`: the name to call.
    pub name: String,
    /// The upstream's short name.
    pub server: String,
    /// What it does.
    pub description: String,
    /// MCP annotations (`readOnlyHint`, `destructiveHint`, ...).
    #[schema(value_type = Object)]
    pub annotations: Value,
    /// The arguments' JSON Schema.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// The least role that may call it: `viewer`, `operator` or `admin`.
    pub role: String,
}

/// One upstream's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerView {
    /// Short name (the prefix of its tools).
    pub name: String,
    /// The program.
    pub program: String,
    /// Its `/mcp` URL.
    pub url: String,
    /// `up` or `down`.
    pub state: String,
    /// The program's version, when it said.
    pub version: Option<String>,
    /// Tools it lists.
    pub tool_count: usize,
    /// Why it is down, when it is.
    pub last_error: Option<String>,
    /// When it was last asked, RFC 3339.
    pub refreshed_at: Option<String>,
    /// 95th percentile of this gateway's recent calls to it, ms.
    pub p95_ms: Option<f64>,
}

/// The least role that may call a tool with these annotations (the
/// gateway's one rule, `crate::policy`).
pub use crate::policy::required_role as role_for;

/// The key's globs of `caller`, compiled (none for the fleet token and JWTs).
fn globs(s: &ApiState, caller: &Caller) -> Option<KeyGlobs> {
    let id = caller.key_id.as_deref()?;
    // A key that is gone allows nothing (the authenticator refuses it anyway).
    Some(
        s.gw.keys
            .get(id)
            .map(|k| KeyGlobs::new(&k.row.allow, &k.row.deny))
            .unwrap_or_else(|| KeyGlobs::new(&["[".into()], &[])),
    )
}

/// The one mapping from an upstream's failure to a problem. A transport
/// failure keeps its kind (`unavailable` → 503, `timed_out` → 504); an
/// upstream's internal error is a 502, since the fault is behind the gateway.
pub fn problem(kind: ErrorKind, detail: impl Into<String>) -> Problem {
    let p = Problem::new(kind, detail);
    if kind == ErrorKind::Internal { p.http_status(http::StatusCode::BAD_GATEWAY) } else { p }
}

impl Upstreams {
    /// One client per configured upstream, calling with the peer token.
    pub fn new(config: &Config, core: &CoreConfig) -> Result<Self, ClientError> {
        let mut clients = BTreeMap::new();
        for u in &config.upstreams {
            let mut opts = ClientOptions::new(u.url.clone())
                .token(core.peer_token.clone())
                .name(crate::NAME)
                .call_timeout(core.call_timeout.max(Duration::from_secs(5)));
            // A person waits on the other end: two attempts, then "unavailable".
            opts.max_attempts = 2;
            opts.connect_timeout = Duration::from_secs(2);
            clients.insert(u.name.clone(), (u.clone(), McpClient::new(opts)?));
        }
        Ok(Self { clients, lists: Mutex::default(), status: Mutex::default() })
    }

    fn client(&self, server: &str) -> Result<&McpClient, Problem> {
        self.clients.get(server).map(|(_, c)| c).ok_or_else(|| {
            Problem::new(ErrorKind::Unavailable, format!("this gateway has no {server} upstream (GATEWAY_UPSTREAMS)"))
        })
    }

    fn note(&self, server: &str, outcome: Result<f64, String>) {
        if let Ok(mut m) = self.status.lock() {
            let p = m.entry(server.to_owned()).or_default();
            p.at_ms = mcp_core::clock::now_ms();
            match outcome {
                Ok(ms) => {
                    p.error = None;
                    p.latencies.push(ms);
                    // The last 100 calls are the window of the p95.
                    if p.latencies.len() > 100 {
                        p.latencies.remove(0);
                    }
                }
                Err(e) => p.error = Some(e),
            }
        }
    }

    /// One upstream's tools, from the cache when fresh.
    async fn list(&self, server: &str) -> Result<Vec<ToolInfo>, Problem> {
        if let Ok(m) = self.lists.lock()
            && let Some((at, tools)) = m.get(server)
            && at.elapsed() < LIST_TTL
        {
            return Ok(tools.clone());
        }
        let client = self.client(server)?;
        let started = Instant::now();
        match client.list_tools().await {
            Ok(tools) => {
                self.note(server, Ok(started.elapsed().as_secs_f64() * 1000.0));
                if let Ok(mut m) = self.lists.lock() {
                    m.insert(server.to_owned(), (Instant::now(), tools.clone()));
                }
                Ok(tools)
            }
            Err(e) => {
                self.note(server, Err(e.to_string()));
                Err(problem(e.kind(), format!("{server}: {e}")))
            }
        }
    }
}

fn view(server: &str, t: &ToolInfo) -> ToolView {
    let annotations = t.raw.get("annotations").cloned().unwrap_or_else(|| Value::Object(Default::default()));
    ToolView {
        name: format!("{server}__{}", t.name),
        server: server.to_owned(),
        description: t.description.clone(),
        role: role_for(&annotations).as_str().to_owned(),
        annotations,
        input_schema: t.raw.get("inputSchema").cloned().unwrap_or_else(|| serde_json::json!({"type": "object"})),
    }
}

/// Every tool `caller` may use, by server then name. An upstream that does
/// not answer contributes nothing (the fleet page says why).
pub async fn tools(s: &ApiState, caller: &Caller) -> Vec<ToolView> {
    let lists =
        futures::future::join_all(s.up.clients.keys().map(|name| async move { (name, s.up.list(name).await) })).await;
    let globs = globs(s, caller);
    let mut out: Vec<ToolView> = lists
        .into_iter()
        .filter_map(|(name, r)| r.ok().map(|tools| tools.iter().map(|t| view(name, t)).collect::<Vec<_>>()))
        .flatten()
        .filter(|t| may_use(caller, globs.as_ref(), &t.name, &t.annotations))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Call `qualified` as `caller`: the tool's result (a tool failure is a
/// result with its kind), or a problem when the name is unknown or hidden
/// (`not_found`), or the upstream cannot be reached.
pub async fn call(s: &ApiState, caller: &Caller, qualified: &str, args: Value) -> Result<CallResult, Problem> {
    let unknown =
        || Problem::new(ErrorKind::NotFound, format!("no tool {qualified:?} for this caller (see GET /api/v1/tools)"));
    let (server, tool) = qualified.split_once("__").ok_or_else(unknown)?;
    let client = s.up.client(server)?;
    let listed = s.up.list(server).await?;
    let info = listed.iter().find(|t| t.name == tool).ok_or_else(unknown)?;
    if !may_use(caller, globs(s, caller).as_ref(), qualified, info.raw.get("annotations").unwrap_or(&Value::Null)) {
        return Err(unknown());
    }
    if !args.is_object() {
        return Err(Problem::new(ErrorKind::InvalidInput, "arguments must be a JSON object"));
    }
    let started = Instant::now();
    match client.call(tool, args).await {
        Ok(r) => {
            s.up.note(server, Ok(started.elapsed().as_secs_f64() * 1000.0));
            Ok(r)
        }
        Err(e) => {
            s.up.note(server, Err(e.to_string()));
            Err(problem(e.kind(), format!("{server}: {e}")))
        }
    }
}

/// [`call`] for the typed routes: the result's structured value, or the
/// tool's failure as a problem of its kind.
pub async fn value(s: &ApiState, caller: &Caller, qualified: &str, args: Value) -> Result<Value, Problem> {
    let r = call(s, caller, qualified, args).await?;
    match r.error {
        Some(kind) => Err(problem(kind, r.text)),
        None => Ok(r.into_value()),
    }
}

/// Every configured upstream's state, asking each (in parallel) for its
/// tools; a cached list counts as an answer.
pub async fn servers(s: &ApiState) -> Vec<ServerView> {
    let answers = futures::future::join_all(s.up.clients.iter().map(|(name, (u, _))| async move {
        let r = s.up.list(name).await;
        (u.clone(), r)
    }))
    .await;
    let status = s.up.status.lock().map(|m| m.clone()).unwrap_or_default();
    answers
        .into_iter()
        .map(|(u, r)| {
            let probe = status.get(&u.name).cloned().unwrap_or_default();
            let mut lat = probe.latencies.clone();
            lat.sort_by(f64::total_cmp);
            let p95 =
                (!lat.is_empty()).then(|| lat[((lat.len() as f64 * 0.95).ceil() as usize).clamp(1, lat.len()) - 1]);
            let (state, tool_count, last_error) = match &r {
                Ok(t) => ("up", t.len(), None),
                Err(p) => ("down", 0, Some(p.detail.clone())),
            };
            ServerView {
                name: u.name,
                program: u.program,
                url: u.url,
                state: state.to_owned(),
                version: None,
                tool_count,
                last_error: last_error.or(probe.error.filter(|_| r.is_err())),
                refreshed_at: (probe.at_ms > 0).then(|| mcp_core::clock::rfc3339_ms(probe.at_ms)),
                p95_ms: p95,
            }
        })
        .collect()
}
