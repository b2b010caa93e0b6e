//! `system_info`: the engine's version, configuration and disk use (read-only).

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

/// Disk use.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Disk {
    /// Images, bytes.
    pub images_bytes: i64,
    /// Images.
    pub images: usize,
    /// Containers' writable layers, bytes.
    pub containers_bytes: i64,
    /// Containers.
    pub containers: usize,
    /// Volumes, bytes (-1 when the engine did not measure).
    pub volumes_bytes: i64,
    /// Volumes.
    pub volumes: usize,
    /// Build cache, bytes (not measured on API 1.41: 0).
    pub build_cache_bytes: i64,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Engine version.
    pub version: String,
    /// API version in use.
    pub api_version: String,
    /// Operating system.
    pub os: String,
    /// Kernel.
    pub kernel: String,
    /// Storage driver.
    pub storage_driver: String,
    /// cgroup version.
    pub cgroup_version: String,
    /// CPUs.
    pub cpus: i64,
    /// Memory, bytes.
    pub memory_bytes: i64,
    /// Containers (running, stopped).
    pub containers: i64,
    /// Running containers.
    pub running: i64,
    /// Images.
    pub images: i64,
    /// Security options (`seccomp`, `apparmor`, `rootless`...).
    pub security_options: Vec<String>,
    /// Swarm state.
    pub swarm: String,
    /// Disk use.
    pub disk: Disk,
    /// The compose CLI this server uses (`v1`, `v2` or `none`).
    pub compose: String,
    /// The engine's warnings.
    pub warnings: Vec<String>,
}

/// Engine disk use. bollard's `/system/df` types follow API 1.52+, whose
/// shape differs from what a 1.41 engine answers, so the summary is made
/// from the image, container and volume lists instead (image sizes are
/// summed without deducting shared layers).
pub async fn disk(e: &Engine) -> Result<Disk, ToolError> {
    use bollard::query_parameters::{ListContainersOptions, ListImagesOptions, ListVolumesOptions};
    let images = e.docker.list_images(Some(ListImagesOptions::default())).await.map_err(api)?;
    let containers = e
        .docker
        .list_containers(Some(ListContainersOptions { all: true, size: true, ..Default::default() }))
        .await
        .map_err(api)?;
    let volumes = e.docker.list_volumes(None::<ListVolumesOptions>).await.map_err(api)?.volumes.unwrap_or_default();
    Ok(Disk {
        images_bytes: images.iter().map(|i| i.size.max(0)).sum(),
        images: images.len(),
        containers_bytes: containers.iter().map(|c| c.size_rw.unwrap_or(0).max(0)).sum(),
        containers: containers.len(),
        volumes_bytes: -1,
        volumes: volumes.len(),
        build_cache_bytes: 0,
    })
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "system_info",
        "The Docker Engine's version, API version, OS, kernel, storage driver, resources, container and image counts, \
         security options and a disk-use summary.",
        Annotations::read_only(),
        run,
    )
    .title("Engine information")
}

async fn run(e: Arc<Engine>, _a: super::system_health::Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let info = e.docker.info().await.map_err(api)?;
    let version = e.docker.version().await.map_err(api)?;
    let o = Output {
        version: version.version.unwrap_or_default(),
        api_version: e.docker.client_version().to_string(),
        os: info.operating_system.unwrap_or_default(),
        kernel: info.kernel_version.unwrap_or_default(),
        storage_driver: info.driver.unwrap_or_default(),
        cgroup_version: info.cgroup_version.map(|c| c.to_string()).unwrap_or_default(),
        cpus: info.ncpu.unwrap_or(0),
        memory_bytes: info.mem_total.unwrap_or(0),
        containers: info.containers.unwrap_or(0),
        running: info.containers_running.unwrap_or(0),
        images: info.images.unwrap_or(0),
        security_options: info.security_options.unwrap_or_default(),
        swarm: info.swarm.and_then(|s| s.local_node_state).map(|s| s.to_string()).unwrap_or_default(),
        disk: disk(&e).await?,
        compose: e.compose.as_ref().map(|c| c.version.to_owned()).unwrap_or_else(|| "none".into()),
        warnings: info.warnings.unwrap_or_default(),
    };
    let text = format!(
        "Docker {} (API {}), {} {}, {} CPUs, {} containers ({} running), {} images",
        o.version, o.api_version, o.os, o.storage_driver, o.cpus, o.containers, o.running, o.images
    );
    Ok(Out::new(o).text(text))
}
