//! The MCP client every client program (and any server-to-server call) uses.
//!
//! Built on rmcp's Streamable HTTP client in the 2026-07-28 `server/discover`
//! lifecycle, so there is no session to lose when a server restarts. Around it:
//!
//! - **Trace context** in both carriers: each call opens a client span whose
//!   context goes into `params._meta.traceparent`, and [`TracingHttp`] copies
//!   that value into the HTTP `traceparent` header of the same POST.
//! - **Retries** with exponential backoff and full jitter, only for failures
//!   where the request cannot have run or a proxy says so: connection refused
//!   or reset before a response, HTTP 502/503/504. A tool's `isError` result
//!   and every JSON-RPC error are answers, never retried.
//! - **A circuit breaker per target**: after `breaker_threshold` consecutive
//!   transient failures calls fail fast for `breaker_cooldown`, then one trial
//!   call decides whether to close it again.
//! - **Timeouts**: a connect timeout on the HTTP client and a whole-call timeout.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use rmcp::model as m;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpClientTransport, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::trace::{self, OpenTelemetrySpanExt};

/// Options for one target server.
#[derive(Clone)]
pub struct ClientOptions {
    /// The server's `/mcp` URL.
    pub url: String,
    /// Bearer token for the server, if it requires one.
    pub auth_token: Option<String>,
    /// Our name in `clientInfo` and spans.
    pub client_name: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-call timeout (a tool's own work included).
    pub call_timeout: Duration,
    /// Attempts for a transient failure, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt up to `max_backoff`.
    pub base_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// Consecutive transient failures that open the breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker fails fast.
    pub breaker_cooldown: Duration,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.url)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<redacted>"))
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth_token: None,
            client_name: "mcp-client".into(),
            connect_timeout: Duration::from_secs(3),
            call_timeout: Duration::from_secs(120),
            max_attempts: 4,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(3),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(10),
        }
    }
    /// With a bearer token.
    pub fn token(mut self, token: Option<String>) -> Self {
        self.auth_token = token;
        self
    }
    /// With a client name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }
    /// With a call timeout.
    pub fn call_timeout(mut self, t: Duration) -> Self {
        self.call_timeout = t;
        self
    }
}

/// Client failures. None of them is a tool's `isError`, which is a normal result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The breaker for this target is open after repeated failures.
    #[error("circuit open for {0}: the server failed repeatedly; not calling it until the cooldown ends")]
    CircuitOpen(String),
    /// The server could not be reached or the connection broke.
    #[error("transport error talking to {target}: {message}")]
    Transport {
        /// Target URL.
        target: String,
        /// What happened.
        message: String,
    },
    /// The server answered with a JSON-RPC error.
    #[error("server error {code}: {message}")]
    Protocol {
        /// JSON-RPC error code.
        code: i32,
        /// Message.
        message: String,
    },
    /// The call took longer than its timeout; it may or may not have run.
    #[error("call to {target} timed out after {secs:.1} s (it may still have run)")]
    Timeout {
        /// Target URL.
        target: String,
        /// Seconds waited.
        secs: f64,
    },
}

impl ClientError {
    /// Worth calling again later: the server could not be reached, the call
    /// timed out, or the breaker is open. A JSON-RPC error is the server's
    /// answer, and the same request gets the same answer.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Protocol { .. })
    }
}

/// A tool's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// `isError`.
    pub is_error: bool,
    /// All text blocks joined with newlines.
    pub text: String,
    /// `structuredContent`.
    pub structured: Option<Value>,
    /// The raw content blocks.
    pub content: Vec<Value>,
}

impl CallResult {
    /// A tool error worth retrying later: the server said a dependency was
    /// unavailable or the operation timed out ([`crate::ToolError::Unavailable`],
    /// [`crate::ToolError::Timeout`], whose messages start so). Refusals,
    /// invalid arguments and failures are not.
    pub fn is_transient_error(&self) -> bool {
        self.is_error && (self.text.starts_with("unavailable:") || self.text.starts_with("timed out:"))
    }

    /// The result as one value: `structuredContent`, or `{"text": ...}` for a
    /// tool that answers in text only.
    pub fn into_value(self) -> Value {
        self.structured.unwrap_or_else(|| serde_json::json!({ "text": self.text }))
    }
}

/// A listed tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The whole tool object as JSON (schemas, annotations).
    pub raw: Value,
}

/// One progress notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    /// Progress so far.
    pub progress: f64,
    /// Total, when known.
    pub total: Option<f64>,
    /// A message.
    pub message: Option<String>,
}

const CIRCUIT_OPEN: &str = "circuit open";

#[derive(Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
}

