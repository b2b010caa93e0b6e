//! Integration tests of `mcp-client-observer`: the compliance check and the
//! golden `tools/list`, OTLP ingest on both backends, the queries and the
//! project audit, the cross-service trace through real processes, the
//! monitoring configuration (promtool, a real Prometheus, every dashboard
//! query against real PostgreSQL and Prometheus), the monitor script, and the
//! ingest throughput figures.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod compliance;
mod cross;
mod dashboards;
mod ingest;
mod monitor_script;
mod otlp;
mod prometheus;
mod queries;
mod throughput;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mcp_client_observer::{Config, NAME, Observer};
use mcp_core::CoreConfig;
use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::Value;
use tokio::sync::oneshot;

/// A `mcp_core::Program` (server plus extra routes) running in-process.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Serve `program` on `127.0.0.1:0` with the test token.
    pub async fn start(program: mcp_core::Program, name: &str) -> Self {
        mcp_test::telemetry::init();
        let mut core = CoreConfig::defaults(name);
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = mcp_core::serve::serve_program(program, &core, listener, async move {
                let _ = rx.await;
            })
            .await;
        });
        Self { addr, stop: Some(tx), task: Some(task) }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The observer in-process over `db_url`, its sql peer at `sql_url`.
pub struct Obs {
    pub running: Running,
    pub state: Arc<Observer>,
    http: reqwest::Client,
}

impl Obs {
    pub async fn start(db_url: &str, sql_url: &str) -> Self {
        Self::start_with(Config::for_url(db_url, sql_url)).await
    }

    pub async fn start_with(config: Config) -> Self {
        let mut core = CoreConfig::defaults(NAME);
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        let obs = Observer::open(config, &core).await.unwrap();
        let (server, state) = mcp_client_observer::server(obs).unwrap();
        let program = mcp_core::Program {
            server,
            routes: Some(mcp_client_observer::api::routes(state.clone())),
            background: None,
        };
        Self { running: Running::start(program, NAME).await, state, http: reqwest::Client::new() }
    }

    pub fn base(&self) -> String {
        self.running.base()
    }

    pub fn raw(&self) -> RawClient {
        RawClient::new(&self.base(), Some(TEST_TOKEN.into()))
    }

    /// POST an OTLP body; returns status and body.
    pub async fn post(&self, body: Vec<u8>, content_type: &str) -> (u16, Vec<u8>) {
        post_otlp(&self.http, &self.base(), Some(TEST_TOKEN), body, content_type).await
    }

    /// GET a JSON route with the token.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        get_json(&self.http, &self.base(), Some(TEST_TOKEN), path).await
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        let r = self.http.get(format!("{}/metrics", self.base())).bearer_auth(TEST_TOKEN).send().await.unwrap();
        r.text().await.unwrap()
    }
}

pub async fn post_otlp(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    body: Vec<u8>,
    content_type: &str,
) -> (u16, Vec<u8>) {
    let mut rb = http.post(format!("{base}/v1/traces")).header("content-type", content_type).body(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

pub async fn get_json(http: &reqwest::Client, base: &str, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut rb = http.get(format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

// The shared reply helpers (success value, error text).
pub use mcp_test::raw::{err, ok};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..").canonicalize().unwrap()
}

/// Poll `f` until it returns `Some`, or panic after `secs` with `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(t) = f().await {
            return t;
        }
        assert!(std::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Find a program on the system, or fail with the remedy.
pub fn need(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = PathBuf::from(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!("{program} not found: install the Debian package `{package}` (`cargo xtask test` provisions it)");
}
