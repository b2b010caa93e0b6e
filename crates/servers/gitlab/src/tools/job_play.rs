//! `job_play`: start a manual job (modify mode only).

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
    Tool::new("job_play", "Start a manual (or delayed) job now.", Annotations::additive(false).open_world(), run)
        .title("Play a manual job")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.project(&a.project).await?;
    let id = a.job_id;
    let job = g.api()?.call(Method::POST, &p.path(&format!("/jobs/{id}/play")), None, &format!("job {id}")).await?;
    Ok(Out::new(Output { job }))
}
