//! `job_get`: one job.

use mcp_core::prelude::*;

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
    /// The job.
    pub job: Job,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "job_get",
        "Get one job: status, stage, failure reason, timings, its pipeline and its artifact files.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Get a job")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.job_id;
    let job = g.api()?.get(&p.path(&format!("/jobs/{id}")), &[], &format!("job {id}")).await?;
    Ok(Out::new(Output { job }))
}
