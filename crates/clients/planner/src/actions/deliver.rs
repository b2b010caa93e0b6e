//! `deliver`: a `delivery: "gitlab"` project goes to GitLab after the tag.
//! The step (1) points the repository's remote `gitlab` at the project's
//! GitLab repository (git `git_remote`: `add`, or `set_url` when it exists),
//! (2) pushes the branch and its tags there (git `git_push`: the git server
//! checks the URL against its remote policy and authenticates), (3) starts
//! a pipeline on the branch (the gitlab server's `pipeline_create`, which it
//! offers only with `GITLAB_MODE=modify`), (4) waits for it (`pipeline_wait`,
//! in calls shorter than the peer's timeout, bounded in all by
//! `PLANNER_GITLAB_WAIT_SECS`) and, when it did not succeed, reads its failed
//! jobs with log excerpts (`pipeline_failures`).
//!
//! The result records what the servers answered and nothing more: the refs
//! pushed, the pipeline (id, status, link), the failed jobs. A pipeline that
//! did not succeed, or still runs when the wait ends, is a result with
//! `passed: false` (the run fails and the report lists the failed jobs), as
//! an unhealthy deployment is; a push or a call that fails fails the step.
//!
//! Idempotent, though the gitlab server keeps no idempotency key: setting the
//! remote and pushing repeat harmlessly (a push of what the remote has is
//! `up_to_date`), and a pipeline is created at most once per step: its id is
//! written into the step's checkpoint (`Store::note_step`) before the wait,
//! so an attempt after a crash or a retryable failure waits for that one;
//! and before creating one the step adopts a pipeline GitLab already has for
//! the pushed commit on the branch, started since the run began (a crash
//! between the create and the checkpoint, or the pipeline GitLab starts by
//! itself on a push, when it is already listed).

use std::time::{Duration, Instant};

use mcp_core::ErrorKind;
use mcp_core::tracing::warn;
use serde_json::{Value, json};

use super::deploy::flat;
use crate::exec::Ctx;
use crate::peers::{Peer, StepError};

/// The remote's name in the project's repository.
const REMOTE: &str = "gitlab";
/// The only status that passes: GitLab's `success` already allows jobs that may fail.
const PASSING: &str = "success";
/// Failed jobs whose excerpts the result keeps.
const MAX_FAILED_JOBS: usize = 5;
/// Lines of one failed job's excerpt that the result keeps (its last, where failures are).
const EXCERPT_LINES: usize = 12;
/// Seconds between the gitlab server's polls of the pipeline.
const POLL_SECS: u64 = 5;
/// The longest single `pipeline_wait` call.
const MAX_CALL_WAIT: Duration = Duration::from_secs(600);

