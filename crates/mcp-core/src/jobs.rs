//! Jobs (feature `sandbox`): a command line (one or more pipelines) running
//! as child processes, with captured output, a time limit, and a kill that
//! takes the whole tree. The one execution path of every program that runs
//! other programs (shell, lint, test): they differ in what they allow, not in
//! how a process is started, confined, watched and killed.
//!
//! A caller waits for a job or keeps its id and comes back. Each
//! process of a job leads a session and process group of its own, so a
//! signal to the job's groups reaches every process and its children; at the
//! time limit the job's processes, their groups, and every descendant found
//! through `/proc` (which catches children that left the group with
//! `setsid`) are killed together.
//!
//! Every process runs inside the kernel sandbox of `mcp_core::sandbox`
//! (Landlock: the job's roots, `HOME` and a private temporary directory
//! writable, system directories read-only, nothing else; no_new_privs), entered
//! between fork and exec next to the resource limits. The server is a child
//! subreaper, so a process that double-forks and calls `setsid` is re-parented
//! to the server rather than to init: at the job's end, time limit or kill,
//! such adopted processes are found (their environment carries the job's
//! marker, [`MARKER_VAR`]) and killed with their descendants, and [`reap`]
//! collects them so no zombie stays behind.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod capture;
pub mod runner;

use crate::ToolError;
use crate::sandbox::{Confinement, Enforcement, Prepared};
use rustix::process::{Pid, Signal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;

pub use capture::{Capture, Page};
pub use runner::{Finished, Run, Runner, RunnerConfig, Scratch, dir_in_roots};

/// How a pipeline joins the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `;`: run the next whatever happened.
    Then,
    /// `&&`: run the next if this one succeeded.
    And,
    /// `||`: run the next if this one failed.
    Or,
}

/// One program to execute, already decided on by the caller's policy.
#[derive(Debug, Clone)]
pub struct Program {
    /// The program file to execute (canonical).
    pub exe: PathBuf,
    /// `argv[0]` as the child sees it, when it is not `exe`.
    pub arg0: Option<String>,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
}

impl Step {
    /// One program, on its own.
    pub fn single(program: Program) -> Self {
        Self { pipelines: vec![(vec![program], Join::Then)] }
    }
}

/// Resource limits applied to every child before it runs (setrlimit).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU seconds.
    pub cpu_secs: u64,
    /// Address space in bytes.
    pub address_space: u64,
    /// Processes (per user).
    pub processes: u64,
    /// Largest file a child may write.
    pub file_size: u64,
    /// Open files.
    pub open_files: u64,
    /// Run children in a new, empty network namespace.
    pub no_network: bool,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Still running.
    Running,
    /// Exited (code of the last command run, or the signal that ended it).
    Exited {
        /// Exit code.
        code: Option<i32>,
        /// Signal number.
        signal: Option<i32>,
    },
    /// Killed by the server (time limit, explicit kill, shutdown).
    Killed {
        /// Why.
        reason: String,
    },
    /// Could not start.
    Failed {
        /// Why.
        error: String,
    },
}

/// One program to execute: already checked by the policy.
#[derive(Debug, Clone)]
pub struct Step {
    /// Pipelines and how each joins the next.
    pub pipelines: Vec<(Vec<Program>, Join)>,
}

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The command, already checked.
    pub step: Step,
    /// Working directory (inside the roots), or `None` for remote commands.
    pub cwd: Option<PathBuf>,
    /// The children's whole environment.
    pub env: Vec<(String, String)>,
    /// Bytes for stdin; `None` with `keep_stdin` keeps it open for `write_stdin`.
    pub stdin: Option<Vec<u8>>,
    /// Keep stdin open (long-running processes).
    pub keep_stdin: bool,
    /// Time limit.
    pub timeout: Duration,
    /// The command as shown in logs and results (secrets redacted).
    pub display: String,
    /// The kernel sandbox of every process of the job (`None`: switched off
    /// by the operator). The job's private temporary directory is added when
    /// it starts.
    pub confinement: Option<Confinement>,
}

