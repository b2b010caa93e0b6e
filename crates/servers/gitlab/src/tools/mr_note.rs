//! `mr_note`: comment on a merge request, quick actions escaped (modify
//! mode only).

use mcp_core::prelude::*;
use reqwest::Method;

use super::escape_quick_actions;
use crate::Gitlab;
use crate::api::types::Note;

/// Largest comment.
const MAX_BODY: usize = 1_000_000;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The merge request's number in the project (its iid).
    pub iid: u64,
    /// The comment, Markdown. Lines starting with `/` are escaped so GitLab does not run them as quick actions.
    pub body: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The comment as GitLab stored it.
    pub note: Note,
    /// Lines whose leading `/` was escaped.
    pub escaped_lines: usize,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "mr_note",
        "Comment on a merge request. Lines starting with `/` are escaped so GitLab never runs them as quick actions \
         (/merge, /approve, /close...): this tool only writes text.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Comment on a merge request")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.body.trim().is_empty() {
        return Err(ToolError::invalid("body is empty"));
    }
    if a.body.len() > MAX_BODY {
        return Err(ToolError::invalid("body is longer than 1,000,000 bytes"));
    }
    let (body, escaped_lines) = escape_quick_actions(&a.body);
    let p = g.project(&a.project).await?;
    let iid = a.iid;
    let note = g
        .api()?
        .call(
            Method::POST,
            &p.path(&format!("/merge_requests/{iid}/notes")),
            Some(&json!({"body": body})),
            &format!("merge request !{iid}"),
        )
        .await?;
    Ok(Out::new(Output { note, escaped_lines }))
}
