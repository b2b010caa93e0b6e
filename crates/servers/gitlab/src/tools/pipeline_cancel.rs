//! `pipeline_cancel`: cancel a pipeline's unfinished jobs (modify mode only).

use mcp_core::prelude::*;
use reqwest::Method;

use crate::Gitlab;
use crate::api::types::Pipeline;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The pipeline's id.
    pub pipeline_id: u64,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The pipeline as GitLab reports it afterwards.
    pub pipeline: Pipeline,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_cancel",
        "Cancel every job of a pipeline that has not finished.",
        Annotations::destructive(true).open_world(),
        run,
    )
    .title("Cancel a pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.pipeline_id;
    let pipeline = g
        .api()?
        .call(Method::POST, &p.path(&format!("/pipelines/{id}/cancel")), None, &format!("pipeline {id}"))
        .await?;
    Ok(Out::new(Output { pipeline }))
}
