//! `image_history`: an image's layers and the instructions that made them (read-only).

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::image_inspect::Args;

/// A layer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Layer {
    /// Layer id (`<missing>` for intermediate ones).
    pub id: String,
    /// Created, RFC 3339.
    pub created: String,
    /// The instruction.
    pub created_by: String,
    /// Size, bytes.
    pub size: i64,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Newest first.
    pub layers: Vec<Layer>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_history",
        "An image's layers, newest first, with the instruction that made each.",
        Annotations::read_only(),
        run,
    )
    .title("Image history")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let h = e.docker.image_history(&a.image).await.map_err(api)?;
    let layers: Vec<Layer> = h
        .into_iter()
        .map(|l| Layer {
            id: l.id,
            created: mcp_core::clock::rfc3339_secs(l.created),
            created_by: l.created_by,
            size: l.size,
        })
        .collect();
    let text =
        layers.iter().map(|l| format!("{} {} {}", l.size, l.created, l.created_by)).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { layers }).text(text))
}
