//! Integration tests of `mcp-client-api-gateway`, one binary. The MCP side
//! runs against real upstreams started in-process (`mcp-server-log` over
//! SQLite, `mcp-server-fs` over a temporary root): compliance and the golden
//! list, naming, roles and key globs, forwarding and the audit, quotas and
//! the edge limit, upstreams going and coming, `list_changed`, both protocol
//! eras, trace propagation, and a concurrent-call smoke test.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

// The REST/UI and CLI helpers' modules (restored: this file was rewritten
// while they were being added; append new lines, do not reorder).
mod api;
mod cli;
mod ui;
// The MCP side.
mod lifecycle;
mod mcp;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_client_api_gateway::store::{AuditEntry, AuditQuery, KeyRow};
use mcp_client_api_gateway::{Config, Gateway, NAME};
use mcp_core::CoreConfig;
use mcp_test::raw::RawClient;
use mcp_test::{TEST_TOKEN, TestServer};
use serde_json::Value;
use tokio::sync::oneshot;

/// The key-hashing secret of every test gateway.
pub const KEY_SECRET: &str = "gateway-test-secret-0123456789abcdef";

/// A log server over SQLite in `dir`.
pub async fn log_server(dir: &Path) -> TestServer {
    let url = format!("sqlite:{}", dir.join("log.db").display());
    let core = CoreConfig::defaults(mcp_server_log::NAME);
    let program = mcp_server_log::start(mcp_server_log::Config::for_url(&url), core).await.unwrap();
    TestServer::start_program(program).await
}

/// An fs server over `root` with writes and deletes.
pub fn fs_server(root: &Path, write: bool) -> mcp_core::Server {
    mcp_server_fs::server(mcp_server_fs::Config::for_root(root, write, write)).unwrap()
}

/// A server on a fixed address (an upstream that comes and goes at one URL).
pub struct AtPort {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl AtPort {
    /// Serve `server` on `addr` with the test token.
    pub async fn start(server: mcp_core::Server, addr: SocketAddr) -> Self {
        mcp_test::telemetry::init();
        let mut core = CoreConfig::defaults(server.name());
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        // The port was free a moment ago (or its previous server stopped):
        // retry briefly in case the kernel has not released it yet.
        let mut listener = None;
        for _ in 0..50 {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let listener = listener.expect("bind the upstream's port");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = mcp_core::serve(server, &core, listener, async move {
                let _ = rx.await;
            })
            .await;
        });
        Self { stop: Some(tx), task: Some(task) }
    }

    /// Stop and wait until the port is closed.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A free loopback address (bound then released).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// The gateway in-process.
pub struct Gw {
    pub server: TestServer,
    pub state: Arc<Gateway>,
    pub dir: tempfile::TempDir,
}

impl Gw {
    /// A gateway over `upstreams` (`("fs", url)`), with extra variables.
    pub async fn start(upstreams: &[(&str, String)], extra: &[(&str, &str)]) -> Self {
        mcp_test::telemetry::init();
        let dir = tempfile::tempdir().unwrap();
        let mut vars: Vec<(String, String)> = vec![
            ("GATEWAY_DATABASE_URL".into(), format!("sqlite:{}", dir.path().join("gateway.db").display())),
            ("GATEWAY_KEY_SECRET".into(), KEY_SECRET.into()),
            ("GATEWAY_UPSTREAMS".into(), upstreams.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",")),
            // Tests refresh by hand; the background refresher stays out of the way.
            ("GATEWAY_REFRESH_SECS".into(), "3600".into()),
            ("GATEWAY_LIST_TIMEOUT_MS".into(), "2000".into()),
        ];
        for (name, url) in upstreams {
            let program = mcp_client_api_gateway::config::KNOWN_UPSTREAMS
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, _, var)| *var)
                .unwrap();
            vars.push((program.into(), url.clone()));
        }
        for (k, v) in extra {
            vars.retain(|(x, _)| x != k);
            vars.push(((*k).into(), (*v).into()));
        }
        let config = mcp_core::config::read_vars(&vars, Config::read).unwrap();
        let mut core = CoreConfig::defaults(NAME);
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        let (program, state) = mcp_client_api_gateway::start_with_state(config, core).await.unwrap();
        let server = TestServer::start_program(program).await;
        Self { server, state, dir }
    }

    /// The fleet token's client.
    pub fn raw(&self) -> RawClient {
        self.server.raw()
    }

    /// A client presenting `key`.
    pub fn as_key(&self, key: &str) -> RawClient {
        self.server.raw().with_token(Some(key))
    }

    /// Make an API key directly (the REST key endpoints are tested elsewhere).
    pub async fn key(&self, name: &str, role: &str, allow: &[&str], deny: &[&str]) -> String {
        let (key, id, hash) = self.state.keys.generate();
        let row = KeyRow {
            id,
            name: name.into(),
            hash,
            role: role.into(),
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
            deny: deny.iter().map(|s| (*s).to_owned()).collect(),
            created_ms: mcp_core::clock::now_ms(),
            created_by: "test".into(),
            expires_ms: None,
            revoked_ms: None,
            last_used_ms: None,
        };
        self.state.store.insert_key(&row).await.unwrap();
        self.state.keys.put(row);
        key
    }

    /// Wait until the audit holds a row matching `pred` (the writer batches
    /// every 200 ms).
    pub async fn audit_row(&self, q: AuditQuery, pred: impl Fn(&AuditEntry) -> bool) -> AuditEntry {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let rows = self.state.store.audit(&AuditQuery { limit: 500, ..q.clone() }).await.unwrap();
            if let Some(r) = rows.into_iter().find(&pred) {
                return r;
            }
            assert!(Instant::now() < deadline, "no matching audit row for {q:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The database files (the table's pages and the write-ahead log).
    pub fn db_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("gateway.db")))
            .collect()
    }
}

/// Names in a `tools/list` reply.
pub fn names(reply: &mcp_test::raw::Reply) -> Vec<String> {
    reply.result()["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {}", reply.text))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A tool of a `tools/list` reply by name.
pub fn tool<'a>(reply: &'a mcp_test::raw::Reply, name: &str) -> &'a Value {
    reply.result()["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()
}

/// The two upstreams with the gateway over them, and the fs root.
pub struct Fleet {
    pub log: TestServer,
    pub fs: TestServer,
    pub root: PathBuf,
    pub gw: Gw,
    _dir: tempfile::TempDir,
}

impl Fleet {
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        let root = std::fs::canonicalize(root).unwrap();
        std::fs::write(root.join("hello.txt"), "hello, gateway\n").unwrap();
        let log = log_server(dir.path()).await;
        let fs = TestServer::start(fs_server(&root, true)).await;
        let gw = Gw::start(&[("log", log.url()), ("fs", fs.url())], extra).await;
        Self { log, fs, root, gw, _dir: dir }
    }
}
// Authentication end to end.
mod jwt;
mod keys;