/// A running or finished job.
pub struct Job {
    /// Its id.
    pub id: String,
    /// The command, redacted.
    pub display: String,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// When it started.
    pub started: Instant,
    /// Wall-clock start, RFC 3339.
    pub started_at: String,
    /// stdout of the last command of each pipeline.
    pub stdout: Arc<Capture>,
    /// stderr of every command.
    pub stderr: Arc<Capture>,
    /// How its processes are confined.
    pub sandbox: Enforcement,
    /// The value of [`MARKER_VAR`] in its processes' environment, which
    /// identifies them after they left the job's process tree.
    marker: String,
    /// Held by the job's task until the first process started, so a
    /// `write_stdin` right after `start` waits for it instead of finding
    /// no stdin yet.
    stdin: Arc<tokio::sync::Mutex<Option<ChildStdin>>>,
    state: watch::Receiver<State>,
    state_tx: watch::Sender<State>,
    pids: Mutex<Vec<i32>>,
    groups: Mutex<Vec<i32>>,
    ended: Mutex<Option<Instant>>,
}

impl Job {
    /// The current state.
    pub fn state(&self) -> State {
        self.state.borrow().clone()
    }

    /// Wait until the job ends or `timeout` passes; the state then.
    pub async fn wait(&self, timeout: Duration) -> State {
        let mut rx = self.state.clone();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|s| *s != State::Running)).await;
        self.state()
    }

    /// How long it ran (or has been running).
    pub fn elapsed(&self) -> Duration {
        let end = self.ended.lock().ok().and_then(|e| *e).unwrap_or_else(Instant::now);
        end.duration_since(self.started)
    }

    /// When it ended, if it did.
    pub fn ended_at(&self) -> Option<Instant> {
        self.ended.lock().ok().and_then(|e| *e)
    }

    /// Write to the stdin of the first process; `close` closes it afterwards.
    pub async fn write_stdin(&self, data: &[u8], close: bool) -> Result<(), ToolError> {
        let mut g = self.stdin.lock().await;
        let Some(w) = g.as_mut() else {
            return Err(ToolError::conflict("stdin of this process is closed (or it was started with fixed stdin)"));
        };
        w.write_all(data).await.map_err(|e| ToolError::failed(format!("writing to stdin failed: {e}")))?;
        w.flush().await.map_err(|e| ToolError::failed(format!("writing to stdin failed: {e}")))?;
        if close {
            *g = None;
        }
        Ok(())
    }

    /// Send `sig` to every process group of the job.
    pub fn signal(&self, sig: Signal) -> usize {
        let groups: Vec<i32> = self.groups.lock().map(|g| g.clone()).unwrap_or_default();
        groups
            .iter()
            .filter_map(|g| Pid::from_raw(*g))
            .filter(|p| rustix::process::kill_process_group(*p, sig).is_ok())
            .count()
    }

    /// Kill every process of the job, its groups and all their descendants.
    pub fn kill_tree(&self, reason: &str) {
        let pids: Vec<i32> = self.pids.lock().map(|g| g.clone()).unwrap_or_default();
        let groups: Vec<i32> = self.groups.lock().map(|g| g.clone()).unwrap_or_default();
        // Collect descendants first: once a parent dies its children are
        // re-parented and the link is gone.
        let mut all: HashSet<i32> = descendants(&pids);
        all.extend(pids.iter().copied());
        all.extend(self.adopted());
        // The state first: once the processes die, the job's own task sees
        // them exit and would record a plain exit by signal instead.
        if *self.state.borrow() == State::Running {
            let _ = self.state_tx.send(State::Killed { reason: reason.to_owned() });
        }
        kill_groups_and_pids(&groups, all);
    }
}

