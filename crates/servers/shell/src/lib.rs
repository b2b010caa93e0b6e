//! `mcp-server-shell`: commands and long-running processes under a policy
//! fixed at start-up (see `policy` for the rules and `jobs` for execution).
//!
//! Every command is an argv array run without a shell, in a working directory
//! inside the configured roots, with an environment built from scratch (a
//! fixed `PATH`, a private `HOME`, `LANG`, and only allow-listed variables the
//! caller asks for: nothing of the server's own environment, where its secrets
//! live, is inherited), under resource limits, with output captured and kept.
//! Every run is written to the audit log with its argv (secrets redacted),
//! working directory, policy decision, exit status, duration and trace_id.
//!
//! The policy decides which program starts; the kernel decides what it may
//! touch. Every job runs in `mcp_core::sandbox` (Landlock, no_new_privs): it
//! may write its roots, its `HOME` and a private temporary directory, read and
//! execute the system directories, and nothing else: not the server's secret
//! files, spool or data. `SHELL_SANDBOX=off` is the one documented way to run
//! without it; without it and without Landlock, jobs are refused.

pub mod config;
/// The job runner, shared with the lint and test servers.
pub use mcp_core::jobs;
pub mod parse;
pub mod policy;
pub mod redact;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::{CoreConfig, Program, Server, StartError, ToolError};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-shell";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Shell {
    /// The fixed policy.
    pub policy: policy::Policy,
    /// Canonical roots.
    pub roots: Vec<PathBuf>,
    /// Running and finished jobs.
    pub jobs: Arc<jobs::Table>,
    /// Settings.
    pub config: Config,
    /// Children's HOME.
    pub home: PathBuf,
    /// Programs the preset named but this machine lacks.
    pub missing: Vec<String>,
    /// The sandbox as this server applies it.
    pub sandbox: mcp_core::sandbox::Status,
}

impl Drop for Shell {
    fn drop(&mut self) {
        self.jobs.kill_all();
    }
}

/// Build the server, with the sandbox this machine supports.
pub async fn server(config: Config) -> Result<Server, StartError> {
    server_with_sandbox(config, mcp_core::sandbox::status().clone()).await
}

/// Build the server as if this machine's sandbox support were `detected`:
/// how tests show what happens on a machine without Landlock.
pub async fn server_with_sandbox(config: Config, detected: mcp_core::sandbox::Status) -> Result<Server, StartError> {
    let mut roots = Vec::new();
    for r in &config.roots {
        let c = std::fs::canonicalize(r)
            .map_err(|e| StartError::config(format!("{}: root {}: {e}", config::SHELL_ROOTS, r.display())))?;
        if !c.is_dir() {
            return Err(StartError::config(format!("{}: {} is not a directory", config::SHELL_ROOTS, r.display())));
        }
        roots.push(c);
    }
    let (policy, missing) =
        policy::build(config.path.clone(), &config.programs, &config.interpreters, config.env_allow.clone())
            .map_err(|e| StartError::Config(mcp_core::ConfigErrors(e)))?;
    if !missing.is_empty() {
        mcp_core::tracing::info!(missing = ?missing, "programs of the policy not found on this machine; left out");
    }
    let sandbox = if config.sandbox { detected } else { detected.switched_off() };
    let landlock_tcp = config.sandbox && sandbox.network;
    // Landlock's TCP rules satisfy SHELL_NO_NETWORK on their own; the network
    // namespace (CAP_SYS_ADMIN) is used only where they are missing.
    let netns = config.no_network && !landlock_tcp;
    if netns && !jobs::probe_no_network().await {
        return Err(StartError::config(format!(
            "{}=true but this machine cannot give children a private network namespace (needs CAP_SYS_ADMIN)",
            config::SHELL_NO_NETWORK
        )));
    }
    let data = match &config.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("mcp-server-shell-{}", std::process::id())),
    };
    std::fs::create_dir_all(data.join("spool"))
        .map_err(|e| StartError::config(format!("{}: {e}", config::SHELL_DATA_DIR)))?;
    let home = config.home.clone().unwrap_or_else(|| data.join("home"));
    std::fs::create_dir_all(&home).map_err(|e| StartError::config(format!("{}: {e}", config::SHELL_HOME)))?;
    // A daemon that double-forks and calls setsid is re-parented to this
    // process, not to init, so its job can still find and kill it.
    if let Err(e) = mcp_core::sandbox::become_subreaper() {
        return Err(StartError::config(format!("cannot become a child subreaper (PR_SET_CHILD_SUBREAPER): {e}")));
    }
    jobs::spawn_reaper();
    let limits = jobs::Limits {
        cpu_secs: config.cpu_secs,
        address_space: config.memory,
        processes: config.processes,
        file_size: config.file_size,
        open_files: 4096,
        no_network: netns,
    };
    let table = Arc::new(jobs::Table::new(
        data.join("spool"),
        data.join("tmp"),
        config.max_output,
        config.max_spool,
        limits,
        config.max_processes,
    ));
    let shell = Shell { policy, roots, jobs: table, config, home, missing, sandbox };
    // The server's secret files must be out of every job's reach: refuse a
    // configuration that puts one under a directory the sandbox grants.
    let base = shell.confinement(&[], true);
    for f in &shell.config.secret_files {
        if base.exposes(f) {
            return Err(StartError::config(format!(
                "secret file {} lies inside what jobs may read (the roots, {} or the system directories); move it (compose: /run/secrets)",
                f.display(),
                config::SHELL_SANDBOX_READ
            )));
        }
    }
    match shell.sandbox.level {
        mcp_core::sandbox::Level::None => mcp_core::tracing::error!(
            sandbox = %shell.sandbox.summary(),
            "jobs are refused until this machine has Landlock or {}=off is set",
            config::SHELL_SANDBOX
        ),
        _ => mcp_core::tracing::info!(sandbox = %shell.sandbox.summary(), "job sandbox"),
    }
    let b = Server::builder(NAME, VERSION, Arc::new(shell)).instructions(
        "Run build and test commands in the project directories. Commands are argv arrays run without a shell; \
         call `policy` to see which programs are allowed. Long commands: `start`, then `read_output`/`wait`.",
    );
    let b = b.ready_check("roots", |state: Arc<Shell>| async move {
        for r in &state.roots {
            std::fs::read_dir(r).map_err(|e| format!("{}: {e}", r.display()))?;
        }
        Ok(format!("{} programs allowed", state.policy.programs.len()))
    });
    // Never degrade silently: without the sandbox this server runs no job,
    // and says so here.
    let b = b.ready_check("sandbox", |state: Arc<Shell>| async move {
        match state.refusal() {
            Some(why) => Err(why),
            None => Ok(state.sandbox.summary()),
        }
    });
    Ok(b.tool(tools::list_processes::tool())
        .tool(tools::policy::tool())
        .tool(tools::read_output::tool())
        .tool(tools::run::tool())
        .tool(tools::signal::tool())
        .tool(tools::start::tool())
        .tool(tools::wait::tool())
        .tool(tools::write_stdin::tool())
        .build())
}

