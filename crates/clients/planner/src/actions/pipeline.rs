//! `pipeline`: run the project's `.gitlab-ci.yml` locally through the
//! gitlab server (`ci_run_local` with `wait`) before the tag, and record its
//! verdict: `success` and `success_with_warnings` pass; anything else fails
//! the check, which blocks the tag as failed tests do (`Ctx::checks`).
//!
//! The gitlab server copies the repository's tracked files (the work was
//! committed just before) and runs every job in a container; its answer is
//! the run, whose final `status` is the verdict (`success`,
//! `success_with_warnings`, `failed`, `canceled`). When the run is not over
//! yet (the server bounds how long it waits), it is followed with
//! `ci_run_status` until it is; the step's timeout bounds the whole. A project without `.gitlab-ci.yml` (one removed since
//! the scaffold) has no pipeline to run: the result says so and records no
//! verdict. Idempotent by nature: a pipeline run again checks the same tree.

use std::time::Duration;

use serde_json::{Value, json};

use crate::exec::Ctx;
use crate::peers::{Peer, StepError};
use crate::spec::one_line;

/// Verdicts that pass.
const PASSING: &[&str] = &["success", "success_with_warnings"];
/// The longest wait one call asks the gitlab server for (its maximum).
const MAX_WAIT_SECS: u64 = 1800;

/// Run the pipeline and record its verdict.
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let gitlab = gitlab(cx)?;
    let slug = cx.run.slug.clone();
    let st = cx.p.peers.fs.call("stat", json!({"path": format!("{slug}/.gitlab-ci.yml"), "missing_ok": true})).await?;
    if st["exists"] == false {
        return Ok(json!({"phase": "pipeline", "ran": false,
                         "summary": "the project has no .gitlab-ci.yml, so no pipeline ran"}));
    }
    let wait = (cx.p.config.command_timeout.as_secs() * 4).clamp(1, MAX_WAIT_SECS);
    let r = gitlab.call("ci_run_local", json!({"path": slug, "wait": true, "wait_secs": wait})).await?;
    let run_id = r["run_id"].as_str().map(str::to_owned);
    let mut run = r["run"].clone();
    while !is_final(&run) {
        let Some(id) = &run_id else {
            return Err(StepError::fatal(format!("ci_run_local answered without a final status or a run id: {r}")));
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        run = gitlab.call("ci_run_status", json!({"run_id": id, "wait_secs": 60})).await?["run"].clone();
    }
    Ok(result(run_id.as_deref(), &run))
}

fn gitlab<'a>(cx: &Ctx<'a>) -> Result<&'a Peer, StepError> {
    cx.p.peers.gitlab.as_ref().ok_or_else(|| {
        StepError::fatal(format!(
            "no gitlab server: set {} (needed by PLANNER_LOCAL_PIPELINE=on)",
            mcp_core::config::peer_var("mcp-server-gitlab")
        ))
    })
}

/// A run is over once its status is no longer `created` or `running`: it is then the verdict.
fn is_final(run: &Value) -> bool {
    run["status"].as_str().is_some_and(|s| !matches!(s, "created" | "running" | "pending"))
}

/// The verdict and each job's status, as the gitlab server gave them.
fn result(run_id: Option<&str>, run: &Value) -> Value {
    let verdict = run["status"].as_str().unwrap_or("unknown");
    let jobs: Vec<Value> = run["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| json!({"name": j["name"], "stage": j["stage"], "status": j["status"], "exit_code": j["exit_code"]}))
        .collect();
    let listed: Vec<String> = jobs
        .iter()
        .map(|j| format!("{}: {}", j["name"].as_str().unwrap_or("?"), j["status"].as_str().unwrap_or("?")))
        .collect();
    let mut summary = if listed.is_empty() { verdict.to_owned() } else { format!("{verdict} ({})", listed.join(", ")) };
    if let Some(e) = run["error"].as_str() {
        summary.push_str(&format!("; {e}"));
    }
    json!({
        "phase": "pipeline", "passed": PASSING.contains(&verdict), "summary": one_line(&summary, 300),
        "verdict": verdict, "run_id": run_id, "jobs": jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_decide_and_jobs_are_listed() {
        let run = json!({"status": "success_with_warnings",
                         "jobs": [{"name": "build", "stage": "build", "status": "success", "exit_code": 0},
                                  {"name": "lint", "stage": "lint", "status": "failed", "exit_code": 1}]});
        assert!(is_final(&run));
        let v = result(Some("r1"), &run);
        assert_eq!(v["passed"], true);
        assert_eq!(v["summary"], "success_with_warnings (build: success, lint: failed)");
        let v = result(None, &json!({"status": "failed", "jobs": [], "error": "no such ref"}));
        assert_eq!(v["passed"], false);
        assert_eq!(v["summary"], "failed; no such ref");
        assert!(!is_final(&json!({"status": "running"})));
    }
}
