//! `image_build`: build an image with the engine's (legacy) builder from a
//! context directory under the bind roots, tagged to match the image
//! allow-list and labelled as this server's; progress per `Step N/M`.

use std::collections::HashMap;

use mcp_core::prelude::*;

use crate::Engine;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The build context: a directory under the server's bind roots (relative to the first).
    pub context: String,
    /// The Dockerfile, relative to the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    /// The tag, e.g. `mcp-app/web:1`; must match the image allow-list.
    pub tag: String,
    /// Build arguments (`ARG`); secret-looking values are masked in the log.
    #[serde(default)]
    pub build_args: HashMap<String, String>,
    /// Do not use the build cache.
    #[serde(default)]
    pub no_cache: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Image id.
    pub id: String,
    /// Tag.
    pub tag: String,
    /// The end of the builder's output.
    pub log: String,
    /// The log was cut.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_build",
        "Build an image from a context directory under the server's bind roots (symlinks leaving the context refuse \
         the build) with the engine's builder; the tag must match the image allow-list. Reports progress per \
         Dockerfile step and returns the image id and the end of the build log.",
        Annotations::additive(false),
        run,
    )
    .title("Build an image")
    .timeout(std::time::Duration::from_secs(3600))
}

async fn run(e: Arc<Engine>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let b =
        crate::build::build(&e, &a.context, a.dockerfile.as_deref(), &a.tag, &a.build_args, a.no_cache, &ctx).await?;
    let text = format!("built {} ({})\n{}", b.tag, b.id, b.log);
    Ok(Out::new(Output { id: b.id, tag: b.tag, log: b.log, truncated: b.truncated }).text(text))
}
