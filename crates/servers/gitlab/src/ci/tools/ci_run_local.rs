//! `ci_run_local`: run a project's pipeline locally, each job in a
//! container started by the docker server; answers with the run id at once
//! (or after waiting, with `wait`).

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::ci::run::RunRecord;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The repository, relative to the server's repository roots (`.` for a root itself). Its git-tracked files
    /// are copied into the run; untracked files are not.
    pub path: String,
    /// The pipeline file inside it (default `.gitlab-ci.yml`).
    pub file: Option<String>,
    /// Branch or tag the pipeline is for (default: the checked-out branch).
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// The ref is a tag (default: true when a tag of that name exists).
    pub tag: Option<bool>,
    /// CI_PIPELINE_SOURCE: push (default), web, schedule, merge_request_event, api, trigger, pipeline...
    pub source: Option<String>,
    /// Variables as if set when creating the pipeline (they override the file's). Values whose names look
    /// secret (TOKEN, PASSWORD, SECRET, ..._KEY) are masked in logs.
    pub variables: Option<BTreeMap<String, String>>,
    /// A ref to compare with for `rules: changes`; without it every tracked file counts as changed.
    pub changes_base: Option<String>,
    /// Only these jobs (and the jobs they need, transitively); manual jobs named here are played.
    pub jobs: Option<Vec<String>>,
    /// Wait for the run to finish (up to wait_secs) before answering.
    #[serde(default)]
    pub wait: bool,
    /// With wait: the longest wait in seconds (default 600, at most 1800); the run goes on afterwards.
    pub wait_secs: Option<u64>,
}

/// The run as it stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The run's id, for ci_run_status, ci_job_log and ci_artifacts.
    pub run_id: String,
    /// The run.
    pub run: RunRecord,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_run_local",
        "Run a repository's .gitlab-ci.yml locally without GitLab: every job in its own container (through the \
         docker server; images must exist locally), with stages, needs, rules, artifacts passed between jobs, \
         after_script, timeouts and retries. Returns a run id at once; follow it with ci_run_status, ci_job_log and \
         ci_artifacts, or pass wait: true. Keywords the runner cannot honour are refused by name.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Run a pipeline locally")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let wait = a.wait_secs.unwrap_or(600);
    if a.wait && !(1..=super::MAX_WAIT_SECS).contains(&wait) {
        return Err(ToolError::invalid(format!("wait_secs must be 1 to {}", super::MAX_WAIT_SECS)));
    }
    let req = super::request(a.file, a.ref_name, a.tag, a.source, a.variables, a.changes_base, a.jobs);
    let run_id = g.ci.start(&a.path, &req).await?;
    let h = super::run_handle(&g.ci, &run_id)?;
    if a.wait {
        h.wait(Duration::from_secs(wait)).await;
    }
    let run = h.snapshot().ok_or_else(|| ToolError::internal("run record unreadable"))?;
    let text = super::summary(&run);
    Ok(Out::new(Output { run_id, run }).text(text))
}