impl Job {
    /// Processes adopted by the server (their parent died: a double fork,
    /// `setsid`) that belong to this job, with all their descendants. A
    /// process whose environment carries this job's marker is the job's; one
    /// carrying the marker of another running job is that job's. One that
    /// carries no marker or a forged one (it replaced its environment) and is
    /// outside the server's session or process group (where every job
    /// process is: each starts a session of its own, and none can move into
    /// the server's) is a stray of some job and is counted in too: killing a
    /// stray is the safe mistake. Children the server's own code started
    /// stay in its session and group and are left alone.
    fn adopted(&self) -> HashSet<i32> {
        let me = rustix::process::getpid().as_raw_nonzero().get();
        // The processes first, then the tables of owned children and live
        // markers: a job that starts meanwhile registers both before its
        // processes exist (`spawn_owned` under the lock, the marker before
        // that), so a process in this list is in the tables read after it.
        // Read the other way round, the next job's first command — started
        // while this job's end is being swept — looked like a stray and was
        // killed (seen as `pip install` ending by signal 9 with no output).
        let procs = processes();
        let (my_group, my_session) = procs.iter().find(|p| p.pid == me).map(|p| (p.group, p.session)).unwrap_or((0, 0));
        let owned: HashSet<i32> = OWNED.lock().map(|o| o.iter().copied().collect()).unwrap_or_default();
        let live: Vec<String> = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
        let mut found: Vec<i32> = Vec::new();
        for p in procs {
            if p.parent != me || owned.contains(&p.pid) || p.state == 'Z' {
                continue;
            }
            let stray = p.group != my_group || p.session != my_session;
            let mine = match std::fs::read(format!("/proc/{}/environ", p.pid)) {
                Ok(env) => match marker_of(&env) {
                    Some(m) if m == self.marker.as_bytes() => true,
                    Some(m) if live.iter().any(|l| l.as_bytes() == m) => false,
                    _ => stray,
                },
                Err(_) => stray,
            };
            let pid = p.pid;
            if mine {
                found.push(pid);
            }
        }
        let mut all = descendants(&found);
        all.extend(found);
        all
    }

    /// Kill what is left of a job that ended on its own: its process groups,
    /// their descendants, and adopted daemons. The state is not changed.
    fn kill_rest(&self) {
        let groups: Vec<i32> = self.groups.lock().map(|g| g.clone()).unwrap_or_default();
        // Not the descendants of the job's pids: those processes are gone and
        // their pids may already belong to someone else. Their orphans were
        // re-parented to this server and are found as adopted.
        let all = self.adopted();
        kill_groups_and_pids(&groups, all);
    }
}

/// SIGKILL to every process group in `groups` and every process in `pids`.
fn kill_groups_and_pids(groups: &[i32], pids: impl IntoIterator<Item = i32>) {
    for g in groups {
        if let Some(p) = Pid::from_raw(*g) {
            let _ = rustix::process::kill_process_group(p, Signal::KILL);
        }
    }
    for p in pids {
        if let Some(p) = Pid::from_raw(p) {
            let _ = rustix::process::kill_process(p, Signal::KILL);
        }
    }
}
/// The job marker in a raw `/proc/<pid>/environ` (NUL-separated).
fn marker_of(env: &[u8]) -> Option<&[u8]> {
    env.split(|b| *b == 0).find_map(|kv| kv.strip_prefix(MARKER_VAR.as_bytes()).and_then(|r| r.strip_prefix(b"=")))
}

/// The variable that carries a job's marker.
pub const MARKER_VAR: &str = "MCP_FLEET_JOB";

/// Markers of the jobs running in this process (every server of it: tests
/// run several). A marker not in here is forged or stale and protects
/// nothing.
static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Pids of the server's own children that tokio waits for: the reaper must
/// leave them alone, or tokio's wait would find them gone.
static OWNED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// A direct child registered in [`OWNED`] for as long as it may need
/// waiting: keep it until the child has been waited for.
pub struct Owned(i32);

/// Spawn `cmd` and register the child in [`OWNED`] under one lock, so the
/// reaper (which holds the lock while it scans) never sees it unregistered.
/// Every child that leads a process group of its own and is waited for by
/// tokio must be spawned so (the git server's git, the browser's Chromium):
/// where a server with a reaper shares the process (the tests run several
/// servers in one), the reaper would otherwise collect its exit status and
/// tokio's wait would fail.
pub fn spawn_owned(cmd: &mut Command) -> std::io::Result<(Child, Owned)> {
    let mut owned = OWNED.lock().map_err(|_| std::io::Error::other("the table of children is poisoned"))?;
    let child = cmd.spawn()?;
    let pid = child.id().map_or(0, |p| p as i32);
    owned.push(pid);
    Ok((child, Owned(pid)))
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Ok(mut o) = OWNED.lock()
            && let Some(i) = o.iter().position(|p| *p == self.0)
        {
            o.swap_remove(i);
        }
    }
}

