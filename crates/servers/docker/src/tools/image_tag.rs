//! `image_tag`: give an image this server built another allow-listed name.

use bollard::query_parameters::TagImageOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The image (reference or id) this server built.
    pub source: String,
    /// The new reference `repo:tag`; must match the image allow-list.
    pub target: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The image id.
    pub id: String,
    /// The new reference.
    pub tag: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_tag",
        "Tag an image this server built with another name matching the image allow-list.",
        Annotations::additive(true),
        run,
    )
    .title("Tag an image")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let i = e.docker.inspect_image(&a.source).await.map_err(api)?;
    e.policy.require_owned("image", &a.source, i.config.as_ref().and_then(|c| c.labels.as_ref()))?;
    e.policy.image(&a.target)?;
    let (repo, tag) = match a.target.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_owned(), t.to_owned()),
        _ => (a.target.clone(), "latest".to_owned()),
    };
    let id = i.id.unwrap_or_default();
    e.docker
        .tag_image(&id, Some(TagImageOptions { repo: Some(repo.clone()), tag: Some(tag.clone()) }))
        .await
        .map_err(api)?;
    Ok(Out::new(Output { id, tag: format!("{repo}:{tag}") }))
}
