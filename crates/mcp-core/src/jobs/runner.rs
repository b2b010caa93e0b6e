//! `Runner`: the job table with the policy a checking server needs — run one
//! named tool (resolved through a fixed `PATH`) in a project under the roots,
//! confined by the kernel, to its end, and hand back its exit, its output and
//! the files it wrote to a scratch directory.
//!
//! The lint and test servers execute project code (pytest imports it, flake8
//! and mypy load plugins, cargo runs build scripts), so every run gets what a
//! shell job gets: an empty environment plus fixed variables, a session of
//! its own, resource limits, Landlock (the project and the server's private
//! `HOME` and scratch writable, the system directories and the tools' prefixes
//! readable, TCP refused unless the run asks for it), and a kill of every
//! process of the run at its end. What they add to a shell job is only which
//! programs may be named — the tools they know — which stays with each server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Job, Limits, Program, Spec, State, Step, Table};
use crate::ToolError;
use crate::sandbox::{Confinement, Level, Status};

/// How a runner is set up (fixed at start-up).
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Projects live under these; every run's working directory is inside one.
    pub roots: Vec<PathBuf>,
    /// Programs are found here, in order; children get it as their `PATH`.
    pub path: Vec<PathBuf>,
    /// Private state: `spool/` (output), `tmp/` (per-run temporary
    /// directories), `scratch/` (files a run writes for the server), `home/`.
    pub data_dir: PathBuf,
    /// Confine runs with Landlock. `false` only when the operator said so.
    pub sandbox: bool,
    /// The server's variable that switches the sandbox off, for messages.
    pub sandbox_var: &'static str,
    /// More read-only paths (a virtualenv's interpreter, a toolchain).
    pub read: Vec<PathBuf>,
    /// Per-process resource limits.
    pub limits: Limits,
    /// Bytes of each stream kept in memory for results.
    pub max_output: usize,
    /// Bytes of each stream kept on disk.
    pub max_spool: u64,
    /// Runs at once; more wait for a slot (see [`Runner::run`]).
    pub max_running: usize,
}

/// One run: a program and its arguments in a project.
#[derive(Debug, Clone)]
pub struct Run {
    /// The program name (looked up on the runner's `PATH`) or a path inside
    /// the project (a virtualenv's `.venv/bin/python`), then its arguments.
    pub argv: Vec<String>,
    /// Working directory: the project (already checked with [`Runner::project`]).
    pub cwd: PathBuf,
    /// Variables besides `PATH`, `HOME`, `LANG` and `TMPDIR`.
    pub env: Vec<(String, String)>,
    /// Wall-clock limit; the whole tree is killed when it passes.
    pub timeout: Duration,
    /// TCP allowed (installs); checks run without.
    pub network: bool,
    /// Shown in logs.
    pub display: String,
}

/// How a run ended, with its output.
pub struct Finished {
    /// Exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Why the server ended it (its time limit), or why it could not start.
    pub killed: Option<String>,
    /// The time limit ended it.
    pub timed_out: bool,
    /// Wall-clock duration.
    pub duration: Duration,
    /// Everything written to stdout that was kept (up to the spool cap).
    pub stdout: String,
    /// Everything written to stderr that was kept.
    pub stderr: String,
    /// Output beyond the spool cap was dropped.
    pub output_cut: bool,
    /// The job, for paging its output later.
    pub job: Arc<Job>,
}

impl Finished {
    /// It exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// Exited on its own (with any code): its output is complete.
    pub fn completed(&self) -> bool {
        self.exit_code.is_some() && self.killed.is_none() && !self.output_cut
    }

    /// One line on how it ended.
    pub fn ending(&self) -> String {
        match (&self.killed, self.exit_code, self.signal) {
            (Some(why), _, _) => why.clone(),
            (None, Some(c), _) => format!("exit code {c}"),
            (None, None, Some(s)) => format!("ended by signal {s}"),
            _ => "ended".to_owned(),
        }
    }
}

/// A directory a run may write and the server reads afterwards (a JUnit
/// report, a coverage file); removed when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The runner: a job table, the roots and the fixed `PATH`.
pub struct Runner {
    config: RunnerConfig,
    table: Arc<Table>,
    /// One permit per run that may go at once. A run waits for one rather
    /// than fail: a checking server's callers (a planner building several
    /// projects) would otherwise read "too many processes" as a failed check.
    slots: tokio::sync::Semaphore,
    home: PathBuf,
    status: Status,
    scratch_dir: PathBuf,
}

