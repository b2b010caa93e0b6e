//! `approval_decide`: approve or deny a pending approval. Idempotent: the
//! same decision again returns the approval as it stands; another decision
//! on a decided or expired approval is a `conflict` — the first answer
//! stands, so two approvers answering differently cannot flip a step that
//! may already be running.

use mcp_core::prelude::*;

use mcp_types::approval::{Approval as Output, ApprovalDecide as Args, ApprovalState};

use crate::Planner;
use crate::spec::one_line;
use crate::store::Decided;

use super::store_err;

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "approval_decide",
        "Approve or deny a pending approval: approve lets the waiting plan step run; deny stops it and ends the run \
         (its report says who denied it and why). decided_by names who decides; reason is optional. Deciding again \
         the same way returns the same approval; a different decision on an approval already decided or expired is \
         a conflict.",
        Annotations::additive(true),
        run,
    )
    .title("Decide an approval")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let by = a.decided_by.trim();
    if by.is_empty() || by.len() > 254 || by.chars().any(char::is_control) {
        return Err(ToolError::invalid("decided_by must be 1-254 characters on one line"));
    }
    let reason = a.reason.as_deref().map(|r| one_line(r, 500)).filter(|r| !r.is_empty());
    let decided = s.store.approval_decide(&a.id, a.decision, by, reason.as_deref()).await.map_err(store_err)?;
    let (row, what) = match decided {
        Decided::NotFound => return Err(ToolError::not_found(format!("approval {}", a.id))),
        Decided::Now(row) => (row, "decided"),
        Decided::Already(row) => (row, "already decided so"),
        Decided::Conflict(row) => {
            let when = row.decided_ms.map(mcp_core::clock::rfc3339_ms).unwrap_or_default();
            return Err(ToolError::conflict(match row.state {
                ApprovalState::Expired => format!(
                    "approval {} expired at {when} ({}); it can no longer be decided, and its step did not run",
                    row.id,
                    row.reason.as_deref().unwrap_or("nobody decided in time")
                ),
                state => format!(
                    "approval {} was already {state} by {} at {when}; the first decision stands",
                    row.id,
                    row.decided_by.as_deref().unwrap_or("someone")
                ),
            }));
        }
    };
    // The run's gate polls the store about once a second; waking the executor costs nothing.
    s.wake.notify_one();
    let text = format!("{what}: {}", super::approval_line(&row));
    Ok(Out::new(row.contract()).text(text))
}
