//! `ci_run_status`: one local run's per-job status and verdict, or the
//! list of runs.

use std::time::Duration;

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::ci::run::RunRecord;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run (from ci_run_local); absent: list the runs, newest first.
    pub run_id: Option<String>,
    /// With run_id: wait up to this many seconds (at most 1800) for the run to finish.
    pub wait_secs: Option<u64>,
    /// Without run_id: most runs listed (default 20).
    pub limit: Option<usize>,
}

/// One run in a list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunSummary {
    /// Id.
    pub run_id: String,
    /// Project path.
    pub project: String,
    /// Ref.
    pub ref_name: String,
    /// Status or verdict.
    pub status: String,
    /// Start.
    pub created_at: String,
    /// Jobs.
    pub jobs: usize,
}

/// A run, or the runs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The run asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunRecord>,
    /// Without run_id: the runs, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunSummary>,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_run_status",
        "Status of a local pipeline run: each job's status (created, pending, running, success, failed, skipped, \
         manual, canceled), exit code, duration, allow_failure and why it was skipped, and the verdict (success, \
         failed, success_with_warnings when only allowed failures failed). Without run_id, lists the runs.",
        Annotations::read_only(),
        run,
    )
    .title("Local run status")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let Some(id) = a.run_id else {
        let limit = a.limit.unwrap_or(20).clamp(1, 500);
        let runs: Vec<RunSummary> =
            g.ci.runs()
                .all()
                .iter()
                .rev()
                .filter_map(|h| h.snapshot())
                .take(limit)
                .map(|r| RunSummary {
                    run_id: r.run_id,
                    project: r.project,
                    ref_name: r.ref_name,
                    status: r.status,
                    created_at: r.created_at,
                    jobs: r.jobs.len(),
                })
                .collect();
        let text = if runs.is_empty() {
            "no local runs".to_owned()
        } else {
            runs.iter()
                .map(|r| format!("{} {} {} {}", r.run_id, r.project, r.ref_name, r.status))
                .collect::<Vec<_>>()
                .join("\n")
        };
        return Ok(Out::new(Output { run: None, runs }).text(text));
    };
    let h = super::run_handle(&g.ci, &id)?;
    if let Some(w) = a.wait_secs {
        if !(1..=super::MAX_WAIT_SECS).contains(&w) {
            return Err(ToolError::invalid(format!("wait_secs must be 1 to {}", super::MAX_WAIT_SECS)));
        }
        h.wait(Duration::from_secs(w)).await;
    }
    let r = h.snapshot().ok_or_else(|| ToolError::internal("run record unreadable"))?;
    let text = super::summary(&r);
    Ok(Out::new(Output { run: Some(r), runs: Vec::new() }).text(text))
}
