//! The state every tool shares — the engine client, the policy, the
//! configuration — and the helpers around the Engine API: error kinds,
//! ownership checks, the server's networks, output collection with caps and
//! masking.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{
    ContainerInspectResponse, ContainerSummary, EndpointSettings, NetworkConnectRequest, NetworkCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, ListNetworksOptions,
    RemoveContainerOptions, StartContainerOptions,
};
use futures::{Stream, StreamExt};
use mcp_core::ToolError;

use crate::compose::ComposeCli;
use crate::config::Config;
use crate::policy::{MANAGED_BY, Masker, Policy, Spec};

/// The shared state.
pub struct Engine {
    /// The Engine API client (version negotiated at start).
    pub docker: Docker,
    /// The start-up policy.
    pub policy: Policy,
    /// The settings.
    pub config: Config,
    /// The compose CLI found at start, if any.
    pub compose: Option<ComposeCli>,
    /// hadolint, if found.
    pub hadolint: Option<std::path::PathBuf>,
    /// Serialises changes to one app at a time (deploy, scale, rollback...).
    pub apps: tokio::sync::Mutex<()>,
    /// Serialises network creation: the engine accepts two networks of one
    /// name, so two first uses at once would make a name that is ambiguous
    /// ever after (seen: parallel `container_run`s on a fresh engine).
    pub networks: tokio::sync::Mutex<()>,
}

/// An Engine API error as a tool error of the right kind.
pub fn api(e: bollard::errors::Error) -> ToolError {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError { status_code, message } => match status_code {
            404 => ToolError::not_found(message),
            409 => ToolError::conflict(message),
            400 => ToolError::invalid(message),
            403 => ToolError::denied(format!("engine: {message}")),
            304 => ToolError::conflict(format!("already in that state: {message}")),
            _ => ToolError::failed(format!("engine answered {status_code}: {message}")),
        },
        E::RequestTimeoutError => ToolError::timeout("the Docker Engine did not answer in time"),
        E::HyperResponseError { .. } | E::HyperLegacyError { .. } | E::IOError { .. } | E::SocketNotFoundError(_) => {
            ToolError::unavailable(format!("the Docker Engine is not reachable: {e}"))
        }
        other => ToolError::failed(format!("Docker Engine: {other}")),
    }
}

/// A container's name without the leading `/`.
pub fn name_of(i: &ContainerInspectResponse) -> String {
    i.name.as_deref().unwrap_or("").trim_start_matches('/').to_owned()
}

/// A listed container's first name without `/`.
pub fn summary_name(c: &ContainerSummary) -> String {
    c.names.as_ref().and_then(|n| n.first()).map(|n| n.trim_start_matches('/').to_owned()).unwrap_or_default()
}

/// A label filter for list calls.
pub fn label_filter(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), pairs.iter().map(|(k, v)| format!("{k}={v}")).collect())])
}

/// Cut `text` to its last `cap` bytes at a character boundary.
pub fn tail(text: &str, cap: usize) -> (String, bool) {
    if text.len() <= cap {
        return (text.to_owned(), false);
    }
    let mut start = text.len() - cap;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (text[start..].to_owned(), true)
}

/// Output collected from a log or exec stream.
#[derive(Debug, Default)]
pub struct Collected {
    /// Standard output (or the TTY).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Cut to the cap.
    pub truncated: bool,
    /// The deadline passed before the stream ended.
    pub timed_out: bool,
}

