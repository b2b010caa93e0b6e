//! Kernel confinement of the processes a program runs for others (feature
//! `sandbox`).
//!
//! An allow-list decides which program starts; only the kernel can decide
//! what it may touch. A [`Confinement`] names what a child may read and
//! execute (system directories and toolchains), what it may write (the job's
//! roots and a private temporary directory) and whether it may use TCP. It is
//! turned into a Landlock ruleset in the parent ([`Confinement::prepare`]:
//! opening the paths and creating the ruleset allocate and may fail, which is
//! not allowed after `fork`), and entered in the child between fork and exec
//! ([`Prepared::enter`]: `PR_SET_NO_NEW_PRIVS` and `landlock_restrict_self`,
//! two system calls that neither allocate nor lock). Resource limits stay with
//! the caller.
//!
//! The ruleset asks for every right the running kernel's Landlock ABI knows,
//! as a hard requirement: a child is either confined exactly as reported by
//! [`status`] and [`Prepared::enforcement`], or it does not start. Nothing
//! degrades silently.
//!
//! Process-wide, a job runner calls [`become_subreaper`] once, so processes
//! that double-fork and `setsid` are re-parented to it (not to init) and can
//! still be found and killed; every program is made non-dumpable at start by
//! [`crate::security::non_dumpable`].

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};
use schemars::JsonSchema;
use serde::Serialize;

/// System directories a toolchain reads and executes from. `/etc` is here
/// (resolver, locale, certificates, passwd); the fleet keeps its secrets
/// elsewhere (`/run/secrets`, data directories), and `/tmp` is absent on
/// purpose: each job gets a private temporary directory instead.
/// `/run/systemd/resolve` is where `/etc/resolv.conf` points on hosts with
/// systemd-resolved; the rest of `/run` (`/run/secrets`!) stays closed.
pub const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/proc",
    "/sys",
    "/dev",
    "/run/systemd/resolve",
];

/// Device files and shared-memory directories children may also write.
pub const SYSTEM_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/shm", "/dev/pts"];

/// What a confined child may touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// Read and execute beneath these (files or directories).
    pub read_exec: Vec<PathBuf>,
    /// Read, write, create and remove beneath these.
    pub read_write: Vec<PathBuf>,
    /// TCP connect and bind allowed. When false, and the kernel's Landlock
    /// ABI has network rules (4 and later), both are refused.
    pub network: bool,
}

/// How much of the sandbox this machine enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Files, TCP and scoping (signals, abstract UNIX sockets) are confined.
    Full,
    /// Files are confined; TCP or scoping is missing (an older Landlock ABI).
    Partial,
    /// No Landlock: nothing is confined.
    None,
    /// Switched off by the operator.
    Off,
}

/// What this machine supports, detected once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Status {
    /// The kernel's Landlock ABI version (0: none).
    pub landlock_abi: i32,
    /// File system rules (ABI 1).
    pub filesystem: bool,
    /// TCP bind and connect rules (ABI 4).
    pub network: bool,
    /// Signal and abstract UNIX socket scoping (ABI 6): a child cannot signal
    /// or connect to processes outside its sandbox, such as the server.
    pub scoping: bool,
    /// How much is enforced.
    pub level: Level,
    /// Why Landlock is missing, when it is.
    pub missing: Option<String>,
}

impl Status {
    /// One line for `/ready`, logs and policy texts.
    pub fn summary(&self) -> String {
        match self.level {
            Level::Off => "sandbox off (switched off by the operator)".to_owned(),
            Level::None => format!("no sandbox: {}", self.missing.as_deref().unwrap_or("Landlock unavailable")),
            Level::Full | Level::Partial => {
                let mut parts = vec!["files"];
                if self.network {
                    parts.push("tcp");
                }
                if self.scoping {
                    parts.push("signals");
                }
                format!(
                    "landlock ABI {} ({}){}",
                    self.landlock_abi,
                    parts.join(", "),
                    if self.level == Level::Partial { ", partial" } else { "" }
                )
            }
        }
    }

    /// The same status with the sandbox switched off by the operator.
    pub fn switched_off(&self) -> Status {
        Status { level: Level::Off, ..self.clone() }
    }
}

/// Errors preparing a confinement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// This machine has no Landlock.
    #[error("Landlock is not available on this machine: {0}")]
    Unavailable(String),
    /// The kernel refused the ruleset.
    #[error("the Landlock ruleset could not be built: {0}")]
    Ruleset(#[from] landlock::RulesetError),
    /// A path of the confinement could not be opened.
    #[error("sandbox path {path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The kernel refused to enter the ruleset.
    #[error("entering the sandbox failed: {0}")]
    Enter(io::Error),
}

/// What this machine supports. Detected once per process.
pub fn status() -> &'static Status {
    static STATUS: OnceLock<Status> = OnceLock::new();
    STATUS.get_or_init(detect)
}

fn abi() -> Option<ABI> {
    match status().landlock_abi {
        n if n <= 0 => None,
        n => Some(ABI::from(n)),
    }
}

