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

use crate::error::ErrorKind;
use crate::resource::{ResourceBody, ResourceInfo, ResourcePage, ResourceTemplateInfo};
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
    /// Why the call gave no result, as data: unreachable or an open breaker
    /// is `unavailable`, a timeout `timed_out`, and a JSON-RPC error the kind
    /// its code means (invalid params or request: `invalid_input`; unknown
    /// method: `not_found`; anything else: `internal`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::CircuitOpen(_) | Self::Transport { .. } => ErrorKind::Unavailable,
            Self::Timeout { .. } => ErrorKind::TimedOut,
            Self::Protocol { code, .. } => match *code {
                -32700 | -32600 | -32602 => ErrorKind::InvalidInput,
                -32601 => ErrorKind::NotFound,
                _ => ErrorKind::Internal,
            },
        }
    }

    /// Worth calling again later: the server could not be reached, the call
    /// timed out, or the breaker is open. A JSON-RPC error is the server's
    /// answer, and the same request gets the same answer.
    pub fn is_transient(&self) -> bool {
        self.kind().is_transient()
    }
}

/// A tool's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// `Some(kind)` for an `isError` result: the kind from its `_meta`
    /// ([`ErrorKind::META_KEY`]), or [`ErrorKind::Failed`] when a server
    /// outside the fleet sent none.
    pub error: Option<ErrorKind>,
    /// All text blocks joined with newlines.
    pub text: String,
    /// `structuredContent`.
    pub structured: Option<Value>,
    /// The raw content blocks.
    pub content: Vec<Value>,
}

impl CallResult {
    /// A successful result.
    pub fn ok(text: impl Into<String>, structured: Option<Value>) -> Self {
        Self { error: None, text: text.into(), structured, content: Vec::new() }
    }

    /// An error result of `kind`.
    pub fn err(kind: ErrorKind, text: impl Into<String>) -> Self {
        Self { error: Some(kind), text: text.into(), structured: None, content: Vec::new() }
    }

