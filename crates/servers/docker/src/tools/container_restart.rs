//! `container_restart`: restart a container this server created.

use bollard::query_parameters::RestartContainerOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::ContainerState;
use super::container_stop::Args;

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_restart",
        "Restart a container this server created (stop with timeout_secs grace, then start).",
        Annotations::destructive(true),
        run,
    )
    .title("Restart a container")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<ContainerState>, ToolError> {
    let i = e.owned(&a.container).await?;
    let id = i.id.unwrap_or_default();
    let t = a.timeout_secs.unwrap_or(10).min(120) as i32;
    e.docker.restart_container(&id, Some(RestartContainerOptions { t: Some(t), signal: None })).await.map_err(api)?;
    Ok(Out::new(super::state_of(&e, &id).await?))
}