/// Ask the kernel which Landlock ABI it has. The crate reports it only as
/// the outcome of `restrict_self`, so a short-lived thread restricts itself
/// (execution only, which it never needs) and returns what it learned:
/// Landlock domains and no_new_privs belong to the thread, and the thread
/// ends, so the rest of the process is untouched.
fn detect() -> Status {
    let probe = std::thread::Builder::new().name("landlock-probe".into()).spawn(|| {
        let ruleset = Ruleset::default().handle_access(AccessFs::Execute)?.create()?;
        ruleset.restrict_self().map(|s| s.landlock)
    });
    let outcome = match probe {
        Ok(handle) => handle.join().map_err(|_| "the probe thread panicked".to_owned()),
        Err(e) => Err(format!("the probe thread could not start: {e}")),
    };
    let none = |why: String| Status {
        landlock_abi: 0,
        filesystem: false,
        network: false,
        scoping: false,
        level: Level::None,
        missing: Some(why),
    };
    match outcome {
        Ok(Ok(LandlockStatus::Available { effective_abi, kernel_abi })) => {
            let number = kernel_abi.unwrap_or(effective_abi as i32);
            let network = effective_abi >= ABI::V4;
            let scoping = effective_abi >= ABI::V6;
            Status {
                landlock_abi: number,
                filesystem: true,
                network,
                scoping,
                level: if network && scoping { Level::Full } else { Level::Partial },
                missing: None,
            }
        }
        Ok(Ok(LandlockStatus::NotEnabled)) => {
            none("the kernel has Landlock but it is not enabled (boot with lsm=...,landlock)".into())
        }
        Ok(Ok(LandlockStatus::NotImplemented)) => {
            none("the kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK)".into())
        }
        Ok(Err(e)) => none(format!("probing Landlock failed: {e}")),
        Err(e) => none(e),
    }
}

/// What a prepared child will be confined to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Every rule the confinement asks for (files, TCP when refused, scoping).
    Full,
    /// Files only, or files and TCP: the kernel's ABI lacks the rest.
    Partial,
    /// Not confined (the operator switched the sandbox off).
    Off,
}

/// A ruleset built in the parent, to be entered in the child.
#[derive(Debug)]
pub struct Prepared {
    ruleset: Option<RulesetCreated>,
    enforcement: Enforcement,
}

impl Prepared {
    /// No Landlock, only no_new_privs: what a child gets with the sandbox
    /// switched off.
    pub fn off() -> Self {
        Self { ruleset: None, enforcement: Enforcement::Off }
    }

    /// What the child will be confined to once [`Prepared::enter`] succeeds.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Enter the confinement: `PR_SET_NO_NEW_PRIVS`, then the Landlock
    /// ruleset. Meant for the child between fork and exec (`pre_exec`): it
    /// makes two system calls and allocates nothing. A second call is a
    /// no-op (the ruleset is consumed by the first). On error the child must
    /// not exec, which `pre_exec` guarantees by failing the spawn.
    pub fn enter(&mut self) -> io::Result<()> {
        // no_new_privs first, sandbox or not: setuid programs must not regain
        // privileges, and Landlock requires it for unprivileged callers.
        rustix::thread::set_no_new_privs(true)?;
        if let Some(ruleset) = self.ruleset.take() {
            // The rights were requested as a hard requirement, so success
            // means the ruleset is enforced as prepared. The error carries no
            // errno that could be read without allocating; EPERM says enough.
            ruleset.restrict_self().map_err(|_| io::Error::from(rustix::io::Errno::PERM))?;
        }
        Ok(())
    }
}

impl Confinement {
    /// Build the ruleset for one child. Paths that do not exist are left
    /// out (a machine without `/lib32`); a path that exists but cannot be
    /// opened is an error.
    pub fn prepare(&self) -> Result<Prepared, SandboxError> {
        let Some(abi) = abi() else {
            return Err(SandboxError::Unavailable(
                status().missing.clone().unwrap_or_else(|| "no Landlock".to_owned()),
            ));
        };
        let st = status();
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))?;
        let mut refused_net = false;
        if !self.network && st.network {
            // Handled and never granted: no TCP connect or bind at all.
            ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
            refused_net = true;
        }
        if st.scoping {
            ruleset = ruleset.scope(Scope::from_all(abi))?;
        }
        let mut created = ruleset.create()?;
        let read = AccessFs::from_read(abi);
        let all = AccessFs::from_all(abi);
        for (paths, access) in [(&self.read_exec, read), (&self.read_write, all)] {
            for p in paths {
                created = add_path(created, p, access, abi)?;
            }
        }
        let complete = st.scoping && (self.network || refused_net);
        Ok(Prepared {
            ruleset: Some(created),
            enforcement: if complete { Enforcement::Full } else { Enforcement::Partial },
        })
    }

    /// The system directories and devices every child needs, plus `read`
    /// and `write`.
    pub fn system(read: &[PathBuf], write: &[PathBuf], network: bool) -> Self {
        let mut read_exec: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
        read_exec.extend(read.iter().cloned());
        let mut read_write: Vec<PathBuf> = SYSTEM_WRITE.iter().map(PathBuf::from).collect();
        read_write.extend(write.iter().cloned());
        Self { read_exec, read_write, network }
    }

    /// One line for `/ready` of a program confined by this: the ABI and
    /// the paths granted beyond the system directories and devices.
    pub fn describe_self(&self) -> String {
        let own = |paths: &[PathBuf], system: &[&str]| {
            let v: Vec<String> = paths
                .iter()
                .filter(|p| !system.iter().any(|s| Path::new(s) == p.as_path()))
                .map(|p| p.display().to_string())
                .collect();
            if v.is_empty() { "nothing else".to_owned() } else { v.join(", ") }
        };
        format!(
            "this process is confined by Landlock ABI {}: read-write {}; read-only {} and the system directories",
            status().landlock_abi,
            own(&self.read_write, SYSTEM_WRITE),
            own(&self.read_exec, SYSTEM_READ),
        )
    }

    /// Whether a child could read `path` under this confinement (it lies
    /// beneath one of the granted paths). Used at start-up to refuse a
    /// configuration that would put a secret file within reach.
    pub fn exposes(&self, path: &Path) -> bool {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.read_exec.iter().chain(self.read_write.iter()).any(|g| {
            let g = std::fs::canonicalize(g).unwrap_or_else(|_| g.clone());
            path.starts_with(&g)
        })
    }
}

