//! The local runner's tools, one per file, and what they share.

pub mod ci_artifacts;
pub mod ci_job_log;
pub mod ci_plan;
pub mod ci_run_local;
pub mod ci_run_status;
pub mod ci_validate;

use std::collections::BTreeMap;

use mcp_core::ToolError;

use super::PlanRequest;
use super::run::{JobRecord, RunHandle, RunRecord};

/// The longest a call waits for a run, seconds.
pub const MAX_WAIT_SECS: u64 = 1800;

/// A plan request from the tools' shared arguments.
#[allow(clippy::too_many_arguments)]
pub fn request(
    file: Option<String>,
    ref_name: Option<String>,
    tag: Option<bool>,
    source: Option<String>,
    variables: Option<BTreeMap<String, String>>,
    changes_base: Option<String>,
    jobs: Option<Vec<String>>,
) -> PlanRequest {
    PlanRequest { file, ref_name, tag, source, variables: variables.unwrap_or_default(), changes_base, jobs }
}

/// A run by id, or `not_found` naming how to list them.
pub fn run_handle(ci: &super::Ci, run_id: &str) -> Result<std::sync::Arc<RunHandle>, ToolError> {
    ci.runs()
        .get(run_id.trim())
        .ok_or_else(|| ToolError::not_found(format!("no run {run_id:?}; ci_run_status without run_id lists the runs")))
}

/// A job of a run by name (or by its key).
pub fn job<'a>(r: &'a RunRecord, name: &str) -> Result<&'a JobRecord, ToolError> {
    r.jobs.iter().find(|j| j.name == name || j.key == name).ok_or_else(|| {
        let names: Vec<&str> = r.jobs.iter().map(|j| j.name.as_str()).collect();
        ToolError::not_found(format!("run {} has no job {name:?}; its jobs: {}", r.run_id, names.join(", ")))
    })
}

/// One line per job, for the text of a result.
pub fn summary(r: &RunRecord) -> String {
    let mut s = format!("run {} of {} at {} ({}): {}\n", r.run_id, r.project, r.ref_name, r.source, r.status);
    for j in &r.jobs {
        let mut line = format!("  [{}] {} ({}): {:?}", j.stage, j.name, j.when, j.status);
        if let Some(c) = j.exit_code {
            line.push_str(&format!(", exit {c}"));
        }
        if j.allow_failure && j.status == super::run::JobStatus::Failed {
            line.push_str(", allowed to fail");
        }
        if let Some(ms) = j.duration_ms {
            line.push_str(&format!(", {:.1} s", ms as f64 / 1000.0));
        }
        if let Some(why) = &j.reason {
            line.push_str(&format!(" — {why}"));
        }
        s.push_str(&line);
        s.push('\n');
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("error: {e}\n"));
    }
    s
}