/// Reap the zombies of adopted processes (the server is their subreaper,
/// so their exit status is ours to collect). Direct children of jobs are
/// tokio's ([`OWNED`]); children that other code of this process started
/// stay in its process group and session (a zombie keeps both), so they are
/// left to whoever waits for them. Job processes never are in that group:
/// each pipeline leads its own.
pub fn reap() -> usize {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let procs = processes();
    let Some((my_group, my_session)) = procs.iter().find(|p| p.pid == me).map(|p| (p.group, p.session)) else {
        return 0;
    };
    let Ok(owned) = OWNED.lock() else { return 0 };
    let mut n = 0;
    for proc in procs {
        let foreign = proc.group != my_group || proc.session != my_session;
        if proc.parent == me && proc.state == 'Z' && foreign && !owned.contains(&proc.pid) {
            let Some(p) = Pid::from_raw(proc.pid) else { continue };
            if let Ok(Some(_)) = rustix::process::waitpid(Some(p), rustix::process::WaitOptions::NOHANG) {
                n += 1;
            }
        }
    }
    n
}

/// A process as `/proc/<pid>/stat` shows it.
struct Proc {
    pid: i32,
    state: char,
    parent: i32,
    group: i32,
    session: i32,
}

/// Every process, from `/proc`.
fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            // Fields after the command name, which is in parentheses and may hold spaces.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            let mut fields = rest.split_whitespace();
            let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
            let mut num = || fields.next().and_then(|p| p.parse::<i32>().ok()).unwrap_or(0);
            let (parent, group, session) = (num(), num(), num());
            out.push(Proc { pid, state, parent, group, session });
        }
    }
    out
}

/// All descendants of `roots`, from `/proc`.
pub fn descendants(roots: &[i32]) -> HashSet<i32> {
    let parent_of: Vec<(i32, i32)> = processes().into_iter().map(|p| (p.pid, p.parent)).collect();
    let mut found: HashSet<i32> = HashSet::new();
    let mut frontier: Vec<i32> = roots.to_vec();
    while let Some(p) = frontier.pop() {
        for (child, parent) in &parent_of {
            if *parent == p && found.insert(*child) {
                frontier.push(*child);
            }
        }
    }
    found
}

/// Apply the limits and enter the sandbox in the child between fork and exec.
#[allow(unsafe_code)]
fn apply_limits(cmd: &mut Command, l: Limits, mut sandbox: Prepared) {
    use rustix::process::{Resource, Rlimit};
    // SAFETY: the closure runs in the forked child before exec. It only makes
    // raw system calls (setsid, setrlimit, unshare, prctl, landlock_restrict_self)
    // through rustix and the landlock crate, which neither allocate nor take
    // locks on these paths, so it is async-signal-safe as `pre_exec`
    // requires. The ruleset and every value were built before the fork.
    unsafe {
        cmd.pre_exec(move || {
            // A session of its own: see `run_pipeline`.
            rustix::process::setsid().map_err(std::io::Error::from)?;
            let set = |r: Resource, v: u64| {
                let _ = rustix::process::setrlimit(r, Rlimit { current: Some(v), maximum: Some(v) });
            };
            set(Resource::Cpu, l.cpu_secs);
            set(Resource::As, l.address_space);
            set(Resource::Nproc, l.processes);
            set(Resource::Fsize, l.file_size);
            set(Resource::Nofile, l.open_files);
            if l.no_network {
                rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET).map_err(std::io::Error::from)?;
            }
            // Last: once confined, nothing else needs doing before exec.
            sandbox.enter()
        });
    }
}

