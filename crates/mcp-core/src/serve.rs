//! Serving: one axum router with `/mcp`, `/health`, `/ready` and `/metrics`,
//! the guards in front of it, and graceful shutdown.
//!
//! rmcp's `StreamableHttpService` handles both protocol styles on `/mcp`:
//! 2026-07-28 requests (per-request `_meta`, no session) are served statelessly,
//! and the 2025-11-25 `initialize` handshake opens a session. In front of it a
//! middleware applies, in order: the `Host` allow-list, the `Origin` allow-list,
//! the bearer token, the body limit, and JSON well-formedness, so a malformed
//! body gets JSON-RPC `-32700` instead of rmcp's plain-text 415. rmcp's own
//! host check is switched off because ours runs first with the configured list.

use crate::auth::{Authenticator, FleetToken};
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use http_body_util::BodyExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigErrors, CoreConfig, EXIT_CONFIG, ProcessEnv, Reader};
use crate::security::{self, Rejection};
use crate::server::{Limits, McpHandler, Server};
use crate::trace::{self, TelemetryOptions};

#[derive(Clone)]
struct AppState {
    server: Server,
    authenticator: Arc<dyn Authenticator>,
    allowed_hosts: Arc<[String]>,
    allowed_origins: Arc<[String]>,
    max_body: usize,
    draining: Arc<AtomicBool>,
    public: Arc<[String]>,
    sign_in: Option<Arc<(String, String)>>,
}

/// Handles returned with a router, to drive shutdown from outside.
#[derive(Clone)]
pub struct Control {
    /// Cancels rmcp's sessions and streams.
    pub mcp_cancel: CancellationToken,
    draining: Arc<AtomicBool>,
}

impl Control {
    /// Mark the server as draining: `/ready` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

/// Build the router for `server` under `core`'s security settings. Programs
/// that add their own HTTP routes (the observer's OTLP ingest, the gateway's
/// REST API) merge them into this router and get the same guards by wrapping
/// them with [`guard`].
pub fn router(server: Server, core: &CoreConfig) -> (Router, Control) {
    let mcp_cancel = CancellationToken::new();
    let draining = Arc::new(AtomicBool::new(false));
    let state = AppState {
        server: server.clone(),
        authenticator: authenticator_of(&server, core),
        allowed_hosts: core.allowed_hosts.clone().into(),
        allowed_origins: core.allowed_origins.clone().into(),
        max_body: core.max_body_bytes,
        draining: draining.clone(),
        public: server.public_paths().into(),
        sign_in: server.sign_in().map(Arc::new),
    };
    let limits = Limits { call_timeout: core.call_timeout, max_output_bytes: core.max_output_bytes };
    let handler = McpHandler { server: server.clone(), limits };
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(Vec::<String>::new())
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_json_response(true)
        .with_max_request_body_bytes(core.max_body_bytes)
        .with_cancellation_token(mcp_cancel.child_token());
    let mcp = StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), config);

    let guarded = Router::new()
        .nest_service("/mcp", mcp)
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), guard_mw));
    let router = Router::new()
        .route("/health", get(health))
        .merge(guarded)
        .fallback(|| async { (StatusCode::NOT_FOUND, axum::Json(json!({"error": "not found"}))) })
        .with_state(state);
    (router, Control { mcp_cancel, draining })
}

/// Wrap extra routes with the same Host/Origin/token guards as `/mcp`.
pub fn guard(routes: Router, server: &Server, core: &CoreConfig) -> Router {
    let state = AppState {
        server: server.clone(),
        authenticator: authenticator_of(server, core),
        allowed_hosts: core.allowed_hosts.clone().into(),
        allowed_origins: core.allowed_origins.clone().into(),
        max_body: core.max_body_bytes,
        draining: Arc::new(AtomicBool::new(false)),
        public: server.public_paths().into(),
        sign_in: server.sign_in().map(Arc::new),
    };
    routes.layer(middleware::from_fn_with_state(state, guard_mw))
}

