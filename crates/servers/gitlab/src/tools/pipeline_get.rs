//! `pipeline_get`: one pipeline.

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::api::types::Pipeline;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The pipeline's id (not its per-project iid).
    pub pipeline_id: u64,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The pipeline.
    pub pipeline: Pipeline,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_get",
        "Get one pipeline: status, ref, commit, source, timings and its web page.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Get a pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.pipeline_id;
    let pipeline = g.api()?.get(&p.path(&format!("/pipelines/{id}")), &[], &format!("pipeline {id}")).await?;
    Ok(Out::new(Output { pipeline }))
}
