//! The planner's tools, one per file, and what they share.

pub mod plan_cancel;
pub mod plan_list;
pub mod plan_start;
pub mod plan_status;
pub mod plan_wait;
pub mod templates_list;

use mcp_core::ToolError;
use schemars::JsonSchema;
use serde::Serialize;

use crate::Planner;
use crate::store::{Run, Step};

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
}

/// Load a run by id or request id.
pub async fn load(p: &Planner, run_id: Option<&str>, request_id: Option<&str>) -> Result<RunView, ToolError> {
    let run = match (run_id, request_id) {
        (Some(id), _) => p.store.run(id).await.map_err(store_err)?,
        (None, Some(r)) => p.store.by_request(r).await.map_err(store_err)?,
        (None, None) => return Err(ToolError::invalid("give run_id or request_id")),
    };
    let run = run.ok_or_else(|| ToolError::not_found(format!("run {}", run_id.or(request_id).unwrap_or(""))))?;
    let steps = p.store.steps(&run.id).await.map_err(store_err)?;
    Ok(RunView { run, steps })
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
        t.push_str(&format!(
            "  {:<16} {:<9} {}{}\n",
            s.def.key,
            s.state,
            s.def.title,
            s.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        ));
    }
    t
}
