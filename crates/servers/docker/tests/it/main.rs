//! Integration tests of `mcp-server-docker` against the real Docker Engine:
//! the compliance check and golden `tools/list`, the hostile corpus (every
//! refusal names its rule), containers, images, apps with health-gated
//! rolling updates and rollback, compose with the CLI that is installed,
//! audits and health. Every test runs under its own instance label and
//! removes what carries it when it ends, failed or not.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod apps;
mod compliance;
mod compose;
mod containers;
mod hostile;
mod images;

use std::path::PathBuf;

use mcp_server_docker::{Config, server};
use mcp_test::TestServer;
use mcp_test::docker::Guard;
use mcp_test::raw::Reply;
use serde_json::Value;

pub use mcp_test::raw::{err, ok};

/// A server with its own instance, bind root (`root/`, with `root/rw`
/// writable) and data directory.
pub struct Env {
    pub server: TestServer,
    pub dir: tempfile::TempDir,
    pub guard: Guard,
    pub image: String,
}

impl Env {
    pub async fn start(what: &str) -> Self {
        Self::with(what, |_| {}).await
    }

    pub async fn with(what: &str, f: impl FnOnce(&mut Config)) -> Self {
        let image = mcp_test::docker::busybox_image();
        let guard = Guard::new(what);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("rw")).unwrap();
        std::fs::create_dir_all(root.join("ro")).unwrap();
        let mut c = Config::for_instance(&guard.0, Some(root.clone()), dir.path().join("data"));
        c.bind_writable = vec![root.join("rw")];
        f(&mut c);
        let server = TestServer::start(server(c).await.unwrap()).await;
        Self { server, dir, guard, image }
    }

    pub fn instance(&self) -> &str {
        &self.guard.0
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Write files under the root.
    pub fn files(&self, files: &[(&str, &str)]) {
        for (p, c) in files {
            let p = self.root().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    /// A call that must succeed: its structured result.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args).await;
        ok(&r).clone()
    }

    /// A call that must be refused by policy naming `rule`.
    pub async fn denied(&self, tool: &str, args: Value, rule: &str) {
        let r = self.call(tool, args.clone()).await;
        let m = err(&r);
        assert!(m.contains(&format!("{rule}:")), "{tool} {args}: expected rule {rule}, got: {m}");
        assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "forbidden", "{tool}: {}", r.text);
    }
}

/// The `docker` CLI, for setting up what the server must refuse or audit.
pub fn docker(args: &[&str]) -> String {
    let o = std::process::Command::new("docker").args(args).output().unwrap();
    assert!(o.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on 127.0.0.1:port; the body, or None when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut b = String::new();
    s.read_to_string(&mut b).ok()?;
    b.starts_with("HTTP/1.").then_some(b)
}