    /// `isError`.
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }

    /// The error's kind, `None` on success.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error
    }

    /// A tool error worth retrying later (its kind is transient: a
    /// dependency was unavailable, time ran out, too many calls). Refusals,
    /// invalid arguments and failures are not.
    pub fn is_transient_error(&self) -> bool {
        self.error.is_some_and(ErrorKind::is_transient)
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
        Backoff::new(self.opts.base_backoff, self.opts.max_backoff).delay(attempt)
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

    /// The server's name and version as it announced them when this client
    /// connected (connecting first if needed).
    pub async fn server_info(&self) -> Result<Option<(String, String)>, ClientError> {
        let svc = self.service().await?;
        Ok(svc.peer_info().and_then(|i| i.server_info.as_ref().map(|s| (s.name.clone(), s.version.clone()))))
    }

    /// `resources/list`, one page from `cursor`.
    pub async fn list_resources(&self, cursor: Option<String>) -> Result<ResourcePage, ClientError> {
        let span = client_span("resources/list", None, &self.opts.url);
        async {
            let svc = self.service().await?;
            let params = cursor.map(|c| m::PaginatedRequestParams::default().with_cursor(Some(c)));
            let r = match svc.list_resources(params).await {
                Ok(r) => r,
                Err(e) => {
                    self.drop_service().await;
                    return Err(self.map_err(e));
                }
            };
            let items = r
                .resources
                .into_iter()
                .map(|x| ResourceInfo {
                    uri: x.uri.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    mime_type: x.mime_type.clone(),
                    size: x.size,
                })
                .collect();
            Ok((items, r.next_cursor))
        }
        .instrument(span)
        .await
    }

    /// `resources/templates/list`, every page.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplateInfo>, ClientError> {
        let span = client_span("resources/templates/list", None, &self.opts.url);
        async {
            let svc = self.service().await?;
            let r = match svc.list_all_resource_templates().await {
                Ok(r) => r,
                Err(e) => {
                    self.drop_service().await;
                    return Err(self.map_err(e));
                }
            };
            Ok(r.into_iter()
                .map(|t| ResourceTemplateInfo {
                    uri_template: t.uri_template.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    mime_type: t.mime_type.clone(),
                })
                .collect())
        }
        .instrument(span)
        .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<Vec<ResourceBody>, ClientError> {
        use base64::Engine as _;
        let span = client_span("resources/read", None, &self.opts.url);
        async {
            let svc = self.service().await?;
            let params: m::ReadResourceRequestParams = serde_json::from_value(serde_json::json!({ "uri": uri }))
                .map_err(|e| ClientError::Protocol { code: -32602, message: e.to_string() })?;
            let r = match svc.read_resource(params).await {
                Ok(r) => r,
                Err(e) => {
                    if !matches!(e, ServiceError::McpError(_) | ServiceError::Timeout { .. }) {
                        self.drop_service().await;
                    }
                    return Err(self.map_err(e));
                }
            };
            r.contents
                .into_iter()
                .map(|c| match c {
                    m::ResourceContents::TextResourceContents { uri, mime_type, text, .. } => {
                        Ok(ResourceBody::Text { uri, mime_type, text })
                    }
                    m::ResourceContents::BlobResourceContents { uri, mime_type, blob, .. } => {
                        let bytes = base64::engine::general_purpose::STANDARD.decode(blob.as_bytes()).map_err(|e| {
                            ClientError::Protocol { code: -32603, message: format!("blob of {uri}: {e}") }
                        })?;
                        Ok(ResourceBody::Blob { uri, mime_type, bytes })
                    }
                    other => Err(ClientError::Protocol {
                        code: -32603,
                        message: format!("a resource content this client does not know: {other:?}"),
                    }),
                })
                .collect()
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
            let error = r.is_error.unwrap_or(false).then(|| {
                r.meta
                    .as_ref()
                    .and_then(|m| m.0.get(ErrorKind::META_KEY))
                    .and_then(Value::as_str)
                    .and_then(ErrorKind::parse)
                    .unwrap_or(ErrorKind::Failed)
            });
            if let Some(kind) = error {
                let span = tracing::Span::current();
                span.record("otel.status_code", "ERROR");
                span.record("error.type", kind.as_str());
            }
            Ok(CallResult { error, text, structured: r.structured_content, content })
        };
        fut.instrument(span).await
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[0, min(max, base * 2^n))`. Spreading retries over the whole window keeps
/// many clients that failed together from retrying together. The fleet's
/// one backoff: the client's transport retries, the planner's step retries
/// and the agent's intake loop all use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first window.
    pub base: Duration,
    /// The largest window.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `base` up to `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The window of attempt `attempt` (0-based), before jitter.
    pub fn window(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1u32 << attempt.min(16)).min(self.max)
    }

    /// How long to wait before attempt `attempt`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.window(attempt).mul_f64(rand::random::<f64>())
    }
}

/// A failed call to a [`Peer`]: why (as data) and what happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PeerError {
    /// The kind: the tool's own (from `_meta`) or the transport's.
    pub kind: ErrorKind,
    /// `"<peer> <tool>: <what happened>"`.
    pub message: String,
}

impl PeerError {
    /// Worth calling again later.
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

/// One fleet program a client talks to, by a short name for messages
/// (`fs`, `planner`): a tool's result as a value, or a [`PeerError`] that
/// carries its kind. The planner's and the agent's peers are this type.
#[derive(Clone)]
pub struct Peer {
    name: String,
    client: McpClient,
}

impl Peer {
    /// A peer named `name` at `url`, calling as `client_name` with `token`,
    /// each call limited to `timeout`.
    pub fn new(
        name: &str,
        url: &str,
        token: Option<String>,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let client = McpClient::new(ClientOptions::new(url).token(token).name(client_name).call_timeout(timeout))?;
        Ok(Self { name: name.to_owned(), client })
    }

