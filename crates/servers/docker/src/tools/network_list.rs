//! `network_list`: the engine's networks (read-only).

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only networks this server created (default false).
    #[serde(default)]
    pub managed_only: bool,
}

/// A network.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Name.
    pub name: String,
    /// Id.
    pub id: String,
    /// Driver.
    pub driver: String,
    /// No outside access.
    pub internal: bool,
    /// Created by this server (containers may join it).
    pub managed: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Networks.
    pub networks: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new("network_list", "List networks and which ones this server created.", Annotations::read_only(), run)
        .title("List networks")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let list = e.docker.list_networks(None).await.map_err(api)?;
    let networks: Vec<Item> = list
        .into_iter()
        .map(|n| Item {
            managed: e.policy.owns(n.labels.as_ref()),
            name: n.name.unwrap_or_default(),
            id: n.id.unwrap_or_default(),
            driver: n.driver.unwrap_or_default(),
            internal: n.internal.unwrap_or(false),
        })
        .filter(|n| !a.managed_only || n.managed)
        .collect();
    let text = networks
        .iter()
        .map(|n| format!("{} {} {}", n.name, n.driver, if n.managed { "managed" } else { "" }))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { networks }).text(text))
}
