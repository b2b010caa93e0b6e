//! `container_run`: create and start a container under the policy; with
//! `wait`, wait for it to exit (killed and removed at the time limit) and
//! answer with its exit code and the end of its output, secrets masked. The
//! arguments are a superset of `mcp_types::docker::ContainerRunArgs` and the
//! result is `mcp_types::docker::ContainerRun`.

use std::collections::BTreeMap;
use std::time::Instant;

use bollard::query_parameters::{KillContainerOptions, LogsOptions, WaitContainerOptions};
use futures::StreamExt;
use mcp_core::prelude::*;
use mcp_types::docker::{ContainerRun, Limits, Mount, Port};

use crate::Engine;
use crate::engine::{api, collect};
use crate::policy::{Masker, Spec, VolumeMount};

/// A named volume (made by this server) mounted into the container.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeArg {
    /// The volume's name (as volume_create returned it, or without the server's prefix).
    pub name: String,
    /// Absolute path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// Arguments (`ContainerRunArgs` plus `volumes`, `ports`, `publish_address`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Image reference; must match the server's image allow-list (DOCKER_IMAGES).
    pub image: String,
    /// The command as argv (never a shell string); the image's default when absent.
    #[serde(default)]
    pub argv: Vec<String>,
    /// Container name (the server's prefix `<instance>-` is added); generated when absent.
    pub name: Option<String>,
    /// Environment. Values are never echoed back in results or logs (secret-looking ones are masked in output).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory inside the container.
    pub workdir: Option<String>,
    /// Numeric `uid:gid` to run as; the server's default user when absent, root only when the server allows it.
    pub user: Option<String>,
    /// Bind mounts of directories under the server's bind roots (read-only unless `writable` and allowed).
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// Named volumes made by this server.
    #[serde(default)]
    pub volumes: Vec<VolumeArg>,
    /// `none` (default: no network), `bridge` (the server's own network), or a network this server created.
    pub network: Option<String>,
    /// Limits (capped by the server's maxima).
    pub limits: Option<Limits>,
    /// Ports to publish (on 127.0.0.1 unless the server allows another `publish_address`).
    #[serde(default)]
    pub ports: Vec<Port>,
    /// Host address to publish on; must be one the server allows (DOCKER_PUBLISH_ADDRS).
    pub publish_address: Option<String>,
    /// Wait for the container to exit and answer with its exit code and output.
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: seconds before the container is killed (default: the server's, DOCKER_TIMEOUT_SECS).
    pub timeout_secs: Option<u64>,
    /// With `wait`: remove the container once its output is read (default true).
    pub remove: Option<bool>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_run",
        "Run a container from an allow-listed image under the server's policy (non-root, no capabilities, \
         read-only root with a tmpfs /tmp, limits, no network unless asked). With wait: true, wait for it to exit \
         and return the exit code and the end of stdout/stderr (secrets masked); it is killed at timeout_secs and \
         removed afterwards unless remove: false. Without wait, it keeps running: read it with container_logs.",
        Annotations::additive(false),
        run,
    )
    .title("Run a container")
    .timeout(std::time::Duration::from_secs(3700))
}

fn random_suffix() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}", (n as u64) ^ u64::from(std::process::id()).rotate_left(32))
}

async fn run(e: Arc<Engine>, a: Args, ctx: Ctx) -> Result<Out<ContainerRun>, ToolError> {
    let name = match &a.name {
        Some(n) => {
            let ok =
                !n.is_empty() && n.len() <= 60 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !ok {
                return Err(ToolError::invalid(format!("name {n:?}: use [A-Za-z0-9_.-]{{1,60}}")));
            }
            e.policy.prefixed(n)
        }
        None => e.policy.prefixed(&format!("run-{}", random_suffix())),
    };
    let mut binds = Vec::new();
    for m in &a.mounts {
        binds.push(e.policy.bind(&m.source, &m.target, m.writable)?);
    }
    let mut volumes = Vec::new();
    for v in &a.volumes {
        let full = e.policy.prefixed(&v.name);
        let vol = e.docker.inspect_volume(&full).await.map_err(crate::engine::api)?;
        e.policy.require_owned("volume", &full, Some(&vol.labels))?;
        volumes.push(VolumeMount { name: full, target: v.target.clone(), read_only: v.read_only });
    }
    let network = e.network(a.network.as_deref()).await?;
    let spec = Spec {
        image: a.image.clone(),
        argv: a.argv.clone(),
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        binds,
        volumes,
        network,
        limits: a.limits.clone(),
        ports: a.ports.clone(),
        publish_address: a.publish_address.clone(),
        ..Default::default()
    };
    let masker = Masker::from_env(a.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let started = Instant::now();
    let id = e.create(&name, &spec, true).await?;
    mcp_core::tracing::info!(container = %name, image = %a.image, "container started");
    if !a.wait {
        return Ok(Out::new(ContainerRun {
            id,
            name: name.clone(),
            exit_code: None,
            timed_out: false,
            stdout: String::new(),
            stderr: String::new(),
            truncated: false,
            duration_ms: started.elapsed().as_millis() as u64,
        })
        .text(format!("{name} started")));
    }
    let limit = e.time_limit(a.timeout_secs).min(ctx.remaining().saturating_sub(std::time::Duration::from_secs(5)));
    let waited = tokio::time::timeout(limit, async {
        let mut s = e.docker.wait_container(&id, None::<WaitContainerOptions>);
        match s.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(err)) => Err(api(err)),
            None => Err(ToolError::failed("the engine ended the wait without an exit code")),
        }
    })
    .await;
    let (exit_code, timed_out) = match waited {
        Ok(r) => (Some(r?), false),
        Err(_) => {
            let _ = e.docker.kill_container(&id, None::<KillContainerOptions>).await;
            (None, true)
        }
    };
    let logs =
        e.docker.logs(&id, Some(LogsOptions { stdout: true, stderr: true, tail: "all".into(), ..Default::default() }));
    let out = collect(logs, e.config.max_output, std::time::Duration::from_secs(30), &masker).await?;
    if a.remove.unwrap_or(true) || timed_out {
        let _ = e.remove_force(&id).await;
    }
    let r = ContainerRun {
        id,
        name: name.clone(),
        exit_code,
        timed_out,
        stdout: out.stdout,
        stderr: out.stderr,
        truncated: out.truncated,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let text = match (timed_out, exit_code) {
        (true, _) => format!("{name} killed after {}s\n{}", limit.as_secs(), r.stdout),
        (false, Some(c)) => format!("{name} exited with {c}\n{}{}", r.stdout, r.stderr),
        _ => name,
    };
    Ok(Out::new(r).text(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_arguments_are_accepted() {
        let c = mcp_types::docker::ContainerRunArgs {
            image: "mcp-fleet-test/busybox:1".into(),
            argv: vec!["true".into()],
            wait: true,
            timeout_secs: Some(5),
            mounts: vec![Mount { source: "a".into(), target: "/a".into(), writable: false }],
            limits: Some(Limits { memory_bytes: Some(1 << 20), cpus: Some(0.5), pids: Some(10) }),
            ..Default::default()
        };
        let a: Args = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(a.argv, ["true"]);
        assert!(a.wait);
    }
}