/// Push to `remote`, run the pipeline of `branch` in GitLab project `project`, as step `key`.
pub(super) async fn run(
    cx: &mut Ctx<'_>,
    key: &str,
    remote: &str,
    project: &str,
    branch: &str,
) -> Result<Value, StepError> {
    let gitlab = gitlab(cx)?;
    let slug = cx.run.slug.clone();
    let remote_action = set_remote(cx, &slug, remote).await?;
    let pushed =
        cx.p.peers
            .git
            .call("git_push", json!({"repo": slug, "remote": REMOTE, "branch": branch, "tags": true}))
            .await?;
    let refs: Vec<Value> = pushed["refs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| json!({"ref": r["remote"], "status": r["status"]}))
        .collect();
    let (pipeline, origin) = match noted(cx, key, project) {
        Some(p) => (p, "resumed"),
        None => match existing(cx, gitlab, project, branch).await? {
            Some(p) => (p, "found"),
            None => (create(gitlab, project, branch).await?, "created"),
        },
    };
    let Some(id) = pipeline["id"].as_u64() else {
        return Err(StepError::of(ErrorKind::Internal, format!("the gitlab server named no pipeline id: {pipeline}")));
    };
    note(cx, key, json!({"phase": "deliver", "note": true, "project": project, "pipeline": brief(&pipeline)})).await;
    let (pipeline, finished) = wait(cx, gitlab, project, id).await?;
    let status = pipeline["status"].as_str().unwrap_or("unknown").to_owned();
    let (failed_jobs, failed_total, failures_error) =
        if finished && status != PASSING { failures(gitlab, project, id).await } else { (Vec::new(), 0, None) };
    let waited = crate::peers::gitlab_wait(&cx.p.config).as_secs();
    Ok(result(Delivered {
        remote,
        remote_action,
        refs,
        project,
        branch,
        pipeline: &pipeline,
        origin,
        finished,
        waited,
        failed_jobs,
        failed_total,
        failures_error,
    }))
}

/// The gitlab server, which `plan_start` required for `delivery: "gitlab"`.
fn gitlab<'a>(cx: &Ctx<'a>) -> Result<&'a Peer, StepError> {
    cx.p.peers.gitlab.as_ref().ok_or_else(|| {
        StepError::fatal(format!(
            "no gitlab server: set {} (needed by delivery \"gitlab\")",
            mcp_core::config::peer_var("mcp-server-gitlab")
        ))
    })
}

/// Point remote `gitlab` at `url`: added, or its URL set when it exists
/// (both harmless to repeat). Which of the two it was.
async fn set_remote(cx: &Ctx<'_>, slug: &str, url: &str) -> Result<&'static str, StepError> {
    let git = &cx.p.peers.git;
    let add = json!({"repo": slug, "action": "add", "name": REMOTE, "url": url});
    match git.call("git_remote", add).await {
        Ok(_) => Ok("added"),
        Err(e) if e.kind == ErrorKind::Conflict => {
            git.call("git_remote", json!({"repo": slug, "action": "set_url", "name": REMOTE, "url": url})).await?;
            Ok("updated")
        }
        Err(e) => Err(e.into()),
    }
}

/// The pipeline an earlier attempt of this step created and noted in its checkpoint.
fn noted(cx: &Ctx<'_>, key: &str, project: &str) -> Option<Value> {
    cx.state_of(key)
        .filter(|s| s.state == crate::store::StepState::Running)
        .and_then(|s| s.result.as_ref())
        .filter(|r| r["note"] == true && r["project"] == project && r["pipeline"]["id"].is_u64())
        .map(|r| r["pipeline"].clone())
}

/// A pipeline GitLab has for the tagged commit on `branch`, started since the run began.
async fn existing(cx: &Ctx<'_>, gitlab: &Peer, project: &str, branch: &str) -> Result<Option<Value>, StepError> {
    let Some(commit) = cx.result_of("tag").and_then(|t| t["commit"].as_str()).filter(|c| c.len() >= 7) else {
        return Ok(None);
    };
    let since = cx.run.created_ms - 60_000;
    let listed = gitlab.call("pipeline_list", json!({"project": project, "ref": branch, "per_page": 20})).await?;
    Ok(listed["pipelines"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["sha"].as_str().is_some_and(|s| s.starts_with(commit))
                && p["created_at"].as_str().and_then(mcp_core::clock::parse_rfc3339_ms).is_some_and(|t| t >= since)
        })
        .cloned())
}

/// Start the pipeline; a read-only gitlab server does not offer the tool, and the error says what to change.
async fn create(gitlab: &Peer, project: &str, branch: &str) -> Result<Value, StepError> {
    if !gitlab.tool_names().await?.iter().any(|n| n == "pipeline_create") {
        return Err(StepError::fatal(
            "the gitlab server does not offer pipeline_create, so no pipeline can be started: it runs read-only; \
             run mcp-server-gitlab with GITLAB_MODE=modify",
        ));
    }
    let r = gitlab.call("pipeline_create", json!({"project": project, "ref": branch})).await?;
    Ok(r["pipeline"].clone())
}

