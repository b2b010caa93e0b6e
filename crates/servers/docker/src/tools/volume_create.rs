//! `volume_create`: a labelled named volume, named `<instance>-<name>`.

use bollard::models::VolumeCreateRequest;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::network_create::Output;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Name (`[a-z0-9_-]`); the server's prefix `<instance>-` is added.
    pub name: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "volume_create",
        "Create a named volume (local driver, labelled as this server's) that container_run can mount.",
        Annotations::additive(true),
        run,
    )
    .title("Create a volume")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    super::network_create::check_name(&a.name)?;
    let name = e.policy.prefixed(&a.name);
    if let Ok(v) = e.docker.inspect_volume(&name).await {
        e.policy.require_owned("volume", &name, Some(&v.labels))?;
        return Ok(Out::new(Output { name }));
    }
    let req = VolumeCreateRequest {
        name: Some(name.clone()),
        driver: Some("local".into()),
        labels: Some(e.policy.labels()),
        ..Default::default()
    };
    let v = e.docker.create_volume(req).await.map_err(api)?;
    Ok(Out::new(Output { name: v.name }))
}
