//! The start-up policy and the one place a container is described to the
//! engine. Every container this server creates is built by
//! [`Policy::create_body`] from a [`Spec`] whose every field has been
//! checked here: never privileged, `cap_drop: ALL` plus the configured
//! allow-list, `no-new-privileges`, a read-only root with a tmpfs `/tmp`,
//! a non-root user, bounded memory/CPU/pids, no host namespaces, no devices,
//! bind mounts only under the bind roots (canonical, symlinks resolved, never
//! a socket or a system directory), ports only on allowed addresses, images
//! only from the allow-list. Refusals are [`ToolError::Denied`] whose message
//! starts with the rule's name (`bind-roots: ...`).
//!
//! The rest of the crate only *reads* host configurations (inspect, audit).

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, HostConfigLogConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountType, NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use globset::{Glob, GlobSet, GlobSetBuilder};
use mcp_core::ToolError;
use mcp_types::docker::{HealthCheck, Limits, Port};

use crate::config::{BindRoot, Config};

/// The label naming the instance that made an object.
pub const MANAGED_BY: &str = "io.mcp-fleet.managed-by";
/// App replicas: the app's name.
pub const APP: &str = "io.mcp-fleet.app";
/// App replicas: the environment.
pub const ENV: &str = "io.mcp-fleet.env";
/// App replicas: the revision.
pub const REVISION: &str = "io.mcp-fleet.revision";
/// App replicas: the replica slot (0 publishes the fixed host port).
pub const REPLICA: &str = "io.mcp-fleet.replica";
/// App replicas: the SHA-256 of the revision's full spec.
pub const SPEC_DIGEST: &str = "io.mcp-fleet.spec-digest";
/// App replicas: the revision's spec as JSON, environment values removed.
pub const SPEC: &str = "io.mcp-fleet.spec";
/// App replicas: the revision this one replaced.
pub const PREVIOUS: &str = "io.mcp-fleet.previous-revision";

/// Paths never mounted, nor anything below them (`/` itself is exact).
const SENSITIVE: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/etc",
    "/boot",
    "/root",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/lib/docker",
    "/run/containerd",
    "/var/run/containerd",
];

/// Environment names whose values are secrets.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "COOKIE",
    "SESSION",
    "CERT",
];

/// Is this environment variable name secret-looking?
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| n.contains(w))
}

/// Is this `user` root (`0`, `0:x`, `root`, `root:x`)?
///
/// The engine reads a numeric id as a number (`00` is uid 0) and keeps 32
/// bits of it, so ids are compared as numbers and anything that does not fit
/// below 2^31 counts as root; group 0 (`1000:0`, `1000:root`) counts too,
/// since the root group opens what root's files open to their group.
pub fn is_root_user(user: &str) -> bool {
    let mut parts = user.split(':').map(str::trim);
    let uid = parts.next().unwrap_or("");
    let is_root = |p: &str| {
        p.is_empty()
            || p == "root"
            || (p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().map_or(true, |n| n == 0 || n >= 1 << 31))
    };
    is_root(uid) || parts.next().is_some_and(is_root)
}

/// Top-level compose keys a file may use (besides `x-` extensions).
const TOP_KEYS: &[&str] = &["version", "name", "services", "networks", "volumes"];

/// Service keys a compose file may use (besides `x-` extensions); the
/// dangerous values of the listed ones are checked one by one.
const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "expose",
    "volumes",
    "networks",
    "network_mode",
    "depends_on",
    "healthcheck",
    "restart",
    "labels",
    "working_dir",
    "user",
    "read_only",
    "tmpfs",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "cpus",
    "cpu_shares",
    "pids_limit",
    "deploy",
    "container_name",
    "hostname",
    "domainname",
    "stop_signal",
    "stop_grace_period",
    "init",
    "profiles",
    "cap_drop",
    "cap_add",
    "security_opt",
    "shm_size",
    "ulimits",
    "privileged",
    "pid",
    "ipc",
    "userns_mode",
    "uts",
    "cgroup",
    "devices",
    "stdin_open",
    "tty",
    "logging",
    "dns",
    "dns_search",
    "extra_hosts",
    "platform",
    "pull_policy",
    "links",
];

/// Replaces secret values in text with `***`.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    /// Mask the values of secret-looking names in `env` (`NAME=value` or pairs).
    pub fn from_env<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut m = Self::default();
        for (k, v) in env {
            if secret_name(k) {
                m.add(v);
            }
        }
        m
    }

    /// From `NAME=value` strings (an inspected container's `Config.Env`).
    pub fn from_env_lines(lines: &[String]) -> Self {
        Self::from_env(lines.iter().filter_map(|l| l.split_once('=')))
    }

    /// Mask `v` too (values shorter than 4 bytes would mask noise and are kept).
    pub fn add(&mut self, v: &str) {
        if v.len() >= 4 && !self.values.iter().any(|x| x == v) {
            self.values.push(v.to_owned());
            // Longest first, so a value containing another is masked whole.
            self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Merge another masker.
    pub fn extend(&mut self, o: &Masker) {
        for v in &o.values {
            self.add(v);
        }
    }

    /// `text` with every secret value replaced.
    pub fn mask(&self, text: &str) -> String {
        let mut t = text.to_owned();
        for v in &self.values {
            if t.contains(v.as_str()) {
                t = t.replace(v.as_str(), "***");
            }
        }
        t
    }

    /// `NAME=value` lines with secret-looking values replaced.
    pub fn mask_env_lines(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, _)) if secret_name(k) => format!("{k}=***"),
                _ => l.clone(),
            })
            .collect()
    }
}