impl Runner {
    /// Make the private directories, become the subreaper of what runs, and
    /// detect the sandbox. Errors name what is wrong with the configuration.
    pub fn new(mut config: RunnerConfig) -> Result<Self, String> {
        let mut roots = Vec::new();
        for r in &config.roots {
            roots.push(std::fs::canonicalize(r).map_err(|e| format!("root {}: {e}", r.display()))?);
        }
        if roots.is_empty() {
            return Err("no roots configured".to_owned());
        }
        config.roots = roots;
        // A PATH entry this user cannot read (another user's virtualenv)
        // would make every run's sandbox fail to build; it is left out, loudly.
        config.path.retain(|p| match std::fs::metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                tracing::warn!(path = %p.display(), "PATH entry not readable by this user; left out");
                false
            }
            _ => true,
        });
        let d = &config.data_dir;
        for sub in ["spool", "tmp", "scratch", "home"] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| format!("{}: {e}", d.join(sub).display()))?;
        }
        let d = std::fs::canonicalize(d).map_err(|e| format!("{}: {e}", d.display()))?;
        config.data_dir = d.clone();
        crate::sandbox::become_subreaper()
            .map_err(|e| format!("cannot become a child subreaper (PR_SET_CHILD_SUBREAPER): {e}"))?;
        super::spawn_reaper();
        let detected = crate::sandbox::status().clone();
        let status = if config.sandbox { detected } else { detected.switched_off() };
        let table = Arc::new(Table::new(
            d.join("spool"),
            d.join("tmp"),
            config.max_output,
            config.max_spool,
            config.limits,
            config.max_running,
        ));
        let slots = tokio::sync::Semaphore::new(config.max_running.max(1));
        Ok(Self { home: d.join("home"), scratch_dir: d.join("scratch"), config, table, status, slots })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    /// The sandbox as detected (or switched off).
    pub fn sandbox(&self) -> &Status {
        &self.status
    }

    /// Why runs are refused: the sandbox is on and this machine lacks
    /// Landlock.
    pub fn refusal(&self) -> Option<String> {
        let var = self.config.sandbox_var;
        (self.config.sandbox && self.status.level == Level::None).then(|| {
            format!(
                "runs are refused: {} ({var}=on by default needs Landlock; set {var}=off to run unconfined)",
                self.status.summary()
            )
        })
    }

    /// Kill every running job (shutdown).
    pub fn kill_all(&self) {
        self.table.kill_all();
    }

    /// A project directory: `input` relative to the first root (or absolute),
    /// canonical, inside a root, a directory (see [`dir_in_roots`]).
    pub fn project(&self, input: &str) -> Result<PathBuf, ToolError> {
        dir_in_roots(&self.config.roots, input, "project")
    }

    /// A program on the runner's `PATH`, canonical.
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() || name.contains('/') {
            return None;
        }
        self.config
            .path
            .iter()
            .map(|d| d.join(name))
            .find(|p| is_executable(p))
            .and_then(|p| std::fs::canonicalize(p).ok())
    }

    /// The children's `PATH`.
    pub fn path_var(&self) -> String {
        self.config.path.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
    }

    /// A fresh scratch directory for one run.
    pub fn scratch(&self) -> Result<Scratch, ToolError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self.scratch_dir.join(format!("{}-{id}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(ToolError::internal)?;
        Ok(Scratch(dir))
    }

    /// What a run may touch: the roots, `HOME` and `scratch` writable; the
    /// system directories, the `PATH` entries with the prefix a `bin` folder
    /// belongs to (a toolchain loads its libraries from beside it) and the
    /// configured read paths readable.
    fn confinement(&self, scratch: Option<&Path>, network: bool) -> Confinement {
        let mut rw: Vec<PathBuf> = self.config.roots.clone();
        rw.push(self.home.clone());
        rw.extend(scratch.map(Path::to_path_buf));
        let mut ro: Vec<PathBuf> = self.config.read.clone();
        for p in &self.config.path {
            ro.push(p.clone());
            if p.file_name().is_some_and(|n| n == "bin")
                && let Some(prefix) = p.parent().filter(|q| q.parent().is_some())
            {
                ro.push(prefix.to_path_buf());
            }
        }
        Confinement::system(&ro, &rw, network)
    }

    /// The program of `argv[0]`: a name on `PATH`, or a relative path inside
    /// the working directory (a project's virtualenv), whose canonical file
    /// must then be a Python interpreter on `PATH` or in the system
    /// directories, or a file under the roots (a program the project built,
    /// confined like everything else) — CPython finds its virtualenv from
    /// `argv[0]`, so that is kept as the child's `argv[0]`.
    fn program(&self, argv: &[String], cwd: &Path) -> Result<Program, ToolError> {
        let Some(first) = argv.first() else { return Err(ToolError::invalid("empty argv")) };
        if first.contains('/') {
            let p = Path::new(first);
            if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(ToolError::denied(format!("{first}: only programs on PATH or paths inside the project")));
            }
            let exe = std::fs::canonicalize(cwd.join(p))
                .map_err(|_| ToolError::not_found(format!("{first} does not exist in the project")))?;
            // A virtualenv's interpreter is a link to a Python on the
            // system or on PATH; a link to any other program is refused, so
            // a project cannot turn `.venv/bin/python` into something else.
            let python = exe.file_name().is_some_and(|n| n.to_string_lossy().starts_with("python"));
            let on_path = self.config.path.iter().any(|d| exe.starts_with(d));
            let system = ["/usr/bin", "/usr/local/bin", "/bin"].iter().any(|d| exe.starts_with(d));
            let inside = self.config.roots.iter().any(|r| exe.starts_with(r));
            if !(inside || (python && (on_path || system))) || !is_executable(&exe) {
                return Err(ToolError::denied(format!("{first} resolves to {}, which may not run", exe.display())));
            }
            return Ok(Program { exe, arg0: Some(cwd.join(p).display().to_string()), args: argv[1..].to_vec() });
        }
        let exe = self
            .which(first)
            .ok_or_else(|| ToolError::Unavailable(format!("{first} is not installed on this server's PATH")))?;
        Ok(Program { exe, arg0: None, args: argv[1..].to_vec() })
    }

    /// Run to the end (or the time limit) and collect the output. `scratch`
    /// is writable for the run. A run that cannot start is an error; one
    /// that starts and fails is a [`Finished`]. When `max_running` runs are
    /// going, it waits for one to end (the caller's call timeout bounds the
    /// wait; the run's own time limit starts when it does).
    pub async fn run(&self, run: Run, scratch: Option<&Scratch>) -> Result<Finished, ToolError> {
        if let Some(why) = self.refusal() {
            return Err(ToolError::Unavailable(why));
        }
        let program = self.program(&run.argv, &run.cwd)?;
        let _slot = self.slots.acquire().await.map_err(|_| ToolError::Unavailable("the runner is closed".into()))?;
        let mut env = vec![
            ("PATH".to_owned(), self.path_var()),
            ("HOME".to_owned(), self.home.display().to_string()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ];
        for (k, v) in run.env {
            env.retain(|(x, _)| *x != k);
            env.push((k, v));
        }
        let spec = Spec {
            step: Step::single(program),
            cwd: Some(run.cwd.clone()),
            env,
            stdin: None,
            keep_stdin: false,
            timeout: run.timeout,
            display: run.display.clone(),
            confinement: self.config.sandbox.then(|| self.confinement(scratch.map(Scratch::path), run.network)),
        };
        let job = self.table.start(spec)?;
        // The job ends itself at its time limit; the margin covers the kill.
        let state = job.wait(run.timeout + Duration::from_secs(10)).await;
        if state == State::Running {
            job.kill_tree("did not end after its time limit");
        }
        // The pumps close the captures when the job's task is done with them.
        let ended = job.wait(Duration::from_secs(5)).await;
        let read_all = |c: &super::Capture| -> String {
            let mut out = String::new();
            let mut offset = 0;
            while let Ok(p) = c.read(offset, 1 << 20) {
                out.push_str(&p.text);
                if p.at_end || p.next_offset == offset {
                    break;
                }
                offset = p.next_offset;
            }
            out
        };
        let stdout = read_all(&job.stdout);
        let stderr = read_all(&job.stderr);
        let output_cut = job.stdout.total() > job.stdout.spooled() || job.stderr.total() > job.stderr.spooled();
        let (exit_code, signal, killed) = match ended {
            State::Exited { code, signal } => (code, signal, None),
            State::Killed { reason } => (None, None, Some(reason)),
            State::Failed { error } => return Err(ToolError::failed(error)),
            State::Running => (None, None, Some("still running".to_owned())),
        };
        let timed_out = killed.as_deref().is_some_and(|k| k.contains("time limit"));
        Ok(Finished { exit_code, signal, killed, timed_out, duration: job.elapsed(), stdout, stderr, output_cut, job })
    }
}

/// A directory under `roots`: `input` relative to the first root (the root
/// itself when empty) or absolute, canonical, inside a root once symlinks
/// are resolved, and a directory. `what` names it in the errors (`project`,
/// `working directory`). The one check of every program that runs things in
/// caller-named directories (shell, lint, test).
pub fn dir_in_roots(roots: &[PathBuf], input: &str, what: &str) -> Result<PathBuf, ToolError> {
    let Some(root) = roots.first() else { return Err(ToolError::internal("no roots configured")) };
    if input.contains('\0') {
        return Err(ToolError::invalid(format!("{what} contains a NUL byte")));
    }
    if input.is_empty() {
        return Ok(root.clone());
    }
    let p = Path::new(input);
    let p = if p.is_absolute() { p.to_path_buf() } else { root.join(p) };
    let c = std::fs::canonicalize(&p).map_err(|_| ToolError::not_found(format!("{what} {input} does not exist")))?;
    if !roots.iter().any(|r| c.starts_with(r)) {
        return Err(ToolError::denied(format!(
            "{what} {input} resolves to {}, outside the allowed roots ({})",
            c.display(),
            roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    if !c.is_dir() {
        return Err(ToolError::invalid(format!("{input} is not a directory")));
    }
    Ok(c)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
