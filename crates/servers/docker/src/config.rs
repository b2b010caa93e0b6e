//! Configuration of `mcp-server-docker`: every variable it reads. The policy
//! built from these (`crate::policy::Policy`) is fixed for the life of the
//! process; no tool can widen it.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// The engine's address: `unix:///var/run/docker.sock` (default) or
/// `tcp://host:port` (plain HTTP; TLS is not built in). Also passed to the
/// compose CLI.
pub const DOCKER_HOST: &str = "DOCKER_HOST";
/// This server's instance name (default `mcp-server-docker`): the value of
/// the `io.mcp-fleet.managed-by` label on every object it creates and the
/// prefix of their names. Mutating tools refuse objects without that label.
pub const DOCKER_INSTANCE: &str = "DOCKER_INSTANCE";
/// Images containers may run, as comma-separated globs (`*` matches `/`
/// too); default `mcp-fleet/*,mcp-fleet-test/*,mcp-app/*`. Images the server
/// builds must be tagged to match.
pub const DOCKER_IMAGES: &str = "DOCKER_IMAGES";
/// Directories that may be bind-mounted or used as build contexts and
/// compose projects, comma-separated. Each is `PATH` or `PATH=HOSTPATH`:
/// `PATH` is where this server sees it, `HOSTPATH` where the engine does
/// (differs when the server runs in a container). `PATH=auto` asks the engine:
/// the server inspects its own container (by its hostname) and takes the
/// source of the mount at `PATH` (what compose uses, so a relative
/// `FLEET_PROJECTS_DIR` works); start-up fails when none is found. None by
/// default: no bind mounts at all.
pub const DOCKER_BIND_ROOTS: &str = "DOCKER_BIND_ROOTS";
/// Directories (under the bind roots) that may be mounted read-write,
/// comma-separated; everything else is mounted read-only.
pub const DOCKER_BIND_WRITABLE: &str = "DOCKER_BIND_WRITABLE";
/// The `HOSTPATH` of a bind root that the server finds from its own container's mounts.
pub const AUTO: &str = "auto";
/// Capabilities containers keep (after `cap_drop: ALL`), comma-separated,
/// e.g. `NET_BIND_SERVICE`; default none.
pub const DOCKER_CAP_ALLOW: &str = "DOCKER_CAP_ALLOW";
/// The `uid:gid` containers run as when a call names none (default `65534:65534`).
pub const DOCKER_DEFAULT_USER: &str = "DOCKER_DEFAULT_USER";
/// Allow a caller to run a container as root (`user: 0` or `root`). Default false.
pub const DOCKER_ALLOW_ROOT: &str = "DOCKER_ALLOW_ROOT";
/// Host addresses ports may be published on, comma-separated (default `127.0.0.1`).
pub const DOCKER_PUBLISH_ADDRS: &str = "DOCKER_PUBLISH_ADDRS";
/// Memory per container when a call names none (default 512M).
pub const DOCKER_MEMORY_DEFAULT: &str = "DOCKER_MEMORY_DEFAULT";
/// Largest memory a call may ask for (default 4G).
pub const DOCKER_MEMORY_MAX: &str = "DOCKER_MEMORY_MAX";
/// CPUs per container when a call names none (default 1).
pub const DOCKER_CPUS_DEFAULT: &str = "DOCKER_CPUS_DEFAULT";
/// Most CPUs a call may ask for (default 4).
pub const DOCKER_CPUS_MAX: &str = "DOCKER_CPUS_MAX";
/// Processes per container when a call names none (default 256).
pub const DOCKER_PIDS_DEFAULT: &str = "DOCKER_PIDS_DEFAULT";
/// Most processes a call may ask for (default 4096).
pub const DOCKER_PIDS_MAX: &str = "DOCKER_PIDS_MAX";
/// Containers get a read-only root file system and a tmpfs `/tmp` (default true).
pub const DOCKER_READ_ONLY_ROOT: &str = "DOCKER_READ_ONLY_ROOT";
/// Size of the tmpfs `/tmp` (default 64M).
pub const DOCKER_TMPFS_SIZE: &str = "DOCKER_TMPFS_SIZE";
/// Bytes of output (per stream) a result carries (default 64K).
pub const DOCKER_MAX_OUTPUT_BYTES: &str = "DOCKER_MAX_OUTPUT_BYTES";
/// Default time limit of `container_run` with `wait` and of `container_exec`, seconds (default 300).
pub const DOCKER_TIMEOUT_SECS: &str = "DOCKER_TIMEOUT_SECS";
/// Largest time limit a call may ask for, seconds (default 3600).
pub const DOCKER_MAX_TIMEOUT_SECS: &str = "DOCKER_MAX_TIMEOUT_SECS";
/// Where the server keeps app revision specs (with their environment
/// values, mode 0600, for rollback) and compose overrides (default
/// `./.data/docker`).
pub const DOCKER_DATA_DIR: &str = "DOCKER_DATA_DIR";
/// A network every deployed app's replicas also join, under the app's name
/// as their alias (default none: each app has only its own network). For
/// the programs that open deployed services from another container — the
/// browser server in compose, where this is the `apps` network compose
/// makes with this server's ownership label. Made (labelled) when missing;
/// an existing one must carry this server's label. Phase and job containers
/// never join it.
pub const DOCKER_APPS_NETWORK: &str = "DOCKER_APPS_NETWORK";
/// The compose CLI: `auto` (default: `docker compose` v2 when the plugin is
/// there, else `docker-compose` v1), `none`, or a path to `docker-compose`.
pub const DOCKER_COMPOSE: &str = "DOCKER_COMPOSE";
/// hadolint for `security_audit` of a Dockerfile: a path, or `auto`
/// (default: found on `PATH`), or `none`.
pub const DOCKER_HADOLINT: &str = "DOCKER_HADOLINT";

