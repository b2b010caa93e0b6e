//! `mcp-server-test`: test runs for the fleet's projects. It detects the
//! runner (pytest, unittest, cargo test, cargo-nextest; the fleet's
//! `template.json` first), runs all tests or a subset through
//! `mcp_core::jobs::Runner` (Landlock, empty environment, own session,
//! resource limits, every process killed at the end), reads per-test results
//! (JUnit for pytest and nextest, libtest's and unittest's text otherwise),
//! re-runs failures to find flaky tests, measures coverage where coverage.py
//! is installed, and stores every run with its commit so `test_history` can
//! say when a test started failing. The verdict is `passed` only when the
//! results and the exit code agree and the run ended on its own.

pub mod config;
pub mod detect;
pub mod exec;
pub mod git;
pub mod junit;
pub mod libtest;
pub mod model;
pub mod plugin;
pub mod schema;
pub mod store;
pub mod tools;
pub mod unittest;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use mcp_core::db::Db;
use mcp_core::jobs::{Job, Limits, Runner, RunnerConfig};
use mcp_core::{CoreConfig, Program, Server, StartError, ToolError};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-test";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs whose raw output `test_output` can still page.
const KEEP_OUTPUTS: usize = 32;

/// The state every tool shares.
pub struct Tests {
    /// Runs processes.
    pub runner: Runner,
    /// Runs and cases.
    pub db: Db,
    /// Settings.
    pub config: Config,
    /// The jobs of recent runs, newest last.
    outputs: Mutex<VecDeque<(String, Vec<Arc<Job>>)>>,
}

impl Drop for Tests {
    fn drop(&mut self) {
        self.runner.kill_all();
    }
}

impl Tests {
    /// A project directory from a tool's `path`, and its key in the store
    /// (its path relative to the first root).
    pub fn project(&self, path: &str) -> Result<(std::path::PathBuf, String), ToolError> {
        let dir = self.runner.project(path)?;
        let key = self
            .runner
            .config()
            .roots
            .first()
            .and_then(|r| dir.strip_prefix(r).ok())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| dir.display().to_string());
        Ok((dir, if key.is_empty() { ".".to_owned() } else { key }))
    }

    /// Keep a run's jobs for `test_output`.
    pub fn remember(&self, run_id: &str, jobs: Vec<Arc<Job>>) {
        if let Ok(mut o) = self.outputs.lock() {
            o.push_back((run_id.to_owned(), jobs));
            while o.len() > KEEP_OUTPUTS {
                o.pop_front();
            }
        }
    }

    /// A run's jobs, while they are held.
    pub fn jobs(&self, run_id: &str) -> Option<Vec<Arc<Job>>> {
        self.outputs.lock().ok()?.iter().find(|(id, _)| id == run_id).map(|(_, j)| j.clone())
    }
}

/// Build the server: the runner (private directories, subreaper, sandbox
/// detection), the database, the tools.
pub async fn server(config: Config) -> Result<Server, StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::config(format!("{}: {e}", config::TEST_DATA_DIR)))?;
    let data = std::fs::canonicalize(&config.data_dir)
        .map_err(|e| StartError::config(format!("{}: {e}", config::TEST_DATA_DIR)))?;
    for r in &config.roots {
        let c = std::fs::canonicalize(r)
            .map_err(|e| StartError::config(format!("{}: root {}: {e}", config::TEST_ROOTS, r.display())))?;
        // Runs may write the roots: a data directory inside one would let a
        // test rewrite the history, the spools or another run's scratch.
        if data.starts_with(&c) {
            return Err(StartError::config(format!(
                "{} ({}) lies inside the root {}; runs could rewrite it",
                config::TEST_DATA_DIR,
                data.display(),
                c.display()
            )));
        }
    }
    let runner = Runner::new(RunnerConfig {
        roots: config.roots.clone(),
        path: config.path.clone(),
        data_dir: data.clone(),
        sandbox: config.sandbox,
        sandbox_var: config::TEST_SANDBOX,
        read: config.sandbox_read.clone(),
        limits: Limits {
            cpu_secs: config.cpu_secs,
            address_space: config.memory,
            processes: config.processes,
            file_size: config.file_size,
            open_files: 4096,
            no_network: false,
        },
        max_output: config.max_output,
        max_spool: config.max_spool,
        max_running: config.max_processes,
    })
    .map_err(|e| StartError::config(format!("{}: {e}", config::TEST_ROOTS)))?;
    let db = Db::connect(&config.database_url, "test", schema::MIGRATIONS)
        .await
        .map_err(|e| StartError::config(format!("{}: {e}", config::TEST_DATABASE_URL)))?;
    mcp_core::tracing::info!(database = %db.url(), sandbox = %runner.sandbox().summary(), "test server ready");
    let state = Tests { runner, db, config, outputs: Mutex::new(VecDeque::new()) };
    let b = Server::builder(NAME, VERSION, Arc::new(state)).instructions(
        "Run a project's tests and read per-test results. test_detect says which runner a project uses; test_run \
         runs all tests or a subset (paths, keyword, ids, only_failed) with optional reruns (flaky detection), \
         coverage and time limits, and returns a verdict that is `passed` only when every result agrees; \
         test_results pages a run's cases, test_output its raw output, test_history a project's runs and when a test \
         started failing.",
    );
    let b = b.ready_check("database", |s: Arc<Tests>| async move { s.db.ping().await });
    // Never degrade silently: without the sandbox no run starts, and /ready says why.
    let b = b.ready_check("sandbox", |s: Arc<Tests>| async move {
        match s.runner.refusal() {
            Some(why) => Err(why),
            None => Ok(format!(
                "{}; test runs: TCP {}",
                s.runner.sandbox().summary(),
                if s.config.network { "allowed (TEST_NETWORK)" } else { "refused" }
            )),
        }
    });
    Ok(b.tool(tools::test_detect::tool())
        .tool(tools::test_history::tool())
        .tool(tools::test_list::tool())
        .tool(tools::test_output::tool())
        .tool(tools::test_results::tool())
        .tool(tools::test_run::tool())
        .build())
}

/// The program, for `main` (the fleet's one entry-point shape).
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
