//! Configuration of `mcp-server-shell`: every variable it reads. The policy
//! built from these is fixed for the life of the process.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

use crate::policy;

/// Directories commands may run in, separated by `,` or `:` (default `./projects`).
pub const SHELL_ROOTS: &str = "SHELL_ROOTS";
/// Program preset: `build` (default: Python, Rust, Node and make toolchains, read-only git, basics), `minimal`, or `none`.
pub const SHELL_PRESET: &str = "SHELL_PRESET";
/// Further programs to allow, by name (looked up on `SHELL_PATH`) or absolute path.
pub const SHELL_ALLOW: &str = "SHELL_ALLOW";
/// Interpreters allowed (default for `build`: `python3,python`; `none` for no interpreter).
pub const SHELL_INTERPRETERS: &str = "SHELL_INTERPRETERS";
/// Directories searched for programs and given to children as `PATH` (default `/usr/local/bin:/usr/bin:/bin`).
pub const SHELL_PATH: &str = "SHELL_PATH";
/// Environment variables callers may set for a command (exact names; `PREFIX*` for prefixes).
pub const SHELL_ENV_ALLOW: &str = "SHELL_ENV_ALLOW";
/// `HOME` of the children (default: a private directory under `SHELL_DATA_DIR`).
pub const SHELL_HOME: &str = "SHELL_HOME";
/// Where output is spooled (default: a private directory under the system temp dir).
pub const SHELL_DATA_DIR: &str = "SHELL_DATA_DIR";
/// Default timeout of `run`, seconds (default 30).
pub const SHELL_TIMEOUT_SECS: &str = "SHELL_TIMEOUT_SECS";
/// Largest timeout a caller may ask for, seconds (default 1800).
pub const SHELL_MAX_TIMEOUT_SECS: &str = "SHELL_MAX_TIMEOUT_SECS";
/// Bytes of each stream returned in a result (default 64K; the rest is kept for `read_output`).
pub const SHELL_MAX_OUTPUT_BYTES: &str = "SHELL_MAX_OUTPUT_BYTES";
/// Bytes of each stream kept on the server for later reading (default 256M).
pub const SHELL_MAX_SPOOL_BYTES: &str = "SHELL_MAX_SPOOL_BYTES";
/// Allow the `command` string form (parsed by this server, never by a shell). Default false.
pub const SHELL_ALLOW_COMMAND_STRINGS: &str = "SHELL_ALLOW_COMMAND_STRINGS";
/// Run children without network access (a private network namespace). Default false.
pub const SHELL_NO_NETWORK: &str = "SHELL_NO_NETWORK";
/// CPU seconds per child (default 900).
pub const SHELL_LIMIT_CPU_SECS: &str = "SHELL_LIMIT_CPU_SECS";
/// Address space per child (default 8G).
pub const SHELL_LIMIT_MEMORY_BYTES: &str = "SHELL_LIMIT_MEMORY_BYTES";
/// Processes per user, counted by the kernel (default 1024).
pub const SHELL_LIMIT_PROCESSES: &str = "SHELL_LIMIT_PROCESSES";
/// Largest file a child may write (default 2G).
pub const SHELL_LIMIT_FILE_BYTES: &str = "SHELL_LIMIT_FILE_BYTES";
/// Processes that may run at once (default 16).
pub const SHELL_MAX_PROCESSES: &str = "SHELL_MAX_PROCESSES";
/// Longest life of a process started with `start`, seconds (default 3600).
pub const SHELL_PROCESS_MAX_SECS: &str = "SHELL_PROCESS_MAX_SECS";
/// Kernel sandbox of every job (`on`, the default, or `off`). On, each job
/// is confined by Landlock to its roots, a private temporary directory, its
/// `HOME` and read-only system directories; when this machine lacks Landlock
/// the server refuses to run jobs (and says so in `/ready` and `policy`)
/// unless this is explicitly `off`.
pub const SHELL_SANDBOX: &str = "SHELL_SANDBOX";
/// Further directories jobs may read and execute from under the sandbox
/// (toolchains outside the system directories, e.g. `/root/.cargo`).
pub const SHELL_SANDBOX_READ: &str = "SHELL_SANDBOX_READ";
/// Further directories jobs may write under the sandbox (shared caches, e.g.
/// a cargo registry); the roots, `HOME` and the private temp dir are implied.
pub const SHELL_SANDBOX_WRITE: &str = "SHELL_SANDBOX_WRITE";
/// Remote hosts for `host`: `name=user@address[:port]`, comma-separated.
pub const SHELL_SSH_HOSTS: &str = "SHELL_SSH_HOSTS";
/// Private key for the remote hosts.
pub const SHELL_SSH_KEY_FILE: &str = "SHELL_SSH_KEY_FILE";
/// known_hosts file the remote hosts must be in (strict checking; required with hosts).
pub const SHELL_SSH_KNOWN_HOSTS: &str = "SHELL_SSH_KNOWN_HOSTS";
/// The ssh program (default `ssh` on `SHELL_PATH`).
pub const SHELL_SSH_BIN: &str = "SHELL_SSH_BIN";