/// Whether this machine can give children a private network namespace.
pub async fn probe_no_network() -> bool {
    let mut cmd = Command::new("/bin/true");
    apply_limits(
        &mut cmd,
        Limits {
            cpu_secs: 10,
            address_space: 1 << 32,
            processes: 4096,
            file_size: 1 << 20,
            open_files: 64,
            no_network: true,
        },
        Prepared::off(),
    );
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // Registered, or the reaper could collect it (it is in a session of its
    // own) before tokio does.
    let Ok((mut child, _owned)) = spawn_owned(&mut cmd) else { return false };
    matches!(child.wait().await, Ok(s) if s.success())
}

/// The job table: running and recently finished jobs.
pub struct Table {
    jobs: Mutex<BTreeMap<String, Arc<Job>>>,
    dir: PathBuf,
    excerpt: usize,
    spool_cap: u64,
    limits: Limits,
    max_running: usize,
    keep_finished: usize,
    next: std::sync::atomic::AtomicU64,
    tmp: PathBuf,
    nonce: String,
}

impl Table {
    /// A table spooling under `dir`.
    /// Each job gets a private temporary directory under `tmp`, removed at
    /// its end.
    pub fn new(dir: PathBuf, tmp: PathBuf, excerpt: usize, spool_cap: u64, limits: Limits, max_running: usize) -> Self {
        Self {
            jobs: Mutex::new(BTreeMap::new()),
            dir,
            excerpt,
            spool_cap,
            limits,
            max_running,
            keep_finished: 64,
            next: std::sync::atomic::AtomicU64::new(1),
            tmp,
            nonce: nonce(),
        }
    }

