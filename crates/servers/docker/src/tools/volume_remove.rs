//! `volume_remove`: remove a named volume this server created and the data
//! in it; requires `confirm: true`.

use bollard::query_parameters::RemoveVolumeOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::network_create::Output;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The volume's name (full, or without the server's prefix).
    pub name: String,
    /// Must be true: the data is lost.
    #[serde(default)]
    pub confirm: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "volume_remove",
        "Remove a named volume this server created, with its data (not while a container uses it). Needs confirm: true.",
        Annotations::destructive(true),
        run,
    )
    .title("Remove a volume")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let name = e.policy.prefixed(&a.name);
    let (name, v) = match e.docker.inspect_volume(&a.name).await {
        Ok(v) => (a.name.clone(), v),
        Err(_) => (name.clone(), e.docker.inspect_volume(&name).await.map_err(api)?),
    };
    e.policy.require_owned("volume", &name, Some(&v.labels))?;
    super::confirm(a.confirm, "volume_remove")?;
    e.docker.remove_volume(&name, None::<RemoveVolumeOptions>).await.map_err(api)?;
    Ok(Out::new(Output { name }))
}
