//! Integration tests of `mcp-server-browser` with Debian's real Chromium
//! against local axum sites on ephemeral loopback ports: two ports are two
//! origins, one allowed and one not, and the disallowed site counts every
//! request it receives, so each hostile case proves that nothing reached it.
//!
//! These tests run as root in the project's containers, where Chromium's
//! sandbox cannot start: they set `BROWSER_NO_SANDBOX` explicitly (the
//! server never drops the sandbox by itself).

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod actions;
mod compliance;
mod hostile;
mod lifecycle;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use mcp_server_browser::{Browsers, Config, server_with_state};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::Value;

pub use mcp_test::raw::{err, ok};

/// A local web site on an ephemeral port that counts the requests it got.
pub struct Site {
    pub port: u16,
    pub hits: Arc<AtomicUsize>,
    pub paths: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Site {
    pub async fn start(router: Router) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (h, p) = (hits.clone(), paths.clone());
        let router = router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let (h, p) = (h.clone(), p.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    p.lock().unwrap().push(req.uri().to_string());
                    next.run(req).await
                }
            },
        ));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(l, router).await;
        });
        Self { port, hits, paths }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

pub fn html(body: String) -> Response {
    Html(body).into_response()
}

/// The disallowed site: answers everything with a small page.
pub async fn evil() -> Site {
    Site::start(Router::new().fallback(|| async { html("<title>evil</title><p>evil".into()) })).await
}

/// A browser server allowing exactly `origin`, with `evaluate` and `pdf`
/// enabled and its own data directory.
pub struct Env {
    pub server: TestServer,
    pub state: Arc<Browsers>,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start(origin: &str) -> Self {
        Self::with(origin, |_| {}).await
    }

    pub async fn with(origin: &str, f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::for_tests(origin, dir.path().join("data"), true).unwrap();
        c.enable_evaluate = true;
        c.enable_pdf = true;
        f(&mut c);
        let (s, state) = server_with_state(c).unwrap();
        let server = TestServer::start(s).await;
        Self { server, state, dir }
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_eq!(r.result()["isError"], false, "{tool} {args}: {}", r.text);
        r.result()["structuredContent"].clone()
    }

    /// A call that must fail with `kind`; its message.
    pub async fn fails(&self, tool: &str, args: Value, kind: &str) -> String {
        let r = self.call(tool, args.clone()).await;
        let m = err(&r);
        assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], kind, "{tool} {args}: {}", r.text);
        m
    }

    /// The snapshot text.
    pub async fn snapshot(&self) -> String {
        self.ok("browser_snapshot", serde_json::json!({})).await["snapshot"].as_str().unwrap().to_owned()
    }

    /// No chromiumoxide handler error so far: a Chromium whose protocol
    /// messages chromiumoxide cannot decode fails here, loudly.
    pub fn assert_no_protocol_errors(&self) {
        let n = self.state.handler_errors.count.load(Ordering::Relaxed);
        let last = self.state.handler_errors.last.lock().unwrap().clone();
        assert_eq!(n, 0, "{n} chromiumoxide handler error(s), DevTools messages lost; the last: {last:?}");
    }
}

/// The ref of the first snapshot line containing `needle`.
pub fn ref_of(snapshot: &str, needle: &str) -> String {
    let line =
        snapshot.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in:\n{snapshot}"));
    let i = line.find("[ref=").unwrap();
    line[i + 5..].split(']').next().unwrap().to_owned()
}

/// Wait a little for stray requests (popups, frames) to arrive, if any would.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}
