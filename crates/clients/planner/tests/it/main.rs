//! Integration tests of `mcp-client-planner` against the real fs, git,
//! shell, email (Maildir), sql, log and docker servers, in-process on
//! loopback, and the real toolchains the templates use (Python with pytest
//! and flake8, cargo): every template builds, lints, tests and tags; runs are
//! idempotent per request; budgets and cancellation stop cleanly with a
//! report; a planner killed with SIGKILL resumes without doing anything
//! twice; with container isolation the phases run in containers, and a
//! service is deployed, opened in the real browser server (Chromium) and its
//! screenshot attached to the report; a project delivered to GitLab is
//! pushed to a real remote and its pipeline (on the GitLab API double)
//! reported; every template's CI file is valid.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod approvals;
mod containers;
mod deliver;
mod documents;
mod flows;
mod resume;
mod templates;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcp_client_planner::config::Peers;
use mcp_core::Reader;
use mcp_test::{TEST_TOKEN, TestServer};
use serde_json::{Value, json};

/// The repository's templates.
pub fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates")
}

fn reader_config<C>(vars: &[(&str, String)], read: fn(&mut Reader<'_>) -> C) -> C {
    mcp_core::config::read_vars(vars, read).unwrap()
}

/// `PATH` for the shell server: the active Rust toolchain (no rustup
/// proxies, which need the user's HOME) and the system directories.
pub fn shell_path() -> String {
    let out = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().unwrap();
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    format!("{sysroot}/bin:/usr/local/bin:/usr/bin:/bin")
}

/// The servers a planner drives, in-process.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub fs: TestServer,
    pub git: TestServer,
    pub shell: TestServer,
    pub lint: TestServer,
    pub test: TestServer,
    pub email: TestServer,
    pub email_state: std::sync::Arc<mcp_server_email::Email>,
    pub sql: TestServer,
    pub log: TestServer,
}