/// A refusal naming its rule.
pub fn deny(rule: &str, msg: impl std::fmt::Display) -> ToolError {
    ToolError::denied(format!("{rule}: {msg}"))
}

/// A bind root with its canonical path.
#[derive(Debug, Clone)]
struct Root {
    canonical: PathBuf,
    host: PathBuf,
}

/// A checked bind mount: the engine's source path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Where the server sees it (canonical).
    pub local: PathBuf,
    /// Where the engine sees it.
    pub host: PathBuf,
    /// Path inside the container.
    pub target: String,
    /// Read-write.
    pub writable: bool,
}

/// A checked named-volume mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// The (labelled) volume's name.
    pub name: String,
    /// Path inside the container.
    pub target: String,
    /// Read-only.
    pub read_only: bool,
}

/// What a container should be, after the checks of this module: the input
/// of [`Policy::create_body`].
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Image (checked against the allow-list by `create_body`).
    pub image: String,
    /// Command.
    pub argv: Vec<String>,
    /// Environment.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub workdir: Option<String>,
    /// Requested user.
    pub user: Option<String>,
    /// Bind mounts (from [`Policy::bind`]).
    pub binds: Vec<Bind>,
    /// Volumes (labelled, checked by the caller).
    pub volumes: Vec<VolumeMount>,
    /// `none` or the name of a labelled network (checked by the caller with
    /// [`Policy::network_name`] and a label lookup).
    pub network: String,
    /// Network aliases on that network.
    pub aliases: Vec<String>,
    /// Requested limits.
    pub limits: Option<Limits>,
    /// Ports to publish.
    pub ports: Vec<Port>,
    /// Host address to publish on (`None`: the first allowed).
    pub publish_address: Option<String>,
    /// Health check.
    pub health: Option<HealthCheck>,
    /// Labels beyond the instance label.
    pub labels: BTreeMap<String, String>,
    /// Restart with the engine (app replicas).
    pub restart: bool,
}

/// The policy, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The instance label value.
    pub instance: String,
    images: GlobSet,
    image_globs: Vec<String>,
    roots: Vec<Root>,
    writable: Vec<PathBuf>,
    caps: Vec<String>,
    default_user: String,
    allow_root: bool,
    publish: Vec<String>,
    memory: (u64, u64),
    cpus: (f64, f64),
    pids: (i64, i64),
    read_only_root: bool,
    tmpfs_size: u64,
}

impl Policy {
    /// Build from the configuration: roots and writable directories are
    /// canonicalised now (they must exist), globs compiled.
    pub fn new(c: &Config) -> Result<Self, String> {
        let mut b = GlobSetBuilder::new();
        for g in &c.images {
            b.add(Glob::new(g).map_err(|e| format!("DOCKER_IMAGES: {g}: {e}"))?);
        }
        let images = b.build().map_err(|e| format!("DOCKER_IMAGES: {e}"))?;
        let mut roots = Vec::new();
        for BindRoot { path, host } in &c.bind_roots {
            let canonical =
                std::fs::canonicalize(path).map_err(|e| format!("DOCKER_BIND_ROOTS: {}: {e}", path.display()))?;
            if sensitive(&canonical) || canonical == Path::new("/") {
                return Err(format!("DOCKER_BIND_ROOTS: {} is a system directory", canonical.display()));
            }
            roots.push(Root { canonical, host: host.clone() });
        }
        let mut writable = Vec::new();
        for w in &c.bind_writable {
            let cw = std::fs::canonicalize(w).map_err(|e| format!("DOCKER_BIND_WRITABLE: {}: {e}", w.display()))?;
            if !roots.iter().any(|r| cw.starts_with(&r.canonical)) {
                return Err(format!("DOCKER_BIND_WRITABLE: {} is not under a bind root", cw.display()));
            }
            writable.push(cw);
        }
        Ok(Self {
            instance: c.instance.clone(),
            images,
            image_globs: c.images.clone(),
            roots,
            writable,
            caps: c.cap_allow.clone(),
            default_user: c.default_user.clone(),
            allow_root: c.allow_root,
            publish: c.publish_addrs.clone(),
            memory: (c.memory_default, c.memory_max),
            cpus: (c.cpus_default, c.cpus_max),
            pids: (c.pids_default, c.pids_max),
            read_only_root: c.read_only_root,
            tmpfs_size: c.tmpfs_size,
        })
    }

    /// The allow-listed capabilities.
    pub fn caps(&self) -> &[String] {
        &self.caps
    }

    /// Allowed publish addresses.
    pub fn publish_addrs(&self) -> &[String] {
        &self.publish
    }

    /// Whether root is allowed.
    pub fn allow_root(&self) -> bool {
        self.allow_root
    }

    /// The default user.
    pub fn default_user(&self) -> &str {
        &self.default_user
    }

    /// Defaults of memory, CPUs and pids.
    pub fn limit_defaults(&self) -> (u64, f64, i64) {
        (self.memory.0, self.cpus.0, self.pids.0)
    }

