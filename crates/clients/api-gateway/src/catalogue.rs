//! The upstreams and their tools: one MCP client per upstream, each one's
//! `tools/list` fetched at start and every `GATEWAY_REFRESH_SECS`, merged
//! into one catalogue of qualified names.
//!
//! **Naming.** A tool `t` of upstream `s` is `s__t` (split at the first
//! `__`; short names never contain `__`, checked at start). Clients accept
//! only `^[a-zA-Z0-9_-]{1,64}$`, so a tool whose qualified name would not
//! match is dropped — logged once, and shown as a problem of its upstream in
//! `gateway__servers` — rather than listed under a name some client rejects.
//!
//! **Fail-open per upstream.** Lists are fetched in parallel, each bounded
//! by `GATEWAY_LIST_TIMEOUT_MS`; an upstream that does not answer is `down`
//! and its tools leave the merged set until a later refresh finds it again.
//! The others are unaffected. A forwarded call that finds the upstream gone,
//! or hears "unknown tool" from it (the tool was removed since the last
//! list), refreshes that upstream at once.
//!
//! **Two clients per upstream.** Listing uses a client with one attempt and
//! no breaker worth the name, so a refresh reports the real reason an
//! upstream is down ("connection refused") within the list timeout; calls use
//! a client with the fleet's retries and breaker and a timeout long enough
//! for the longest tool (see [`FORWARD_TIMEOUT`]).
//!
//! **Version.** Each refresh reads the upstream's `serverInfo` (its
//! announced version) from the lister's connection.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use mcp_core::auth::Role;
use mcp_core::tool::{Annotations, JsonObject, ToolDef};
use mcp_core::{ClientError, ClientOptions, CoreConfig, McpClient, StartError, ToolInfo, tracing};
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::config::Config;
use crate::policy::required_role;

/// The gateway's own tools' prefix; no upstream may be called this.
pub const OWN_PREFIX: &str = "gateway";

/// How long a forwarded call may take before the gateway gives up on it.
/// The gateway cannot know each upstream tool's own limit (`tools/list` does
/// not carry it) and must not cut one short: the longest in the fleet are the
/// shell server's `wait`/`run` (24 h), the test server's `test_run` (6 h),
/// the agent's `llm_fix` (30 min) and the planner's `plan_wait`. Each
/// upstream enforces its own limit; this is only the backstop for a
/// connection that hangs without failing.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(24 * 3600 + 60);

/// Latency samples kept per upstream for the p95.
const LATENCY_SAMPLES: usize = 512;
/// Longest error text kept for an upstream.
const ERROR_MAX: usize = 200;
/// A refresh triggered by a call is skipped when the upstream was listed
/// this recently (a burst of failing calls makes one refresh, not one each).
const TRIGGERED_MIN_INTERVAL: Duration = Duration::from_millis(500);

/// Outcomes of `gateway_calls_total`, all present from start-up at zero.
pub const CALL_OUTCOMES: &[&str] = &["ok", "tool_error", "unavailable", "timed_out", "rejected", "rate_limited"];

/// The gateway's own series, registered on the server's registry.
#[derive(Clone)]
pub struct GatewayMetrics {
    /// 1 when the upstream's last list succeeded.
    pub upstream_up: IntGaugeVec,
    /// Tools the upstream contributes to the merged set.
    pub upstream_tools: IntGaugeVec,
    /// Calls forwarded (or refused before forwarding), by upstream and outcome.
    pub calls: IntCounterVec,
    /// Time of forwarded calls, by upstream (the upstream's time included).
    pub duration: HistogramVec,
    /// Audit rows lost (channel full or the database failed).
    pub audit_dropped: IntCounter,
}