/// The HTTP layer under rmcp: copies `_meta.traceparent` into the header,
/// retries transient failures, and keeps the breaker.
#[derive(Clone)]
pub struct TracingHttp {
    inner: reqwest::Client,
    opts: Arc<ClientOptions>,
    breaker: Arc<Mutex<BreakerState>>,
}

impl TracingHttp {
    fn allow(&self) -> bool {
        let Ok(mut b) = self.breaker.lock() else { return true };
        match b.open_until {
            Some(t) if Instant::now() < t => false,
            Some(_) => {
                // Half-open: let this call through as the trial.
                b.open_until = None;
                b.failures = self.opts.breaker_threshold.saturating_sub(1);
                true
            }
            None => true,
        }
    }

    fn record(&self, transient_failure: bool) {
        let Ok(mut b) = self.breaker.lock() else { return };
        if transient_failure {
            b.failures += 1;
            if b.failures >= self.opts.breaker_threshold {
                b.open_until = Some(Instant::now() + self.opts.breaker_cooldown);
                tracing::warn!(target_url = %self.opts.url, "circuit breaker opened");
            }
        } else {
            b.failures = 0;
            b.open_until = None;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.opts.base_backoff.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.opts.max_backoff);
        // Full jitter: spreads retries of many clients over the window.
        cap.mul_f64(rand::random::<f64>())
    }
}

fn is_transient(e: &StreamableHttpError<reqwest::Error>) -> bool {
    match e {
        StreamableHttpError::Client(r) => r.is_connect() || (r.is_request() && !r.is_timeout() && r.status().is_none()),
        StreamableHttpError::HttpStatus(s) => matches!(s.status, 502..=504),
        _ => false,
    }
}

impl StreamableHttpClient for TracingHttp {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: m::ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        mut custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        if let m::ClientJsonRpcMessage::Request(req) = &message {
            use rmcp::model::GetMeta;
            let meta = req.request.get_meta();
            if let Some(tp) = meta.get_traceparent().and_then(|v| HeaderValue::from_str(v).ok()) {
                custom_headers.insert(HeaderName::from_static(trace::TRACEPARENT), tp);
            }
            if let Some(ts) =
                meta.get(trace::TRACESTATE).and_then(Value::as_str).and_then(|v| HeaderValue::from_str(v).ok())
            {
                custom_headers.insert(HeaderName::from_static(trace::TRACESTATE), ts);
            }
        }
        if !self.allow() {
            return Err(StreamableHttpError::UnexpectedServerResponse(
                format!("{CIRCUIT_OPEN} for {}", self.opts.url).into(),
            ));
        }
        let mut attempt = 0;
        loop {
            let r = self
                .inner
                .post_message(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    auth_header.clone(),
                    custom_headers.clone(),
                )
                .await;
            match r {
                Err(e) if is_transient(&e) => {
                    self.record(true);
                    attempt += 1;
                    if attempt >= self.opts.max_attempts || !self.allow() {
                        return Err(e);
                    }
                    let wait = self.backoff(attempt);
                    tracing::debug!(target_url = %self.opts.url, attempt, error = %e, wait_ms = wait.as_millis() as u64, "transient failure; retrying");
                    tokio::time::sleep(wait).await;
                }
                other => {
                    self.record(false);
                    return other;
                }
            }
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        self.inner.delete_session(uri, session_id, auth_header, custom_headers).await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<
        futures::stream::BoxStream<'static, Result<sse_stream::Sse, sse_stream::Error>>,
        StreamableHttpError<Self::Error>,
    > {
        self.inner.get_stream(uri, session_id, last_event_id, auth_header, custom_headers).await
    }
}

/// Progress routing state: live sinks by token, and notifications that
/// arrived before their call registered (a fast server can report progress
/// before `send_request` has returned the token to us).
#[derive(Default)]
struct Routes {
    sinks: HashMap<String, mpsc::UnboundedSender<ProgressEvent>>,
    early: VecDeque<(String, ProgressEvent)>,
}

/// Routes progress notifications to the call that asked for them.
#[derive(Clone)]
struct Handler {
    routes: Arc<Mutex<Routes>>,
    name: String,
}

impl Handler {
    fn register(&self, key: String, tx: mpsc::UnboundedSender<ProgressEvent>) {
        let Ok(mut r) = self.routes.lock() else { return };
        let early: Vec<ProgressEvent> = {
            let (mine, rest): (Vec<_>, Vec<_>) = r.early.drain(..).partition(|(k, _)| *k == key);
            r.early = rest.into();
            mine.into_iter().map(|(_, e)| e).collect()
        };
        for e in early {
            let _ = tx.send(e);
        }
        r.sinks.insert(key, tx);
    }