/// Write the step's progress into its checkpoint. A failure is logged: the
/// pipeline exists, and failing the step would only start another.
async fn note(cx: &mut Ctx<'_>, key: &str, note: Value) {
    let Some(i) = cx.steps.iter().position(|s| s.def.key == key) else { return };
    if let Err(e) = cx.p.store.note_step(&cx.run.id, cx.steps[i].idx, &note).await {
        warn!(error = %e, step = key, "the pipeline's id is not in the checkpoint; a repeat may look it up");
    }
    cx.steps[i].result = Some(note);
}

/// Wait until the pipeline finishes or the wait's bound passes: the pipeline then, and whether it finished.
async fn wait(cx: &Ctx<'_>, gitlab: &Peer, project: &str, id: u64) -> Result<(Value, bool), StepError> {
    let deadline = Instant::now() + crate::peers::gitlab_wait(&cx.p.config);
    // Each call ends well before the peer's own timeout.
    let per_call = crate::peers::pipeline_timeout(&cx.p.config)
        .saturating_sub(Duration::from_secs(30))
        .clamp(Duration::from_secs(10), MAX_CALL_WAIT);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let args = json!({"project": project, "pipeline_id": id, "timeout_secs": left.min(per_call).as_secs().max(1),
                          "poll_secs": POLL_SECS});
        let r = gitlab.call("pipeline_wait", args).await?;
        let finished = r["finished"] == true;
        if finished || Instant::now() >= deadline {
            return Ok((r["pipeline"].clone(), finished));
        }
    }
}

/// The failed jobs with the end of their excerpts, how many failed, and why
/// they could not be read (the verdict stands without them).
async fn failures(gitlab: &Peer, project: &str, id: u64) -> (Vec<Value>, u64, Option<String>) {
    let args = json!({"project": project, "pipeline_id": id, "max_jobs": MAX_FAILED_JOBS, "lines_per_job": 40});
    match gitlab.call("pipeline_failures", args).await {
        Ok(r) => {
            let jobs = r["failed_jobs"].as_array().into_iter().flatten().map(failed_job).collect();
            (jobs, r["failed_total"].as_u64().unwrap_or(0), None)
        }
        Err(e) => {
            warn!(error = %e, pipeline = id, "the failed jobs could not be read");
            (Vec::new(), 0, Some(e.message))
        }
    }
}

/// One failed job as the result keeps it: who it is and its excerpt's last
/// lines (the gitlab server masked secrets in them; they are data the job
/// printed, one line each).
fn failed_job(f: &Value) -> Value {
    let j = &f["job"];
    let lines: Vec<String> = f["excerpt"]["text"]
        .as_str()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "-----")
        .map(|l| flat(l, 200))
        .collect();
    let excerpt = lines[lines.len().saturating_sub(EXCERPT_LINES)..].to_vec();
    json!({"id": j["id"], "name": j["name"], "stage": j["stage"], "status": j["status"],
           "failure_reason": j["failure_reason"], "allow_failure": j["allow_failure"], "web_url": j["web_url"],
           "excerpt": excerpt, "log_error": f["log_error"]})
}

/// What the result keeps of a pipeline.
fn brief(p: &Value) -> Value {
    json!({"id": p["id"], "iid": p["iid"], "status": p["status"], "ref": p["ref"], "sha": p["sha"],
           "web_url": p["web_url"]})
}

/// What the step found, for its result.
struct Delivered<'a> {
    remote: &'a str,
    remote_action: &'static str,
    refs: Vec<Value>,
    project: &'a str,
    branch: &'a str,
    pipeline: &'a Value,
    origin: &'static str,
    finished: bool,
    waited: u64,
    failed_jobs: Vec<Value>,
    failed_total: u64,
    failures_error: Option<String>,
}