impl Shell {
    /// Why jobs cannot run, when the sandbox is on and this machine lacks it.
    pub fn refusal(&self) -> Option<String> {
        (self.sandbox.level == mcp_core::sandbox::Level::None).then(|| {
            format!(
                "jobs are refused: {} ({}=on by default needs Landlock; set {}=off to run jobs unconfined)",
                self.sandbox.summary(),
                config::SHELL_SANDBOX,
                config::SHELL_SANDBOX
            )
        })
    }

    /// The sandbox of a job: the roots, `HOME` and configured caches
    /// writable; system directories, configured toolchains and `read`
    /// readable; TCP as configured. The job adds its temporary directory.
    pub fn confinement(&self, read: &[PathBuf], network: bool) -> mcp_core::sandbox::Confinement {
        let mut rw: Vec<PathBuf> = self.roots.clone();
        rw.push(self.home.clone());
        rw.extend(self.config.sandbox_write.iter().cloned());
        let mut ro: Vec<PathBuf> = self.config.sandbox_read.clone();
        // Programs on SHELL_PATH outside the system directories, with the
        // prefix a `bin` folder belongs to: a toolchain's programs load their
        // own libraries from beside it (rustc from `<sysroot>/lib`).
        for p in &self.policy.path {
            ro.push(p.clone());
            if p.file_name().is_some_and(|n| n == "bin")
                && let Some(prefix) = p.parent().filter(|q| q.parent().is_some())
            {
                ro.push(prefix.to_path_buf());
            }
        }
        ro.extend(read.iter().cloned());
        mcp_core::sandbox::Confinement::system(&ro, &rw, network)
    }

    /// The confinement of a local job, or `None` when the operator switched
    /// the sandbox off.
    pub fn job_confinement(&self) -> Option<mcp_core::sandbox::Confinement> {
        self.config.sandbox.then(|| self.confinement(&[], !self.config.no_network))
    }

    /// Resolve a working directory: inside a root, canonical, a directory.
    pub fn cwd(&self, input: Option<&str>) -> Result<PathBuf, ToolError> {
        jobs::dir_in_roots(&self.roots, input.unwrap_or(""), "working directory")
    }

    /// The children's whole environment: fixed variables plus allowed ones.
    pub fn env(&self, extra: &std::collections::BTreeMap<String, String>) -> Result<Vec<(String, String)>, ToolError> {
        let mut env = vec![
            ("PATH".to_owned(), self.policy.path_var()),
            ("HOME".to_owned(), self.home.display().to_string()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ];
        for (k, v) in extra {
            self.policy.check_env(k, v).map_err(|d| ToolError::denied(d.0))?;
            env.retain(|(x, _)| x != k);
            env.push((k.clone(), v.clone()));
        }
        Ok(env)
    }

    /// A timeout asked for, within the configured maximum.
    pub fn timeout(&self, secs: Option<f64>, default: Duration) -> Result<Duration, ToolError> {
        match secs {
            None => Ok(default),
            Some(s) if s.is_finite() && s > 0.0 && s <= self.config.max_timeout.as_secs_f64() => {
                Ok(Duration::from_secs_f64(s))
            }
            Some(s) => Err(ToolError::invalid(format!(
                "timeout_secs {s} is outside (0, {}]",
                self.config.max_timeout.as_secs_f64()
            ))),
        }
    }
}

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// with no routes or background work of its own.
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