/// A configured remote host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Name callers use.
    pub name: String,
    /// `user@address`.
    pub target: String,
    /// Port.
    pub port: u16,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Working directory roots.
    pub roots: Vec<PathBuf>,
    /// Allowed program names.
    pub programs: Vec<String>,
    /// Allowed interpreters.
    pub interpreters: Vec<String>,
    /// Search path.
    pub path: Vec<PathBuf>,
    /// Caller environment allow-list.
    pub env_allow: Vec<String>,
    /// Children's HOME.
    pub home: Option<PathBuf>,
    /// Spool directory.
    pub data_dir: Option<PathBuf>,
    /// Default timeout.
    pub timeout: Duration,
    /// Largest timeout.
    pub max_timeout: Duration,
    /// Returned bytes per stream.
    pub max_output: usize,
    /// Spooled bytes per stream.
    pub max_spool: u64,
    /// Command strings allowed.
    pub command_strings: bool,
    /// No network for children.
    pub no_network: bool,
    /// CPU seconds.
    pub cpu_secs: u64,
    /// Address space.
    pub memory: u64,
    /// Processes.
    pub processes: u64,
    /// File size.
    pub file_size: u64,
    /// Concurrent processes.
    pub max_processes: usize,
    /// Lifetime of started processes.
    pub process_max: Duration,
    /// Remote hosts.
    pub hosts: Vec<Host>,
    /// SSH key.
    pub ssh_key: Option<PathBuf>,
    /// SSH known hosts.
    pub ssh_known_hosts: Option<PathBuf>,
    /// SSH binary.
    pub ssh_bin: String,
    /// Jobs run in the kernel sandbox.
    pub sandbox: bool,
    /// Extra read+execute paths of the sandbox.
    pub sandbox_read: Vec<PathBuf>,
    /// Extra read+write paths of the sandbox.
    pub sandbox_write: Vec<PathBuf>,
    /// Files holding the server's secrets: checked at start to lie outside
    /// everything a job may read.
    pub secret_files: Vec<PathBuf>,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let mut roots = r.paths(SHELL_ROOTS);
        if roots.is_empty() {
            roots.push(PathBuf::from("projects"));
        }
        let preset = r.string(SHELL_PRESET, "build");
        let (mut programs, default_interp) = match preset.as_str() {
            "build" => (names(policy::PRESET_BUILD), names(policy::PRESET_INTERPRETERS)),
            "minimal" => (names(policy::PRESET_MINIMAL), vec![]),
            "none" => (vec![], vec![]),
            other => {
                r.error(format!("{SHELL_PRESET}={other:?}: use build, minimal or none"));
                (vec![], vec![])
            }
        };
        programs.extend(r.list(SHELL_ALLOW));
        let interpreters = match r.optional(SHELL_INTERPRETERS) {
            Some(v) if v.trim() == "none" => vec![],
            Some(v) => mcp_core::config::split_list(&v),
            None => default_interp,
        };
        // Interpreters are programs too.
        for i in &interpreters {
            if !programs.contains(i) {
                programs.push(i.clone());
            }
        }
        let mut path: Vec<PathBuf> = r.paths(SHELL_PATH);
        if path.is_empty() {
            path = ["/usr/local/bin", "/usr/bin", "/bin"].iter().map(PathBuf::from).collect();
        }
        if let Some(rel) = path.iter().find(|p| !p.is_absolute()) {
            r.error(format!("{SHELL_PATH}: {} is not absolute", rel.display()));
        }
        let mut env_allow = r.list(SHELL_ENV_ALLOW);
        if env_allow.is_empty() {
            env_allow = names(policy::ENV_ALLOW_DEFAULT);
        }
        let timeout = r.secs(SHELL_TIMEOUT_SECS, Duration::from_secs(30));
        let max_timeout = r.secs(SHELL_MAX_TIMEOUT_SECS, Duration::from_secs(1800));
        if timeout > max_timeout {
            r.error(format!("{SHELL_TIMEOUT_SECS} is larger than {SHELL_MAX_TIMEOUT_SECS}"));
        }
        let hosts = r
            .list(SHELL_SSH_HOSTS)
            .into_iter()
            .filter_map(|h| parse_host(&h).map_err(|e| r.error(e)).ok())
            .collect::<Vec<_>>();
        let ssh_known_hosts = r.optional(SHELL_SSH_KNOWN_HOSTS).map(PathBuf::from);
        if !hosts.is_empty() && ssh_known_hosts.is_none() {
            r.error(format!("{SHELL_SSH_HOSTS} needs {SHELL_SSH_KNOWN_HOSTS}: host keys are checked strictly"));
        }
        Self {
            roots,
            programs,
            interpreters,
            path,
            env_allow,
            home: r.optional(SHELL_HOME).map(PathBuf::from),
            data_dir: r.optional(SHELL_DATA_DIR).map(PathBuf::from),
            timeout,
            max_timeout,
            max_output: r.bytes(SHELL_MAX_OUTPUT_BYTES, 64 << 10),
            max_spool: r.bytes(SHELL_MAX_SPOOL_BYTES, 256 << 20) as u64,
            command_strings: r.bool(SHELL_ALLOW_COMMAND_STRINGS, false),
            no_network: r.bool(SHELL_NO_NETWORK, false),
            cpu_secs: r.parse(SHELL_LIMIT_CPU_SECS, 900u64),
            memory: r.bytes(SHELL_LIMIT_MEMORY_BYTES, 8 << 30) as u64,
            processes: r.parse(SHELL_LIMIT_PROCESSES, 1024u64),
            file_size: r.bytes(SHELL_LIMIT_FILE_BYTES, 2 << 30) as u64,
            max_processes: r.parse(SHELL_MAX_PROCESSES, 16usize),
            process_max: r.secs(SHELL_PROCESS_MAX_SECS, Duration::from_secs(3600)),
            hosts,
            ssh_key: r.optional(SHELL_SSH_KEY_FILE).map(PathBuf::from),
            ssh_known_hosts,
            ssh_bin: r.string(SHELL_SSH_BIN, "ssh"),
            sandbox: r.bool(SHELL_SANDBOX, true),
            sandbox_read: r.paths(SHELL_SANDBOX_READ),
            sandbox_write: r.paths(SHELL_SANDBOX_WRITE),
            secret_files: [
                mcp_core::config::MCP_AUTH_TOKEN_FILE,
                mcp_core::config::MCP_PEER_TOKEN_FILE,
                SHELL_SSH_KEY_FILE,
            ]
            .iter()
            .filter_map(|k| r.optional(k).map(|v| PathBuf::from(v.trim())))
            .collect(),
        }
    }

    /// Settings for tests: one root, the given programs and interpreters.
    pub fn for_root(root: impl Into<PathBuf>, programs: &[&str], interpreters: &[&str]) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut r = Reader::new(&env);
        let mut c = Self::read(&mut r);
        c.roots = vec![root.into()];
        c.programs = names(programs);
        c.interpreters = names(interpreters);
        for i in interpreters {
            c.programs.push((*i).to_owned());
        }
        c
    }
}

