//! Integration tests of `mcp-server-lint` over real HTTP with the real tools
//! on real fixture projects (copied into a fresh root per test): the server
//! contract and golden tool list, each tool's findings, `since`, paging,
//! missing tools, SARIF, formatting, and hostile projects.
//!
//! The tools come from the system (Debian's flake8, black, isort, mypy,
//! bandit, yamllint, shellcheck), the Rust toolchain (`rustc --print
//! sysroot`), and a virtualenv `cargo xtask test` provisions from
//! `tests/tools.txt` at `$HOME/.cache/mcp-fleet/lint-tools` (ruff, hadolint).
//! A missing tool fails its test naming `cargo xtask test`; only ruff and
//! hadolint tests may be skipped, and only with `LINT_TESTS_ALLOW_MISSING=1`.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod hostile;
mod infra;
mod python;
mod rust;

use std::path::{Path, PathBuf};

use mcp_server_lint::{Config, server};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::{Value, json};

pub use mcp_test::raw::{err, ok};

/// The fixtures' folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The virtualenv of the tools Debian lacks.
pub fn tools_venv() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/mcp-fleet/lint-tools/bin")
}

/// The Rust toolchain's `bin` (cargo, cargo-clippy, rustfmt), the system
/// directories, then the tools' virtualenv.
pub fn lint_path() -> Vec<PathBuf> {
    let out = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().unwrap();
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    vec![
        PathBuf::from(format!("{sysroot}/bin")),
        "/usr/local/bin".into(),
        "/usr/bin".into(),
        "/bin".into(),
        tools_venv(),
    ]
}

/// Fail (naming the provisioning command) when a tool the test needs is
/// absent; `false` means skip, allowed for ruff and hadolint only with
/// `LINT_TESTS_ALLOW_MISSING=1`.
pub fn require(tool: &str) -> bool {
    let present = lint_path().iter().any(|d| d.join(tool).is_file());
    if present {
        return true;
    }
    let optional = matches!(tool, "ruff" | "hadolint");
    if optional && std::env::var("LINT_TESTS_ALLOW_MISSING").as_deref() == Ok("1") {
        eprintln!("skipping: {tool} is not installed (LINT_TESTS_ALLOW_MISSING=1)");
        return false;
    }
    panic!(
        "{tool} is not installed; run `cargo xtask test`, which provisions the lint tools (Debian packages and \
         {} from crates/servers/lint/tests/tools.txt)",
        tools_venv().display()
    );
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Fixture {
    /// A server whose root holds copies of the named fixture projects.
    pub async fn new(projects: &[&str]) -> Self {
        Self::with(projects, |_| {}).await
    }

    pub async fn with(projects: &[&str], f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        for p in projects {
            copy_dir(&fixtures().join(p), &root.join(p));
        }
        let mut c = Config::for_root(&root, lint_path(), dir.path().join("data"));
        f(&mut c);
        let server = TestServer::start(server(c).await.unwrap()).await;
        Self { dir, server }
    }

    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path().join("root")).unwrap()
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    /// `lint_run`'s structured result, which must be a success.
    pub async fn lint(&self, args: Value) -> Value {
        ok(&self.call("lint_run", args).await).clone()
    }
}

/// The findings of one tool as `(rule, file, line)`, sorted.
pub fn rules_of(v: &Value, tool: &str) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["tool"] == tool)
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_owned(),
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// One run of the result, by tool.
pub fn run_of<'a>(v: &'a Value, tool: &str) -> &'a Value {
    v["runs"].as_array().unwrap().iter().find(|r| r["tool"] == tool).unwrap_or_else(|| panic!("no run of {tool}: {v}"))
}

pub fn owned(v: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    v.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), *c)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_is_compliant() {
    let f = Fixture::new(&["python-clean"]).await;
    mcp_test::assert_server_compliance(&f.server, mcp_test::Probe::new("lint_detect", json!({"path": "python-clean"})))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::for_root(dir.path(), lint_path(), dir.path().join("data"));
    c.write = true;
    let s = server(c).await.unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_format_exists_only_with_lint_write() {
    let names = |s: &mcp_core::Server| -> Vec<String> {
        s.tools_list_json().as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let c = Config::for_root(dir.path(), lint_path(), dir.path().join("data"));
    let without = names(&server(c.clone()).await.unwrap());
    assert_eq!(without, ["lint_detect", "lint_explain", "lint_run"]);
    let mut w = c;
    w.write = true;
    assert!(names(&server(w).await.unwrap()).contains(&"lint_format".to_owned()));
    // Unregistered means not callable either.
    let f = Fixture::new(&["python-bad"]).await;
    let r = f.call("lint_format", json!({"path": "python-bad"})).await;
    assert!(r.body["error"].is_object() || r.result()["isError"] == true, "{}", r.text);
}
