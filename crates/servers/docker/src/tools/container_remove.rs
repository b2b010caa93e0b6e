//! `container_remove`: remove a container this server created (with its
//! anonymous volumes); requires `confirm: true`.

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::name_of;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Container id or name.
    pub container: String,
    /// Must be true: removal cannot be undone.
    #[serde(default)]
    pub confirm: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The removed container's name.
    pub removed: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_remove",
        "Remove a container this server created, running or not, with its anonymous volumes. Needs confirm: true.",
        Annotations::destructive(true),
        run,
    )
    .title("Remove a container")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let i = e.owned(&a.container).await?;
    super::confirm(a.confirm, "container_remove")?;
    e.remove_force(i.id.as_deref().unwrap_or_default()).await?;
    Ok(Out::new(Output { removed: name_of(&i) }))
}
