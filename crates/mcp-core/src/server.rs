//! A server: its identity, its tool registry, optional resources and
//! readiness checks, and the one rmcp `ServerHandler` that serves them all.
//!
//! The handler is where the cross-cutting contract lives for every request:
//! a span named per the OpenTelemetry MCP conventions and parented on the
//! caller's trace, metrics by method/tool/outcome, the per-call timeout, the
//! output cap, cancellation, and panic containment. Tools never deal with any
//! of it.

use crate::auth::{Authenticator, Caller};
use crate::tool::ToolSource;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use rmcp::model as m;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use tracing::Instrument;

use crate::error::ErrorKind;
use crate::metrics::{Metrics, Outcome};
use crate::resource::{ResourceBody, Resources};
use crate::tool::{Content, Ctx, Handler, JsonObject, Progress, Tool, ToolDef, ToolError, ToolResponse};
use crate::trace::{self, OpenTelemetrySpanExt};
use opentelemetry::trace::TraceContextExt;

/// A readiness probe: `Ok(detail)` when the dependency is usable.
pub type ReadyFn = Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

struct Entry {
    def: ToolDef,
    handler: Handler,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) version: String,
    instructions: Option<String>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    listed: Arc<Vec<m::Tool>>,
    resources: Option<Arc<dyn Resources>>,
    pub(crate) ready: Vec<(String, ReadyFn)>,
    pub(crate) metrics: Metrics,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    source: Option<Arc<dyn ToolSource>>,
    sessions: Sessions,
    public: Vec<String>,
    sign_in: Option<(String, String)>,
}

/// The session-style (2025-11-25) callers of one server, so it can tell them
/// when its tool list changed (`notifications/tools/list_changed`). Only a
/// server with a [`ToolSource`] has a list that changes; it hands a handle
/// to [`ServerBuilder::sessions`] and calls
/// [`Sessions::notify_tools_changed`] from its refresher. Stateless
/// (2026-07-28) callers have no channel to push to: they list again.
#[derive(Clone, Default)]
pub struct Sessions(Arc<std::sync::Mutex<Vec<rmcp::Peer<RoleServer>>>>);

impl Sessions {
    fn add(&self, peer: rmcp::Peer<RoleServer>) {
        if let Ok(mut v) = self.0.lock() {
            v.retain(|p| !p.is_transport_closed());
            v.push(peer);
        }
    }

    /// Open sessions now (closed ones are forgotten first).
    pub fn open(&self) -> usize {
        self.0
            .lock()
            .map(|mut v| {
                v.retain(|p| !p.is_transport_closed());
                v.len()
            })
            .unwrap_or(0)
    }

    /// Send `notifications/tools/list_changed` to every open session; the
    /// number of sessions told. A session whose stream is gone is dropped.
    pub async fn notify_tools_changed(&self) -> usize {
        let peers: Vec<_> = self
            .0
            .lock()
            .map(|mut v| {
                v.retain(|p| !p.is_transport_closed());
                v.clone()
            })
            .unwrap_or_default();
        let mut told = 0;
        for p in peers {
            if p.notify_tool_list_changed().await.is_ok() {
                told += 1;
            }
        }
        told
    }
}

/// A built server, cheap to clone.
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

