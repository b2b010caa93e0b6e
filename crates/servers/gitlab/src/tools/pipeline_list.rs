//! `pipeline_list`: a project's pipelines, newest first, one page at a time.

use mcp_core::prelude::*;

use super::{PageInfo, paging};
use crate::Gitlab;
use crate::api::types::Pipeline;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// Only pipelines in this status (`running`, `pending`, `success`, `failed`, `canceled`, `skipped`, `manual`...).
    pub status: Option<String>,
    /// Only pipelines of this branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Only pipelines started this way (`push`, `web`, `api`, `merge_request_event`, `schedule`...).
    pub source: Option<String>,
    /// Page number, from 1 (default 1); continue with the result's `page.next_page`.
    pub page: Option<u32>,
    /// Pipelines per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The pipelines, newest first.
    pub pipelines: Vec<Pipeline>,
    /// Paging.
    pub page: PageInfo,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_list",
        "List a project's pipelines, newest first, optionally filtered by status, ref or source; one page at a time \
         (continue with page.next_page).",
        Annotations::read_only().open_world(),
        run,
    )
    .title("List pipelines")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (page, per_page) = paging(a.page, a.per_page)?;
    let p = g.project(&a.project).await?;
    let mut q = Vec::new();
    for (k, v) in [("status", a.status), ("ref", a.git_ref), ("source", a.source)] {
        if let Some(v) = v {
            q.push((k, v));
        }
    }
    let got = g.api()?.page::<Pipeline>(&p.path("/pipelines"), &q, page, per_page, "that project's pipelines").await?;
    Ok(Out::new(Output { page: PageInfo::of(&got), pipelines: got.items }))
}
