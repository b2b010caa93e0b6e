//! `mcp-test`: what every server's tests stand on.
//!
//! - [`TestServer`]: run any [`mcp_core::Server`] in-process on `127.0.0.1:0`.
//! - [`telemetry`]: one process-wide capture of JSON log lines and of spans
//!   exported over real OTLP/HTTP to an in-process collector.
//! - [`raw::RawClient`]: an HTTP-level MCP client that can send anything,
//!   including what a well-behaved client never would.
//! - [`compliance`]: `assert_server_compliance`, the contract of
//!   `docs/specs/server.md`, which every server's tests call.
//! - [`proxy`]: a defect-injecting proxy that proves each compliance check
//!   fails when the behaviour it checks is broken.
//! - [`golden`]: the `tools/list` snapshot helper.
//! - [`services`]: real services for tests (PostgreSQL), started on demand.
//! - [`mail`]: a real mail server (Dovecot + Postfix) on loopback.
//! - [`process`]: a program's real binary on a free port, killed when dropped.
//! - [`gitlab`]: a GitLab REST v4 API double (pipelines on a clock, job logs,
//!   artifacts, merge requests, CI lint, pagination, 401/403/404/429), since
//!   GitLab itself cannot run here.
//! - [`registry`]: a double of the package registries (PyPI Simple and JSON
//!   APIs, the crates.io sparse index and `.crate` files, npm, Docker Hub,
//!   GitHub and GitLab releases, OSV) with ETags and 304s, rate limits,
//!   outages and hostile answers on demand, since most cannot be reached here.
//! - [`docker`]: the Docker Engine's test image (`mcp-fleet-test/busybox:1`,
//!   imported from Debian's static busybox) and cleanup by instance label.
//! - [`images`]: images container tests run (`mcp-fleet-test/python:1`: Python,
//!   pytest and flake8 from Debian), built once from the debootstrapped base.

pub mod browser;
pub mod collector;
pub mod compliance;
pub mod docker;
pub mod gitlab;
pub mod golden;
pub mod images;
pub mod mail;
pub mod process;
pub mod proxy;
pub mod raw;
pub mod registry;
pub mod services;
pub mod telemetry;

use std::net::SocketAddr;

use mcp_core::{CoreConfig, Server};
use tokio::sync::oneshot;

pub use compliance::{Probe, assert_server_compliance};

/// The bearer token test servers use by default.
pub const TEST_TOKEN: &str = "test-token-0123456789abcdef";

/// A server running in-process. Dropping it shuts the server down.
pub struct TestServer {
    /// Address bound.
    pub addr: SocketAddr,
    /// The server (for metrics and direct calls).
    pub server: Server,
    /// The configuration it runs with.
    pub core: CoreConfig,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Start `server` with a token and default test settings.
    pub async fn start(server: Server) -> Self {
        let mut core = CoreConfig::defaults(server.name());
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        Self::start_with(server, core).await
    }

    /// Start `server` with `core` (its listen address is ignored).
    pub async fn start_with(server: Server, core: CoreConfig) -> Self {
        telemetry::init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        let (s, c) = (server.clone(), core.clone());
        let task = tokio::spawn(async move {
            let _ = mcp_core::serve(s, &c, listener, async move {
                let _ = rx.await;
            })
            .await;
        });
        Self { addr, server, core, stop: Some(tx), task: Some(task) }
    }

    /// Start a whole [`mcp_core::Program`] (server, extra routes, background
    /// task) with a token and default test settings.
    pub async fn start_program(program: mcp_core::Program) -> Self {
        telemetry::init();
        let server = program.server.clone();
        let mut core = CoreConfig::defaults(server.name());
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        let c = core.clone();
        let task = tokio::spawn(async move {
            let _ = mcp_core::serve::serve_program(program, &c, listener, async move {
                let _ = rx.await;
            })
            .await;
        });
        Self { addr, server, core, stop: Some(tx), task: Some(task) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `/mcp` URL.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base())
    }

    /// A raw client with the right token.
    pub fn raw(&self) -> raw::RawClient {
        raw::RawClient::new(&self.base(), self.core.auth_token.clone())
    }

    /// The fleet's MCP client pointed at this server.
    pub fn client(&self) -> mcp_core::McpClient {
        mcp_core::McpClient::new(
            mcp_core::ClientOptions::new(self.url()).token(self.core.auth_token.clone()).name("mcp-test"),
        )
        .expect("client")
    }

    /// Shut down and wait for the server to finish draining.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
