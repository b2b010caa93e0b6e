//! `pipeline_retry`: retry a pipeline's failed and canceled jobs (modify mode only).

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
        "pipeline_retry",
        "Retry the failed and canceled jobs of a pipeline (GitLab creates new jobs for them).",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Retry a pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.pipeline_id;
    let pipeline = g
        .api()?
        .call(Method::POST, &p.path(&format!("/pipelines/{id}/retry")), None, &format!("pipeline {id}"))
        .await?;
    Ok(Out::new(Output { pipeline }))
}