    /// A job by id.
    pub fn get(&self, id: &str) -> Result<Arc<Job>, ToolError> {
        self.jobs.lock().ok().and_then(|j| j.get(id).cloned()).ok_or_else(|| {
            ToolError::not_found(format!("no process {id:?}; list_processes shows the ones this server knows (finished ones are kept for a while)"))
        })
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Vec<Arc<Job>> {
        self.jobs.lock().map(|j| j.values().cloned().collect()).unwrap_or_default()
    }

    fn running(&self) -> usize {
        self.list().iter().filter(|j| j.state() == State::Running).count()
    }

    /// Forget the oldest finished jobs beyond the keep limit, deleting their spools.
    fn prune(&self) {
        let Ok(mut jobs) = self.jobs.lock() else { return };
        let mut finished: Vec<(Instant, String)> =
            jobs.values().filter_map(|j| j.ended_at().map(|t| (t, j.id.clone()))).collect();
        finished.sort();
        while finished.len() > self.keep_finished {
            let (_, id) = finished.remove(0);
            jobs.remove(&id);
            let _ = std::fs::remove_dir_all(self.dir.join(&id));
        }
    }

    /// Start a job.
    pub fn start(self: &Arc<Self>, mut spec: Spec) -> Result<Arc<Job>, ToolError> {
        self.prune();
        if self.running() >= self.max_running {
            return Err(ToolError::Unavailable(format!(
                "{} processes are already running (the limit); wait for one or stop one with signal",
                self.max_running
            )));
        }
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("p{n}");
        // Created on demand when output spills to disk (see `capture`).
        let dir = self.dir.join(&id);
        let stdout =
            Arc::new(Capture::new(&dir.join("stdout"), self.excerpt, self.spool_cap).map_err(ToolError::internal)?);
        let stderr =
            Arc::new(Capture::new(&dir.join("stderr"), self.excerpt, self.spool_cap).map_err(ToolError::internal)?);
        let marker = format!("{}-{id}", self.nonce);
        let tmp = self.tmp.join(&id);
        std::fs::create_dir_all(&tmp).map_err(ToolError::internal)?;
        spec.env.retain(|(k, _)| k != "TMPDIR" && k != MARKER_VAR);
        spec.env.push(("TMPDIR".to_owned(), tmp.display().to_string()));
        spec.env.push((MARKER_VAR.to_owned(), marker.clone()));
        if let Some(c) = spec.confinement.as_mut() {
            c.read_write.push(tmp.clone());
        }
        // Built once here so a job that cannot be confined fails before
        // anything runs, with the reason; each process gets its own ruleset.
        let sandbox = match &spec.confinement {
            Some(c) => c
                .prepare()
                .map_err(|e| ToolError::Unavailable(format!("the job cannot be sandboxed: {e}")))?
                .enforcement(),
            None => Enforcement::Off,
        };
        if let Ok(mut l) = LIVE.lock() {
            l.push(marker.clone());
        }
        let (state_tx, state) = watch::channel(State::Running);
        let job = Arc::new(Job {
            id: id.clone(),
            display: spec.display.clone(),
            cwd: spec.cwd.clone(),
            started: Instant::now(),
            started_at: crate::clock::now_rfc3339(),
            stdout,
            stderr,
            sandbox,
            marker,
            stdin: Arc::new(tokio::sync::Mutex::new(None)),
            state,
            state_tx,
            pids: Mutex::new(Vec::new()),
            groups: Mutex::new(Vec::new()),
            ended: Mutex::new(None),
        });
        if let Ok(mut j) = self.jobs.lock() {
            j.insert(id, job.clone());
        }
        let limits = self.limits;
        let j = job.clone();
        let stdin_slot = job.stdin.clone().try_lock_owned().ok();
        tokio::spawn(async move {
            let timeout = spec.timeout;
            let run = run_job(j.clone(), spec, limits, stdin_slot);
            tokio::pin!(run);
            tokio::select! {
                state = &mut run => {
                    if *j.state.borrow() == State::Running {
                        let _ = j.state_tx.send(state);
                    }
                }
                _ = tokio::time::sleep(timeout) => {
                    // Kill while the job still owns its children: dropping it
                    // first would kill the direct children and orphan their
                    // descendants before the tree could be collected.
                    j.kill_tree(&format!("time limit of {} s reached", timeout.as_secs_f64()));
                }
            }
            // Whatever the job left running (background children, daemons
            // that double-forked and called setsid) dies with it.
            j.kill_rest();
            if let Ok(mut l) = LIVE.lock() {
                l.retain(|m| *m != j.marker);
            }
            let _ = std::fs::remove_dir_all(&tmp);
            // The job's processes may still hold the pipes (a killed tree
            // drains quickly); stop recording.
            j.stdout.close();
            j.stderr.close();
            if let Ok(mut e) = j.ended.lock() {
                *e = Some(Instant::now());
            }
            // Killed processes become zombies of this server (the subreaper)
            // once they are gone; collect them.
            tokio::time::sleep(Duration::from_millis(50)).await;
            reap();
        });
        Ok(job)
    }

    /// Kill every running job (shutdown).
    pub fn kill_all(&self) {
        for j in self.list() {
            if j.state() == State::Running {
                j.kill_tree("server shutting down");
            }
        }
    }
}

/// A value no other server in this process (tests run several) or earlier
/// run of this one uses, so job markers are unique.
fn nonce() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{n}-{t:x}", std::process::id())
}

/// Reap adopted zombies every second for the life of the runtime: a daemon
/// that exits on its own after its job ended leaves one.
pub fn spawn_reaper() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            reap();
        }
    });
}

async fn pump(mut r: impl AsyncRead + Unpin, cap: Arc<Capture>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => cap.write(&buf[..n]),
        }
    }
}

/// Run the job's pipelines in order; the state when the last one ends.
/// The job's stdin, locked until the first process has started.
type StdinSlot = tokio::sync::OwnedMutexGuard<Option<ChildStdin>>;

async fn run_job(job: Arc<Job>, spec: Spec, limits: Limits, mut stdin_slot: Option<StdinSlot>) -> State {
    let mut last = State::Exited { code: Some(0), signal: None };
    let mut first_pipeline = true;
    let mut prev_ok = true;
    let mut prev_join = Join::Then;
    for (pipeline, join) in spec.step.pipelines.iter() {
        let run = match prev_join {
            Join::Then => true,
            Join::And => prev_ok,
            Join::Or => !prev_ok,
        };
        prev_join = *join;
        if !run {
            continue;
        }
        let stdin = if first_pipeline { spec.stdin.clone() } else { None };
        let keep = first_pipeline && spec.keep_stdin;
        first_pipeline = false;
        last = match run_pipeline(&job, pipeline, &spec, stdin, keep, limits, stdin_slot.take()).await {
            Ok(s) => s,
            Err(e) => return State::Failed { error: e },
        };
        prev_ok = matches!(last, State::Exited { code: Some(0), .. });
    }
    last
}