    /// Whether the root file system is read-only.
    pub fn read_only_root(&self) -> bool {
        self.read_only_root
    }

    /// The server's own name prefix for objects: `<instance>-`.
    pub fn prefix(&self) -> String {
        format!("{}-", self.instance)
    }

    /// `name` with the instance prefix (kept when already there).
    pub fn prefixed(&self, name: &str) -> String {
        let p = self.prefix();
        if name.starts_with(&p) { name.to_owned() } else { format!("{p}{name}") }
    }

    /// The labels every object gets.
    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([(MANAGED_BY.to_owned(), self.instance.clone())])
    }

    /// Whether `labels` mark an object as this instance's.
    pub fn owns(&self, labels: Option<&HashMap<String, String>>) -> bool {
        labels.and_then(|l| l.get(MANAGED_BY)).is_some_and(|v| *v == self.instance)
    }

    /// Refuse an object this instance did not make.
    pub fn require_owned(
        &self,
        what: &str,
        name: &str,
        labels: Option<&HashMap<String, String>>,
    ) -> Result<(), ToolError> {
        if self.owns(labels) {
            Ok(())
        } else {
            Err(deny(
                "managed-by",
                format!(
                    "{what} {name} does not carry {MANAGED_BY}={}; this server only changes objects it created",
                    self.instance
                ),
            ))
        }
    }

    /// Check an image reference against the allow-list.
    pub fn image(&self, image: &str) -> Result<(), ToolError> {
        let i = image.trim();
        let bad = i.is_empty() || i.starts_with("sha256:") || i.contains(char::is_whitespace) || i.starts_with('-');
        if bad || !self.images.is_match(i) {
            return Err(deny(
                "image-allow-list",
                format!("image {i:?} does not match DOCKER_IMAGES ({})", self.image_globs.join(", ")),
            ));
        }
        Ok(())
    }

    /// A network a container may join: `none`, or a name the caller must
    /// then find labelled. Refuses host, container and default networks.
    pub fn network_name(&self, n: &str) -> Result<(), ToolError> {
        let n = n.trim();
        if n == "host" || n.starts_with("container:") || n.starts_with("service:") || n == "default" || n.is_empty() {
            return Err(deny(
                "network",
                format!(
                    "network {n:?} is not allowed: use none, bridge (the server's own network) or a network this server created"
                ),
            ));
        }
        Ok(())
    }

    /// Resolve a directory under the bind roots for reading (build contexts,
    /// compose files, Dockerfiles): `rel` is relative to the first root or
    /// absolute inside one. The canonical path.
    pub fn local_path(&self, rel: &str) -> Result<PathBuf, ToolError> {
        Ok(self.resolve(rel, "build-context")?.0)
    }

    /// Resolve `source` to `(canonical local path, engine path)`, refusing
    /// `..`, system paths, sockets and anything outside the roots.
    fn resolve(&self, source: &str, rule_outside: &str) -> Result<(PathBuf, PathBuf), ToolError> {
        let p = Path::new(source.trim());
        if source.trim().is_empty() {
            return Err(ToolError::invalid("an empty path"));
        }
        if p.components().any(|c| c == Component::ParentDir) {
            return Err(deny(
                "bind-parent",
                format!("{source:?} contains `..`; name paths inside a bind root directly"),
            ));
        }
        if self.roots.is_empty() {
            return Err(deny(rule_outside, format!("{source}: no DOCKER_BIND_ROOTS are configured")));
        }
        let joined = if p.is_absolute() { p.to_path_buf() } else { self.roots[0].canonical.join(p) };
        if joined == Path::new("/") || sensitive(&joined) {
            return Err(deny("bind-sensitive", format!("{} is a system path or the Docker socket", joined.display())));
        }
        let canonical =
            std::fs::canonicalize(&joined).map_err(|e| ToolError::not_found(format!("{}: {e}", joined.display())))?;
        if canonical == Path::new("/") || sensitive(&canonical) {
            return Err(deny(
                "bind-sensitive",
                format!("{} resolves to {}, a system path or the Docker socket", joined.display(), canonical.display()),
            ));
        }
        let meta = std::fs::metadata(&canonical).map_err(|e| ToolError::not_found(format!("{source}: {e}")))?;
        {
            use std::os::unix::fs::FileTypeExt;
            let ft = meta.file_type();
            if ft.is_socket() || ft.is_block_device() || ft.is_char_device() || ft.is_fifo() {
                return Err(deny("bind-sensitive", format!("{} is a socket or device", canonical.display())));
            }
        }
        let Some(root) = self.roots.iter().find(|r| canonical.starts_with(&r.canonical)) else {
            return Err(deny(
                rule_outside,
                format!("{} (resolved: {}) is outside DOCKER_BIND_ROOTS", source, canonical.display()),
            ));
        };
        let rest = canonical.strip_prefix(&root.canonical).map_err(ToolError::internal)?;
        let host = if rest.as_os_str().is_empty() { root.host.clone() } else { root.host.join(rest) };
        Ok((canonical, host))
    }

    /// Check a bind mount.
    pub fn bind(&self, source: &str, target: &str, writable: bool) -> Result<Bind, ToolError> {
        let target = container_path(target)?;
        let (local, host) = self.resolve(source, "bind-roots")?;
        if writable && !self.writable.iter().any(|w| local.starts_with(w)) {
            return Err(deny(
                "bind-writable",
                format!("{} may only be mounted read-only: it is not under DOCKER_BIND_WRITABLE", local.display()),
            ));
        }
        Ok(Bind { local, host, target, writable })
    }

    /// The user to run as.
    pub fn user(&self, requested: Option<&str>) -> Result<String, ToolError> {
        let u = requested.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(&self.default_user).to_owned();
        if is_root_user(&u) && !self.allow_root {
            return Err(deny(
                "root-user",
                format!("user {u:?} is root; this server runs containers as non-root users"),
            ));
        }
        let numeric = u.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !numeric && !self.allow_root {
            // A name could map to uid 0 in the image's passwd.
            return Err(deny("root-user", format!("user {u:?}: give a numeric uid:gid (names may map to root)")));
        }
        Ok(u)
    }

    /// The publish address.
    pub fn publish_address(&self, requested: Option<&str>) -> Result<String, ToolError> {
        let a = requested.map(str::trim).filter(|a| !a.is_empty()).unwrap_or(&self.publish[0]).to_owned();
        if !self.publish.contains(&a) {
            return Err(deny(
                "publish-address",
                format!("ports may be published on {} only (DOCKER_PUBLISH_ADDRS), not {a}", self.publish.join(", ")),
            ));
        }
        Ok(a)
    }

    /// Limits within the maxima: `(memory bytes, nano CPUs, pids)`.
    pub fn limits(&self, l: Option<&Limits>) -> Result<(i64, i64, i64), ToolError> {
        let l = l.cloned().unwrap_or_default();
        let memory = l.memory_bytes.unwrap_or(self.memory.0).clamp(8 << 20, self.memory.1);
        let cpus = l.cpus.unwrap_or(self.cpus.0);
        if !(cpus.is_finite() && cpus > 0.0) {
            return Err(ToolError::invalid("limits.cpus must be a positive number"));
        }
        let cpus = cpus.min(self.cpus.1);
        let pids = l.pids.unwrap_or(self.pids.0).clamp(1, self.pids.1);
        Ok((memory as i64, (cpus * 1e9) as i64, pids))
    }

    /// The engine's description of a container: the only place one is made.
    pub fn create_body(&self, s: &Spec) -> Result<ContainerCreateBody, ToolError> {
        self.image(&s.image)?;
        if s.network != "none" {
            self.network_name(&s.network)?;
        }
        let user = self.user(s.user.as_deref())?;
        let (memory, nano_cpus, pids) = self.limits(s.limits.as_ref())?;
        let mut env = Vec::new();
        for (k, v) in &s.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(ToolError::invalid(format!("environment name {k:?} is not valid")));
            }
            env.push(format!("{k}={v}"));
        }
        if let Some(w) = &s.workdir {
            container_path(w)?;
        }
        let mut mounts = Vec::new();
        for b in &s.binds {
            mounts.push(Mount {
                target: Some(b.target.clone()),
                source: Some(b.host.to_string_lossy().into_owned()),
                typ: Some(MountType::BIND),
                read_only: Some(!b.writable),
                bind_options: Some(MountBindOptions {
                    propagation: Some(MountBindOptionsPropagationEnum::RPRIVATE),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        for v in &s.volumes {
            mounts.push(Mount {
                target: Some(container_path(&v.target)?),
                source: Some(v.name.clone()),
                typ: Some(MountType::VOLUME),
                read_only: Some(v.read_only),
                ..Default::default()
            });
        }
        let mut port_bindings = HashMap::new();
        let mut exposed = Vec::new();
        if !s.ports.is_empty() {
            let addr = self.publish_address(s.publish_address.as_deref())?;
            for p in &s.ports {
                if p.container == 0 {
                    return Err(ToolError::invalid("ports: container port 0"));
                }
                let key = format!("{}/tcp", p.container);
                exposed.push(key.clone());
                port_bindings.insert(
                    key,
                    Some(vec![PortBinding {
                        host_ip: Some(addr.clone()),
                        host_port: Some(p.host.filter(|h| *h != 0).map(|h| h.to_string()).unwrap_or_default()),
                    }]),
                );
            }
        }
        let healthcheck = match &s.health {
            None => None,
            Some(h) => {
                if h.argv.is_empty() {
                    return Err(ToolError::invalid("health_check.argv is empty"));
                }
                let interval = h.interval_secs.unwrap_or(2).clamp(1, 300) as i64 * 1_000_000_000;
                let mut test = vec!["CMD".to_owned()];
                test.extend(h.argv.iter().cloned());
                Some(HealthConfig {
                    test: Some(test),
                    interval: Some(interval),
                    timeout: Some(interval.max(5_000_000_000)),
                    retries: Some(h.retries.unwrap_or(3).clamp(1, 100) as i64),
                    start_period: Some(0),
                    start_interval: None,
                })
            }
        };
        let mut labels = self.labels();
        for (k, v) in &s.labels {
            if k == MANAGED_BY {
                continue;
            }
            labels.insert(k.clone(), v.clone());
        }
        let tmpfs = self
            .read_only_root
            .then(|| HashMap::from([("/tmp".to_owned(), format!("rw,nosuid,nodev,size={}", self.tmpfs_size))]));
        let networking_config = (s.network != "none").then(|| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                s.network.clone(),
                EndpointSettings { aliases: (!s.aliases.is_empty()).then(|| s.aliases.clone()), ..Default::default() },
            )])),
        });
        let host_config = HostConfig {
            privileged: Some(false),
            cap_drop: Some(vec!["ALL".to_owned()]),
            cap_add: (!self.caps.is_empty()).then(|| self.caps.clone()),
            security_opt: Some(vec!["no-new-privileges:true".to_owned()]),
            readonly_rootfs: Some(self.read_only_root),
            tmpfs,
            memory: Some(memory),
            memory_swap: Some(memory),
            nano_cpus: Some(nano_cpus),
            pids_limit: Some(pids),
            network_mode: Some(s.network.clone()),
            mounts: (!mounts.is_empty()).then_some(mounts),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            publish_all_ports: Some(false),
            ipc_mode: Some("private".to_owned()),
            init: Some(true),
            devices: Some(vec![]),
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".to_owned()),
                config: Some(HashMap::from([
                    ("max-size".to_owned(), "10m".to_owned()),
                    ("max-file".to_owned(), "2".to_owned()),
                ])),
            }),
            restart_policy: Some(RestartPolicy {
                name: Some(if s.restart { RestartPolicyNameEnum::UNLESS_STOPPED } else { RestartPolicyNameEnum::NO }),
                maximum_retry_count: None,
            }),
            ..Default::default()
        };
        Ok(ContainerCreateBody {
            image: Some(s.image.clone()),
            cmd: (!s.argv.is_empty()).then(|| s.argv.clone()),
            env: Some(env),
            user: Some(user),
            working_dir: s.workdir.clone(),
            labels: Some(labels),
            healthcheck,
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            network_disabled: Some(s.network == "none"),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        })
    }

    /// Check one compose file's services against the policy. `dir` is the
    /// file's directory (relative binds are relative to it). Each finding is
    /// `(service, rule, message)`.
    pub fn compose_findings(&self, doc: &serde_json::Value, dir: &Path) -> Vec<(String, String, String)> {
        use serde_json::Value;
        let mut out = Vec::new();
        let mut push = |svc: &str, e: ToolError| {
            let m = match &e {
                ToolError::Denied(m) | ToolError::Invalid(m) | ToolError::NotFound(m) => m.clone(),
                other => other.to_string(),
            };
            let (rule, msg) =
                m.split_once(": ").map(|(r, m)| (r.to_owned(), m.to_owned())).unwrap_or(("compose".into(), m));
            out.push((svc.to_owned(), rule, msg));
        };
        let empty = serde_json::Map::new();
        let services = doc.get("services").and_then(Value::as_object).unwrap_or(&empty);
        let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        // Keys are allowed by name, not refused by name: compose grows keys
        // that reach the host (`volumes_from` copies another container's
        // binds — the socket among them —, a top-level volume's
        // `driver_opts` bind-mounts any host path, `secrets: file:` and
        // `env_file` read the server's own files, `external`/`name` join
        // another project's volumes and networks).
        for key in doc.as_object().map(|o| o.keys().collect::<Vec<_>>()).unwrap_or_default() {
            if !TOP_KEYS.contains(&key.as_str()) && !key.starts_with("x-") {
                push("(top level)", deny("compose-key", format!("`{key}` is not allowed in compose files here")));
            }
        }
        for section in ["volumes", "networks"] {
            for (n, def) in doc.get(section).and_then(Value::as_object).unwrap_or(&empty) {
                let Some(def) = def.as_object() else { continue };
                for (k, v) in def {
                    let ok = match k.as_str() {
                        "labels" => true,
                        "driver" => {
                            let d = text(v);
                            d == if section == "volumes" { "local" } else { "bridge" }
                        }
                        "internal" | "attachable" | "enable_ipv6" => section == "networks",
                        k => k.starts_with("x-"),
                    };
                    if !ok {
                        push(
                            &format!("{section}.{n}"),
                            deny("compose-key", format!("`{k}` on a top-level {section} entry is not allowed here")),
                        );
                    }
                }
            }
        }
        for (name, s) in services {
            for key in s.as_object().map(|o| o.keys().collect::<Vec<_>>()).unwrap_or_default() {
                if !SERVICE_KEYS.contains(&key.as_str()) && !key.starts_with("x-") {
                    push(name, deny("compose-key", format!("`{key}` is not allowed in a service here")));
                }
            }
            if let Some(b) = s.get("build").and_then(Value::as_object) {
                for (k, v) in b {
                    let ok = match k.as_str() {
                        "context" | "dockerfile" | "args" | "target" | "labels" | "shm_size" => true,
                        "network" => matches!(text(v).as_str(), "none" | "default"),
                        k => k.starts_with("x-"),
                    };
                    if !ok {
                        push(name, deny("compose-key", format!("build `{k}` is not allowed here")));
                    }
                }
            }
            if s.get("privileged").and_then(Value::as_bool) == Some(true) {
                push(name, deny("privileged", "privileged containers are never allowed"));
            }
            for c in s.get("cap_add").and_then(Value::as_array).into_iter().flatten() {
                let c = text(c).to_ascii_uppercase();
                let c = c.trim_start_matches("CAP_");
                if !self.caps.iter().any(|a| a == c) {
                    push(name, deny("capabilities", format!("cap_add {c} is not in DOCKER_CAP_ALLOW")));
                }
            }
            if let Some(n) = s.get("network_mode").map(&text)
                && (n == "host" || n.starts_with("container:"))
            {
                push(name, deny("network", format!("network_mode {n} shares a host or container network")));
            }
            for key in ["pid", "ipc", "userns_mode", "uts", "cgroup"] {
                if let Some(v) = s.get(key).map(&text)
                    && (v == "host" || v.starts_with("container:"))
                {
                    push(name, deny("host-namespace", format!("{key}: {v} shares a host namespace")));
                }
            }
            if s.get("devices").and_then(Value::as_array).is_some_and(|d| !d.is_empty()) {
                push(name, deny("devices", "devices are never passed to containers"));
            }
            for o in s.get("security_opt").and_then(Value::as_array).into_iter().flatten() {
                let o = text(o);
                if o.contains("unconfined") || o.contains("disable") {
                    push(name, deny("security-opt", format!("security_opt {o} weakens confinement")));
                }
            }
            if let Some(u) = s.get("user").map(&text)
                && is_root_user(&u)
                && !self.allow_root
            {
                push(name, deny("root-user", format!("user {u} is root")));
            }
            match s.get("image").map(&text) {
                Some(i) => {
                    if let Err(e) = self.image(&i) {
                        push(name, e);
                    }
                }
                None => push(name, deny("image-allow-list", "every service needs an `image` matching DOCKER_IMAGES")),
            }
            if let Some(b) = s.get("build") {
                let ctx = b.as_str().map(str::to_owned).or_else(|| b.get("context").map(&text)).unwrap_or(".".into());
                let p = if Path::new(&ctx).is_absolute() { PathBuf::from(&ctx) } else { dir.join(&ctx) };
                if let Err(e) = self.resolve(&p.to_string_lossy(), "build-context") {
                    push(name, e);
                }
            }
            for v in s.get("volumes").and_then(Value::as_array).into_iter().flatten() {
                let (src, target, ro, is_bind) = match v {
                    Value::String(sv) => {
                        let parts: Vec<&str> = sv.split(':').collect();
                        let src = parts.first().copied().unwrap_or("").to_owned();
                        let target = parts.get(1).copied().unwrap_or("").to_owned();
                        let ro = parts.get(2).is_some_and(|m| m.split(',').any(|x| x == "ro"));
                        let bind = src.starts_with('/') || src.starts_with('.') || src.starts_with('~');
                        (src, target, ro, bind && parts.len() > 1)
                    }
                    Value::Object(o) => {
                        let t = o.get("type").map(&text).unwrap_or_default();
                        (
                            o.get("source").map(&text).unwrap_or_default(),
                            o.get("target").map(&text).unwrap_or_default(),
                            o.get("read_only").and_then(Value::as_bool).unwrap_or(false),
                            t == "bind",
                        )
                    }
                    _ => continue,
                };
                if !is_bind {
                    continue;
                }
                if src.starts_with('~') {
                    push(name, deny("bind-roots", format!("{src}: home-relative binds are outside DOCKER_BIND_ROOTS")));
                    continue;
                }
                let p = if Path::new(&src).is_absolute() { PathBuf::from(&src) } else { dir.join(&src) };
                if let Err(e) = self.bind(&p.to_string_lossy(), if target.is_empty() { "/mnt" } else { &target }, !ro) {
                    push(name, e);
                }
            }
            for p in s.get("ports").and_then(Value::as_array).into_iter().flatten() {
                let ip = match p {
                    Value::Object(o) => o.get("host_ip").map(&text),
                    other => {
                        let t = text(other);
                        let parts: Vec<&str> = t.rsplitn(3, ':').collect();
                        (parts.len() == 3).then(|| parts[2].trim_matches(|c| c == '[' || c == ']').to_owned())
                    }
                };
                match ip {
                    Some(ip) if self.publish.contains(&ip) => {}
                    _ => push(
                        name,
                        deny(
                            "publish-address",
                            format!("port {} must name a host address from {}", text(p), self.publish.join(", ")),
                        ),
                    ),
                }
            }
        }
        for (vname, v) in doc.get("volumes").and_then(Value::as_object).into_iter().flatten() {
            if let Some(dev) = v.pointer("/driver_opts/device").map(&text)
                && let Err(e) = self.bind(&dev, "/mnt", true)
            {
                push(&format!("volume {vname}"), e);
            }
        }
        out
    }
}