/// The program's authenticator, else the fleet token of `core`.
fn authenticator_of(server: &Server, core: &CoreConfig) -> Arc<dyn Authenticator> {
    server.authenticator().unwrap_or_else(|| Arc::new(FleetToken::new(core.auth_token.as_deref())))
}

fn reject(state: &AppState, r: Rejection) -> Response {
    state.server.metrics().reject(r.label());
    match r {
        Rejection::MissingToken => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="mcp""#))],
            axum::Json(json!({"error": "missing bearer token: send Authorization: Bearer <token>"})),
        )
            .into_response(),
        Rejection::WrongToken => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="mcp", error="invalid_token""#))],
            axum::Json(json!({"error": "invalid bearer token"})),
        )
            .into_response(),
        Rejection::Host => {
            (StatusCode::FORBIDDEN, axum::Json(json!({"error": "Host header is not allowed (MCP_ALLOWED_HOSTS)"})))
                .into_response()
        }
        Rejection::Origin => {
            (StatusCode::FORBIDDEN, axum::Json(json!({"error": "Origin is not allowed (MCP_ALLOWED_ORIGINS)"})))
                .into_response()
        }
    }
}

/// 429 for a caller over its budget: `Retry-After` in whole seconds (at
/// least 1), the IETF `RateLimit`/`RateLimit-Policy` headers, and a body in
/// the route's language (a JSON-RPC error on `/mcp`, a problem elsewhere).
fn throttled(state: &AppState, t: crate::auth::Throttled, is_mcp: bool) -> Response {
    state.server.metrics().reject("rate_limited");
    let secs = t.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let message = format!("rate limit: {} requests per {} s; retry after {secs} s", t.limit, t.window_secs);
    let body = if is_mcp {
        json!({"jsonrpc": "2.0", "id": Value::Null, "error": {"code": -32029, "message": message,
            "data": {"errorKind": "rate_limited", "retryAfterSeconds": secs}}})
    } else {
        json!({"type": "about:blank", "title": "Too Many Requests", "status": 429, "detail": message,
            "kind": "rate_limited"})
    };
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    if !is_mcp {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    }
    let set = |h: &mut http::HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, "retry-after", secs.to_string());
    set(h, "ratelimit-policy", format!("\"default\";q={};w={}", t.limit, t.window_secs));
    set(h, "ratelimit", format!("\"default\";r=0;t={secs}"));
    resp
}

fn jsonrpc_error(
    state: &AppState,
    status: StatusCode,
    reason: &str,
    id: Value,
    code: i32,
    message: String,
) -> Response {
    state.server.metrics().reject(reason);
    (status, axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})))
        .into_response()
}

/// The fields of a JSON-RPC message this layer needs, borrowed from the body.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    params: Option<PeekParams>,
}

/// The parameters rmcp needs to route a request. When they are missing rmcp
/// treats the request as an unknown custom method (-32601); the protocol
/// wants invalid params (-32602), so this layer checks them first.
#[derive(Deserialize)]
struct PeekParams {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    uri: Option<Value>,
}