    fn unregister(&self, key: &str) {
        if let Ok(mut r) = self.routes.lock() {
            r.sinks.remove(key);
        }
    }
}

impl ClientHandler for Handler {
    fn get_info(&self) -> m::ClientConfig {
        m::ClientConfig::new(
            m::ClientCapabilities::default(),
            m::Implementation::new(self.name.clone(), env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(&self, params: m::ProgressNotificationParam, _ctx: NotificationContext<RoleClient>) {
        let key = token_key(&params.progress_token);
        let event = ProgressEvent { progress: params.progress, total: params.total, message: params.message };
        if let Ok(mut r) = self.routes.lock() {
            match r.sinks.get(&key) {
                Some(tx) => {
                    let _ = tx.send(event);
                }
                None => {
                    r.early.push_back((key, event));
                    while r.early.len() > 256 {
                        r.early.pop_front();
                    }
                }
            }
        }
    }
}

fn token_key(t: &m::ProgressToken) -> String {
    match &t.0 {
        m::NumberOrString::Number(n) => n.to_string(),
        m::NumberOrString::String(s) => s.to_string(),
    }
}

type Service = RunningService<RoleClient, Handler>;

/// A client for one server. Cheap to clone; connects lazily and reconnects
/// after a broken transport.
#[derive(Clone)]
pub struct McpClient {
    opts: Arc<ClientOptions>,
    http: TracingHttp,
    handler: Handler,
    service: Arc<tokio::sync::Mutex<Option<Arc<Service>>>>,
}

impl McpClient {
    /// A client for `opts.url`.
    pub fn new(opts: ClientOptions) -> Result<Self, ClientError> {
        crate::install_crypto_provider();
        let inner = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Transport { target: opts.url.clone(), message: e.to_string() })?;
        let opts = Arc::new(opts);
        Ok(Self {
            http: TracingHttp { inner, opts: opts.clone(), breaker: Arc::default() },
            handler: Handler { routes: Arc::default(), name: opts.client_name.clone() },
            service: Arc::default(),
            opts,
        })
    }

    /// The target URL.
    pub fn url(&self) -> &str {
        &self.opts.url
    }

    async fn service(&self) -> Result<Arc<Service>, ClientError> {
        let mut guard = self.service.lock().await;
        if let Some(s) = guard.as_ref()
            && !s.is_closed()
        {
            return Ok(s.clone());
        }
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.opts.url.clone());
        if let Some(t) = &self.opts.auth_token {
            config = config.auth_header(t.clone());
        }
        let http = self.http.clone();
        let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![m::ProtocolVersion::V_2026_07_28] };
        // Connect on a task of its own, outside the caller's span: rmcp's
        // connection spans live as long as the connection, and as children of
        // the first call's span they would keep it open (and unexported) for
        // the life of the client.
        let handler = self.handler.clone();
        let connect = tokio::spawn(async move {
            let transport = StreamableHttpClientTransport::with_client(http, config);
            handler.serve_with_lifecycle(transport, lifecycle).await
        });
        let svc = tokio::time::timeout(self.opts.call_timeout, connect)
            .await
            .map_err(|_| ClientError::Timeout {
                target: self.opts.url.clone(),
                secs: self.opts.call_timeout.as_secs_f64(),
            })?
            .map_err(|e| self.transport_error(e.to_string()))?
            .map_err(|e| self.transport_error(e.to_string()))?;
        let svc = Arc::new(svc);
        *guard = Some(svc.clone());
        Ok(svc)
    }

    async fn drop_service(&self) {
        *self.service.lock().await = None;
    }

    fn map_err(&self, e: ServiceError) -> ClientError {
        match e {
            ServiceError::McpError(e) => ClientError::Protocol { code: e.code.0, message: e.message.to_string() },
            ServiceError::Timeout { timeout } => {
                ClientError::Timeout { target: self.opts.url.clone(), secs: timeout.as_secs_f64() }
            }
            other => self.transport_error(other.to_string()),
        }
    }

    /// rmcp flattens transport errors into strings; the breaker's refusal is
    /// recognised by the marker [`TracingHttp`] puts in it.
    fn transport_error(&self, message: String) -> ClientError {
        if message.contains(CIRCUIT_OPEN) {
            ClientError::CircuitOpen(self.opts.url.clone())
        } else {
            ClientError::Transport { target: self.opts.url.clone(), message }
        }
    }

    /// `tools/list`, every page.
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, ClientError> {
        let span = client_span("tools/list", None, &self.opts.url);
        async {
            let svc = self.service().await?;
            let tools = match svc.list_all_tools().await {
                Ok(t) => t,
                Err(e) => {
                    self.drop_service().await;
                    return Err(self.map_err(e));
                }
            };
            Ok(tools
                .into_iter()
                .map(|t| ToolInfo {
                    name: t.name.to_string(),
                    description: t.description.as_deref().unwrap_or_default().to_owned(),
                    raw: serde_json::to_value(&t).unwrap_or(Value::Null),
                })
                .collect())
        }
        .instrument(span)
        .await
    }

