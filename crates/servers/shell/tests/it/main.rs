//! Integration tests of `mcp-server-shell` over real HTTP against real
//! processes: the compliance check, the golden tool list, the bypass corpus,
//! time limits that kill whole trees, output caps, secrets, processes, a
//! real SSH server on loopback, and the kernel sandbox (Landlock, daemons).

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod compliance;
mod corpus;
mod processes;
mod remote;
mod run;
mod sandbox;

use std::path::{Path, PathBuf};

use mcp_server_shell::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::Value;

/// Programs the tests allow.
pub const PROGRAMS: &[&str] =
    &["echo", "true", "false", "sleep", "cat", "head", "printenv", "ls", "find", "tar", "git", "wc", "pwd"];

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        let mut c = Config::for_root(dir.path().join("root"), PROGRAMS, &["python3"]);
        c.data_dir = Some(dir.path().join("data"));
        f(&mut c);
        let server = TestServer::start(server(c).await.unwrap()).await;
        Self { dir, server }
    }

    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("root")).unwrap()
    }

    pub fn put(&self, rel: &str, content: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }
}

pub use mcp_test::raw::{err, ok};

/// Whether a process is gone (or a zombie nobody will run again).
pub fn dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => {
            s.rfind(')').and_then(|i| s[i + 1..].split_whitespace().next()).is_some_and(|st| st == "Z" || st == "X")
        }
    }
}

pub fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