fn missing_param(p: &Peek<'_>) -> Option<&'static str> {
    let has = |f: fn(&PeekParams) -> &Option<Value>| {
        p.params.as_ref().is_some_and(|x| f(x).as_ref().is_some_and(Value::is_string))
    };
    match p.method.as_deref() {
        Some("tools/call") if !has(|x| &x.name) => Some("tools/call needs params.name, the tool's name as a string"),
        Some("prompts/get") if !has(|x| &x.name) => Some("prompts/get needs params.name as a string"),
        Some("resources/read") if !has(|x| &x.uri) => Some("resources/read needs params.uri as a string"),
        _ => None,
    }
}

async fn guard_mw(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Err(r) = security::check_host(req.headers(), &state.allowed_hosts) {
        return reject(&state, r);
    }
    if let Err(r) = security::check_origin(req.headers(), &state.allowed_origins) {
        return reject(&state, r);
    }
    // A program's public paths (the gateway's sign-in form and the static
    // files it needs) pass without a caller; nothing else does.
    let path = req.uri().path();
    if state
        .public
        .iter()
        .any(|p| path == p.trim_end_matches('/') || (p.ends_with('/') && path.starts_with(p.as_str())))
    {
        return next.run(req).await;
    }
    match state.authenticator.authenticate(req.headers()) {
        Ok(caller) => {
            if let Err(t) = state.authenticator.admit(&caller) {
                let is_mcp = req.method() == http::Method::POST && req.uri().path().starts_with("/mcp");
                return throttled(&state, t, is_mcp);
            }
            state.server.metrics().caller(caller.role.as_str());
            req.extensions_mut().insert(caller);
        }
        Err(r) => {
            if let Some(sign_in) = &state.sign_in
                && req.method() == http::Method::GET
                && req.uri().path().starts_with(sign_in.0.as_str())
                && req
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("text/html"))
            {
                state.server.metrics().reject(Rejection::from(r).label());
                return (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, HeaderValue::from_str(&sign_in.1).unwrap_or(HeaderValue::from_static("/")))],
                )
                    .into_response();
            }
            return reject(&state, r.into());
        }
    }
    if req.method() != http::Method::POST || !req.uri().path().starts_with("/mcp") {
        return next.run(req).await;
    }

    let (parts, body) = req.into_parts();
    let declared =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        state.server.metrics().reject("body_too_large");
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(json!({"error": format!("request body exceeds {} bytes (MCP_MAX_BODY_BYTES)", state.max_body)})),
        )
            .into_response()
    };
    if declared.is_some_and(|n| n > state.max_body) {
        return too_large();
    }
    let bytes = match http_body_util::Limited::new(body, state.max_body).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return too_large(),
    };
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|e| e.trim().eq_ignore_ascii_case("application/json")));

    let mut id = Value::Null;
    let mut method_known = false;
    if is_json {
        // One pass in the common case: deserialising `Peek` walks (and so
        // validates) the whole document, skipping fields it does not keep.
        match serde_json::from_slice::<Peek<'_>>(&bytes) {
            Ok(p) => {
                if let Some(what) = missing_param(&p) {
                    let id = p.id.unwrap_or(Value::Null);
                    return jsonrpc_error(
                        &state,
                        StatusCode::OK,
                        "invalid_request",
                        id,
                        -32602,
                        format!("Invalid params: {what}"),
                    );
                }
                id = p.id.unwrap_or(Value::Null);
                method_known = p.method.is_some();
            }
            Err(_) => {
                if let Err(e) = serde_json::from_slice::<IgnoredAny>(&bytes) {
                    return jsonrpc_error(
                        &state,
                        StatusCode::BAD_REQUEST,
                        "parse",
                        Value::Null,
                        -32700,
                        format!("Parse error: {e}"),
                    );
                }
                let what = if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                    "Invalid Request: JSON-RPC batches are not supported; send one message per request"
                } else {
                    "Invalid Request: the body must be a JSON-RPC 2.0 message object"
                };
                return jsonrpc_error(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    Value::Null,
                    -32600,
                    what.into(),
                );
            }
        }
    }
    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    // rmcp answers a well-formed JSON body that is not a valid MCP message with
    // a plain-text 415; turn it into the JSON-RPC error the protocol asks for.
    if is_json && resp.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        let detail = match resp.into_body().collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
            Err(_) => String::new(),
        };
        let detail = detail.trim_start_matches("fail to deserialize request body ").to_owned();
        let (code, msg) = if method_known && !id.is_null() {
            (-32602, format!("Invalid params: {detail}"))
        } else {
            (-32600, format!("Invalid Request: {detail}"))
        };
        return jsonrpc_error(&state, StatusCode::BAD_REQUEST, "invalid_request", id, code, msg);
    }
    resp
}

