//! `container_start`: start a stopped container this server created.

use bollard::query_parameters::StartContainerOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::{ContainerArg, ContainerState};

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new("container_start", "Start a stopped container this server created.", Annotations::additive(true), run)
        .title("Start a container")
}

async fn run(e: Arc<Engine>, a: ContainerArg, _ctx: Ctx) -> Result<Out<ContainerState>, ToolError> {
    let i = e.owned(&a.container).await?;
    let id = i.id.unwrap_or_default();
    match e.docker.start_container(&id, None::<StartContainerOptions>).await {
        Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => {}
        Err(err) => return Err(api(err)),
    }
    Ok(Out::new(super::state_of(&e, &id).await?))
}