/// A bind root: where the server sees it and where the engine does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindRoot {
    /// The server's path.
    pub path: PathBuf,
    /// The engine's path (the same unless given as `PATH=HOSTPATH`).
    pub host: PathBuf,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Engine address (`None`: the local socket).
    pub host: Option<String>,
    /// Instance name.
    pub instance: String,
    /// Image globs.
    pub images: Vec<String>,
    /// Bind roots.
    pub bind_roots: Vec<BindRoot>,
    /// Writable directories.
    pub bind_writable: Vec<PathBuf>,
    /// Capabilities kept.
    pub cap_allow: Vec<String>,
    /// Default user.
    pub default_user: String,
    /// Root allowed.
    pub allow_root: bool,
    /// Publish addresses.
    pub publish_addrs: Vec<String>,
    /// Default memory, bytes.
    pub memory_default: u64,
    /// Most memory, bytes.
    pub memory_max: u64,
    /// Default CPUs.
    pub cpus_default: f64,
    /// Most CPUs.
    pub cpus_max: f64,
    /// Default pids.
    pub pids_default: i64,
    /// Most pids.
    pub pids_max: i64,
    /// Read-only root.
    pub read_only_root: bool,
    /// tmpfs size, bytes.
    pub tmpfs_size: u64,
    /// Output cap per stream.
    pub max_output: usize,
    /// Default time limit.
    pub timeout: Duration,
    /// Largest time limit.
    pub max_timeout: Duration,
    /// Data directory.
    pub data_dir: PathBuf,
    /// `DOCKER_APPS_NETWORK`.
    pub apps_network: Option<String>,
    /// Compose CLI choice.
    pub compose: String,
    /// hadolint choice.
    pub hadolint: String,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let host = r.optional(DOCKER_HOST).map(|h| h.trim().to_owned());
        if let Some(h) = &host
            && !(h.starts_with("unix://") || h.starts_with("tcp://") || h.starts_with("http://"))
        {
            r.error(format!("{DOCKER_HOST}={h:?}: use unix:///path or tcp://host:port (TLS is not supported)"));
        }
        let instance = r.string(DOCKER_INSTANCE, "mcp-server-docker");
        if !valid_instance(&instance) {
            r.error(format!("{DOCKER_INSTANCE}={instance:?}: use [a-z0-9][a-z0-9-]{{0,40}}"));
        }
        let mut images = r.list(DOCKER_IMAGES);
        if images.is_empty() {
            images = ["mcp-fleet/*", "mcp-fleet-test/*", "mcp-app/*"].iter().map(|s| (*s).to_owned()).collect();
        }
        let bind_roots = r
            .list(DOCKER_BIND_ROOTS)
            .into_iter()
            .map(|s| match s.split_once('=') {
                Some((p, h)) => BindRoot { path: PathBuf::from(p.trim()), host: PathBuf::from(h.trim()) },
                None => BindRoot { path: PathBuf::from(&s), host: PathBuf::from(&s) },
            })
            .collect::<Vec<_>>();
        for b in &bind_roots {
            if !b.path.is_absolute() || !(b.host.is_absolute() || b.host.as_os_str() == AUTO) {
                r.error(format!("{DOCKER_BIND_ROOTS}: {} must be absolute (PATH or PATH=HOSTPATH)", b.path.display()));
            }
        }
        let bind_writable: Vec<PathBuf> = r.list(DOCKER_BIND_WRITABLE).into_iter().map(PathBuf::from).collect();
        let cap_allow: Vec<String> = r
            .list(DOCKER_CAP_ALLOW)
            .into_iter()
            .map(|c| c.to_ascii_uppercase().trim_start_matches("CAP_").to_owned())
            .collect();
        for c in &cap_allow {
            if c == "ALL" || c == "SYS_ADMIN" || c == "SYS_PTRACE" || c == "SYS_MODULE" {
                r.error(format!("{DOCKER_CAP_ALLOW}: {c} is never allowed"));
            }
        }
        let default_user = r.string(DOCKER_DEFAULT_USER, "65534:65534");
        let allow_root = r.bool(DOCKER_ALLOW_ROOT, false);
        if !allow_root && crate::policy::is_root_user(&default_user) {
            r.error(format!(
                "{DOCKER_DEFAULT_USER}={default_user:?} is root; set {DOCKER_ALLOW_ROOT}=true to allow it"
            ));
        }
        let mut publish_addrs = r.list(DOCKER_PUBLISH_ADDRS);
        if publish_addrs.is_empty() {
            publish_addrs.push("127.0.0.1".into());
        }
        let memory_default = r.bytes(DOCKER_MEMORY_DEFAULT, 512 << 20) as u64;
        let memory_max = r.bytes(DOCKER_MEMORY_MAX, 4 << 30) as u64;
        let cpus_default: f64 = r.parse(DOCKER_CPUS_DEFAULT, 1.0);
        let cpus_max: f64 = r.parse(DOCKER_CPUS_MAX, 4.0);
        let pids_default: i64 = r.parse(DOCKER_PIDS_DEFAULT, 256);
        let pids_max: i64 = r.parse(DOCKER_PIDS_MAX, 4096);
        if memory_default > memory_max || cpus_default > cpus_max || pids_default > pids_max {
            r.error("a DOCKER_*_DEFAULT limit is larger than its DOCKER_*_MAX");
        }
        if !(cpus_default > 0.0 && cpus_max > 0.0) || pids_default < 1 {
            r.error("DOCKER_CPUS_* must be positive and DOCKER_PIDS_* at least 1");
        }
        let timeout = r.secs(DOCKER_TIMEOUT_SECS, Duration::from_secs(300));
        let max_timeout = r.secs(DOCKER_MAX_TIMEOUT_SECS, Duration::from_secs(3600));
        if timeout > max_timeout {
            r.error(format!("{DOCKER_TIMEOUT_SECS} is larger than {DOCKER_MAX_TIMEOUT_SECS}"));
        }
        Self {
            host,
            instance,
            images,
            bind_roots,
            bind_writable,
            cap_allow,
            default_user,
            allow_root,
            publish_addrs,
            memory_default,
            memory_max,
            cpus_default,
            cpus_max,
            pids_default,
            pids_max,
            read_only_root: r.bool(DOCKER_READ_ONLY_ROOT, true),
            tmpfs_size: r.bytes(DOCKER_TMPFS_SIZE, 64 << 20) as u64,
            max_output: r.bytes(DOCKER_MAX_OUTPUT_BYTES, 64 << 10),
            timeout,
            max_timeout,
            data_dir: PathBuf::from(r.string(DOCKER_DATA_DIR, "./.data/docker")),
            apps_network: r.optional(DOCKER_APPS_NETWORK).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
            compose: r.string(DOCKER_COMPOSE, "auto"),
            hadolint: r.string(DOCKER_HADOLINT, "auto"),
        }
    }

    /// Settings for tests: an instance, one bind root (`writable` under it
    /// too when given) and a data directory.
    pub fn for_instance(instance: &str, root: Option<PathBuf>, data_dir: PathBuf) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut r = Reader::new(&env);
        let mut c = Self::read(&mut r);
        c.instance = instance.to_owned();
        c.bind_roots = root.into_iter().map(|p| BindRoot { path: p.clone(), host: p }).collect();
        c.data_dir = data_dir;
        c
    }
}

/// An instance name: `[a-z0-9][a-z0-9-]{0,40}`.
pub fn valid_instance(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 41
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, mcp_core::ConfigErrors> {
        mcp_core::config::read_vars(vars, Config::read)
    }

    #[test]
    fn defaults_and_errors() {
        let c = read(&[]).unwrap();
        assert_eq!(c.instance, "mcp-server-docker");
        assert_eq!(c.default_user, "65534:65534");
        assert!(c.read_only_root && !c.allow_root);
        let c = read(&[(DOCKER_BIND_ROOTS, "/srv/p=/host/p,/x")]).unwrap();
        assert_eq!(c.bind_roots[0].host, PathBuf::from("/host/p"));
        assert_eq!(c.bind_roots[1].host, PathBuf::from("/x"));
        assert!(read(&[(DOCKER_DEFAULT_USER, "0:0")]).is_err());
        assert!(read(&[(DOCKER_CAP_ALLOW, "sys_admin")]).is_err());
        assert!(read(&[(DOCKER_INSTANCE, "Bad_Name")]).is_err());
        assert!(read(&[(DOCKER_HOST, "ssh://x")]).is_err());
        assert!(read(&[(DOCKER_BIND_ROOTS, "rel/path")]).is_err());
    }
}
