//! `mcp-server-docker`: a Docker Engine under a policy fixed at start-up.
//! Containers, images, networks, volumes and events through the Engine API
//! (bollard, version negotiated, nothing newer than API 1.41 relied on);
//! compose projects through the compose CLI; applications as health-gated
//! replicas with rolling updates and rollback (`apps`); audits and health.
//!
//! Every object the server creates carries `io.mcp-fleet.managed-by=<instance>`
//! and every mutating tool refuses objects without it; listing and reading
//! see everything. Every container is described to the engine by
//! `policy::Policy::create_body` and nowhere else.

pub mod apps;
pub mod build;
pub mod compose;
pub mod config;
pub mod engine;
pub mod policy;
pub mod tools;

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;
pub use engine::Engine;

/// The program name.
pub const NAME: &str = "mcp-server-docker";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Connect to the engine (negotiating the API version) and build the server.
pub async fn server(mut config: Config) -> Result<Server, StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::config(format!("{}: {e}", config::DOCKER_DATA_DIR)))?;
    let docker = match &config.host {
        Some(h) => Docker::connect_with_host(h),
        None => Docker::connect_with_local_defaults(),
    }
    .map_err(|e| StartError::config(format!("{}: {e}", config::DOCKER_HOST)))?
    // Builds and waits run longer than bollard's default two minutes; the
    // tools bound them with their own limits.
    .with_timeout(Duration::from_secs(3600));
    // Negotiation needs the engine; a server started before the engine
    // answers keeps the default and says so in /ready.
    let docker = match docker.clone().negotiate_version().await {
        Ok(d) => d,
        Err(e) => {
            mcp_core::tracing::warn!(error = %e, "Docker API version negotiation failed; the engine is not reachable yet");
            docker
        }
    };
    resolve_auto_roots(&docker, &mut config).await?;
    let policy = policy::Policy::new(&config).map_err(StartError::config)?;
    let compose = compose::ComposeCli::detect(&config.compose);
    let hadolint = match config.hadolint.as_str() {
        "none" => None,
        "auto" => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("hadolint")).find(|p| p.is_file()))
            .unwrap_or(None),
        path => Some(std::path::PathBuf::from(path)),
    };
    mcp_core::tracing::info!(
        instance = %config.instance,
        compose = compose.as_ref().map(|c| c.version).unwrap_or("none"),
        "docker server ready"
    );
    let state = Engine {
        docker,
        policy,
        config,
        compose,
        hadolint,
        apps: tokio::sync::Mutex::new(()),
        networks: tokio::sync::Mutex::new(()),
    };
    let b = Server::builder(NAME, VERSION, Arc::new(state)).instructions(
        "Run and manage containers, images, networks, volumes, compose projects and applications on a Docker \
         Engine under a fixed policy (allow-listed images, non-root, no privileges, binds only under the configured \
         roots). container_run with wait runs a command to completion; app_deploy deploys replicas behind a health \
         check with rolling updates and automatic rollback; security_audit and system_health report risks and \
         health. Mutating tools only touch objects this server created.",
    );
    let b = b.ready_check("engine", |s: Arc<Engine>| async move {
        s.docker.ping().await.map(|_| format!("API {}", s.docker.client_version())).map_err(|e| e.to_string())
    });
    Ok(b.tool(tools::app_deploy::tool())
        .tool(tools::app_list::tool())
        .tool(tools::app_logs::tool())
        .tool(tools::app_remove::tool())
        .tool(tools::app_restart::tool())
        .tool(tools::app_rollback::tool())
        .tool(tools::app_scale::tool())
        .tool(tools::app_status::tool())
        .tool(tools::compose_down::tool())
        .tool(tools::compose_logs::tool())
        .tool(tools::compose_ps::tool())
        .tool(tools::compose_up::tool())
        .tool(tools::compose_validate::tool())
        .tool(tools::container_exec::tool())
        .tool(tools::container_inspect::tool())
        .tool(tools::container_list::tool())
        .tool(tools::container_logs::tool())
        .tool(tools::container_remove::tool())
        .tool(tools::container_restart::tool())
        .tool(tools::container_run::tool())
        .tool(tools::container_start::tool())
        .tool(tools::container_stats::tool())
        .tool(tools::container_stop::tool())
        .tool(tools::container_top::tool())
        .tool(tools::events::tool())
        .tool(tools::image_build::tool())
        .tool(tools::image_history::tool())
        .tool(tools::image_inspect::tool())
        .tool(tools::image_list::tool())
        .tool(tools::image_remove::tool())
        .tool(tools::image_tag::tool())
        .tool(tools::network_create::tool())
        .tool(tools::network_list::tool())
        .tool(tools::network_remove::tool())
        .tool(tools::security_audit::tool())
        .tool(tools::system_health::tool())
        .tool(tools::system_info::tool())
        .tool(tools::volume_create::tool())
        .tool(tools::volume_list::tool())
        .tool(tools::volume_remove::tool())
        .build())
}

/// `PATH=auto` bind roots: the server runs in a container (compose), so the
/// engine knows the root by its source on the host; inspect our own
/// container (the hostname is its id) and take the mount at `PATH`.
async fn resolve_auto_roots(docker: &Docker, config: &mut Config) -> Result<(), StartError> {
    if !config.bind_roots.iter().any(|b| b.host.as_os_str() == config::AUTO) {
        return Ok(());
    }
    let fail = |why: String| {
        StartError::config(format!(
            "{}: a root is PATH=auto but {why}; give the host path (PATH=HOSTPATH) instead",
            config::DOCKER_BIND_ROOTS
        ))
    };
    let me = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    if me.is_empty() {
        return Err(fail("this host has no name to find its container by".into()));
    }
    let inspected = docker
        .inspect_container(&me, None::<bollard::query_parameters::InspectContainerOptions>)
        .await
        .map_err(|e| fail(format!("this server's container ({me}) could not be inspected: {e}")))?;
    let mounts = inspected.mounts.unwrap_or_default();
    for b in config.bind_roots.iter_mut().filter(|b| b.host.as_os_str() == config::AUTO) {
        let found = mounts
            .iter()
            .find(|m| m.destination.as_deref().map(std::path::Path::new) == Some(b.path.as_path()))
            .and_then(|m| m.source.clone());
        match found {
            Some(src) => {
                mcp_core::tracing::info!(root = %b.path.display(), host = %src, "bind root found on the host");
                b.host = std::path::PathBuf::from(src);
            }
            None => return Err(fail(format!("no mount of this container is at {}", b.path.display()))),
        }
    }
    Ok(())
}

/// The program, for `main` (the fleet's one entry-point shape).
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
