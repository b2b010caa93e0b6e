//! `pipeline_wait`: wait until a pipeline finishes, sending progress
//! notifications while it runs.

use std::time::{Duration, Instant};

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::api::types::{Job, Pipeline};

/// Pipeline statuses after which nothing happens without someone acting.
pub const FINISHED: &[&str] = &["success", "failed", "canceled", "skipped", "manual"];
/// Job statuses that are over.
const JOB_DONE: &[&str] = &["success", "failed", "canceled", "skipped", "manual"];

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The pipeline's id.
    pub pipeline_id: u64,
    /// Longest wait in seconds (default 600; the server's GITLAB_MAX_WAIT_SECS caps it).
    pub timeout_secs: Option<u64>,
    /// Seconds between polls, 1 to 60 (default 5).
    pub poll_secs: Option<u64>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The pipeline when the wait ended.
    pub pipeline: Pipeline,
    /// The pipeline finished (success, failed, canceled, skipped, or blocked on a manual job); false when the
    /// time ran out first.
    pub finished: bool,
    /// Seconds waited.
    pub waited_secs: f64,
    /// Jobs in the pipeline (first 100).
    pub jobs_total: usize,
    /// Jobs that are over.
    pub jobs_finished: usize,
    /// Jobs that failed (allow_failure ones included).
    pub jobs_failed: usize,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_wait",
        "Wait until a pipeline finishes or timeout_secs pass, polling every poll_secs and sending a progress \
         notification (jobs finished of total) after each poll. finished=false means the time ran out, not a failure. \
         On failure, call pipeline_failures.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Wait for a pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let poll = Duration::from_secs(a.poll_secs.unwrap_or(5));
    if poll.is_zero() || poll > Duration::from_secs(60) {
        return Err(ToolError::invalid("poll_secs must be between 1 and 60"));
    }
    let timeout = Duration::from_secs(a.timeout_secs.unwrap_or(600)).min(g.config.max_wait);
    let p = g.project(&a.project).await?;
    let api = g.api()?;
    let id = a.pipeline_id;
    let started = Instant::now();
    // Leave time to answer before the call's own deadline.
    let deadline = started + timeout.min(ctx.remaining().saturating_sub(Duration::from_secs(2)));
    let mut polls = 0u32;
    loop {
        let pipeline: Pipeline = api.get(&p.path(&format!("/pipelines/{id}")), &[], &format!("pipeline {id}")).await?;
        let jobs: Vec<Job> = api
            .page::<Job>(&p.path(&format!("/pipelines/{id}/jobs")), &[], 1, 100, &format!("pipeline {id}'s jobs"))
            .await?
            .items;
        let total = jobs.len();
        let done = jobs.iter().filter(|j| JOB_DONE.contains(&j.status.as_str())).count();
        let failed = jobs.iter().filter(|j| j.status == "failed").count();
        let finished = FINISHED.contains(&pipeline.status.as_str());
        polls += 1;
        // Progress must increase: the poll count does, the job counts are the message.
        ctx.progress(
            f64::from(polls),
            None,
            Some(format!("pipeline {id} {}: {done}/{total} jobs finished, {failed} failed", pipeline.status)),
        )
        .await;
        let now = Instant::now();
        if finished || now + poll > deadline {
            return Ok(Out::new(Output {
                finished,
                waited_secs: started.elapsed().as_secs_f64(),
                jobs_total: total,
                jobs_finished: done,
                jobs_failed: failed,
                pipeline,
            }));
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = ctx.cancelled() => return Err(ToolError::timeout("the wait was cancelled")),
        }
    }
}
