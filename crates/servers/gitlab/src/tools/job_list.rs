//! `job_list`: the jobs of a pipeline (or of a project), filtered by status.

use mcp_core::prelude::*;

use super::{PageInfo, paging};
use crate::Gitlab;
use crate::api::types::Job;

/// The statuses GitLab filters jobs by.
pub const SCOPES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The pipeline's id; without it, the project's recent jobs across pipelines.
    pub pipeline_id: Option<u64>,
    /// Only jobs in these statuses (`failed`, `running`, `success`, `manual`, `pending`, `canceled`, `skipped`...).
    #[serde(default)]
    pub scope: Vec<String>,
    /// Include jobs that were retried (replaced by a newer run); pipeline only (default false).
    pub include_retried: Option<bool>,
    /// Page number, from 1 (default 1); continue with the result's `page.next_page`.
    pub page: Option<u32>,
    /// Jobs per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The jobs.
    pub jobs: Vec<Job>,
    /// Paging.
    pub page: PageInfo,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "job_list",
        "List the jobs of a pipeline (or the project's recent jobs), optionally only some statuses (scope); one page at \
         a time.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("List jobs")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (page, per_page) = paging(a.page, a.per_page)?;
    if let Some(bad) = a.scope.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ToolError::invalid(format!("scope {bad:?} is not a job status; use one of {}", SCOPES.join(", "))));
    }
    let p = g.project(&a.project).await?;
    let mut q: Vec<(&str, String)> = a.scope.into_iter().map(|s| ("scope[]", s)).collect();
    let path = match a.pipeline_id {
        Some(id) => {
            if a.include_retried == Some(true) {
                q.push(("include_retried", "true".into()));
            }
            p.path(&format!("/pipelines/{id}/jobs"))
        }
        None => p.path("/jobs"),
    };
    let got = g.api()?.page::<Job>(&path, &q, page, per_page, "those jobs").await?;
    Ok(Out::new(Output { page: PageInfo::of(&got), jobs: got.items }))
}