async fn health(State(state): State<AppState>) -> Response {
    axum::Json(json!({
        "status": "ok",
        "service": state.server.name(),
        "version": state.server.inner.version,
    }))
    .into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "draining", "checks": []})))
            .into_response();
    }
    let checks = futures::future::join_all(state.server.inner.ready.iter().map(|(name, f)| {
        let f = f.clone();
        async move {
            let r = tokio::time::timeout(Duration::from_secs(3), f()).await;
            let (ok, detail) = match r {
                Ok(Ok(d)) => (true, d),
                Ok(Err(d)) => (false, d),
                Err(_) => (false, "check timed out after 3 s".to_owned()),
            };
            json!({"name": name, "ok": ok, "detail": detail})
        }
    }))
    .await;
    let mut checks = checks;
    if let Some(s) = SELF_SANDBOX.get() {
        checks.push(json!({"name": "sandbox", "ok": s.ok, "detail": s.detail}));
    }
    let all_ok = checks.iter().all(|c| c["ok"] == true);
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        axum::Json(json!({
            "status": if all_ok { "ready" } else { "not_ready" },
            "service": state.server.name(),
            "checks": checks,
        })),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        state.server.metrics().render(),
    )
        .into_response()
}

/// Serve `router` on `listener` until `shutdown` resolves, then drain: stop
/// accepting, mark not-ready, let in-flight calls finish within `grace`, and
/// close remaining streams.
pub async fn serve_router(
    router: Router,
    control: Control,
    server: Server,
    listener: TcpListener,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = CancellationToken::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            stop.cancel();
        });
    }
    {
        let stop = stop.clone();
        let control = control.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            control.start_draining();
            tracing::info!(in_flight = server.metrics().in_flight_now(), "shutting down: draining in-flight calls");
            let deadline = tokio::time::Instant::now() + grace;
            while server.metrics().in_flight_now() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Sessions' standalone streams never end on their own.
            control.mcp_cancel.cancel();
        });
    }
    // Nagle plus delayed ACK costs ~40 ms per SSE answer; see docs/benchmarks.md.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let serve = axum::serve(listener, router).with_graceful_shutdown(stop.clone().cancelled_owned());
    let hard_stop = async {
        stop.cancelled().await;
        tokio::time::sleep(grace + Duration::from_secs(2)).await;
    };
    tokio::select! {
        r = serve => r,
        _ = hard_stop => {
            tracing::warn!("shutdown grace expired; closing remaining connections");
            Ok(())
        }
    }
}

/// Serve `server` on `listener` until `shutdown` resolves.
pub async fn serve(
    server: Server,
    core: &CoreConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, control) = router(server.clone(), core);
    serve_router(router, control, server, listener, core.shutdown_grace, shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Why a program could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is wrong (exit 64).
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// Anything else (exit 1).
    #[error("{0}")]
    Other(#[from] Box<dyn std::error::Error + Send + Sync>),
}

impl StartError {
    /// A configuration error with one message.
    pub fn config(msg: impl Into<String>) -> Self {
        Self::Config(ConfigErrors(vec![msg.into()]))
    }
    /// Any other start-up failure.
    pub fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Other(e.into())
    }
}

/// What a program's `start` returns: the server, and optionally routes of its
/// own (guarded like `/mcp`) and a background task that runs until shutdown.
pub struct Program {
    /// The MCP server.
    pub server: Server,
    /// Extra HTTP routes, guarded like `/mcp`.
    pub routes: Option<Router>,
    /// Background work (the agent's intake loop, say), cancelled at shutdown.
    pub background: Option<futures::future::BoxFuture<'static, ()>>,
}

impl From<Server> for Program {
    fn from(server: Server) -> Self {
        Self { server, routes: None, background: None }
    }
}

