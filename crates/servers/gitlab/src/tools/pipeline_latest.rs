//! `pipeline_latest`: the newest pipeline of a branch.

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::api::types::Pipeline;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The branch (default: the project's default branch).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The newest pipeline of the branch.
    pub pipeline: Pipeline,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_latest",
        "Get the newest pipeline of a branch (default: the project's default branch).",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Latest pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let q: Vec<(&str, String)> = a.git_ref.map(|r| vec![("ref", r)]).unwrap_or_default();
    let pipeline = g.api()?.get(&p.path("/pipelines/latest"), &q, "a latest pipeline for that ref").await?;
    Ok(Out::new(Output { pipeline }))
}
