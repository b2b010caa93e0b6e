//! `image_list`: the engine's images (read-only).

use bollard::query_parameters::ListImagesOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::{api, label_filter};
use crate::policy::MANAGED_BY;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only images this server built (default false).
    #[serde(default)]
    pub managed_only: bool,
}

/// An image.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Id.
    pub id: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Size, bytes.
    pub size: i64,
    /// Created, RFC 3339.
    pub created: String,
    /// Built by this server.
    pub managed: bool,
    /// Runnable here (a tag matches the image allow-list).
    pub allowed: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Images.
    pub images: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_list",
        "List images with tags, sizes, whether this server built them and whether the image allow-list lets them run.",
        Annotations::read_only(),
        run,
    )
    .title("List images")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let filters = a.managed_only.then(|| label_filter(&[(MANAGED_BY, &e.policy.instance)]));
    let list = e.docker.list_images(Some(ListImagesOptions { filters, ..Default::default() })).await.map_err(api)?;
    let images: Vec<Item> = list
        .into_iter()
        .map(|i| Item {
            allowed: i.repo_tags.iter().any(|t| e.policy.image(t).is_ok()),
            managed: e.policy.owns(Some(&i.labels)),
            id: i.id,
            tags: i.repo_tags,
            size: i.size,
            created: mcp_core::clock::rfc3339_secs(i.created),
        })
        .collect();
    let text =
        images.iter().map(|i| format!("{} {} {}", &i.id, i.tags.join(","), i.size)).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { images }).text(text))
}
