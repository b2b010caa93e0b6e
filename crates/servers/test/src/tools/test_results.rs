//! `test_results`: a stored run's cases, paged, optionally of one status.

use mcp_core::prelude::*;

use crate::Tests;
use crate::model::{Case, STATUSES};
use crate::store::{self, RunRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run, as test_run returned it.
    pub run_id: String,
    /// Only cases with this status: `passed`, `failed`, `error`, `skipped`, `xfailed` or `xpassed`.
    pub status: Option<String>,
    /// Skip this many cases (paging).
    #[serde(default)]
    pub offset: i64,
    /// Most cases (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A page of cases.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The run.
    pub run: RunRow,
    /// Cases, failures first.
    pub cases: Vec<Case>,
    /// Cases matching in all.
    pub total: i64,
    /// Offset of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<i64>,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_results",
        "Page the stored per-test results of a run (failures first), optionally only one status.",
        Annotations::read_only(),
        run,
    )
    .title("Test results")
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = super::limit(a.limit, 100, 1000)?;
    if a.offset < 0 {
        return Err(ToolError::invalid("offset must not be negative"));
    }
    if let Some(s) = &a.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ToolError::invalid(format!("status {s:?}: use one of {}", STATUSES.join(", "))));
    }
    let run = store::run(&t, &a.run_id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("no run {:?}; test_history lists a project's runs", a.run_id)))?;
    let (cases, total) = store::cases(&t, &a.run_id, a.status.as_deref(), a.offset, limit).await?;
    let next = a.offset + cases.len() as i64;
    let text = cases
        .iter()
        .map(|c| format!("{} {}{}", c.status, c.id, c.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { run, cases, total, next_offset: (next < total).then_some(next) }).text(if text.is_empty() {
        "no cases".to_owned()
    } else {
        text
    }))
}
