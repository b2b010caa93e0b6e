//! `list_roots`: the roots this server may touch and what it may do there.

use mcp_core::prelude::*;

use crate::Fs;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// The roots and the policy.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Canonical root paths; relative paths start at the first.
    pub roots: Vec<String>,
    /// Whether files can be created and changed.
    pub write_enabled: bool,
    /// Whether files can be deleted.
    pub delete_enabled: bool,
    /// Most bytes one read returns.
    pub max_read_bytes: usize,
    /// Largest file written or edited.
    pub max_file_bytes: usize,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "list_roots",
        "The directories this server may access (relative paths start at the first), and whether writing and \
         deleting are enabled.",
        Annotations::read_only(),
        run,
    )
    .title("List roots")
}

async fn run(fs: Arc<Fs>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    Ok(Out::new(Output {
        roots: fs.sandbox.roots().iter().map(|r| r.path.display().to_string()).collect(),
        write_enabled: fs.config.write,
        delete_enabled: fs.config.delete,
        max_read_bytes: fs.config.max_read_bytes,
        max_file_bytes: fs.config.max_file_bytes,
    }))
}
