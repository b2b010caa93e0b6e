//! Integration tests of `mcp-server-gitlab` over real HTTP. GitLab itself
//! cannot run on the project's machines (no package, no image, no
//! registry), so the REST tools talk to `mcp_test::gitlab::GitlabDouble`, an
//! in-memory double built from GitLab's OpenAPI description and checked
//! against python-gitlab, an independent client written for the real API
//! (`double.rs`).

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod double;
mod logs;
mod mrs;
mod pipelines;
mod policy;

use mcp_server_gitlab::{Config, server};
use mcp_test::TestServer;
use mcp_test::gitlab::{GitlabDouble, JobSpec, TOKEN};
use mcp_test::raw::Reply;
use serde_json::{Value, json};

pub use mcp_test::raw::{err, ok};

/// The project most tests use.
pub const PROJECT: &str = "group/app";
/// Its id.
pub const PROJECT_ID: u64 = 1;

/// A double with `group/app` (id 1), `other/app` (id 7) and `secret/app`
/// (id 9, forbidden to the token), and a server pointed at it.
pub struct Fx {
    pub gl: GitlabDouble,
    pub server: TestServer,
    _dir: tempfile::TempDir,
}

impl Fx {
    /// Modify mode, no allow-list.
    pub async fn new() -> Self {
        Self::with(&[("GITLAB_MODE", "modify")]).await
    }

    /// With these variables on top of the URL and token file.
    pub async fn with(vars: &[(&str, &str)]) -> Self {
        Self::with_token(vars, TOKEN).await
    }

    pub async fn with_token(vars: &[(&str, &str)], token: &str) -> Self {
        let gl = GitlabDouble::start().await;
        gl.add_project(PROJECT_ID, PROJECT);
        gl.add_project(7, "other/app");
        gl.add_forbidden_project(9, "secret/app");
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, format!("{token}\n")).unwrap();
        let url = gl.url();
        let token_path = token_file.display().to_string();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("GITLAB_URL", url.as_str()),
            ("GITLAB_TOKEN_FILE", token_path.as_str()),
            ("GITLAB_MAX_RETRIES", "2"),
            ("GITLAB_MAX_RETRY_WAIT_SECS", "5"),
        ];
        for (k, v) in vars {
            pairs.retain(|(key, _)| key != k);
            pairs.push((k, v));
        }
        let server = TestServer::start(server(Config::from_pairs(&pairs)).await.unwrap()).await;
        Self { gl, server, _dir: dir }
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

/// The error kind of a tool result.
pub fn kind(r: &Reply) -> String {
    r.result()["_meta"]["dev.mcp-fleet/errorKind"].as_str().unwrap_or_default().to_owned()
}

/// A failing test job whose log hides secrets among ordinary lines.
pub fn failing_test_job() -> JobSpec {
    let mut chunks: Vec<String> = vec!["Running with gitlab-runner 18.6.0\n".into()];
    chunks.push("section_start:1700000000:step_script\r\x1b[0K\x1b[32;1m$ pytest -q\x1b[0;m\n".into());
    for i in 1..=120 {
        chunks.push(format!("tests/test_mod_{i}.py .... [ {i}% ]\n"));
    }
    chunks.push(format!("export DEPLOY_TOKEN=glpat-leaked0123456789abcdef and {TOKEN}\n"));
    chunks.push("E       AssertionError: expected 3, got 4\n".into());
    chunks.push("FAILED tests/test_math.py::test_add - AssertionError\n".into());
    chunks.push("1 failed, 119 passed in 2.1s\n".into());
    chunks.push("section_end:1700000009:step_script\r\x1b[0K\n".into());
    chunks.push("\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m\n".into());
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    JobSpec::failing("test", "test", &refs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_is_compliant() {
    let f = Fx::new().await;
    mcp_test::assert_server_compliance(&f.server, mcp_test::Probe::new("pipeline_list", json!({"project": PROJECT})))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let f = Fx::new().await;
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&f.server.server));
}

/// The REST half's tools (the local runner's `ci_*` tools are tested in `tests/ci`).
pub const REST_TOOLS: &[&str] = &[
    "artifact_file",
    "artifact_list",
    "ci_lint",
    "job_cancel",
    "job_get",
    "job_list",
    "job_log",
    "job_play",
    "job_retry",
    "mr_create",
    "mr_diffs",
    "mr_get",
    "mr_list",
    "mr_note",
    "mr_pipelines",
    "pipeline_cancel",
    "pipeline_create",
    "pipeline_failures",
    "pipeline_get",
    "pipeline_latest",
    "pipeline_list",
    "pipeline_retry",
    "pipeline_wait",
];

/// The names of the server's tools.
pub fn names(s: &mcp_core::Server) -> Vec<String> {
    s.tools_list_json().as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_tools_are_annotated_read_only() {
    let f = Fx::with(&[]).await;
    for t in f.server.server.tools_list_json().as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if !REST_TOOLS.contains(&name) {
            continue;
        }
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{name} is registered in read-only mode");
    }
}
