//! What the planner and the gitlab server's local pipelines send to and read
//! from `mcp-server-docker`: a container run to completion (`container_run`
//! with `wait`), and an application deployed behind a health check
//! (`app_deploy`, `app_status`). The docker server applies its start-up
//! policy to every field here; a caller cannot widen it (no privileged, no
//! capabilities beyond the server's allow-list, mounts only under its bind
//! roots), so these types carry only what a caller may ask for.
//!
//! Argument types skip what is unset; result types ignore fields they do not
//! read (the server may add more).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A directory of a bind root mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// The directory on the server's side: relative to its first bind root
    /// (`DOCKER_BIND_ROOTS`), or absolute inside one of them.
    pub source: String,
    /// Absolute path inside the container.
    pub target: String,
    /// Mounted read-write; refused unless the source lies under a root the
    /// server lists as writable (`DOCKER_BIND_WRITABLE`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writable: bool,
}

/// Resource limits a caller asks for; each is capped by the server's maximum
/// and defaults to the server's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// CPUs (fractions allowed: `0.5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Processes (pids) in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
}

/// `container_run`'s arguments (the subset callers of the fleet use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerRunArgs {
    /// Image reference; must match the server's image allow-list.
    pub image: String,
    /// The command as argv (never a shell string); the image's default when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// Container name (a server prefix is added); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment. Values are never echoed back in results or logs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// `uid:gid` to run as; the server's default user when absent, root only
    /// when the server allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Bind mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// `none` (the default: no network at all), `bridge` (the server's own
    /// network: outbound access, e.g. for an install phase), or the name of a
    /// network the server created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Wait for the container to exit and answer with its exit code and output.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait: bool,
    /// With `wait`: seconds before the container is killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// With `wait`: remove the container once its output is read (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<bool>,
}

/// `container_run`'s result, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerRun {
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// With `wait`: the exit code (absent when killed at the time limit or not waited for).
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// With `wait`: killed at the time limit.
    #[serde(default)]
    pub timed_out: bool,
    /// With `wait`: the end of standard output (capped; secrets masked).
    #[serde(default)]
    pub stdout: String,
    /// With `wait`: the end of standard error (capped; secrets masked).
    #[serde(default)]
    pub stderr: String,
    /// Output was cut to the cap.
    #[serde(default)]
    pub truncated: bool,
    /// Wall time, milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
}

/// A health check: an argv run inside the container (never a shell string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// The probe, e.g. `["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"]`.
    pub argv: Vec<String>,
    /// Seconds between probes (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// Failed probes before the replica is unhealthy (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Seconds a replica may take to become healthy (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timeout_secs: Option<u64>,
}

/// A port an application publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// The port inside the container.
    pub container: u16,
    /// The host port (0 or absent: one the engine picks). Published on
    /// 127.0.0.1 unless the server allows other addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<u16>,
}

/// `app_deploy`'s arguments (the subset callers of the fleet use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppDeployArgs {
    /// Application name (`^[a-z0-9][a-z0-9-]{0,40}$`).
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// A ready image; or give `build`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Build the image first from a directory under the bind roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<AppBuild>,
    /// The command as argv; the image's default when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// Replicas (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Environment (values never echoed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Published ports (only the first replica publishes a fixed host port).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Limits per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Health check; without one a replica counts as healthy once running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
}

/// Where `app_deploy` builds an image from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppBuild {
    /// The build context: a directory under the bind roots.
    pub context: String,
    /// The Dockerfile, relative to the context (default `Dockerfile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
}

/// One replica as `app_deploy` and `app_status` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Replica {
    /// Container name.
    pub name: String,
    /// `running`, `exited`, `restarting`…
    pub state: String,
    /// `healthy`, `unhealthy`, `starting` or `none` (no health check).
    pub health: String,
    /// The last health probe's output, when there is one (capped).
    #[serde(default)]
    pub health_output: Option<String>,
    /// Published host addresses, `127.0.0.1:PORT`.
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// `app_deploy`'s and `app_status`'s result, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppState {
    /// Application name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// The revision now serving.
    pub revision: u64,
    /// Its image.
    pub image: String,
    /// `healthy` (every replica), `degraded`, `unhealthy`, `stopped`, or
    /// `rolled_back` (the new revision failed its health check and the
    /// previous one serves again).
    pub status: String,
    /// The replicas.
    pub replicas: Vec<Replica>,
    /// The network alias other containers reach it by.
    #[serde(default)]
    pub alias: Option<String>,
}