impl Fleet {
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// With a second git root, `remotes/`, where bare repositories may be
    /// pushed to (the `file` scheme allowed): a real remote for delivery tests.
    pub async fn start_with_remotes() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(remotes: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let projects = dir.path().join("projects");
        std::fs::create_dir_all(&projects).unwrap();
        let p = projects.display().to_string();
        let mut git_env = vec![
            ("GIT_ROOTS", p.clone()),
            ("GIT_AUTHOR_NAME", "MCP DevOps fleet".into()),
            ("GIT_AUTHOR_EMAIL", "fleet@localhost".into()),
        ];
        if remotes {
            let r = dir.path().join("remotes");
            std::fs::create_dir_all(&r).unwrap();
            git_env[0].1 = format!("{p},{}", r.display());
            git_env.push(("GIT_ALLOWED_REMOTE_SCHEMES", "file".into()));
        }
        let fs = mcp_server_fs::server(reader_config(
            &[("FS_ROOTS", p.clone()), ("FS_WRITE", "true".into())],
            mcp_server_fs::Config::read,
        ))
        .unwrap();
        let git = mcp_server_git::server(reader_config(&git_env, mcp_server_git::Config::read)).unwrap();
        let shell = mcp_server_shell::server(reader_config(
            &[
                ("SHELL_ROOTS", p.clone()),
                ("SHELL_PATH", shell_path()),
                ("SHELL_DATA_DIR", dir.path().join("shell").display().to_string()),
            ],
            mcp_server_shell::Config::read,
        ))
        .await
        .unwrap();
        let lint = mcp_server_lint::server(reader_config(
            &[
                ("LINT_ROOTS", p.clone()),
                ("LINT_PATH", shell_path()),
                ("LINT_DATA_DIR", dir.path().join("lint").display().to_string()),
            ],
            mcp_server_lint::Config::read,
        ))
        .await
        .unwrap();
        let test = mcp_server_test::server(reader_config(
            &[
                ("TEST_ROOTS", p.clone()),
                ("TEST_PATH", shell_path()),
                ("TEST_DATA_DIR", dir.path().join("test").display().to_string()),
                ("TEST_DATABASE_URL", mcp_test::services::sqlite_url(dir.path(), "test")),
            ],
            mcp_server_test::Config::read,
        ))
        .await
        .unwrap();
        let email = mcp_server_email::open(reader_config(
            &[
                ("EMAIL_DATA_DIR", dir.path().join("email").display().to_string()),
                ("EMAIL_ADDRESS", "agent@example.test".into()),
                ("EMAIL_TOKEN_SECRET", "test-secret-0123456789-0123456789-0123456789".into()),
                ("EMAIL_ALLOWED_SENDERS", "alice@example.test".into()),
                ("EMAIL_MAILDIR_POLL_MS", "50".into()),
            ],
            mcp_server_email::Config::read,
        ))
        .await
        .unwrap();
        let email_state = email.state.clone();
        let sql =
            mcp_server_sql::server(mcp_server_sql::Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "sql")))
                .await
                .unwrap();
        let (log, _) =
            mcp_server_log::server(mcp_server_log::Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "log")))
                .await
                .unwrap();
        Self {
            fs: TestServer::start(fs).await,
            git: TestServer::start(git).await,
            shell: TestServer::start(shell).await,
            lint: TestServer::start(lint).await,
            test: TestServer::start(test).await,
            email: TestServer::start_program(email.into()).await,
            email_state,
            sql: TestServer::start(sql).await,
            log: TestServer::start(log).await,
            dir,
        }
    }

    pub fn projects(&self) -> PathBuf {
        self.dir.path().join("projects")
    }

    /// The folder of bare remotes ([`Fleet::start_with_remotes`]).
    pub fn remotes(&self) -> PathBuf {
        self.dir.path().join("remotes")
    }

    pub fn peers(&self) -> Peers {
        Peers {
            fs: self.fs.url(),
            git: self.git.url(),
            shell: self.shell.url(),
            lint: self.lint.url(),
            test: self.test.url(),
            email: Some(self.email.url()),
            sql: Some(self.sql.url()),
            log: Some(self.log.url()),
            agent: None,
        }
    }

    /// The planner's environment as the binary reads it.
    pub fn planner_env(&self, db: &str) -> Vec<(String, String)> {
        let p = self.peers();
        vec![
            ("PLANNER_DATABASE_URL".into(), db.into()),
            ("PLANNER_TEMPLATES_DIR".into(), templates().display().to_string()),
            ("PLANNER_INSTANCE".into(), "it".into()),
            ("MCP_SERVER_FS_URL".into(), p.fs),
            ("MCP_SERVER_GIT_URL".into(), p.git),
            ("MCP_SERVER_SHELL_URL".into(), p.shell),
            ("MCP_SERVER_LINT_URL".into(), p.lint),
            ("MCP_SERVER_TEST_URL".into(), p.test),
            ("MCP_SERVER_EMAIL_URL".into(), p.email.unwrap()),
            ("MCP_SERVER_SQL_URL".into(), p.sql.unwrap()),
            ("MCP_SERVER_LOG_URL".into(), p.log.unwrap()),
            ("MCP_AUTH_TOKEN".into(), TEST_TOKEN.into()),
        ]
    }

    /// A planner in-process over these servers.
    pub async fn planner(&self, f: impl FnOnce(&mut mcp_client_planner::Config)) -> TestServer {
        let db = mcp_test::services::sqlite_url(self.dir.path(), "planner");
        let mut c = mcp_client_planner::Config::for_tests(&db, templates(), self.peers());
        f(&mut c);
        let mut core = mcp_core::CoreConfig::defaults(mcp_client_planner::NAME);
        core.auth_token = Some(TEST_TOKEN.into());
        core.peer_token = core.auth_token.clone();
        TestServer::start_program(mcp_client_planner::start(c, core).await.unwrap()).await
    }

    /// Drop a request from alice into the inbox and return its email id.
    pub async fn request_mail(&self, subject: &str) -> String {
        let inbox = self.email_state.config.maildir.join("new");
        std::fs::create_dir_all(&inbox).unwrap();
        let n = rand_id();
        let raw = format!(
            "From: Alice <alice@example.test>\r\nTo: agent@example.test\r\nSubject: {subject}\r\n\
             Message-ID: <{n}@example.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nPlease build it.\r\n"
        );
        std::fs::write(inbox.join(format!("{n}.eml")), raw).unwrap();
        let c = self.email.raw();
        // The Maildir is scanned every 50 ms, but the container and delivery
        // tests running beside this one load both cores (image builds,
        // pytest in containers): seen to take over 20 s twice under CI.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let r = c.call("list_messages", json!({"subject": subject})).await;
            if let Some(m) = r.result()["structuredContent"]["messages"].as_array().and_then(|a| a.first()) {
                return m["id"].as_str().unwrap().to_owned();
            }
            if Instant::now() >= deadline {
                let ready = c.get("/ready").await;
                let files: Vec<_> =
                    std::fs::read_dir(&inbox).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
                panic!("the request mail was not picked up: {}\n/ready: {}\nin new/: {files:?}", r.text, ready.text);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every `.eml` in the outbox.
    pub fn outbox(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.email_state.config.outbox)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_else(|_| Vec::new())
            .into_iter()
            .map(|p: PathBuf| std::fs::read_to_string(p).unwrap())
            .collect();
        v.sort();
        v
    }

    /// `git log` summaries of a project, newest first.
    pub fn commits(&self, slug: &str) -> Vec<String> {
        let out = std::process::Command::new("git")
            .args(["log", "--format=%s"])
            .current_dir(self.projects().join(slug))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    }

    /// Tags of a project; none when the project was never created (a run cancelled before its scaffold).
    pub fn tags(&self, slug: &str) -> Vec<String> {
        if !self.projects().join(slug).exists() {
            return Vec::new();
        }
        let out =
            std::process::Command::new("git").args(["tag"]).current_dir(self.projects().join(slug)).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    }
}

