//! `image_remove`: remove an image (or one of its tags) this server built;
//! requires `confirm: true`.

use bollard::query_parameters::RemoveImageOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Image reference (removes that tag) or id.
    pub image: String,
    /// Remove even when other tags or stopped containers use it.
    #[serde(default)]
    pub force: bool,
    /// Must be true.
    #[serde(default)]
    pub confirm: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Tags removed.
    pub untagged: Vec<String>,
    /// Layers deleted.
    pub deleted: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_remove",
        "Remove an image this server built (a reference removes that tag; the image goes with its last tag). Needs \
         confirm: true.",
        Annotations::destructive(true),
        run,
    )
    .title("Remove an image")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let i = e.docker.inspect_image(&a.image).await.map_err(api)?;
    e.policy.require_owned("image", &a.image, i.config.as_ref().and_then(|c| c.labels.as_ref()))?;
    super::confirm(a.confirm, "image_remove")?;
    let r = e
        .docker
        .remove_image(&a.image, Some(RemoveImageOptions { force: a.force, ..Default::default() }), None)
        .await
        .map_err(api)?;
    Ok(Out::new(Output {
        untagged: r.iter().filter_map(|x| x.untagged.clone()).collect(),
        deleted: r.iter().filter_map(|x| x.deleted.clone()).collect(),
    }))
}
