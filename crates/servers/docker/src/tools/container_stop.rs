//! `container_stop`: stop a container this server created (SIGTERM, then
//! SIGKILL after the grace period).

use bollard::query_parameters::StopContainerOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::ContainerState;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Container id or name.
    pub container: String,
    /// Seconds between SIGTERM and SIGKILL (default 10, at most 120).
    pub timeout_secs: Option<u32>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_stop",
        "Stop a running container this server created (SIGTERM, SIGKILL after timeout_secs).",
        Annotations::destructive(true),
        run,
    )
    .title("Stop a container")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<ContainerState>, ToolError> {
    let i = e.owned(&a.container).await?;
    let id = i.id.unwrap_or_default();
    let t = a.timeout_secs.unwrap_or(10).min(120) as i32;
    match e.docker.stop_container(&id, Some(StopContainerOptions { t: Some(t), signal: None })).await {
        Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => {}
        Err(err) => return Err(api(err)),
    }
    Ok(Out::new(super::state_of(&e, &id).await?))
}