    /// The short name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying client.
    pub fn client(&self) -> &McpClient {
        &self.client
    }

    /// Call `tool`: its `structuredContent` (or `{"text": ...}`).
    pub async fn call(&self, tool: &str, args: Value) -> Result<Value, PeerError> {
        let r = self
            .client
            .call(tool, args)
            .await
            .map_err(|e| PeerError { kind: e.kind(), message: format!("{} {tool}: {e}", self.name) })?;
        match r.error {
            Some(kind) => Err(PeerError { kind, message: format!("{} {tool}: {}", self.name, r.text) }),
            None => Ok(r.into_value()),
        }
    }

    /// Call `tool` and keep its whole result — the content blocks too (an
    /// image a screenshot answers with) — with an error result as the error.
    pub async fn call_full(&self, tool: &str, args: Value) -> Result<CallResult, PeerError> {
        let r = self
            .client
            .call(tool, args)
            .await
            .map_err(|e| PeerError { kind: e.kind(), message: format!("{} {tool}: {e}", self.name) })?;
        match r.error {
            Some(kind) => Err(PeerError { kind, message: format!("{} {tool}: {}", self.name, r.text) }),
            None => Ok(r),
        }
    }

    /// Call `tool` and read its result as `T` (a contract type): a result
    /// that does not match is an `internal` error naming the tool, because
    /// it means the two programs disagree about the contract.
    pub async fn call_as<T: serde::de::DeserializeOwned>(&self, tool: &str, args: Value) -> Result<T, PeerError> {
        let v = self.call(tool, args).await?;
        serde_json::from_value(v).map_err(|e| PeerError {
            kind: ErrorKind::Internal,
            message: format!("{} {tool}: the result does not match the expected shape: {e}", self.name),
        })
    }

    /// The names of the tools the peer lists.
    pub async fn tool_names(&self) -> Result<Vec<String>, PeerError> {
        let tools = self
            .client
            .list_tools()
            .await
            .map_err(|e| PeerError { kind: e.kind(), message: format!("{} tools/list: {e}", self.name) })?;
        Ok(tools.into_iter().map(|t| t.name).collect())
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
        "error.type" = tracing::field::Empty,
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
        CallResult::err(e.kind(), e.to_string())
    }

    #[test]
    fn only_unavailable_timeouts_and_rate_limits_are_worth_retrying() {
        assert!(failed(ToolError::Unavailable("db down".into())).is_transient_error());
        assert!(failed(ToolError::Timeout("60 s".into())).is_transient_error());
        assert!(failed(ToolError::RateLimited("10/s".into())).is_transient_error());
        for e in [ToolError::invalid("x"), ToolError::denied("x"), ToolError::failed("exit 1")] {
            assert!(!failed(e).is_transient_error());
        }
        // The kind decides, not the text: a failure whose message happens to
        // start like a transient one is still a failure.
        assert!(!CallResult::err(ErrorKind::Failed, "unavailable: looks transient").is_transient_error());
        assert!(!ClientError::Protocol { code: -32602, message: "x".into() }.is_transient());
        assert!(ClientError::Timeout { target: "t".into(), secs: 1.0 }.is_transient());
        assert_eq!(ClientError::Timeout { target: "t".into(), secs: 1.0 }.kind(), ErrorKind::TimedOut);
        let text_only = CallResult::ok("hi", None);
        assert_eq!(text_only.into_value(), serde_json::json!({"text": "hi"}));
    }

    #[test]
    fn backoff_windows_double_up_to_the_cap_and_jitter_stays_inside() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(b.window(0), Duration::from_millis(100));
        assert_eq!(b.window(2), Duration::from_millis(400));
        assert_eq!(b.window(10), Duration::from_millis(1000));
        assert_eq!(b.window(u32::MAX), Duration::from_millis(1000));
        for attempt in 0..20 {
            assert!(b.delay(attempt) <= b.window(attempt));
        }
    }
}