fn parse_host(s: &str) -> Result<Host, String> {
    let (name, rest) =
        s.split_once('=').ok_or_else(|| format!("{SHELL_SSH_HOSTS}: {s:?} is not name=user@host[:port]"))?;
    let (target, port) = match rest.rsplit_once(':') {
        Some((t, p)) => (t, p.parse::<u16>().map_err(|_| format!("{SHELL_SSH_HOSTS}: bad port in {s:?}"))?),
        None => (rest, 22),
    };
    let ok_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let ok_target = target.contains('@')
        && !target.starts_with('-')
        && target.bytes().all(|b| b.is_ascii_alphanumeric() || b"@.-_".contains(&b));
    if !ok_name || !ok_target {
        return Err(format!("{SHELL_SSH_HOSTS}: {s:?} is not name=user@host[:port]"));
    }
    Ok(Host { name: name.to_owned(), target: target.to_owned(), port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("build=ci@10.0.0.5:2222").unwrap(),
            Host { name: "build".into(), target: "ci@10.0.0.5".into(), port: 2222 }
        );
        assert_eq!(parse_host("b=ci@box").unwrap().port, 22);
        for bad in ["nohost", "x=-oProxyCommand=sh@h", "x=user@h;rm", "x=host-without-user", "x=u@h:99999"] {
            assert!(parse_host(bad).is_err(), "{bad}");
        }
    }
}
