//! `volume_list`: the engine's named volumes (read-only).

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

pub use super::network_list::Args;

/// A volume.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Name.
    pub name: String,
    /// Driver.
    pub driver: String,
    /// Created by this server.
    pub managed: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Volumes.
    pub volumes: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new("volume_list", "List named volumes and which ones this server created.", Annotations::read_only(), run)
        .title("List volumes")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let r = e.docker.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>).await.map_err(api)?;
    let volumes: Vec<Item> = r
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| Item { managed: e.policy.owns(Some(&v.labels)), name: v.name, driver: v.driver })
        .filter(|v| !a.managed_only || v.managed)
        .collect();
    let text = volumes
        .iter()
        .map(|v| format!("{} {}", v.name, if v.managed { "managed" } else { "" }))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { volumes }).text(text))
}