async fn run_pipeline(
    job: &Arc<Job>,
    pipeline: &[Program],
    spec: &Spec,
    stdin: Option<Vec<u8>>,
    keep_stdin: bool,
    limits: Limits,
    mut stdin_slot: Option<StdinSlot>,
) -> Result<State, String> {
    let mut children: Vec<Child> = Vec::with_capacity(pipeline.len());
    let mut owned: Vec<Owned> = Vec::with_capacity(pipeline.len());
    let mut pumps = Vec::new();
    let mut prev_out: Option<Stdio> = None;
    for (i, c) in pipeline.iter().enumerate() {
        let mut cmd = Command::new(&c.exe);
        if let Some(a0) = &c.arg0 {
            cmd.arg0(a0);
        }
        cmd.args(&c.args).env_clear().envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(cwd) = &spec.cwd {
            cmd.current_dir(cwd);
        }
        // Each command leads a session (and process group) of its own, made
        // in `apply_limits`: a signal to the job reaches each group, and no
        // process of a job can join the server's group (setpgid does not
        // cross sessions), which is how adopted strays are told apart.
        cmd.kill_on_drop(true);
        match (i, prev_out.take()) {
            (0, _) if stdin.is_some() || keep_stdin => {
                cmd.stdin(Stdio::piped());
            }
            (0, _) => {
                cmd.stdin(Stdio::null());
            }
            (_, Some(s)) => {
                cmd.stdin(s);
            }
            (_, None) => {
                cmd.stdin(Stdio::null());
            }
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let sandbox = match &spec.confinement {
            Some(conf) => conf.prepare().map_err(|e| format!("the job cannot be sandboxed: {e}"))?,
            None => Prepared::off(),
        };
        apply_limits(&mut cmd, limits, sandbox);
        let (mut child, guard) =
            spawn_owned(&mut cmd).map_err(|e| format!("{} could not start: {e}", c.exe.display()))?;
        let pid = child.id().map_or(0, |p| p as i32);
        owned.push(guard);
        if let Ok(mut g) = job.groups.lock() {
            g.push(pid);
        }
        if let Ok(mut p) = job.pids.lock() {
            p.push(pid);
        }
        if i == 0 {
            if let Some(data) = stdin.clone()
                && let Some(mut w) = child.stdin.take()
            {
                tokio::spawn(async move {
                    let _ = w.write_all(&data).await;
                });
            } else if keep_stdin && let Some(slot) = stdin_slot.as_mut() {
                **slot = child.stdin.take();
            }
            // Released: write_stdin may go on.
            stdin_slot = None;
        }
        if let Some(e) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(e, job.stderr.clone())));
        }
        let last = i + 1 == pipeline.len();
        let out = child.stdout.take();
        if last {
            if let Some(o) = out {
                pumps.push(tokio::spawn(pump(o, job.stdout.clone())));
            }
        } else if let Some(o) = out {
            prev_out = Some(o.try_into().map_err(|e| format!("pipe: {e}"))?);
        }
        children.push(child);
    }
    let mut last_state = State::Exited { code: None, signal: None };
    let n = children.len();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = child.wait().await.map_err(|e| e.to_string())?;
        if i + 1 == n {
            use std::os::unix::process::ExitStatusExt;
            last_state = State::Exited { code: status.code(), signal: status.signal() };
        }
    }
    drop(owned);
    for p in pumps {
        // Descendants that kept the pipes open would block this forever;
        // give them a moment, the job's time limit covers the rest.
        let _ = tokio::time::timeout(Duration::from_secs(2), p).await;
    }
    Ok(last_state)
}
