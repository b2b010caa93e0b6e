//! Integration tests of `mcp-server-test` over real HTTP with real runners
//! (Debian's pytest and coverage.py, cargo, cargo-nextest) on fixture
//! projects copied into a temporary root: results, subsets, reruns, time
//! limits, coverage, history with real commits, the hostile corpus, and the
//! store on both SQLite and PostgreSQL.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod hostile;
mod python;
mod rust;

use std::path::{Path, PathBuf};

use mcp_server_test::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::{Value, json};

pub use mcp_test::raw::{err, ok};

/// `PATH` for runs: the Rust toolchain first, then the system.
pub fn test_path() -> String {
    let out = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().unwrap();
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    format!("{sysroot}/bin:/usr/local/bin:/usr/bin:/bin")
}

/// A server over a fresh root.
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
        let url = mcp_test::services::sqlite_url(dir.path(), "test");
        Self::on(dir, &url, f).await
    }

    pub async fn on(dir: tempfile::TempDir, url: &str, f: impl FnOnce(&mut Config)) -> Self {
        std::fs::create_dir_all(dir.path().join("projects")).unwrap();
        let mut c = Config::for_root(dir.path().join("projects"), dir.path().join("data"), url, &test_path());
        f(&mut c);
        let server = TestServer::start(server(c).await.unwrap()).await;
        Self { dir, server }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("projects")
    }

    /// Copy `tests/fixtures/<name>` into the root as `<as_name>`.
    pub fn fixture(&self, name: &str, as_name: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let dst = self.root().join(as_name);
        copy(&src, &dst);
        dst
    }

    /// A project from inline files.
    pub fn project(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dst = self.root().join(name);
        for (p, c) in files {
            let p = dst.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
        dst
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    /// `test_run` that must succeed as a call; its structured result.
    pub async fn run(&self, args: Value) -> Value {
        let r = self.call("test_run", args).await;
        ok(&r).clone()
    }
}

fn copy(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "__pycache__" || name == "target" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &dst.join(&name));
        } else {
            std::fs::copy(e.path(), dst.join(&name)).unwrap();
        }
    }
}

/// The case with `id`.
pub fn case<'a>(out: &'a Value, id: &str) -> &'a Value {
    out["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no case {id}: {out:#}"))
}

/// Ids and statuses of a result.
pub fn statuses(out: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = out["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["status"].as_str().unwrap().to_owned()))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance() {
    let env = Env::start().await;
    env.project("p", &[("tests/test_a.py", "def test_a():\n    pass\n")]);
    mcp_test::assert_server_compliance(&env.server, mcp_test::Probe::new("test_detect", json!({"path": "p"}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("projects")).unwrap();
    let c = Config::for_root(
        dir.path().join("projects"),
        dir.path().join("data"),
        &mcp_test::services::sqlite_url(dir.path(), "g"),
        "/usr/bin:/bin",
    );
    let s = server(c).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_inside_a_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("projects");
    std::fs::create_dir_all(&root).unwrap();
    let c =
        Config::for_root(&root, root.join(".data"), &mcp_test::services::sqlite_url(dir.path(), "x"), "/usr/bin:/bin");
    let e = server(c).await.err().unwrap();
    assert!(e.to_string().contains("inside the root"), "{e}");
}

/// The store on both backends: a run, its cases, only_failed and history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_on_both_backends() {
    let data = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(data.path(), "test") {
        let env = Env::on(tempfile::tempdir().unwrap(), &url, |_| {}).await;
        env.fixture("py_unittest", "u");
        let out = env.run(json!({"path": "u"})).await;
        assert_eq!(out["verdict"], "failed", "{label}: {out:#}");
        assert_eq!(out["totals"]["tests"], 5, "{label}");
        let run_id = out["run_id"].as_str().unwrap();
        let page = ok(&env.call("test_results", json!({"run_id": run_id, "status": "failed"})).await).clone();
        assert_eq!(page["total"], 1, "{label}: {page:#}");
        assert_eq!(page["cases"][0]["id"], "tests.test_units.Units.test_fail", "{label}");
        assert_eq!(page["cases"][0]["line"], 10, "{label}");
        assert_eq!(page["run"]["verdict"], "failed");
        let again = env.run(json!({"path": "u", "only_failed": true})).await;
        let ids: Vec<String> = statuses(&again).into_iter().map(|(i, _)| i).collect();
        assert_eq!(
            ids,
            ["tests.test_units.Units.test_error", "tests.test_units.Units.test_fail"],
            "{label}: {again:#}"
        );
        let h =
            ok(&env.call("test_history", json!({"path": "u", "test_id": "tests.test_units.Units.test_fail"})).await)
                .clone();
        assert_eq!(h["runs"].as_array().unwrap().len(), 2, "{label}");
        assert_eq!(h["test"]["failing_runs"], 2, "{label}: {h:#}");
        assert_eq!(h["test"]["failing_since"]["run_id"], run_id, "{label}");
        let e = err(&env.call("test_results", json!({"run_id": "run-nope"})).await);
        assert!(e.contains("no run"), "{e}");
    }
}
