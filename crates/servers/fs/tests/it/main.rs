//! Integration tests of `mcp-server-fs` over real HTTP: the compliance check,
//! the golden `tools/list`, the escape corpus, and every tool.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod compliance;
mod escape;
mod process;
mod resources;
mod tools;

use std::path::{Path, PathBuf};

use mcp_server_fs::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::{RawClient, Reply};
use serde_json::Value;

/// A temporary tree: `root/` (the server's root) and `outside/` next to it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Fixture {
    /// Start a server over a fresh root with writes and deletes as given.
    pub async fn new(write: bool, delete: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret.txt"), "TOP-SECRET-CONTENT").unwrap();
        let s = server(Config::for_root(dir.path().join("root"), write, delete)).expect("server");
        let server = TestServer::start(s).await;
        Self { dir, server }
    }

    /// The root.
    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("root")).unwrap()
    }

    /// The directory next to the root.
    pub fn outside(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("outside")).unwrap()
    }

    /// Write a file under the root.
    pub fn put(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// A raw client.
    pub fn raw(&self) -> RawClient {
        self.server.raw()
    }

    /// Call a tool and return the reply.
    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.raw().call(tool, args).await
    }
}

// The shared reply helpers (success value, error text).
pub use mcp_test::raw::{err, ok};

/// True when `p` exists (without following a final symlink).
pub fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