pub fn rand_id() -> String {
    format!("{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    u64::from_le_bytes(b)
}

pub use mcp_test::raw::{err, ok};

/// A complete spec.
pub fn spec(name: &str, language: &str, kind: &str) -> Value {
    json!({"name": name, "summary": format!("{name}: a demo \"quoted\" project"), "language": language, "kind": kind,
           "features": ["greets people"], "acceptance": ["tests pass"]})
}

/// Wait for a run to end (plan_wait, repeatedly).
pub async fn wait_done(planner: &TestServer, run_id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let r = planner.raw().call("plan_wait", json!({"run_id": run_id, "timeout_secs": 30})).await;
        let v = ok(&r).clone();
        if ["succeeded", "failed", "cancelled", "budget_exhausted"].contains(&v["state"].as_str().unwrap()) {
            return v;
        }
        assert!(Instant::now() < deadline, "run {run_id} did not finish: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planner_is_compliant_and_golden() {
    let fleet = Fleet::start().await;
    let p = fleet.planner(|_| {}).await;
    mcp_test::assert_server_compliance(&p, mcp_test::Probe::new("templates_list", json!({}))).await;
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&p.server));
}

/// `wait_done` over a raw client (a planner running as a process).
pub async fn wait_done_raw(c: &mcp_test::raw::RawClient, run_id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let r = c.call("plan_wait", json!({"run_id": run_id, "timeout_secs": 30})).await;
        let v = ok(&r).clone();
        if ["succeeded", "failed", "cancelled", "budget_exhausted"].contains(&v["state"].as_str().unwrap()) {
            return v;
        }
        assert!(Instant::now() < deadline, "run {run_id} did not finish: {v}");
    }
}
