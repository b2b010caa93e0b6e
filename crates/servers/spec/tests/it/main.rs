//! Integration tests of `mcp-server-spec` over real HTTP: compliance and the
//! golden `tools/list`, every document kind against golden text, strict
//! undefined values, user templates overriding built-in ones, the OpenAPI
//! output validated by `openapi-spec-validator` (an independent validator
//! from PyPI), the hostile corpus, the workflow on SQLite and PostgreSQL with
//! role checks, and model drafting against a local chat-completions double.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod bench;
mod draft;
mod hostile;
mod kinds;
mod workflow;

use std::sync::Arc;

use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role};
use mcp_server_spec::{Config, server, server_with};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::{Value, json};

pub use mcp_test::raw::{err, ok};

/// Bearer tokens of callers with each role (the fleet's test token is the admin `fleet`).
pub const VIEWER: &str = "viewer-token-0123456789";
pub const OPERATOR: &str = "operator-token-0123456789";

/// Callers by token: the test token is the fleet (admin), the others have their role.
struct Roles;

impl Authenticator for Roles {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Refusal::Missing)?;
        let (subject, role) = match token {
            mcp_test::TEST_TOKEN => ("fleet", Role::Admin),
            OPERATOR => ("olga", Role::Operator),
            VIEWER => ("victor", Role::Viewer),
            _ => return Err(Refusal::Invalid),
        };
        Ok(Caller { subject: subject.into(), role, key_id: None })
    }
}

/// A server over a temporary database.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Env {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = mcp_test::services::sqlite_url(dir.path(), "spec");
        Self::on(dir, &url, f).await
    }

    /// With callers of every role (see [`Roles`]).
    pub async fn on(dir: tempfile::TempDir, url: &str, f: impl FnOnce(&mut Config)) -> Self {
        let mut c = Config::for_tests(url);
        f(&mut c);
        let server = TestServer::start(server_with(c, Some(Arc::new(Roles))).await.unwrap()).await;
        Self { dir, server }
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    pub async fn call_as(&self, token: &str, tool: &str, args: Value) -> Reply {
        self.server.raw().with_token(Some(token)).call(tool, args).await
    }

    /// A call that must succeed; its structured result.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        ok(&self.call(tool, args).await).clone()
    }

    /// A call that must fail; its kind and message.
    pub async fn fail(&self, tool: &str, args: Value) -> (String, String) {
        let r = self.call(tool, args).await;
        let m = err(&r);
        (kind(&r), m)
    }
}

/// The error kind of a tool error.
pub fn kind(r: &Reply) -> String {
    r.result()["_meta"]["dev.mcp-fleet/errorKind"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config::for_tests(&mcp_test::services::sqlite_url(dir.path(), "c"));
    let s = TestServer::start(server(c).await.unwrap()).await;
    mcp_test::assert_server_compliance(&s, mcp_test::Probe::new("spec_templates_list", json!({}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(Config::for_tests(&mcp_test::services::sqlite_url(dir.path(), "g"))).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_list_and_ready() {
    let env = Env::start().await;
    let out = env.ok("spec_templates_list", json!({})).await;
    let names: Vec<&str> = out["templates"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["adr", "architecture", "changelog", "design", "openapi", "readme", "requirements", "spec", "tasks"]
    );
    assert_eq!(out["model"], false);
    let ready = env.server.raw().get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert!(ready.text.contains("templates only"), "{}", ready.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_template_directory_is_a_start_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::for_tests(&mcp_test::services::sqlite_url(dir.path(), "x"));
    c.templates_dir = Some(dir.path().join("nope"));
    let e = server(c).await.err().unwrap();
    assert!(e.to_string().contains("SPEC_TEMPLATES_DIR"), "{e}");
}