impl Server {
    /// Start building a server named `name` (the binary name) over `state`.
    /// The state is shared: the program keeps its own `Arc` for background
    /// work, and every tool and readiness check gets a clone.
    pub fn builder<S: Send + Sync + 'static>(name: &str, version: &str, state: Arc<S>) -> ServerBuilder<S> {
        ServerBuilder {
            name: name.to_owned(),
            version: version.to_owned(),
            state,
            instructions: None,
            entries: Vec::new(),
            resources: None,
            ready: Vec::new(),
            authenticator: None,
            source: None,
            sessions: Sessions::default(),
            public: Vec::new(),
            sign_in: None,
        }
    }

    /// The authenticator the guard runs, when the program set one (else the
    /// fleet token).
    pub fn authenticator(&self) -> Option<Arc<dyn Authenticator>> {
        self.inner.authenticator.clone()
    }

    /// Paths served without a caller (see [`ServerBuilder::public_path`]).
    pub fn public_paths(&self) -> Vec<String> {
        self.inner.public.clone()
    }

    /// Where a browser without a credential is sent (see
    /// [`ServerBuilder::sign_in_page`]): `(prefix, page)`.
    pub fn sign_in(&self) -> Option<(String, String)> {
        self.inner.sign_in.clone()
    }

    /// The program name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The tool definitions, sorted by name.
    pub fn tools(&self) -> Vec<&ToolDef> {
        self.inner.entries.iter().map(|e| &e.def).collect()
    }

    /// The `tools/list` result as JSON, for golden snapshots.
    pub fn tools_list_json(&self) -> Value {
        serde_json::to_value(self.inner.listed.as_ref()).unwrap_or(Value::Null)
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Call a tool directly, without HTTP (unit tests, benchmarks of the tool body).
    pub async fn call(&self, tool: &str, args: Value) -> Result<ToolResponse, ToolError> {
        let i = self.inner.index.get(tool).ok_or_else(|| ToolError::not_found(format!("tool {tool}")))?;
        Ok((self.inner.entries[*i].handler)(args, Ctx::detached(Duration::from_secs(60))).await)
    }
}

/// Builds a [`Server`]; see [`Server::builder`].
pub struct ServerBuilder<S> {
    name: String,
    version: String,
    state: Arc<S>,
    instructions: Option<String>,
    entries: Vec<Entry>,
    resources: Option<Arc<dyn Resources>>,
    ready: Vec<(String, ReadyFn)>,
    authenticator: Option<Arc<dyn Authenticator>>,
    source: Option<Arc<dyn ToolSource>>,
    sessions: Sessions,
    public: Vec<String>,
    sign_in: Option<(String, String)>,
}