/// Read a log/exec stream until it ends or `limit` passes, keeping the last
/// `cap` bytes of each stream, masked.
pub async fn collect<S>(stream: S, cap: usize, limit: Duration, masker: &Masker) -> Result<Collected, ToolError>
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>>,
{
    let mut out: Vec<u8> = Vec::new();
    let mut err: Vec<u8> = Vec::new();
    let mut cut = false;
    let keep = |buf: &mut Vec<u8>, cut: &mut bool| {
        // Keep at most twice the cap while reading; secrets straddling the
        // cut are masked before the final cut below.
        if buf.len() > cap * 2 + 4096 {
            let drop = buf.len() - (cap + 4096);
            buf.drain(..drop);
            *cut = true;
        }
    };
    let read = async {
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            match item.map_err(api)? {
                LogOutput::StdErr { message } => {
                    err.extend_from_slice(&message);
                    keep(&mut err, &mut cut);
                }
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    out.extend_from_slice(&message);
                    keep(&mut out, &mut cut);
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        Ok::<(), ToolError>(())
    };
    let timed_out = match tokio::time::timeout(limit, read).await {
        Ok(r) => {
            r?;
            false
        }
        Err(_) => true,
    };
    let (stdout, t1) = tail(&masker.mask(&String::from_utf8_lossy(&out)), cap);
    let (stderr, t2) = tail(&masker.mask(&String::from_utf8_lossy(&err)), cap);
    Ok(Collected { stdout, stderr, truncated: cut || t1 || t2, timed_out })
}

impl Engine {
    /// Inspect any container (read-only tools).
    pub async fn inspect(&self, id: &str) -> Result<ContainerInspectResponse, ToolError> {
        if id.trim().is_empty() {
            return Err(ToolError::invalid("name a container (id or name)"));
        }
        self.docker.inspect_container(id, None::<InspectContainerOptions>).await.map_err(api)
    }

    /// Inspect a container this instance made; refuse any other.
    pub async fn owned(&self, id: &str) -> Result<ContainerInspectResponse, ToolError> {
        let i = self.inspect(id).await?;
        let labels = i.config.as_ref().and_then(|c| c.labels.as_ref());
        self.policy.require_owned("container", id, labels)?;
        Ok(i)
    }

    /// The masker of a container: the values of its secret-looking variables.
    pub fn masker(i: &ContainerInspectResponse) -> Masker {
        Masker::from_env_lines(i.config.as_ref().and_then(|c| c.env.as_deref()).unwrap_or(&[]))
    }

    /// Containers, optionally only this instance's, optionally filtered by more labels.
    pub async fn containers(&self, owned: bool, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>, ToolError> {
        let mut pairs: Vec<(&str, &str)> = labels.to_vec();
        if owned {
            pairs.push((MANAGED_BY, &self.policy.instance));
        }
        let opts = ListContainersOptions {
            all: true,
            filters: (!pairs.is_empty()).then(|| label_filter(&pairs)),
            ..Default::default()
        };
        self.docker.list_containers(Some(opts)).await.map_err(api)
    }

    /// The server's own bridge network (`<instance>-default`), made on first use.
    pub async fn default_network(&self) -> Result<String, ToolError> {
        let name = self.policy.prefixed("default");
        self.ensure_network(&name, false).await?;
        Ok(name)
    }

    /// Make a labelled network unless it exists; refuse an existing one that is not ours.
    pub async fn ensure_network(&self, name: &str, internal: bool) -> Result<(), ToolError> {
        let _one = self.networks.lock().await;
        match self.docker.inspect_network(name, None).await {
            Ok(n) => self.policy.require_owned("network", name, n.labels.as_ref()),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                let req = NetworkCreateRequest {
                    name: name.to_owned(),
                    driver: Some("bridge".to_owned()),
                    internal: Some(internal),
                    labels: Some(self.policy.labels()),
                    ..Default::default()
                };
                match self.docker.create_network(req).await {
                    Ok(_) => Ok(()),
                    // Created concurrently by another call.
                    Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(()),
                    Err(e) => Err(api(e)),
                }
            }
            Err(e) => Err(api(e)),
        }
    }

    /// The network a container joins for a caller's `network` argument:
    /// `none` (default), `bridge` (the server's own), or a network this
    /// server created (by full or unprefixed name).
    pub async fn network(&self, requested: Option<&str>) -> Result<String, ToolError> {
        let n = requested.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("none");
        match n {
            "none" => Ok("none".into()),
            "bridge" => self.default_network().await,
            other => {
                self.policy.network_name(other)?;
                for cand in [other.to_owned(), self.policy.prefixed(other)] {
                    let filters = HashMap::from([("name".to_owned(), vec![cand.clone()])]);
                    let found = self
                        .docker
                        .list_networks(Some(ListNetworksOptions { filters: Some(filters) }))
                        .await
                        .map_err(api)?;
                    if let Some(net) = found.into_iter().find(|x| x.name.as_deref() == Some(cand.as_str())) {
                        self.policy.require_owned("network", &cand, net.labels.as_ref()).map_err(|_| {
                            crate::policy::deny(
                                "network",
                                format!("network {cand} was not created by this server (label {MANAGED_BY})"),
                            )
                        })?;
                        return Ok(cand);
                    }
                }
                Err(ToolError::not_found(format!(
                    "no network {other} made by this server; create it with network_create"
                )))
            }
        }
    }

    /// Create (and optionally start) a container from a checked spec; the id.
    pub async fn create(&self, name: &str, spec: &Spec, start: bool) -> Result<String, ToolError> {
        let body = self.policy.create_body(spec)?;
        let r = self
            .docker
            .create_container(Some(CreateContainerOptions { name: Some(name.to_owned()), ..Default::default() }), body)
            .await
            .map_err(api)?;
        if start && let Err(e) = self.docker.start_container(&r.id, None::<StartContainerOptions>).await {
            let _ = self.remove_force(&r.id).await;
            return Err(api(e));
        }
        Ok(r.id)
    }

    /// Put container `id` on the apps network (`DOCKER_APPS_NETWORK`) under
    /// `alias`, making the network (labelled) when it is missing; an existing
    /// one must be this server's. Nothing without the setting.
    pub async fn join_apps_network(&self, id: &str, alias: &str) -> Result<(), ToolError> {
        let Some(net) = self.config.apps_network.as_deref() else { return Ok(()) };
        self.ensure_network(net, false).await?;
        let req = NetworkConnectRequest {
            container: id.to_owned(),
            endpoint_config: Some(EndpointSettings { aliases: Some(vec![alias.to_owned()]), ..Default::default() }),
        };
        self.docker.connect_network(net, req).await.map_err(api)
    }

    /// Remove a container with force (kill first), volumes of its own too.
    pub async fn remove_force(&self, id: &str) -> Result<(), ToolError> {
        self.docker
            .remove_container(id, Some(RemoveContainerOptions { force: true, v: true, ..Default::default() }))
            .await
            .map_err(api)
    }

    /// A time limit within the configured maximum.
    pub fn time_limit(&self, secs: Option<u64>) -> Duration {
        secs.map(Duration::from_secs)
            .unwrap_or(self.config.timeout)
            .min(self.config.max_timeout)
            .max(Duration::from_secs(1))
    }
}