fn add_path(
    created: RulesetCreated,
    path: &Path,
    access: landlock::BitFlags<AccessFs>,
    abi: ABI,
) -> Result<RulesetCreated, SandboxError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(created),
        Err(source) => return Err(SandboxError::Path { path: path.to_path_buf(), source }),
    };
    // Directory-only rights on a file are an error to the kernel.
    let access = if meta.is_dir() { access } else { access & AccessFs::from_file(abi) };
    let fd = PathFd::new(path)
        .map_err(|e| SandboxError::Path { path: path.to_path_buf(), source: io::Error::other(e.to_string()) })?;
    Ok(created.add_rule(PathBeneath::new(fd, access))?)
}

/// Confine the calling thread, and every thread and process it starts from
/// now on, to `c` (no_new_privs, then the Landlock ruleset). A program calls
/// it once, before it starts any thread (see `mcp_core::run_confined`).
pub fn confine_self(c: &Confinement) -> Result<Enforcement, SandboxError> {
    let mut p = c.prepare()?;
    p.enter().map_err(SandboxError::Enter)?;
    Ok(p.enforcement())
}

/// Make this process a child subreaper: orphaned descendants (a daemon that
/// double-forked and called `setsid`) are re-parented to it instead of init,
/// so they stay findable and killable. The caller must reap them.
pub fn become_subreaper() -> io::Result<()> {
    Ok(rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_consistent() {
        let s = status();
        assert_eq!(s.filesystem, s.landlock_abi > 0);
        assert_eq!(s.missing.is_some(), s.level == Level::None);
        assert!(!s.summary().is_empty());
        // Detected once: the second call is the same value.
        assert!(std::ptr::eq(s, status()));
    }

    /// The child half of [`a_confined_process_reaches_only_what_it_was_granted`]:
    /// runs only when that test starts this binary with `SANDBOX_SELF_TEST`.
    #[test]
    fn confined_child() {
        let Ok(dir) = std::env::var("SANDBOX_SELF_TEST") else { return };
        let dir = PathBuf::from(dir);
        let (root, outside) = (dir.join("root"), dir.join("outside"));
        if std::env::var("SANDBOX_SELF_OFF").is_err() {
            confine_self(&Confinement::system(&[], std::slice::from_ref(&root), true)).unwrap();
        }
        let read = std::fs::read_to_string(outside.join("canary"));
        let wrote = std::fs::write(outside.join("planted"), "x");
        let inside = std::fs::write(root.join("inside"), "x");
        println!("RESULT read={} write={} inside={}", read.is_ok(), wrote.is_ok(), inside.is_ok());
    }

    #[test]
    fn a_confined_process_reaches_only_what_it_was_granted() {
        if status().level == Level::None {
            panic!("this machine has no Landlock: {}", status().summary());
        }
        for off in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("root")).unwrap();
            std::fs::create_dir(dir.path().join("outside")).unwrap();
            std::fs::write(dir.path().join("outside/canary"), "secret").unwrap();
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args(["--exact", "sandbox::tests::confined_child", "--nocapture", "--test-threads=1"]);
            cmd.env("SANDBOX_SELF_TEST", dir.path());
            if off {
                cmd.env("SANDBOX_SELF_OFF", "1");
            }
            let out = cmd.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let want = if off {
                "RESULT read=true write=true inside=true"
            } else {
                "RESULT read=false write=false inside=true"
            };
            assert!(text.contains(want), "off={off}: {text}\n{}", String::from_utf8_lossy(&out.stderr));
        }
    }

    #[test]
    fn exposure_follows_the_granted_paths() {
        let c = Confinement::system(&[], &[PathBuf::from("/work/root")], false);
        assert!(c.exposes(Path::new("/etc/hostname")));
        assert!(c.exposes(Path::new("/work/root/x")));
        assert!(!c.exposes(Path::new("/run/secrets/mcp_token")));
        assert!(!c.exposes(Path::new("/tmp/token")));
    }
}
