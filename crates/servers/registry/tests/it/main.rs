//! Integration tests of `mcp-server-registry` over real HTTP.
//!
//! npm, Docker Hub, GitHub, GitLab and OSV are unreachable from the
//! project's machines, and PyPI and crates.io answer there without `ETag`
//! or rate limits, so the server talks to `mcp_test::registry::Double`, built from each
//! registry's documented API, for everything but `live.rs`, which asks the
//! real PyPI and crates.io and skips (saying why) when they cannot be reached.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

mod bench;
mod cache;
mod crosscheck;
mod hostile;
mod live;
mod manifests;
mod tools;

use mcp_server_registry::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use mcp_test::registry::Double;
use serde_json::{Value, json};

pub use mcp_test::raw::{err, ok};

/// A double, a cache database in a temporary directory, and a server.
pub struct Fx {
    pub double: Double,
    pub server: TestServer,
    pub dir: tempfile::TempDir,
}

impl Fx {
    pub async fn new() -> Self {
        Self::with(&[]).await
    }

    /// With these variables on top of the double's URLs.
    pub async fn with(vars: &[(&str, &str)]) -> Self {
        let double = Double::start().await;
        let dir = tempfile::tempdir().unwrap();
        let server = start(&double, &dir, vars).await;
        Self { double, server, dir }
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    /// A tool's structured result, which must be a success.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        ok(&self.call(tool, args).await).clone()
    }

    /// A tool error's `(kind, message)`.
    pub async fn fail(&self, tool: &str, args: Value) -> (String, String) {
        let r = self.call(tool, args).await;
        let m = err(&r);
        (kind(&r), m)
    }
}

/// A server over `double` with its cache in `dir`.
pub async fn start(double: &Double, dir: &tempfile::TempDir, vars: &[(&str, &str)]) -> TestServer {
    let db = format!("sqlite:{}", dir.path().join("registry.db").display());
    let mut pairs: Vec<(String, String)> = double.vars();
    pairs.push(("REGISTRY_DATABASE_URL".into(), db));
    pairs.push(("REGISTRY_MAX_RETRY_WAIT_SECS".into(), "2".into()));
    pairs.push(("REGISTRY_TIMEOUT_SECS".into(), "10".into()));
    for (k, v) in vars {
        pairs.retain(|(key, _)| key != k);
        pairs.push(((*k).into(), (*v).into()));
    }
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestServer::start(server(Config::from_pairs(&refs)).await.unwrap()).await
}

/// The error kind of a tool result.
pub fn kind(r: &Reply) -> String {
    r.result()["_meta"]["dev.mcp-fleet/errorKind"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_is_compliant() {
    let f = Fx::new().await;
    mcp_test::assert_server_compliance(
        &f.server,
        mcp_test::Probe::new("package_versions", json!({"ecosystem": "pypi", "name": "demo"})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let f = Fx::new().await;
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&f.server.server));
}
