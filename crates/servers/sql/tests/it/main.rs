//! Integration tests of `mcp-server-sql` over real HTTP, each on SQLite and on
//! a real PostgreSQL: the knowledge base, the logs, the timeline, the generic
//! SQL tools, the read-only escape corpus and the record tools' idempotency
//! keys.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod corpus;
mod differential;
mod idempotency;
mod memory;
mod process;
mod roles;

use mcp_server_sql::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::Value;

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub server: TestServer,
    pub label: &'static str,
    pub url: String,
}

/// One server per backend.
pub async fn fixtures(f: impl Fn(&mut Config)) -> Vec<Fixture> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(dir.path(), "sql") {
        let mut c = Config::for_url(&url);
        f(&mut c);
        let server = TestServer::start(server(c).await.unwrap()).await;
        out.push(Fixture { _dir: tempfile::tempdir().unwrap(), server, label, url });
    }
    // Keep the SQLite directory alive with the first fixture.
    out[0]._dir = dir;
    out
}

impl Fixture {
    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }
}

pub use mcp_test::raw::{err, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_is_compliant_on_both_backends() {
    for f in fixtures(|_| {}).await {
        mcp_test::assert_server_compliance(&f.server, mcp_test::Probe::new("sql_tables", serde_json::json!({}))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "g"));
    c.allow_write = true;
    let s = server(c).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}
