//! An HTTP-level MCP client for tests: builds exactly the requests a test
//! asks for, in either protocol style, and returns status, headers and body.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

/// The protocol revision of stateless requests.
pub const STATELESS: &str = "2026-07-28";
/// The protocol revision of session requests.
pub const LEGACY: &str = "2025-11-25";

/// A raw response.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The JSON-RPC message (the last `data:` event of an SSE answer), or the JSON body.
    pub body: Value,
    /// The body as text.
    pub text: String,
    /// Every JSON-RPC message of an SSE answer, in order.
    pub events: Vec<Value>,
}

impl Reply {
    /// `result` of the JSON-RPC answer.
    pub fn result(&self) -> &Value {
        &self.body["result"]
    }
    /// `error` of the JSON-RPC answer.
    pub fn error(&self) -> &Value {
        &self.body["error"]
    }
}

/// The `structuredContent` of a successful tool call; fails the test otherwise.
pub fn ok(r: &Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.result()["isError"], false, "expected success: {}", r.text);
    &r.result()["structuredContent"]
}

/// The message of a tool error (`isError: true`); fails the test otherwise.
pub fn err(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.result()["isError"], true, "expected a tool error: {}", r.text);
    r.result()["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

/// The client.
#[derive(Clone)]
pub struct RawClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    session: Option<String>,
}

impl RawClient {
    /// A client for `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str, token: Option<String>) -> Self {
        mcp_core::install_crypto_provider();
        Self { base: base.trim_end_matches('/').to_owned(), token, http: reqwest::Client::new(), session: None }
    }

    /// The same client with another token (or none).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        let mut c = self.clone();
        c.token = token.map(str::to_owned);
        c
    }

    /// GET a path (`/health`).
    pub async fn get(&self, path: &str) -> Reply {
        let mut rb = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        read(rb.send().await.expect("GET")).await
    }

    /// POST raw bytes to `/mcp` with the standard Accept/Content-Type and extra headers.
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> Reply {
        let mut rb = self
            .http
            .post(format!("{}/mcp", self.base))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            rb = rb.header("mcp-session-id", s);
        }
        for (k, v) in headers {
            rb = rb.header(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        read(rb.send().await.expect("POST")).await
    }

    /// A stateless (2026-07-28) request with the required `_meta`, headers and
    /// any extra `_meta` entries.
    pub async fn request(&self, method: &str, mut params: Value, extra_meta: Value, headers: &[(&str, &str)]) -> Reply {
        let mut meta = json!({
            "io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        if let (Some(m), Some(e)) = (meta.as_object_mut(), extra_meta.as_object()) {
            for (k, v) in e {
                m.insert(k.clone(), v.clone());
            }
        }
        if !params.is_object() {
            params = json!({});
        }
        params["_meta"] = meta;
        // `Mcp-Name` carries the tool or prompt name, or the resource URI.
        let name = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str).map(str::to_owned);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut h: Vec<(&str, &str)> = vec![("mcp-protocol-version", STATELESS), ("mcp-method", method)];
        if let Some(n) = name.as_deref() {
            h.push(("mcp-name", n));
        }
        h.extend_from_slice(headers);
        self.post_raw(serde_json::to_vec(&body).expect("json"), &h).await
    }

    /// A stateless `tools/call`.
    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.request("tools/call", json!({"name": tool, "arguments": args}), json!({}), &[]).await
    }

    /// A stateless `tools/list`.
    pub async fn list_tools(&self) -> Reply {
        self.request("tools/list", json!({}), json!({}), &[]).await
    }

    /// Open a 2025-11-25 session (`initialize` + `initialized`); later calls
    /// of this client carry the session id.
    pub async fn open_session(&mut self) -> Reply {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "mcp-test", "version": "1"}}});
        let r = self.post_raw(serde_json::to_vec(&init).expect("json"), &[]).await;
        self.session = r.headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let _ = self.post_raw(serde_json::to_vec(&note).expect("json"), &[("mcp-protocol-version", LEGACY)]).await;
        r
    }

    /// A request inside the open session.
    pub async fn session_request(&self, id: u64, method: &str, params: Value) -> Reply {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.post_raw(serde_json::to_vec(&body).expect("json"), &[("mcp-protocol-version", LEGACY)]).await
    }
}

async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let sse =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
    let events: Vec<Value> = if sse {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect()
    } else {
        Vec::new()
    };
    let body = if sse {
        events
            .iter()
            .rev()
            .find(|e| e.get("result").is_some() || e.get("error").is_some())
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Reply { status, headers, body, text, events }
}
