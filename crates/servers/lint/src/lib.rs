//! `mcp-server-lint`: a project's linters, formatters and schema checks, run
//! with the project's own configuration, reported in one diagnostic shape
//! (and SARIF 2.1.0 on request).
//!
//! `detect` finds what a project uses — the fleet's `template.json` first,
//! then the tools' configuration files, then the kinds of files present —
//! and says why. `linters` resolves each tool (the project's virtualenv, the
//! server's `LINT_PATH`, or built in), runs it through
//! `mcp_core::jobs::Runner`, and `parse` reads its output. A tool that is not
//! installed is `missing`, never clean; a run is `passed` only when at least
//! one tool ran and every run ended `ok`.
//!
//! Linters execute project code (flake8 and mypy plugins, cargo build
//! scripts), so every process runs as a shell job does: an empty environment
//! with fixed variables, its own session, resource limits, Landlock (the
//! roots, a private `HOME` and a scratch directory writable; the system
//! directories and `LINT_PATH`'s toolchains readable; TCP refused), and every
//! process of a run killed at its end. `LINT_SANDBOX=off` is the one
//! documented way to run without Landlock; without it and without Landlock,
//! runs are refused.

pub mod baseline;
pub mod config;
pub mod detect;
pub mod diag;
pub mod linters;
pub mod parse;
pub mod sarif;
pub mod tools;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::jobs::{Limits, Runner, RunnerConfig};
use mcp_core::{CoreConfig, Program, Server, StartError, ToolError};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-lint";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Lint {
    /// Runs every process.
    pub runner: Runner,
    /// Settings.
    pub config: Config,
    /// Versions of the tools on `PATH`, probed once (`--version` argv → version).
    pub versions: Mutex<HashMap<String, Option<String>>>,
}

impl Drop for Lint {
    fn drop(&mut self) {
        self.runner.kill_all();
    }
}

/// Build the server.
pub async fn server(config: Config) -> Result<Server, StartError> {
    let data = match &config.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("mcp-server-lint-{}", std::process::id())),
    };
    let runner = Runner::new(RunnerConfig {
        roots: config.roots.clone(),
        path: config.path.clone(),
        data_dir: data,
        sandbox: config.sandbox,
        sandbox_var: config::LINT_SANDBOX,
        read: config.sandbox_read.clone(),
        limits: Limits {
            cpu_secs: config.cpu_secs,
            address_space: config.memory,
            processes: config.processes,
            file_size: config.file_size,
            open_files: 4096,
            no_network: false,
        },
        max_output: 64 << 10,
        max_spool: config.max_output as u64,
        max_running: config.max_processes,
    })
    .map_err(|e| StartError::config(format!("{}/{}: {e}", config::LINT_ROOTS, config::LINT_DATA_DIR)))?;
    match runner.refusal() {
        Some(why) => mcp_core::tracing::error!(sandbox = %runner.sandbox().summary(), "{why}"),
        None => mcp_core::tracing::info!(sandbox = %runner.sandbox().summary(), "run sandbox"),
    }
    let write = config.write;
    // A whole lint run is several tools in turn, each up to its own limit.
    let call_timeout = config.max_timeout + Duration::from_secs(120);
    let lint = Lint { runner, config, versions: Mutex::new(HashMap::new()) };
    let b = Server::builder(NAME, VERSION, Arc::new(lint)).instructions(
        "Lint a project with its own tools and configuration. Call `lint_detect` to see which linters the project uses \
         and which are installed, `lint_run` for findings (one shape for every tool; `since` keeps only new ones; \
         `format: sarif` for SARIF 2.1.0), `lint_explain` for a rule's documentation.",
    );
    let b = b.ready_check("roots", |state: Arc<Lint>| async move {
        for r in &state.runner.config().roots {
            std::fs::read_dir(r).map_err(|e| format!("{}: {e}", r.display()))?;
        }
        Ok(format!("{} root(s)", state.runner.config().roots.len()))
    });
    // Never degrade silently: without the sandbox this server runs nothing,
    // and says so here.
    let b = b.ready_check("sandbox", |state: Arc<Lint>| async move {
        match state.runner.refusal() {
            Some(why) => Err(why),
            None => Ok(state.runner.sandbox().summary()),
        }
    });
    Ok(b.tool(tools::lint_detect::tool())
        .tool(tools::lint_explain::tool())
        .tool_if(write, tools::lint_format::tool().timeout(call_timeout))
        .tool(tools::lint_run::tool().timeout(call_timeout))
        .build())
}

impl Lint {
    /// A time limit asked for, within the configured maximum.
    pub fn timeout(&self, secs: Option<f64>) -> Result<Duration, ToolError> {
        match secs {
            None => Ok(self.config.timeout),
            Some(s) if s.is_finite() && s > 0.0 && s <= self.config.max_timeout.as_secs_f64() => {
                Ok(Duration::from_secs_f64(s))
            }
            Some(s) => Err(ToolError::invalid(format!(
                "timeout_secs {s} is outside (0, {}]",
                self.config.max_timeout.as_secs_f64()
            ))),
        }
    }

    /// Paths inside a project: relative, no `..`, no option-like names,
    /// existing, and still inside the project once symlinks are resolved.
    /// Returned as given (normalised), for the tools' argv.
    pub fn paths(&self, project: &Path, paths: &[String]) -> Result<Vec<String>, ToolError> {
        let mut out = Vec::new();
        for p in paths {
            if p.is_empty() || p.contains('\0') || p.starts_with('-') {
                return Err(ToolError::invalid(format!(
                    "path {p:?} must be a non-empty relative path not starting with '-'"
                )));
            }
            let pp = Path::new(p);
            if pp.is_absolute() || pp.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_))) {
                return Err(ToolError::denied(format!(
                    "path {p:?} must be relative to the project and stay inside it (no absolute paths, no '..')"
                )));
            }
            let full = project.join(pp);
            let c = std::fs::canonicalize(&full)
                .map_err(|_| ToolError::not_found(format!("{p} does not exist in the project")))?;
            if !c.starts_with(project) {
                return Err(ToolError::denied(format!("{p} resolves outside the project")));
            }
            let norm: PathBuf = pp.components().filter(|c| !matches!(c, Component::CurDir)).collect();
            let s = norm.to_string_lossy().into_owned();
            out.push(if s.is_empty() { ".".to_owned() } else { s });
        }
        Ok(out)
    }
}

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// with no routes or background work of its own.
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