/// The result: `passed` only when the pipeline finished with `success`.
fn result(d: Delivered<'_>) -> Value {
    let status = d.pipeline["status"].as_str().unwrap_or("unknown");
    let passed = d.finished && status == PASSING;
    let id = &d.pipeline["id"];
    let mut summary = match d.finished {
        true => format!("GitLab pipeline #{id} on {}: {status}", d.branch),
        false => format!("GitLab pipeline #{id} on {}: still {status} after {} s (not canceled)", d.branch, d.waited),
    };
    let names: Vec<&str> = d.failed_jobs.iter().filter_map(|j| j["name"].as_str()).collect();
    if !names.is_empty() {
        summary.push_str(&format!("; failed jobs: {}", names.join(", ")));
    }
    if let Some(e) = &d.failures_error {
        summary.push_str(&format!("; its failed jobs could not be read: {}", flat(e, 200)));
    }
    json!({
        "phase": "deliver", "passed": passed, "summary": summary, "project": d.project, "branch": d.branch,
        "remote": {"name": REMOTE, "url": d.remote, "action": d.remote_action}, "pushed": d.refs,
        "pipeline": brief(d.pipeline), "pipeline_origin": d.origin, "finished": d.finished,
        "failed_jobs": d.failed_jobs, "failed_total": d.failed_total, "failures_error": d.failures_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered<'a>(pipeline: &'a Value, finished: bool, failed_jobs: Vec<Value>) -> Delivered<'a> {
        Delivered {
            remote: "https://gitlab.example.com/fleet/hello.git",
            remote_action: "added",
            refs: vec![json!({"ref": "refs/heads/main", "status": "new"})],
            project: "fleet/hello",
            branch: "main",
            pipeline,
            origin: "created",
            finished,
            waited: 900,
            failed_total: failed_jobs.len() as u64,
            failed_jobs,
            failures_error: None,
        }
    }

    #[test]
    fn the_result_says_only_what_gitlab_answered() {
        let p = json!({"id": 1001, "iid": 1, "status": "success", "ref": "main", "sha": "abc",
                       "web_url": "https://gitlab.example.com/fleet/hello/-/pipelines/1001", "user": {"id": 1}});
        let r = result(delivered(&p, true, Vec::new()));
        assert_eq!(r["passed"], true);
        assert_eq!(r["summary"], "GitLab pipeline #1001 on main: success");
        assert_eq!(r["pipeline"]["web_url"], "https://gitlab.example.com/fleet/hello/-/pipelines/1001");
        assert!(r["pipeline"].get("user").is_none());
        let p = json!({"id": 1002, "status": "running"});
        let r = result(delivered(&p, false, Vec::new()));
        assert_eq!(r["passed"], false);
        assert_eq!(r["summary"], "GitLab pipeline #1002 on main: still running after 900 s (not canceled)");
    }

    #[test]
    fn failed_jobs_keep_the_end_of_their_excerpt() {
        let mut text: Vec<String> = (1..=30).map(|i| format!("{i:04}| line {i}")).collect();
        text.push("-----".into());
        text.push("0040| \u{1b}[31mERROR: Job failed: exit code 1\u{1b}[0m".into());
        let f = json!({"job": {"id": 7, "name": "test", "stage": "test", "status": "failed",
                               "failure_reason": "script_failure", "allow_failure": false},
                       "excerpt": {"text": text.join("\n")}, "log_error": null});
        let j = failed_job(&f);
        let excerpt: Vec<&str> = j["excerpt"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert_eq!(excerpt.len(), EXCERPT_LINES);
        assert_eq!(excerpt[0], "0020| line 20");
        assert_eq!(*excerpt.last().unwrap(), "0040| [31mERROR: Job failed: exit code 1 [0m");
        let p = json!({"id": 1003, "status": "failed"});
        let r = result(delivered(&p, true, vec![j]));
        assert_eq!(r["passed"], false);
        assert_eq!(r["summary"], "GitLab pipeline #1003 on main: failed; failed jobs: test");
    }
}