impl GatewayMetrics {
    /// The series, primed for `upstreams`.
    pub fn new(upstreams: &[&str]) -> Result<Self, prometheus::Error> {
        let upstream_up = IntGaugeVec::new(
            Opts::new("gateway_upstream_up", "1 when the upstream answered its last tools/list"),
            &["upstream"],
        )?;
        let upstream_tools = IntGaugeVec::new(
            Opts::new("gateway_upstream_tools", "Tools the upstream contributes to the gateway's catalogue"),
            &["upstream"],
        )?;
        let calls = IntCounterVec::new(
            Opts::new("gateway_calls_total", "Tool calls through the gateway, by upstream and outcome"),
            &["upstream", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new("gateway_call_duration_seconds", "Time of forwarded tool calls, upstream included")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
                ]),
            &["upstream"],
        )?;
        for u in upstreams {
            upstream_up.with_label_values(&[u]);
            upstream_tools.with_label_values(&[u]);
            duration.with_label_values(&[u]);
            for o in CALL_OUTCOMES {
                calls.with_label_values(&[u, o]);
            }
        }
        let audit_dropped =
            IntCounter::new("gateway_audit_dropped_total", "Audit rows lost: channel full or the database failed")?;
        Ok(Self { upstream_up, upstream_tools, calls, duration, audit_dropped })
    }

    /// Register every series on `registry`.
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.upstream_up.clone()))?;
        registry.register(Box::new(self.upstream_tools.clone()))?;
        registry.register(Box::new(self.calls.clone()))?;
        registry.register(Box::new(self.duration.clone()))?;
        registry.register(Box::new(self.audit_dropped.clone()))
    }
}

/// A tool of the merged catalogue as REST and the UI show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogueTool {
    /// Qualified name, `{server}__{tool}`: the name to call.
    pub name: String,
    /// The upstream's short name.
    pub server: String,
    /// The tool's name on its upstream.
    pub tool: String,
    /// Human-readable title, when the upstream gives one.
    pub title: Option<String>,
    /// What it does (the upstream's text, unchanged).
    pub description: String,
    /// MCP annotations as the upstream listed them (`readOnlyHint`, ...).
    #[schema(value_type = Object)]
    pub annotations: Value,
    /// The arguments' JSON Schema.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// The `structuredContent` JSON Schema, when the tool has one.
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
    /// The least role that may call it: `viewer`, `operator` or `admin`.
    pub role: String,
}

/// One tool of the merged catalogue, ready to list and forward.
pub struct Entry {
    /// What REST shows.
    pub info: CatalogueTool,
    /// What `tools/list` shows (mcp-core's definition).
    pub def: ToolDef,
    /// The role it needs.
    pub role: Role,
    /// Its upstream.
    pub link: Arc<Link>,
    /// Hash of the upstream's raw tool JSON (for change detection).
    fingerprint: u64,
}

/// One upstream's state as `gateway__servers` and `/api/v1/servers` show it.
#[derive(Debug, Clone, Serialize, JsonSchema, ToSchema)]
pub struct ServerStatus {
    /// Short name (the prefix of its tools).
    pub name: String,
    /// The program.
    pub program: String,
    /// Its `/mcp` URL.
    pub url: String,
    /// `up`, `down`, or `unknown` before the first refresh.
    pub state: String,
    /// The program's version, as its `serverInfo` announces it.
    pub version: Option<String>,
    /// Tools it contributes to the catalogue.
    pub tool_count: usize,
    /// Why it is down (or the last list failed), short.
    pub last_error: Option<String>,
    /// When its list was last fetched (successfully or not), RFC 3339.
    pub refreshed_at: Option<String>,
    /// Refreshes that failed in a row.
    pub consecutive_failures: u32,
    /// 95th percentile of recent calls through the gateway, ms.
    pub p95_ms: Option<f64>,
    /// Calls the percentile is computed over.
    pub calls_sampled: usize,
    /// Tools dropped from its list, and why.
    pub problems: Vec<String>,
}

#[derive(Default)]
struct LinkState {
    version: Option<String>,
    listed: bool,
    up: bool,
    tools: Vec<Arc<Entry>>,
    last_error: Option<String>,
    refreshed_at_ms: Option<i64>,
    refreshed_at: Option<Instant>,
    failures: u32,
    problems: Vec<String>,
}