    /// Call `tool` with `args` (a JSON object).
    pub async fn call(&self, tool: &str, args: Value) -> Result<CallResult, ClientError> {
        self.call_inner(tool, args, None).await
    }

    /// Call `tool`, receiving its progress notifications on `progress`.
    pub async fn call_with_progress(
        &self,
        tool: &str,
        args: Value,
        progress: mpsc::UnboundedSender<ProgressEvent>,
    ) -> Result<CallResult, ClientError> {
        self.call_inner(tool, args, Some(progress)).await
    }

    async fn call_inner(
        &self,
        tool: &str,
        args: Value,
        progress: Option<mpsc::UnboundedSender<ProgressEvent>>,
    ) -> Result<CallResult, ClientError> {
        let span = client_span("tools/call", Some(tool), &self.opts.url);
        let arguments: Map<String, Value> = match args {
            Value::Object(o) => o,
            Value::Null => Map::new(),
            other => {
                let mut o = Map::new();
                o.insert("value".into(), other);
                o
            }
        };
        let fut = async {
            let svc = self.service().await?;
            let mut params = m::CallToolRequestParams::new(tool.to_owned());
            params.arguments = Some(arguments);
            // rmcp keeps request `_meta` in the request's extensions and merges
            // `options.meta` into it when sending, after its own lifecycle keys.
            let mut meta = m::RequestMetaObject::default();
            for (k, v) in trace::current_carrier() {
                meta.insert(k, Value::String(v));
            }
            let request = m::ClientRequest::CallToolRequest(m::CallToolRequest::new(params));
            let mut options = m_options(self.opts.call_timeout);
            options.meta = Some(meta);
            let handle = match svc.send_request_with_option(request, options).await {
                Ok(h) => h,
                Err(e) => {
                    self.drop_service().await;
                    return Err(self.map_err(e));
                }
            };
            // rmcp gives every request its own progress token; route that one.
            let key = token_key(&handle.progress_token);
            if let Some(tx) = &progress {
                self.handler.register(key.clone(), tx.clone());
            }
            let r = handle.await_response().await;
            self.handler.unregister(&key);
            let r = match r {
                Ok(m::ServerResult::CallToolResult(r)) => r,
                Ok(_) => {
                    return Err(ClientError::Protocol {
                        code: -32603,
                        message: "unexpected response type to tools/call".into(),
                    });
                }
                Err(e) => {
                    if !matches!(e, ServiceError::McpError(_) | ServiceError::Timeout { .. }) {
                        self.drop_service().await;
                    }
                    return Err(self.map_err(e));
                }
            };
            let content: Vec<Value> = r.content.iter().filter_map(|c| serde_json::to_value(c).ok()).collect();
            let text =
                content.iter().filter_map(|c| c.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n");
            let is_error = r.is_error.unwrap_or(false);
            if is_error {
                tracing::Span::current().record("otel.status_code", "ERROR");
            }
            Ok(CallResult { is_error, text, structured: r.structured_content, content })
        };
        fut.instrument(span).await
    }
}

fn m_options(timeout: Duration) -> rmcp::service::PeerRequestOptions {
    let mut o = rmcp::service::PeerRequestOptions::no_options();
    o.timeout = Some(timeout);
    o
}

fn client_span(method: &str, tool: Option<&str>, url: &str) -> tracing::Span {
    let name = match tool {
        Some(t) => format!("{method} {t}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "mcp.client",
        otel.name = %name,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        "mcp.method.name" = %method,
        "gen_ai.tool.name" = tool.unwrap_or(""),
        "server.address" = %url,
    );
    // Parent on the caller's current span explicitly: tracing does it for
    // tracing spans, and this makes it hold for a context set by hand too.
    let _ = span.set_parent(tracing::Span::current().context());
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ToolError;

    fn failed(e: ToolError) -> CallResult {
        CallResult { is_error: true, text: e.to_string(), structured: None, content: Vec::new() }
    }

    #[test]
    fn only_unavailable_and_timeouts_are_worth_retrying() {
        assert!(failed(ToolError::Unavailable("db down".into())).is_transient_error());
        assert!(failed(ToolError::Timeout("60 s".into())).is_transient_error());
        for e in [ToolError::invalid("x"), ToolError::denied("x"), ToolError::failed("exit 1")] {
            assert!(!failed(e).is_transient_error());
        }
        assert!(!ClientError::Protocol { code: -32602, message: "x".into() }.is_transient());
        assert!(ClientError::Timeout { target: "t".into(), secs: 1.0 }.is_transient());
        let text_only = CallResult { is_error: false, text: "hi".into(), structured: None, content: Vec::new() };
        assert_eq!(text_only.into_value(), serde_json::json!({"text": "hi"}));
    }
}
