//! `commit`: stage everything and commit it with the step's summary (git).
//!
//! Idempotent on the git server's side: the commit carries the key
//! `<run>/<step>` and a message that is byte-identical on every attempt
//! (summary, run id, request id and trace id are all fixed when the run is
//! planned), so an attempt after a crash that came between the commit and
//! its checkpoint gets the first commit back (`duplicate` on the server's
//! side) instead of making a second one. The server looks the key up before
//! it checks for changes, so the replay wins over "nothing to commit".
//!
//! Nothing to commit is asked for as an answer (`skip_unchanged`: HEAD with
//! `unchanged: true`), which is this step's result (`nothing_to_commit`, the
//! work is in HEAD). A `conflict` (a key reused with other arguments,
//! unresolved merge conflicts) is checked against `git_status`: a clean tree
//! with a HEAD has nothing left to commit; anything else fails the step.

use mcp_core::ErrorKind;
use mcp_types::peer::{GitCommitted, GitStatus};
use serde_json::{Value, json};

use crate::exec::Ctx;
use crate::peers::StepError;

/// Commit the project's changes as step `key` of the run, summarised by `summary`.
pub(super) async fn run(cx: &mut Ctx<'_>, key: &str, summary: &str) -> Result<Value, StepError> {
    let repo = cx.run.slug.clone();
    let git = &cx.p.peers.git;
    git.call("git_add", json!({"repo": repo, "all": true})).await?;
    let message = format!(
        "{summary}\n\nPlan-Step: {}/{key}\nRequest: {}\nTrace: {}",
        cx.run.id,
        cx.run.request.request_id,
        cx.run.trace_id.as_deref().unwrap_or("-")
    );
    // skip_unchanged: a step that left nothing to commit (a Python build writes only ignored files) is the usual
    // case, not a conflict — no error span in a successful run.
    let args = json!({"repo": repo, "message": message, "idempotency_key": format!("{}/{key}", cx.run.id),
                      "skip_unchanged": true});
    match git.call_as::<GitCommitted>("git_commit", args).await {
        Ok(c) if c.unchanged => Ok(json!({"commit": null, "short_id": c.commit.short_id, "nothing_to_commit": true})),
        Ok(c) => Ok(json!({"commit": c.commit.id, "short_id": c.commit.short_id, "files_changed": c.files_changed})),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let status: GitStatus = git.call_as("git_status", json!({"repo": repo, "include_untracked": true})).await?;
            match status.head {
                Some(head) if status.clean => Ok(json!({"commit": null, "short_id": head, "nothing_to_commit": true})),
                _ => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}