/// One upstream: its clients and its last known state.
pub struct Link {
    /// Short name.
    pub name: String,
    /// Program.
    pub program: String,
    /// `/mcp` URL.
    pub url: String,
    /// The client calls are forwarded through.
    pub client: McpClient,
    lister: McpClient,
    state: RwLock<LinkState>,
    latencies: Mutex<VecDeque<f64>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl Link {
    /// Record one forwarded call's duration for the p95.
    pub fn sample(&self, d: Duration) {
        if let Ok(mut l) = self.latencies.lock() {
            if l.len() == LATENCY_SAMPLES {
                l.pop_front();
            }
            l.push_back(d.as_secs_f64() * 1e3);
        }
    }

    fn p95(&self) -> (Option<f64>, usize) {
        let Ok(l) = self.latencies.lock() else { return (None, 0) };
        if l.is_empty() {
            return (None, 0);
        }
        let mut v: Vec<f64> = l.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1;
        (Some((v[i] * 1000.0).round() / 1000.0), v.len())
    }

    fn status(&self) -> ServerStatus {
        let (p95_ms, calls_sampled) = self.p95();
        let mut out = ServerStatus {
            name: self.name.clone(),
            program: self.program.clone(),
            url: self.url.clone(),
            state: "unknown".into(),
            version: None,
            tool_count: 0,
            last_error: None,
            refreshed_at: None,
            consecutive_failures: 0,
            p95_ms,
            calls_sampled,
            problems: Vec::new(),
        };
        if let Ok(s) = self.state.read()
            && s.listed
        {
            out.state = if s.up { "up" } else { "down" }.into();
            out.version = s.version.clone();
            out.tool_count = s.tools.len();
            out.last_error = s.last_error.clone();
            out.refreshed_at = s.refreshed_at_ms.map(mcp_core::clock::rfc3339_ms);
            out.consecutive_failures = s.failures;
            out.problems = s.problems.clone();
        }
        out
    }
}

/// The merged set, rebuilt after every refresh.
#[derive(Default)]
struct Merged {
    by_name: HashMap<String, Arc<Entry>>,
    sorted: Vec<Arc<Entry>>,
    fingerprint: u64,
}

/// The upstreams and their merged tools.
pub struct Catalogue {
    links: Vec<Arc<Link>>,
    merged: RwLock<Arc<Merged>>,
    logged: Mutex<HashSet<String>>,
    metrics: GatewayMetrics,
    list_timeout: Duration,
}

/// Is `name` a qualified tool name every client accepts?
pub fn valid_qualified(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `{server}__{tool}` split at the first `__`.
pub fn split_qualified(name: &str) -> Option<(&str, &str)> {
    name.split_once("__").filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

/// A client error as a short text for people: no more than [`ERROR_MAX`]
/// characters. Client errors name the URL and what failed, never the token.
pub fn short_error(e: &str) -> String {
    let one_line: String = e.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.len() <= ERROR_MAX {
        return one_line;
    }
    let mut cut = ERROR_MAX;
    while !one_line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &one_line[..cut])
}

fn hash_of(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// mcp-core's definition of an upstream tool, from its raw `tools/list`
/// JSON: schemas, title and description exactly as listed. Annotations
/// become mcp-core's booleans with the spec's defaults for missing hints
/// (destructive and open-world unless said otherwise); every fleet program
/// lists all four, so nothing changes for them.
fn definition(qualified: &str, raw: &Value) -> Result<ToolDef, String> {
    let object = |k: &str| -> Option<JsonObject> { raw.get(k).and_then(Value::as_object).cloned() };
    let input_schema = object("inputSchema").ok_or("its inputSchema is not an object")?;
    let ann = raw.get("annotations").cloned().unwrap_or(Value::Null);
    let hint = |k: &str| ann.get(k).and_then(Value::as_bool);
    let read_only = hint("readOnlyHint").unwrap_or(false);
    Ok(ToolDef {
        name: qualified.to_owned(),
        title: raw.get("title").and_then(Value::as_str).map(str::to_owned),
        description: raw.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
        annotations: Annotations {
            read_only,
            destructive: hint("destructiveHint").unwrap_or(!read_only),
            idempotent: hint("idempotentHint").unwrap_or(false),
            open_world: hint("openWorldHint").unwrap_or(true),
        },
        input_schema,
        output_schema: object("outputSchema"),
        timeout: Some(FORWARD_TIMEOUT),
    })
}

impl Catalogue {
    /// Prepare the upstream clients (nothing is contacted yet). Refuses a
    /// short name that contains `__`, is not `[a-z0-9_-]`, or is the
    /// gateway's own prefix.
    pub fn new(config: &Config, core: &CoreConfig, metrics: GatewayMetrics) -> Result<Self, StartError> {
        let mut links = Vec::new();
        for u in &config.upstreams {
            if u.name.contains("__") || u.name == OWN_PREFIX || !valid_qualified(&u.name) {
                return Err(StartError::config(format!(
                    "upstream short name {:?}: must be [a-zA-Z0-9_-] without \"__\" and not {OWN_PREFIX:?} (it prefixes tool names)",
                    u.name
                )));
            }
            let opts = ClientOptions::new(u.url.clone())
                .token(core.peer_token.clone())
                .name(crate::NAME)
                .call_timeout(FORWARD_TIMEOUT);
            let mut list_opts = opts.clone().call_timeout(config.list_timeout);
            // One attempt: the refresh wants the real reason now, and the
            // next refresh is the retry. No breaker either (a high threshold):
            // an open breaker would hide why the upstream is down.
            list_opts.max_attempts = 1;
            list_opts.breaker_threshold = u32::MAX;
            let client = McpClient::new(opts).map_err(StartError::other)?;
            let lister = McpClient::new(list_opts).map_err(StartError::other)?;
            links.push(Arc::new(Link {
                name: u.name.clone(),
                program: u.program.clone(),
                url: u.url.clone(),
                client,
                lister,
                state: RwLock::default(),
                latencies: Mutex::default(),
                refreshing: tokio::sync::Mutex::new(()),
            }));
        }
        Ok(Self {
            links,
            merged: RwLock::default(),
            logged: Mutex::default(),
            metrics,
            list_timeout: config.list_timeout,
        })
    }

    /// The upstreams, in configuration order.
    pub fn links(&self) -> &[Arc<Link>] {
        &self.links
    }

    /// The configured upstream `name`, listed or not (a route calls its
    /// fixed tools even while the upstream's list is missing).
    pub fn link(&self, name: &str) -> Option<Arc<Link>> {
        self.links.iter().find(|l| l.name == name).cloned()
    }

    /// The series.
    pub fn metrics(&self) -> &GatewayMetrics {
        &self.metrics
    }

    /// The merged tool `qualified`, if an available upstream offers it.
    pub fn get(&self, qualified: &str) -> Option<Arc<Entry>> {
        self.merged.read().ok()?.by_name.get(qualified).cloned()
    }

    /// Every merged tool, sorted by qualified name.
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        self.merged.read().map(|m| m.sorted.clone()).unwrap_or_default()
    }

    /// Every upstream's state.
    pub fn servers(&self) -> Vec<ServerStatus> {
        self.links.iter().map(|l| l.status()).collect()
    }

    /// List every upstream now, in parallel; `true` when the merged set
    /// (names or any definition) changed.
    pub async fn refresh_all(&self) -> bool {
        futures::future::join_all(self.links.iter().map(|l| self.refresh_link(l, false))).await;
        self.rebuild()
    }

    /// List one upstream now (after a call found it gone or heard "unknown
    /// tool"); `true` when the merged set changed. Skipped when a refresh of
    /// it is running or has just run.
    pub async fn refresh_upstream(&self, name: &str) -> bool {
        let Some(l) = self.links.iter().find(|l| l.name == name) else { return false };
        if !self.refresh_link(l, true).await {
            return false;
        }
        self.rebuild()
    }

    /// Fetch one upstream's list; `false` when skipped.
    async fn refresh_link(&self, link: &Arc<Link>, triggered: bool) -> bool {
        let _guard = if triggered {
            let Ok(g) = link.refreshing.try_lock() else { return false };
            let recent = link
                .state
                .read()
                .ok()
                .and_then(|s| s.refreshed_at)
                .is_some_and(|t| t.elapsed() < TRIGGERED_MIN_INTERVAL);
            if recent {
                return false;
            }
            g
        } else {
            link.refreshing.lock().await
        };
        let listed = tokio::time::timeout(self.list_timeout, link.lister.list_tools()).await;
        // The connection the list went over knows the server's own answer.
        let version = match &listed {
            Ok(Ok(_)) => link.lister.server_info().await.ok().flatten().map(|(_, v)| v),
            _ => None,
        };
        let now_ms = mcp_core::clock::now_ms();
        let result: Result<Vec<ToolInfo>, String> = match listed {
            Ok(Ok(tools)) => Ok(tools),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err(format!("tools/list did not answer within {} ms", self.list_timeout.as_millis())),
        };
        let Ok(mut s) = link.state.write() else { return true };
        s.listed = true;
        s.refreshed_at_ms = Some(now_ms);
        s.refreshed_at = Some(Instant::now());
        match result {
            Ok(tools) => {
                let (entries, problems) = self.entries_of(link, tools);
                if !s.up && s.failures > 0 {
                    tracing::info!(upstream = %link.name, tools = entries.len(), "upstream is back");
                }
                s.up = true;
                s.failures = 0;
                s.last_error = None;
                s.version = version;
                s.tools = entries;
                s.problems = problems;
            }
            Err(e) => {
                if s.up || s.failures == 0 {
                    tracing::warn!(upstream = %link.name, error = %e, "upstream unavailable; its tools leave the catalogue");
                }
                s.up = false;
                s.failures = s.failures.saturating_add(1);
                s.last_error = Some(e);
                s.tools = Vec::new();
            }
        }
        self.metrics.upstream_up.with_label_values(&[&link.name]).set(i64::from(s.up));
        self.metrics.upstream_tools.with_label_values(&[&link.name]).set(s.tools.len() as i64);
        true
    }

    /// Turn one upstream's list into entries, dropping (and reporting) what
    /// cannot be offered under a valid qualified name.
    fn entries_of(&self, link: &Arc<Link>, tools: Vec<ToolInfo>) -> (Vec<Arc<Entry>>, Vec<String>) {
        let mut entries = Vec::with_capacity(tools.len());
        let mut problems = Vec::new();
        for t in tools {
            let qualified = format!("{}__{}", link.name, t.name);
            let built = if valid_qualified(&qualified) {
                definition(&qualified, &t.raw)
            } else {
                Err(format!("its qualified name would be {} characters or not [a-zA-Z0-9_-]", qualified.len()))
            };
            match built {
                Ok(def) => {
                    let annotations = t.raw.get("annotations").cloned().unwrap_or(Value::Null);
                    let role = required_role(&annotations);
                    let info = CatalogueTool {
                        name: qualified,
                        server: link.name.clone(),
                        tool: t.name.clone(),
                        title: def.title.clone(),
                        description: def.description.clone(),
                        annotations,
                        input_schema: Value::Object(def.input_schema.clone()),
                        output_schema: def.output_schema.clone().map(Value::Object),
                        role: role.as_str().to_owned(),
                    };
                    let fingerprint = hash_of(&t.raw.to_string());
                    entries.push(Arc::new(Entry { info, def, role, link: link.clone(), fingerprint }));
                }
                Err(why) => {
                    let name: String = t.name.chars().take(80).collect();
                    let problem = format!("tool {name:?} dropped: {why}");
                    let first =
                        self.logged.lock().map(|mut l| l.insert(format!("{}/{name}", link.name))).unwrap_or(true);
                    if first {
                        tracing::warn!(upstream = %link.name, tool = %name, reason = %why, "upstream tool dropped from the catalogue");
                    }
                    problems.push(problem);
                }
            }
        }
        (entries, problems)
    }

    /// Rebuild the merged set from every upstream's state; `true` when it
    /// changed.
    fn rebuild(&self) -> bool {
        let mut by_name = HashMap::new();
        for l in &self.links {
            let Ok(s) = l.state.read() else { continue };
            for e in &s.tools {
                // Names are unique per upstream, and upstream prefixes are
                // unique, so a qualified name cannot come twice.
                by_name.insert(e.info.name.clone(), e.clone());
            }
        }
        let mut sorted: Vec<Arc<Entry>> = by_name.values().cloned().collect();
        sorted.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        let mut h = DefaultHasher::new();
        for e in &sorted {
            e.info.name.hash(&mut h);
            e.fingerprint.hash(&mut h);
        }
        let fingerprint = h.finish();
        let Ok(mut m) = self.merged.write() else { return false };
        let changed = m.fingerprint != fingerprint || m.sorted.len() != sorted.len();
        *m = Arc::new(Merged { by_name, sorted, fingerprint });
        changed
    }
}

/// Why a call or a list got no answer, for people: short, one line, no
/// Rust type names. rmcp flattens the transport's error into a string whose
/// root cause (refused, reset) is already gone, so "could not send" is as
/// precise as it gets.
pub fn describe(e: &ClientError) -> String {
    match e {
        ClientError::Transport { target, message } => {
            let m = message.to_ascii_lowercase();
            if m.contains("error sending request") {
                format!("cannot connect to {target} (connection refused, reset or unreachable)")
            } else {
                short_error(&format!("transport error talking to {target}: {}", strip_type_names(message)))
            }
        }
        other => short_error(&other.to_string()),
    }
}

/// Drop `[...]` segments that hold Rust paths (`rmcp::transport::...`).
fn strip_type_names(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else { break };
        let inner = &rest[start..start + len];
        out.push_str(&rest[..start]);
        if !inner.contains("::") {
            out.push_str(&rest[start..=start + len]);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_split_at_the_first_double_underscore_and_must_fit_clients() {
        assert_eq!(split_qualified("fs__read_file"), Some(("fs", "read_file")));
        assert_eq!(split_qualified("llm_agent__llm_fix"), Some(("llm_agent", "llm_fix")));
        assert_eq!(split_qualified("a__b__c"), Some(("a", "b__c")));
        assert_eq!(split_qualified("fs_read"), None);
        assert_eq!(split_qualified("__x"), None);
        assert!(valid_qualified("git__git_status"));
        assert!(!valid_qualified(&format!("fs__{}", "x".repeat(61))));
        assert!(!valid_qualified("fs__read.file"));
        assert!(!valid_qualified(""));
    }

    #[test]
    fn a_definition_keeps_the_upstream_text_and_defaults_missing_hints_to_the_spec() {
        let raw = json!({"name": "t", "title": "T", "description": "Does t.", "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object", "properties": {"a": {"type": "string"}}},
            "annotations": {"readOnlyHint": false}});
        let d = definition("fs__t", &raw).unwrap();
        assert_eq!(d.description, "Does t.");
        assert_eq!(d.title.as_deref(), Some("T"));
        assert!(d.annotations.destructive && d.annotations.open_world && !d.annotations.read_only);
        assert_eq!(d.output_schema.map(Value::Object), Some(raw["outputSchema"].clone()));
        assert!(definition("fs__t", &json!({"name": "t"})).is_err());
        let ro =
            definition("fs__t", &json!({"inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true}}))
                .unwrap();
        assert!(ro.annotations.read_only && !ro.annotations.destructive);
    }

    #[test]
    fn errors_are_short_one_line_and_without_type_names() {
        let e = ClientError::Transport {
            target: "http://127.0.0.1:9/mcp".into(),
            message: "send message error transport [rmcp::transport::worker::WorkerTransport<X>] error: client error: \
                      error sending request for url (http://127.0.0.1:9/mcp), when send discover request"
                .into(),
        };
        assert_eq!(describe(&e), "cannot connect to http://127.0.0.1:9/mcp (connection refused, reset or unreachable)");
        assert_eq!(strip_type_names("a [b::c] d [e] f"), "a  d [e] f");
        let long = format!("transport error\n{}", "é".repeat(300));
        let s = short_error(&long);
        assert!(s.chars().count() <= ERROR_MAX + 1 && !s.contains('\n'), "{s}");
    }
}