/// The whole life of a program, for a few-line `main`: read the shared and
/// the program's own configuration (every error at once, exit 64), start
/// telemetry, build the program, serve until SIGTERM, drain, flush spans.
pub fn run<C, F, Fut>(name: &str, read: fn(&mut Reader<'_>) -> C, start: F) -> ExitCode
where
    F: FnOnce(C, CoreConfig) -> Fut,
    Fut: Future<Output = Result<Program, StartError>>,
{
    run_inner(name, read, None, start)
}

/// [`run`] for a program that confines itself with Landlock before it
/// starts: `confine` turns its configuration into what the whole process may
/// touch for the rest of its life (its roots, its data directory), or `None`
/// when the operator switched that off. The ruleset is entered on the main
/// thread before the async runtime exists, so every thread inherits it
/// (Landlock restricts the calling thread and its future children only).
///
/// A machine without Landlock does not stop the program, but its `/ready`
/// fails a `sandbox` check naming the missing mechanism and the switch, and
/// it says so on standard error and in its log: never a silent downgrade.
#[cfg(feature = "sandbox")]
pub fn run_confined<C, F, Fut>(
    name: &str,
    read: fn(&mut Reader<'_>) -> C,
    confine: fn(&C) -> Result<Option<crate::sandbox::Confinement>, String>,
    start: F,
) -> ExitCode
where
    F: FnOnce(C, CoreConfig) -> Fut,
    Fut: Future<Output = Result<Program, StartError>>,
{
    let confine = move |c: &C| -> Result<(), String> {
        let outcome = match confine(c)? {
            None => SelfSandbox { ok: true, detail: "off (switched off by the operator)".to_owned() },
            Some(conf) => match crate::sandbox::confine_self(&conf) {
                Ok(_) => SelfSandbox { ok: true, detail: conf.describe_self() },
                Err(crate::sandbox::SandboxError::Unavailable(why)) => SelfSandbox {
                    ok: false,
                    detail: format!(
                        "this process is not confined: {why}; set the program's *_SANDBOX=off to accept that"
                    ),
                },
                Err(e) => return Err(format!("cannot confine this process: {e}")),
            },
        };
        let _ = SELF_SANDBOX.set(outcome);
        Ok(())
    };
    run_inner(name, read, Some(&confine), start)
}

/// How a self-confining program's start-up went (see [`run_confined`]);
/// `/ready` reports it as its `sandbox` check.
#[derive(Debug, Clone)]
struct SelfSandbox {
    ok: bool,
    detail: String,
}

static SELF_SANDBOX: std::sync::OnceLock<SelfSandbox> = std::sync::OnceLock::new();

type Confine<'a, C> = &'a dyn Fn(&C) -> Result<(), String>;

fn run_inner<C, F, Fut>(
    name: &str,
    read: fn(&mut Reader<'_>) -> C,
    confine: Option<Confine<'_, C>>,
    start: F,
) -> ExitCode
where
    F: FnOnce(C, CoreConfig) -> Fut,
    Fut: Future<Output = Result<Program, StartError>>,
{
    let env = ProcessEnv;
    if std::env::args().nth(1).as_deref() == Some("--health") {
        return health_probe();
    }
    // Before anything reads a secret: from here on no process of the same
    // user (the jobs a program runs included) can read this one's environment
    // or memory through /proc or ptrace.
    if let Err(e) = crate::security::non_dumpable() {
        eprintln!("{name}: cannot make the process non-dumpable (PR_SET_DUMPABLE): {e}");
        return ExitCode::FAILURE;
    }
    let mut r = Reader::new(&env);
    let core = CoreConfig::read(name, &mut r);
    let own = read(&mut r);
    if let Err(e) = r.finish() {
        eprintln!("{name}: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    // Still one thread: a ruleset entered now holds for every thread the
    // runtime starts.
    if let Some(confine) = confine {
        if let Err(e) = confine(&own) {
            eprintln!("{name}: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
        if let Some(s) = SELF_SANDBOX.get().filter(|s| !s.ok) {
            eprintln!("{name}: WARNING: {}", s.detail);
        }
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = core.worker_threads {
        builder.worker_threads(n);
    }
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        crate::install_crypto_provider();
        let telemetry = match trace::init(TelemetryOptions {
            service_name: core.service_name.clone(),
            format: core.log_format,
            filter: core.log_filter.clone(),
            otlp_endpoint: core.otlp_endpoint.clone(),
            otlp_token: core.peer_token.clone(),
            writer: None,
            ship: core
                .log_endpoint
                .clone()
                .map(|endpoint| crate::ship::ShipOptions { endpoint, token: core.peer_token.clone() }),
        }) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        let program = match start(own, core.clone()).await {
            Ok(p) => p,
            Err(StartError::Config(e)) => {
                tracing::error!(error = %e, "invalid configuration");
                eprintln!("{name}: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let listener = match TcpListener::bind(core.listen).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(addr = %core.listen, error = %e, "cannot bind");
                eprintln!("{name}: cannot bind {}: {e}", core.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr: SocketAddr = listener.local_addr().unwrap_or(core.listen);
        tracing::info!(%addr, version = %program.server.inner.version, tools = program.server.tools().len(), auth = core.auth_token.is_some(), "listening");
        match SELF_SANDBOX.get() {
            Some(s) if s.ok => tracing::info!(sandbox = %s.detail, "self-confined"),
            Some(s) => tracing::error!(sandbox = %s.detail, "not confined: /ready fails until this is fixed or switched off"),
            None => {}
        }
        let result = serve_program(program, &core, listener, shutdown_signal()).await;
        telemetry.shutdown();
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{name}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `PROGRAM --health`: ask the running program's `/health` on its listen
/// address and exit 0 when it answers 200. Images use it as their
/// `HEALTHCHECK`, so they need no curl or shell. Plain HTTP/1.0 over std,
/// with a 2-second budget: it must work when the runtime could not.
fn health_probe() -> ExitCode {
    use std::io::{Read, Write};
    let addr: SocketAddr = std::env::var(crate::config::MCP_LISTEN_ADDR)
        .ok()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    // A wildcard bind is reached on loopback.
    let target = if addr.ip().is_unspecified() {
        SocketAddr::new(
            if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
            addr.port(),
        )
    } else {
        addr
    };
    let t = Duration::from_secs(2);
    let answer = (|| -> std::io::Result<String> {
        let mut c = std::net::TcpStream::connect_timeout(&target, t)?;
        c.set_read_timeout(Some(t))?;
        c.set_write_timeout(Some(t))?;
        c.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut buf = Vec::new();
        c.take(4096).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    })();
    match answer {
        Ok(a) if a.starts_with("HTTP/1.1 200") || a.starts_with("HTTP/1.0 200") => ExitCode::SUCCESS,
        Ok(a) => {
            eprintln!("unhealthy: {}", a.lines().next().unwrap_or(""));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {target}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serve a [`Program`]: its router plus extra routes, its background task
/// cancelled at shutdown.
pub async fn serve_program(
    program: Program,
    core: &CoreConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Program { server, routes, background } = program;
    let (mut router, control) = router(server.clone(), core);
    if let Some(extra) = routes {
        router = router.merge(guard(extra, &server, core));
    }
    let stop = CancellationToken::new();
    let bg = background.map(|bg| {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! { _ = bg => {}, _ = stop.cancelled() => {} }
        })
    });
    let stop2 = stop.clone();
    let r = serve_router(router, control, server, listener, core.shutdown_grace, async move {
        shutdown.await;
        stop2.cancel();
    })
    .await;
    stop.cancel();
    if let Some(bg) = bg {
        let _ = bg.await;
    }
    r
}
