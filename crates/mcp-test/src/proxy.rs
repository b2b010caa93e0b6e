//! A reverse proxy that breaks one thing about the server behind it. Used to
//! prove that each compliance check fails when its behaviour is broken: a
//! check that cannot fail proves nothing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

/// One defect the proxy introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// `/health` answers 500.
    HealthDown,
    /// `/ready` lists no dependency checks.
    ReadyWithoutChecks,
    /// `/metrics` lacks `mcp_build_info`.
    MetricsMissingSeries,
    /// `/metrics` is frozen at its first answer.
    MetricsFrozen,
    /// `tools/list` loses the tools' annotations.
    ToolsWithoutAnnotations,
    /// `_meta.traceparent` is dropped before the server sees it.
    DropTraceMeta,
    /// The `traceparent` header is dropped before the server sees it.
    DropTraceHeader,
    /// Every request gets the right token: auth is effectively off.
    NoAuth,
    /// The `Origin` header is dropped: Origin checking is effectively off.
    NoOriginCheck,
    /// A JSON-RPC parse error comes back as plain-text 415, as rmcp alone does.
    ParseErrorAs415,
    /// An unknown tool's JSON-RPC error becomes an empty success.
    UnknownToolAsResult,
    /// Stateless 2026-07-28 requests are refused.
    NoStateless,
    /// The 2025-11-25 handshake is refused.
    NoLegacy,
}

#[derive(Clone)]
struct ProxyState {
    target: String,
    token: Option<String>,
    defect: Defect,
    http: reqwest::Client,
    frozen: Arc<Mutex<Option<String>>>,
}

/// A running proxy.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Start a proxy in front of `target` (`http://host:port`) with `defect`.
    /// `token` is the server's token, used by [`Defect::NoAuth`].
    pub async fn start(target: &str, token: Option<String>, defect: Defect) -> Self {
        let state = ProxyState {
            target: target.trim_end_matches('/').to_owned(),
            token,
            defect,
            http: reqwest::Client::new(),
            frozen: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    Response::builder().status(status).body(Body::from(body.to_owned())).unwrap_or_default()
}

async fn forward(State(s): State<ProxyState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else { return text(StatusCode::BAD_REQUEST, "body") };
    let mut headers = parts.headers.clone();
    let mut body: Bytes = body;
    let d = s.defect;

    if d == Defect::HealthDown && path == "/health" {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "down");
    }
    if d == Defect::NoAuth
        && let Some(t) = &s.token
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer {t}"))
    {
        headers.insert("authorization", v);
    }
    if d == Defect::NoOriginCheck {
        headers.remove("origin");
    }
    if d == Defect::DropTraceHeader {
        headers.remove("traceparent");
    }
    let msg: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(mut m) = msg.clone() {
        if d == Defect::DropTraceMeta
            && let Some(meta) = m.pointer_mut("/params/_meta").and_then(Value::as_object_mut)
        {
            meta.remove("traceparent");
            body = Bytes::from(serde_json::to_vec(&m).unwrap_or_default());
        }
        let stateless = m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion").is_some();
        if d == Defect::NoStateless && stateless {
            return text(StatusCode::BAD_REQUEST, "no stateless here");
        }
        if d == Defect::NoLegacy && m["method"] == "initialize" {
            return text(StatusCode::BAD_REQUEST, "no sessions here");
        }
    }

    let mut rb = s.http.request(parts.method.clone(), format!("{}{path}", s.target)).body(body);
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    let Ok(resp) = rb.send().await else { return text(StatusCode::BAD_GATEWAY, "upstream") };
    let status = resp.status();
    let rheaders: HeaderMap = resp.headers().clone();
    let mut rbody = resp.bytes().await.unwrap_or_default().to_vec();

    if parts.method == Method::GET && path == "/ready" && d == Defect::ReadyWithoutChecks {
        rbody = serde_json::to_vec(&json!({"status": "ready"})).unwrap_or_default();
    }
    if parts.method == Method::GET && path == "/metrics" {
        let t = String::from_utf8_lossy(&rbody).into_owned();
        if d == Defect::MetricsMissingSeries {
            rbody = t.lines().filter(|l| !l.contains("mcp_build_info")).collect::<Vec<_>>().join("\n").into_bytes();
        }
        if d == Defect::MetricsFrozen
            && let Ok(mut f) = s.frozen.lock()
        {
            rbody = f.get_or_insert(t).clone().into_bytes();
        }
    }
    if path.starts_with("/mcp") {
        let is_sse = rheaders.get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let rewrite = |v: &mut Value| {
            if d == Defect::ToolsWithoutAnnotations
                && let Some(tools) = v.pointer_mut("/result/tools").and_then(Value::as_array_mut)
            {
                for t in tools {
                    if let Some(o) = t.as_object_mut() {
                        o.remove("annotations");
                    }
                }
            }
            if d == Defect::UnknownToolAsResult
                && v.get("error").is_some()
                && msg.as_ref().is_some_and(|m| m["method"] == "tools/call")
            {
                let id = v["id"].clone();
                *v = json!({"jsonrpc": "2.0", "id": id, "result": {"content": []}});
            }
        };
        if d == Defect::ParseErrorAs415
            && status == StatusCode::BAD_REQUEST
            && String::from_utf8_lossy(&rbody).contains("-32700")
        {
            return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "fail to deserialize request body");
        }
        if is_sse {
            let t = String::from_utf8_lossy(&rbody).into_owned();
            let out: Vec<String> = t
                .lines()
                .map(|l| {
                    match l.strip_prefix("data:").map(str::trim).and_then(|d| serde_json::from_str::<Value>(d).ok()) {
                        Some(mut v) => {
                            rewrite(&mut v);
                            format!("data: {v}")
                        }
                        None => l.to_owned(),
                    }
                })
                .collect();
            rbody = (out.join("\n") + "\n").into_bytes();
        } else if let Ok(mut v) = serde_json::from_slice::<Value>(&rbody) {
            rewrite(&mut v);
            rbody = serde_json::to_vec(&v).unwrap_or_default();
        }
    }
    let mut b = Response::builder().status(status);
    for (k, v) in &rheaders {
        if k != "content-length" && k != "transfer-encoding" {
            b = b.header(k, v);
        }
    }
    b.body(Body::from(rbody)).unwrap_or_default()
}
