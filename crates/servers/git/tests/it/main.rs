//! Integration tests of `mcp-server-git` over real HTTP, against real
//! repositories in temporary folders: the compliance check, the golden
//! `tools/list`, every tool, the attack corpus, idempotency keys (with
//! interrupted writes), and network operations over file://, git:// (`git
//! daemon`) and smart HTTP (`git http-backend`).

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod attacks;
mod compliance;
mod http_backend;
mod idempotency;
mod local;
mod network;
mod process;

use std::path::{Path, PathBuf};
use std::process::Command;

use mcp_server_git::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::{RawClient, Reply};
use serde_json::Value;

/// A temporary tree: `root/` (the server's root), `outside/` next to it and
/// `home/` (HOME for the test's own git commands).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

/// The configuration tests use unless they change it: author defaults, every
/// scheme allowed (remotes here are on loopback or inside the root).
pub fn test_config(root: &Path) -> Config {
    let mut c = Config::for_root(root);
    c.author_name = Some("Test Bot".into());
    c.author_email = Some("bot@example.test".into());
    c.allowed_schemes = ["https", "http", "ssh", "git", "file"].map(String::from).to_vec();
    c
}

impl Fixture {
    /// A server over a fresh root with the test configuration.
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A server over a fresh root, the configuration changed by `f`.
    pub async fn with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["root", "outside", "home"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        let mut c = test_config(&dir.path().join("root"));
        f(&mut c);
        let server = TestServer::start(server(c).expect("server")).await;
        Self { dir, server }
    }

    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("root")).unwrap()
    }

    pub fn outside(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("outside")).unwrap()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Run the git CLI for test setup in `dir` (relative to the root), isolated from the machine's config.
    pub fn git(&self, dir: &str, args: &[&str]) -> String {
        git_in(&self.home(), &self.root().join(dir), args)
    }

    /// Write a file under the root.
    pub fn put(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// A repository `name` under the root with one commit of `a.txt` on main.
    pub fn repo(&self, name: &str) -> PathBuf {
        let p = self.root().join(name);
        std::fs::create_dir_all(&p).unwrap();
        self.git(name, &["init", "-q", "-b", "main"]);
        self.put(&format!("{name}/a.txt"), "one\ntwo\nthree\n");
        self.git(name, &["add", "a.txt"]);
        self.git(name, &["commit", "-q", "-m", "first"]);
        p
    }

    pub fn raw(&self) -> RawClient {
        self.server.raw()
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.raw().call(tool, args).await
    }
}

/// Run git in `dir` with HOME=`home`, no system or global config, a fixed identity.
pub fn git_in(home: &Path, dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(home, dir, args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The isolated git command, for tests that need its status.
pub fn git_cmd(home: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.args(["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Setup")
        .env("GIT_AUTHOR_EMAIL", "setup@example.test")
        .env("GIT_COMMITTER_NAME", "Setup")
        .env("GIT_COMMITTER_EMAIL", "setup@example.test")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

// The shared reply helpers (success value, error text).
pub use mcp_test::raw::{err, ok};

/// The text of a successful call.
pub fn text(r: &Reply) -> String {
    r.result()["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}
