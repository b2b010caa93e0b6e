//! `job_retry`: retry one job (modify mode only).

use mcp_core::prelude::*;
use reqwest::Method;

use crate::Gitlab;
use crate::api::types::Job;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The job's id.
    pub job_id: u64,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The job as GitLab reports it afterwards.
    pub job: Job,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "job_retry",
        "Retry one job (GitLab creates a new job; the result is the new one).",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Retry a job")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.job_id;
    let job = g.api()?.call(Method::POST, &p.path(&format!("/jobs/{id}/retry")), None, &format!("job {id}")).await?;
    Ok(Out::new(Output { job }))
}
