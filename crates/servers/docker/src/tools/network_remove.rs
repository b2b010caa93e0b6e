//! `network_remove`: remove a network this server created.

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::network_create::Output;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The network's name (full, or without the server's prefix).
    pub name: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "network_remove",
        "Remove a network this server created (it must have no containers attached).",
        Annotations::destructive(true),
        run,
    )
    .title("Remove a network")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut last = None;
    for cand in [a.name.clone(), e.policy.prefixed(&a.name)] {
        match e.docker.inspect_network(&cand, None).await {
            Ok(n) => {
                let name = n.name.clone().unwrap_or(cand.clone());
                e.policy.require_owned("network", &name, n.labels.as_ref())?;
                e.docker.remove_network(&name).await.map_err(api)?;
                return Ok(Out::new(Output { name }));
            }
            Err(err) => last = Some(api(err)),
        }
    }
    Err(last.unwrap_or_else(|| ToolError::not_found(a.name)))
}