impl<S: Send + Sync + 'static> ServerBuilder<S> {
    /// A browser asking for a page under `prefix` without a valid credential
    /// (a `GET` that accepts `text/html`) is sent to `page` (303) instead of
    /// getting the JSON 401 an API client gets. `page` must be public.
    pub fn sign_in_page(mut self, prefix: &str, page: &str) -> Self {
        self = self.public_path(page);
        self.sign_in = Some((prefix.to_owned(), page.to_owned()));
        self
    }

    /// Serve `path` of the program's own routes without a caller: one exact
    /// path, or every path under a prefix ending in `/`. Only what a person
    /// needs before they have a credential (the gateway's sign-in form and
    /// its static files); Host and Origin are still checked. Fixed when the
    /// program is built.
    ///
    /// # Panics
    /// On `/mcp`, `/ready`, `/metrics` or a prefix of them (a programming
    /// error: those always need a caller).
    pub fn public_path(mut self, path: &str) -> Self {
        assert!(
            path.starts_with('/')
                && path.len() > 1
                && !["/mcp", "/ready", "/metrics"].iter().any(|p| p.starts_with(path) || path.starts_with(p)),
            "{path} cannot be public"
        );
        self.public.push(path.to_owned());
        self
    }

    /// Record this server's session callers in `sessions`, a handle the
    /// program keeps to tell them when its tool list changes (see
    /// [`Sessions`]).
    pub fn sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = sessions;
        self
    }

    /// Also serve the tools of `source`, listed and resolved per caller (see
    /// [`ToolSource`]).
    pub fn tool_source(mut self, source: Arc<dyn ToolSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Authenticate callers with `a` instead of the fleet token
    /// ([`crate::auth::FleetToken`], the default). Fixed for the life of the
    /// program; the guard runs it on every request but `/health`.
    pub fn authenticator(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(a);
        self
    }

    /// Register a tool.
    pub fn tool(mut self, tool: Tool<S>) -> Self {
        let handler = tool.bind(self.state.clone());
        self.entries.push(Entry { def: tool.def, handler });
        self
    }

    /// Register a tool only when `enabled`. A tool left out is neither listed
    /// nor callable: that is how read-only modes and allow-lists hide tools.
    pub fn tool_if(self, enabled: bool, tool: Tool<S>) -> Self {
        if enabled { self.tool(tool) } else { self }
    }

    /// Instructions sent to clients on initialize/discover.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Expose resources.
    pub fn resources(mut self, r: impl Resources) -> Self {
        self.resources = Some(Arc::new(r));
        self
    }

    /// Add a readiness check shown on `/ready`; it is handed the state.
    pub fn ready_check<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Arc<S>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        let state = self.state.clone();
        self.ready.push((name.to_owned(), Arc::new(move || Box::pin(f(state.clone())) as BoxFuture<'static, _>)));
        self
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    /// Finish. Tools are sorted by name so `tools/list` is deterministic.
    ///
    /// # Panics
    /// On a duplicate tool name (a programming error).
    pub fn build(mut self) -> Server {
        self.entries.sort_by(|a, b| a.def.name.cmp(&b.def.name));
        let mut index = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            assert!(index.insert(e.def.name.clone(), i).is_none(), "duplicate tool {}", e.def.name);
        }
        let listed = Arc::new(self.entries.iter().map(|e| to_rmcp_tool(&e.def)).collect());
        let metrics = Metrics::new(&self.name, &self.version);
        metrics.prime(&self.entries.iter().map(|e| e.def.name.as_str()).collect::<Vec<_>>());
        Server {
            inner: Arc::new(Inner {
                name: self.name,
                version: self.version,
                instructions: self.instructions,
                entries: self.entries,
                index,
                listed,
                resources: self.resources,
                ready: self.ready,
                metrics,
                authenticator: self.authenticator,
                source: self.source,
                sessions: self.sessions,
                public: self.public,
                sign_in: self.sign_in,
            }),
        }
    }
}

fn to_rmcp_tool(d: &ToolDef) -> m::Tool {
    let annotations = m::ToolAnnotations::new()
        .read_only(d.annotations.read_only)
        .destructive(d.annotations.destructive)
        .idempotent(d.annotations.idempotent)
        .open_world(d.annotations.open_world);
    let mut t =
        m::Tool::new(d.name.clone(), d.description.clone(), Arc::new(d.input_schema.clone())).annotate(annotations);
    if let Some(title) = &d.title {
        t = t.with_title(title.clone());
    }
    if let Some(o) = &d.output_schema {
        t = t.with_raw_output_schema(Arc::new(o.clone()));
    }
    t
}

/// Limits applied by the handler, from the core configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) call_timeout: Duration,
    pub(crate) max_output_bytes: usize,
}

/// The rmcp handler: one per request in stateless mode, one per session in
/// legacy mode. Cloning is two `Arc` bumps.
#[derive(Clone)]
pub(crate) struct McpHandler {
    pub(crate) server: Server,
    pub(crate) limits: Limits,
}

fn http_parts(ctx: &RequestContext<RoleServer>) -> Option<&http::request::Parts> {
    ctx.extensions.get::<http::request::Parts>()
}

/// The span for one request, named `{method} {tool}` and parented on the
/// caller's trace context.
fn request_span(server: &str, method: &str, tool: Option<&str>, ctx: &RequestContext<RoleServer>) -> tracing::Span {
    let parts = http_parts(ctx);
    let session = parts.and_then(|p| p.headers.get("mcp-session-id")).and_then(|v| v.to_str().ok()).unwrap_or("");
    let version = ctx.protocol_version().map(|v| v.to_string()).unwrap_or_default();
    let name = match tool {
        Some(t) => format!("{method} {t}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "mcp.request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        service = %server,
        "mcp.method.name" = %method,
        "gen_ai.tool.name" = tool.unwrap_or(""),
        "gen_ai.operation.name" = if tool.is_some() { "execute_tool" } else { "" },
        "jsonrpc.request.id" = %request_id(&ctx.id),
        "mcp.session.id" = %session,
        "mcp.protocol.version" = %version,
        "error.type" = tracing::field::Empty,
        "enduser.id" = tracing::field::Empty,
        "enduser.role" = tracing::field::Empty,
    );
    if let Some(c) = parts.and_then(|p| p.extensions.get::<Caller>()) {
        span.record("enduser.id", c.subject.as_str());
        span.record("enduser.role", c.role.as_str());
    }
    let meta = ctx.meta.get_traceparent();
    let state = ctx.meta.get("tracestate").and_then(Value::as_str);
    let parent = trace::parent_context(meta, state, parts.map(|p| &p.headers));
    let _ = span.set_parent(parent);
    span
}

/// The caller the guard put into the request, else anonymous (a request
/// that did not come through the guard: in-process use).
fn caller_of(ctx: &RequestContext<RoleServer>) -> Caller {
    http_parts(ctx).and_then(|p| p.extensions.get::<Caller>()).cloned().unwrap_or_else(Caller::anonymous)
}

fn request_id(id: &m::RequestId) -> String {
    match id {
        m::NumberOrString::Number(n) => n.to_string(),
        m::NumberOrString::String(s) => s.to_string(),
    }
}

impl McpHandler {
    async fn observed<T>(
        &self,
        method: &'static str,
        ctx: &RequestContext<RoleServer>,
        f: impl std::future::Future<Output = Result<T, McpError>>,
    ) -> Result<T, McpError> {
        let start = Instant::now();
        let _g = self.server.inner.metrics.in_flight();
        let span = request_span(&self.server.inner.name, method, None, ctx);
        let r = f.instrument(span.clone()).await;
        let outcome = if r.is_ok() { Outcome::Ok } else { Outcome::Error };
        if let Err(e) = &r {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", e.code.0.to_string().as_str());
        }
        self.server.inner.metrics.observe(method, "", outcome, start.elapsed().as_secs_f64());
        r
    }

    async fn call(
        &self,
        req: m::CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::CallToolResult, McpError> {
        let start = Instant::now();
        let inner = &self.server.inner;
        let _g = inner.metrics.in_flight();
        let entry = match inner.index.get(req.name.as_ref()) {
            Some(i) => Some((inner.entries[*i].def.clone(), inner.entries[*i].handler.clone())),
            None => match &inner.source {
                Some(source) => source.resolve(&caller_of(&ctx), req.name.as_ref()).await,
                None => None,
            },
        };
        let label = entry.as_ref().map_or("unknown".to_owned(), |(d, _)| d.name.clone());
        let label = label.as_str();
        let span = request_span(&inner.name, "tools/call", Some(label), &ctx);
        let Some((def, handler)) = entry else {
            let _e = span.enter();
            span.record("otel.status_code", "ERROR");
            span.record("error.type", "unknown_tool");
            tracing::warn!(requested = %truncate_str(&req.name, 80), "unknown tool");
            inner.metrics.observe("tools/call", "unknown", Outcome::Error, start.elapsed().as_secs_f64());
            return Err(McpError::invalid_params(
                format!(
                    "Unknown tool: {}. Call tools/list for the tools this server offers.",
                    truncate_str(&req.name, 80)
                ),
                None,
            ));
        };
        let trace_id = {
            let cx = span.context();
            let sc = cx.span().span_context().clone();
            sc.is_valid().then(|| sc.trace_id().to_string())
        };
        let timeout = def.timeout.unwrap_or(self.limits.call_timeout);
        let progress = ctx.meta.get_progress_token().map(|token| {
            let peer = ctx.peer.clone();
            Progress::new(Arc::new(move |progress, total, message| {
                let peer = peer.clone();
                let token = token.clone();
                Box::pin(async move {
                    let mut p = m::ProgressNotificationParam::new(token, progress);
                    if let Some(t) = total {
                        p = p.with_total(t);
                    }
                    if let Some(msg) = message {
                        p = p.with_message(msg);
                    }
                    let _ = peer.notify_progress(p).await;
                }) as BoxFuture<'static, ()>
            }))
        });
        let meta: JsonObject = ctx.meta.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let caller = http_parts(&ctx).and_then(|p| p.extensions.get::<Caller>()).cloned();
        let tctx = Ctx {
            caller,
            trace_id: trace_id.clone(),
            cancel: ctx.ct.child_token(),
            progress,
            deadline: Instant::now() + timeout,
            meta: Arc::new(meta),
            session: http_parts(&ctx)
                .and_then(|p| p.headers.get("mcp-session-id"))
                .and_then(|v| v.to_str().ok())
                .filter(|s| !s.is_empty())
                .map(Arc::from),
        };
        let cancel = tctx.cancel.clone();
        let args = Value::Object(req.arguments.unwrap_or_default());
        let fut = AssertUnwindSafe(handler(args, tctx)).catch_unwind();
        let name = def.name.clone();
        let max = self.limits.max_output_bytes;
        let run = async move {
            let (resp, outcome) = tokio::select! {
                r = tokio::time::timeout(timeout, fut) => match r {
                    Ok(Ok(resp)) => {
                        let o = if resp.is_error() { Outcome::ToolError } else { Outcome::Ok };
                        (resp, o)
                    }
                    Ok(Err(panic)) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        tracing::error!(panic = %what, "tool handler panicked; contained");
                        (ToolResponse::error(ErrorKind::Internal, format!(
                            "internal error in {name}; the details are in the server log{}. This is a server bug, not your arguments.",
                            trace_id.as_deref().map(|t| format!(" under trace_id {t}")).unwrap_or_default()
                        )), Outcome::Error)
                    }
                    Err(_) => {
                        cancel.cancel();
                        (ToolResponse::error(ErrorKind::TimedOut, format!(
                            "{name} timed out after {:.0} s. Ask for less (a narrower path, range or filter) or split the work into smaller calls.",
                            timeout.as_secs_f64()
                        )), Outcome::Timeout)
                    }
                },
                _ = ctx.ct.cancelled() => (ToolResponse::error(ErrorKind::Cancelled, format!("{name} was cancelled by the client")), Outcome::Cancelled),
            };
            let resp = cap_output(resp, max, &name);
            let elapsed = start.elapsed();
            let span = tracing::Span::current();
            if let Some(kind) = resp.error {
                span.record("otel.status_code", "ERROR");
                span.record("error.type", kind.as_str());
            }
            tracing::info!(tool = %name, outcome = outcome.label(), duration_ms = elapsed.as_secs_f64() * 1e3, "tool call finished");
            (resp, outcome, elapsed)
        };
        let (resp, outcome, elapsed) = run.instrument(span).await;
        inner.metrics.observe("tools/call", label, outcome, elapsed.as_secs_f64());
        Ok(to_rmcp_result(resp))
    }
}

/// Enforce the output cap. Text is cut at a character boundary with a marker
/// that says how much was dropped and how to get the rest; a structured
/// result too large to send whole becomes an error saying so, because a cut
/// JSON value would no longer match the tool's `outputSchema`.
pub(crate) fn cap_output(mut resp: ToolResponse, max: usize, tool: &str) -> ToolResponse {
    let total = resp.size();
    if total <= max {
        return resp;
    }
    if resp.structured.is_some() {
        return ToolResponse::error(
            ErrorKind::InvalidInput,
            format!(
                "{tool} produced {total} bytes, over this server's limit of {max} bytes per result. Nothing was \
             lost; ask for less: use the tool's offset/limit, range, depth or filter arguments to fetch the result in parts."
            ),
        );
    }
    let mut budget = max;
    for c in &mut resp.content {
        match c {
            Content::Text(t) if t.len() > budget => {
                let cut = floor_char_boundary(t, budget);
                let dropped = t.len() - cut;
                t.truncate(cut);
                t.push_str(&format!(
                    "\n[output truncated by the server: {dropped} more bytes not shown ({total} in all, limit {max}). \
                     Call {tool} again with a narrower range or an offset to read the rest.]"
                ));
                budget = 0;
            }
            Content::Text(t) => budget -= t.len(),
            other => {
                if other.len() > budget {
                    *other = Content::Text(format!(
                        "[binary content of {} bytes omitted: over the {max}-byte result limit]",
                        other.len()
                    ));
                    budget = 0;
                } else {
                    budget -= other.len();
                }
            }
        }
    }
    resp
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn truncate_str(s: &str, n: usize) -> String {
    let cut = floor_char_boundary(s, n);
    if cut < s.len() { format!("{}…", &s[..cut]) } else { s.to_owned() }
}

fn to_rmcp_result(r: ToolResponse) -> m::CallToolResult {
    let content: Vec<m::ContentBlock> = r
        .content
        .into_iter()
        .map(|c| match c {
            Content::Text(t) => m::ContentBlock::text(t),
            Content::Image { data, mime_type } => m::ContentBlock::image(data, mime_type),
            Content::Blob { uri, data, mime_type } => {
                m::ContentBlock::resource(m::ResourceContents::BlobResourceContents {
                    uri,
                    mime_type: Some(mime_type),
                    blob: data,
                    meta: None,
                })
            }
        })
        .collect();
    let mut out = match r.error {
        Some(kind) => {
            let mut out = m::CallToolResult::error(content);
            let mut meta = m::MetaObject::new();
            meta.0.insert(ErrorKind::META_KEY.to_owned(), Value::String(kind.as_str().to_owned()));
            out.meta = Some(meta);
            out
        }
        None => m::CallToolResult::success(content),
    };
    out.structured_content = r.structured;
    out
}

fn resource_error(e: ToolError) -> McpError {
    match e {
        ToolError::NotFound(m) => McpError::resource_not_found(m, None),
        ToolError::Invalid(m) | ToolError::Denied(m) => McpError::invalid_params(m, None),
        other => {
            tracing::error!(error = %other, "resource read failed");
            McpError::internal_error(other.to_string(), None)
        }
    }
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> m::ServerConfig {
        let inner = &self.server.inner;
        // A tool source's list changes while the server runs: say so, and
        // tell session callers when it does (`Sessions`).
        let caps = if inner.source.is_some() {
            m::ServerCapabilities::builder().enable_tools().enable_tool_list_changed()
        } else {
            m::ServerCapabilities::builder().enable_tools()
        };
        let caps = if inner.resources.is_some() { caps.enable_resources().build() } else { caps.build() };
        let mut info = m::ServerConfig::new(caps);
        info.server_info = m::Implementation::new(inner.name.clone(), inner.version.clone());
        info.instructions = inner.instructions.clone();
        info
    }

    async fn on_initialized(&self, ctx: rmcp::service::NotificationContext<RoleServer>) {
        // Only a server whose list can change needs to reach its sessions.
        if self.server.inner.source.is_some() {
            self.server.inner.sessions.add(ctx.peer);
        }
    }

    async fn list_tools(
        &self,
        request: Option<m::PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::ListToolsResult, McpError> {
        let listed = self.server.inner.listed.clone();
        let source = self.server.inner.source.clone();
        let caller = caller_of(&ctx);
        let server = self.server.clone();
        self.observed("tools/list", &ctx, async move {
            // Every tool fits on one page; a cursor can only come from a
            // confused client, and the protocol says to reject it.
            if request.and_then(|r| r.cursor).is_some() {
                return Err(McpError::invalid_params("invalid cursor: this server lists all tools on one page", None));
            }
            let mut tools = listed.as_ref().clone();
            if let Some(source) = source {
                let mut more: Vec<m::Tool> = source
                    .list(&caller)
                    .await
                    .iter()
                    .filter(|d| !server.inner.index.contains_key(&d.name))
                    .map(to_rmcp_tool)
                    .collect();
                more.sort_by(|a, b| a.name.cmp(&b.name));
                tools.extend(more);
            }
            Ok(m::ListToolsResult { tools, ..Default::default() })
        })
        .await
    }

    async fn call_tool(
        &self,
        request: m::CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::CallToolResponse, McpError> {
        self.call(request, ctx).await.map(m::CallToolResponse::from)
    }

    fn get_tool(&self, name: &str) -> Option<m::Tool> {
        let inner = &self.server.inner;
        inner.index.get(name).map(|i| inner.listed[*i].clone())
    }

    async fn list_resources(
        &self,
        request: Option<m::PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::ListResourcesResult, McpError> {
        let res = self.server.inner.resources.clone();
        let caller = caller_of(&ctx);
        self.observed("resources/list", &ctx, async move {
            let Some(res) = res else { return Ok(m::ListResourcesResult::default()) };
            let (items, next) = res.list_for(&caller, request.and_then(|r| r.cursor)).await.map_err(resource_error)?;
            let resources = items
                .into_iter()
                .map(|i| {
                    let mut x = m::Resource::new(i.uri, i.name);
                    if let Some(d) = i.description {
                        x = x.with_description(d);
                    }
                    if let Some(mt) = i.mime_type {
                        x = x.with_mime_type(mt);
                    }
                    if let Some(s) = i.size {
                        x = x.with_size(s);
                    }
                    x
                })
                .collect();
            Ok(m::ListResourcesResult { resources, next_cursor: next, ..Default::default() })
        })
        .await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<m::PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::ListResourceTemplatesResult, McpError> {
        let res = self.server.inner.resources.clone();
        let caller = caller_of(&ctx);
        self.observed("resources/templates/list", &ctx, async move {
            let mut resource_templates = Vec::new();
            if let Some(res) = res {
                resource_templates = res
                    .templates_for(&caller)
                    .into_iter()
                    .map(|t| {
                        let mut x = m::ResourceTemplate::new(t.uri_template, t.name);
                        if let Some(d) = t.description {
                            x = x.with_description(d);
                        }
                        if let Some(mt) = t.mime_type {
                            x = x.with_mime_type(mt);
                        }
                        x
                    })
                    .collect();
            }
            Ok(m::ListResourceTemplatesResult { resource_templates, ..Default::default() })
        })
        .await
    }

    async fn read_resource(
        &self,
        request: m::ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<m::ReadResourceResponse, McpError> {
        let res = self.server.inner.resources.clone();
        let max = self.limits.max_output_bytes;
        let caller = caller_of(&ctx);
        self.observed("resources/read", &ctx, async move {
            let Some(res) = res else {
                return Err(McpError::resource_not_found(format!("no resource {}", request.uri), None));
            };
            let bodies = res.read_for(&caller, request.uri.clone()).await.map_err(resource_error)?;
            let size: usize = bodies
                .iter()
                .map(|b| match b {
                    ResourceBody::Text { text, .. } => text.len(),
                    ResourceBody::Blob { bytes, .. } => bytes.len() * 4 / 3,
                })
                .sum();
            if size > max {
                return Err(McpError::invalid_params(
                    format!(
                        "{} is {size} bytes, over the {max}-byte limit; read it in parts with the read_file tool",
                        request.uri
                    ),
                    None,
                ));
            }
            let contents = bodies
                .into_iter()
                .map(|b| match b {
                    ResourceBody::Text { uri, mime_type, text } => {
                        m::ResourceContents::TextResourceContents { uri, mime_type, text, meta: None }
                    }
                    ResourceBody::Blob { uri, mime_type, bytes } => {
                        use base64::Engine as _;
                        m::ResourceContents::BlobResourceContents {
                            uri,
                            mime_type,
                            blob: base64::engine::general_purpose::STANDARD.encode(bytes),
                            meta: None,
                        }
                    }
                })
                .collect();
            Ok(m::ReadResourceResponse::from(m::ReadResourceResult::new(contents)))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_truncates_text_visibly() {
        let r = cap_output(ToolResponse::text("é".repeat(100)), 51, "read_file");
        let Content::Text(t) = &r.content[0] else { panic!() };
        assert!(t.starts_with(&"é".repeat(25)));
        assert!(t.contains("output truncated"), "{t}");
        assert!(t.contains("read_file"));
        assert!(!r.is_error());
    }

    #[test]
    fn cap_refuses_oversized_structured_output() {
        let mut r = ToolResponse::text("x".repeat(10));
        r.structured = Some(serde_json::json!({"data": "y".repeat(100)}));
        let r = cap_output(r, 50, "t");
        assert!(r.is_error());
    }

    #[test]
    fn small_output_untouched() {
        let r = ToolResponse::text("hello");
        assert_eq!(cap_output(r.clone(), 100, "t"), r);
    }
}
