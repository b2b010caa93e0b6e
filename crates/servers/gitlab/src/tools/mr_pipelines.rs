//! `mr_pipelines`: the pipelines of a merge request.

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
    /// The merge request's number in the project (its iid).
    pub iid: u64,
    /// Page number, from 1 (default 1).
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
        "mr_pipelines",
        "List the pipelines that ran for a merge request, newest first. pipeline_failures explains a failed one.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Merge request pipelines")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (page, per_page) = paging(a.page, a.per_page)?;
    let p = g.project(&a.project).await?;
    let iid = a.iid;
    let got = g
        .api()?
        .page::<Pipeline>(
            &p.path(&format!("/merge_requests/{iid}/pipelines")),
            &[],
            page,
            per_page,
            &format!("merge request !{iid}'s pipelines"),
        )
        .await?;
    Ok(Out::new(Output { page: PageInfo::of(&got), pipelines: got.items }))
}
