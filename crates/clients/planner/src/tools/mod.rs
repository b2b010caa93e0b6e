//! The planner's tools, one per file, and what they share. The registry is
//! the list in `lib.rs`'s `server`.

pub mod approval_decide;
pub mod approval_get;
pub mod approvals_list;
pub mod plan_cancel;
pub mod plan_list;
pub mod plan_start;
pub mod plan_status;
pub mod plan_wait;
pub mod templates_list;

use mcp_core::ToolError;
use schemars::JsonSchema;
use serde::Serialize;

use mcp_types::approval::Approval;

use crate::Planner;
use crate::store::{ApprovalRow, Run, Step};

/// A store failure as a tool error (detail to the log).
pub fn store_err(e: crate::store::StoreError) -> ToolError {
    ToolError::internal(e)
}

/// A run with its steps.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunView {
    /// The run.
    #[serde(flatten)]
    pub run: Run,
    /// Its steps, in order.
    pub steps: Vec<Step>,
    /// Its approvals, newest first: a step in state `awaiting_approval` has a `pending` one here, whose id
    /// `approval_decide` takes.
    pub approvals: Vec<Approval>,
}

/// Load a run by id or request id.
pub async fn load(p: &Planner, run_id: Option<&str>, request_id: Option<&str>) -> Result<RunView, ToolError> {
    let run = match (run_id, request_id) {
        (Some(id), _) => p.store.run(id).await.map_err(store_err)?,
        (None, Some(r)) => p.store.by_request(r).await.map_err(store_err)?,
        (None, None) => return Err(ToolError::invalid("give run_id or request_id")),
    };
    let run = run.ok_or_else(|| ToolError::not_found(format!("run {}", run_id.or(request_id).unwrap_or(""))))?;
    let mut steps = p.store.steps(&run.id).await.map_err(store_err)?;
    let approvals = p.store.approvals(None, Some(&run.id), 100).await.map_err(store_err)?;
    for s in steps.iter_mut().filter(|s| s.state == crate::store::StepState::AwaitingApproval) {
        s.approval_id = approvals
            .iter()
            .find(|a| a.step == s.def.key && a.state == mcp_types::approval::ApprovalState::Pending)
            .map(|a| a.id.clone());
    }
    Ok(RunView { run, steps, approvals: approvals.iter().map(ApprovalRow::contract).collect() })
}

/// A few lines about a run.
pub fn render(v: &RunView) -> String {
    let mut t = format!(
        "run {} ({}) for request {}: {}{}\n",
        v.run.id,
        v.run.slug,
        v.run.request_id,
        v.run.state,
        v.run.reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default()
    );
    for s in &v.steps {
        let waiting = match s.state {
            crate::store::StepState::AwaitingApproval => v
                .approvals
                .iter()
                .find(|a| Some(&a.id) == s.approval_id.as_ref())
                .map(|a| format!(" [approval {} until {}]", a.id, a.expires_at))
                .unwrap_or_default(),
            _ => String::new(),
        };
        t.push_str(&format!(
            "  {:<16} {:<9} {}{}{waiting}\n",
            s.def.key,
            s.state,
            s.def.title,
            s.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        ));
    }
    t
}

/// One line about an approval.
pub fn approval_line(a: &ApprovalRow) -> String {
    let decided = match (&a.decided_by, &a.reason) {
        (Some(by), Some(r)) => format!(" by {by}: {r}"),
        (Some(by), None) => format!(" by {by}"),
        (None, Some(r)) => format!(": {r}"),
        (None, None) => String::new(),
    };
    format!(
        "{} {}{decided} — run {} step {}: {} (expires {})",
        a.id,
        a.state,
        a.run_id,
        a.step,
        a.summary,
        mcp_core::clock::rfc3339_ms(a.expires_ms)
    )
}