/// A path inside a container: absolute, no `..`, not `/`, no `:` or `,`.
pub fn container_path(p: &str) -> Result<String, ToolError> {
    let path = Path::new(p);
    if !path.is_absolute() || p == "/" || p.contains([':', ',', '\0']) {
        return Err(ToolError::invalid(format!("container path {p:?} must be absolute, not `/`, without `:` or `,`")));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(deny("bind-parent", format!("container path {p:?} contains `..`")));
    }
    Ok(p.to_owned())
}

fn sensitive(p: &Path) -> bool {
    SENSITIVE.iter().any(|s| p.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(root: &Path, writable: Option<&Path>) -> Policy {
        let mut c = Config::for_instance("t", Some(root.to_path_buf()), root.join("data"));
        c.bind_writable = writable.map(|w| vec![w.to_path_buf()]).unwrap_or_default();
        Policy::new(&c).unwrap()
    }

    fn rule(e: ToolError) -> String {
        match e {
            ToolError::Denied(m) => m.split(": ").next().unwrap_or("").to_owned(),
            other => format!("not denied: {other}"),
        }
    }

    #[test]
    fn root_in_every_spelling() {
        for u in
            ["0", "00", "000:1000", "root", "", ":1000", "1000:0", "1000:00", "1000:root", "4294967296", "2147483648:1"]
        {
            assert!(is_root_user(u), "{u:?} should count as root");
        }
        for u in ["1000", "1000:1000", "65534:65534", "10001:10001", "app", "2147483647:1"] {
            assert!(!is_root_user(u), "{u:?} is not root");
        }
    }

    #[test]
    fn binds() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("a/rw")).unwrap();
        std::fs::create_dir_all(d.path().join("outside")).unwrap();
        std::os::unix::fs::symlink(d.path().join("outside"), root.join("link")).unwrap();
        std::os::unix::fs::symlink("/var/run/docker.sock", root.join("sock")).unwrap();
        let p = policy(&root, Some(&root.join("a/rw")));
        assert!(p.bind("a", "/data", false).is_ok());
        assert!(p.bind("a/rw", "/data", true).unwrap().writable);
        assert_eq!(rule(p.bind("a", "/data", true).unwrap_err()), "bind-writable");
        assert_eq!(rule(p.bind("../outside", "/d", false).unwrap_err()), "bind-parent");
        assert_eq!(rule(p.bind("link", "/d", false).unwrap_err()), "bind-roots");
        assert_eq!(rule(p.bind(d.path().join("outside").to_str().unwrap(), "/d", false).unwrap_err()), "bind-roots");
        assert_eq!(rule(p.bind("/var/run/docker.sock", "/d", false).unwrap_err()), "bind-sensitive");
        assert_eq!(rule(p.bind("/proc", "/d", false).unwrap_err()), "bind-sensitive");
        assert_eq!(rule(p.bind("/", "/d", false).unwrap_err()), "bind-sensitive");
        assert_eq!(rule(p.bind("/etc/passwd", "/d", false).unwrap_err()), "bind-sensitive");
        if Path::new("/var/run/docker.sock").exists() {
            assert_eq!(rule(p.bind("sock", "/d", false).unwrap_err()), "bind-sensitive");
        }
        assert!(p.bind("a", "relative", false).is_err());
        assert!(p.bind("a", "/x/../y", false).is_err());
    }

    #[test]
    fn host_paths() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("p/sub")).unwrap();
        let mut c = Config::for_instance("t", None, d.path().join("data"));
        c.bind_roots = vec![BindRoot { path: d.path().join("p"), host: PathBuf::from("/host/projects") }];
        let p = Policy::new(&c).unwrap();
        assert_eq!(p.bind("sub", "/w", false).unwrap().host, PathBuf::from("/host/projects/sub"));
    }

    #[test]
    fn images_users_networks_limits() {
        let d = tempfile::tempdir().unwrap();
        let p = policy(d.path(), None);
        assert!(p.image("mcp-fleet-test/busybox:1").is_ok());
        assert!(p.image("mcp-app/x/y:2").is_ok());
        for bad in ["busybox", "docker.io/mcp-fleet/x", "mcp-fleet-evil/x", "sha256:abc", ""] {
            assert_eq!(rule(p.image(bad).unwrap_err()), "image-allow-list", "{bad}");
        }
        assert_eq!(p.user(None).unwrap(), "65534:65534");
        assert_eq!(rule(p.user(Some("0")).unwrap_err()), "root-user");
        assert_eq!(rule(p.user(Some("root")).unwrap_err()), "root-user");
        assert_eq!(rule(p.user(Some("nobody")).unwrap_err()), "root-user");
        assert!(p.user(Some("1000:1000")).is_ok());
        for n in ["host", "container:abc", "default"] {
            assert_eq!(rule(p.network_name(n).unwrap_err()), "network");
        }
        assert_eq!(rule(p.publish_address(Some("0.0.0.0")).unwrap_err()), "publish-address");
        let (m, c, pids) =
            p.limits(Some(&Limits { memory_bytes: Some(1 << 40), cpus: Some(64.0), pids: Some(1 << 20) })).unwrap();
        assert_eq!((m, c, pids), (4 << 30, 4_000_000_000, 4096));
    }

    #[test]
    fn body_is_confined() {
        let d = tempfile::tempdir().unwrap();
        let p = policy(d.path(), None);
        let s = Spec {
            image: "mcp-fleet-test/busybox:1".into(),
            network: "none".into(),
            ports: vec![Port { container: 80, host: None }],
            ..Default::default()
        };
        let b = p.create_body(&s).unwrap();
        let h = b.host_config.unwrap();
        assert_eq!(h.privileged, Some(false));
        assert_eq!(h.cap_drop, Some(vec!["ALL".to_owned()]));
        assert_eq!(h.readonly_rootfs, Some(true));
        assert_eq!(b.user.as_deref(), Some("65534:65534"));
        assert_eq!(h.port_bindings.unwrap()["80/tcp"].as_ref().unwrap()[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(b.labels.unwrap()[MANAGED_BY], "t");
    }

    #[test]
    fn masking() {
        let m = Masker::from_env([("API_TOKEN", "s3cr3t-value"), ("MODE", "fast-mode")]);
        assert_eq!(m.mask("token=s3cr3t-value mode=fast-mode"), "token=*** mode=fast-mode");
        assert!(secret_name("db_password") && secret_name("AWS_SECRET_ACCESS_KEY") && !secret_name("PATH"));
        assert_eq!(Masker::mask_env_lines(&["A_KEY=x".into(), "B=y".into()]), vec!["A_KEY=***", "B=y"]);
    }

    #[test]
    fn compose() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proj")).unwrap();
        let p = policy(d.path(), None);
        let doc = serde_json::json!({"services": {
            "bad": {"image": "busybox", "privileged": true, "network_mode": "host", "pid": "host",
                    "volumes": ["/var/run/docker.sock:/var/run/docker.sock", "../x:/x"], "ports": ["8080:80"], "cap_add": ["SYS_ADMIN"]},
            "good": {"image": "mcp-fleet-test/busybox:1", "volumes": ["./:/src:ro", "data:/data"], "ports": ["127.0.0.1:8080:80"]}
        }});
        let f = p.compose_findings(&doc, &d.path().join("proj"));
        let rules: Vec<&str> = f.iter().filter(|x| x.0 == "bad").map(|x| x.1.as_str()).collect();
        for r in [
            "privileged",
            "network",
            "host-namespace",
            "bind-sensitive",
            "bind-parent",
            "publish-address",
            "capabilities",
            "image-allow-list",
        ] {
            assert!(rules.contains(&r), "{r} missing from {rules:?}");
        }
        assert!(f.iter().all(|x| x.0 != "good"), "{f:?}");
    }

    /// The keys that reach the host without a host path in a bind: each one
    /// is refused by name, and a plain file with the allowed keys is not.
    #[test]
    fn compose_keys_that_reach_the_host() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proj")).unwrap();
        let p = policy(d.path(), None);
        let img = "mcp-fleet-test/busybox:1";
        let cases: Vec<(&str, serde_json::Value)> = vec![
            (
                "volumes_from",
                serde_json::json!({"services": {"s": {"image": img, "volumes_from": ["container:mcp-fleet_mcp-server-docker_1"]}}}),
            ),
            (
                "env_file",
                serde_json::json!({"services": {"s": {"image": img, "env_file": ["/run/secrets/mcp_token"]}}}),
            ),
            (
                "secrets",
                serde_json::json!({"services": {"s": {"image": img}}, "secrets": {"t": {"file": "/run/secrets/mcp_token"}}}),
            ),
            (
                "configs",
                serde_json::json!({"services": {"s": {"image": img}}, "configs": {"c": {"file": "/etc/passwd"}}}),
            ),
            (
                "driver_opts",
                serde_json::json!({"services": {"s": {"image": img, "volumes": ["root:/host"]}},
                "volumes": {"root": {"driver": "local", "driver_opts": {"type": "none", "o": "bind", "device": "/"}}}}),
            ),
            (
                "external",
                serde_json::json!({"services": {"s": {"image": img, "volumes": ["pg:/data"]}},
                "volumes": {"pg": {"external": true, "name": "mcp-fleet_postgres-data"}}}),
            ),
            (
                "name",
                serde_json::json!({"services": {"s": {"image": img, "networks": ["fleet"]}},
                "networks": {"fleet": {"name": "mcp-fleet_fleet"}}}),
            ),
            (
                "network",
                serde_json::json!({"services": {"s": {"image": img, "build": {"context": ".", "network": "host"}}}}),
            ),
            ("sysctls", serde_json::json!({"services": {"s": {"image": img, "sysctls": {"net.ipv4.ip_forward": 1}}}})),
            ("cgroup_parent", serde_json::json!({"services": {"s": {"image": img, "cgroup_parent": "/"}}})),
            ("runtime", serde_json::json!({"services": {"s": {"image": img, "runtime": "runc"}}})),
            (
                "extends",
                serde_json::json!({"services": {"s": {"image": img, "extends": {"file": "/etc/x.yml", "service": "a"}}}}),
            ),
            ("include", serde_json::json!({"include": ["/etc/compose.yml"], "services": {"s": {"image": img}}})),
        ];
        for (key, doc) in cases {
            let f = p.compose_findings(&doc, &d.path().join("proj"));
            assert!(
                f.iter().any(|x| x.1 == "compose-key" && x.2.contains(&format!("`{key}`"))),
                "{key} not refused: {f:?}"
            );
        }
        let fine = serde_json::json!({"version": "3.8", "x-common": {}, "services": {"s": {"image": img,
            "command": ["httpd", "-f"], "healthcheck": {"test": ["CMD", "true"]}, "restart": "unless-stopped",
            "networks": ["back"], "volumes": ["data:/data"], "x-note": 1}},
            "volumes": {"data": {}}, "networks": {"back": {"driver": "bridge", "internal": true}}});
        let f = p.compose_findings(&fine, &d.path().join("proj"));
        assert!(f.is_empty(), "{f:?}");
    }
}
