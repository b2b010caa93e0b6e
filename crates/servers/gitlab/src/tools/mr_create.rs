//! `mr_create`: open a merge request (modify mode only).

use mcp_core::prelude::*;
use reqwest::Method;

use super::escape_quick_actions;
use crate::Gitlab;
use crate::api::types::MergeRequest;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The branch with the changes.
    pub source_branch: String,
    /// The branch to merge into.
    pub target_branch: String,
    /// Title (at most 255 characters).
    pub title: String,
    /// Description, Markdown. Lines starting with `/` are escaped so GitLab does not run them as quick actions.
    pub description: Option<String>,
    /// Open it as a draft (default false).
    pub draft: Option<bool>,
    /// Delete the source branch when merged (default false).
    pub remove_source_branch: Option<bool>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The new merge request.
    pub merge_request: MergeRequest,
    /// Description lines whose leading `/` was escaped.
    pub escaped_lines: usize,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "mr_create",
        "Open a merge request from source_branch into target_branch. Description lines starting with `/` are escaped \
         so GitLab never runs them as quick actions (/merge, /approve...).",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Create a merge request")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let title = a.title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(ToolError::invalid("title must be 1 to 255 characters"));
    }
    if a.source_branch.trim().is_empty() || a.target_branch.trim().is_empty() {
        return Err(ToolError::invalid("source_branch and target_branch are required"));
    }
    if a.source_branch == a.target_branch {
        return Err(ToolError::invalid("source_branch and target_branch are the same"));
    }
    let title = if a.draft == Some(true) && !title.starts_with("Draft:") {
        format!("Draft: {title}")
    } else {
        title.to_owned()
    };
    let (description, escaped_lines) = escape_quick_actions(a.description.as_deref().unwrap_or(""));
    let p = g.project(&a.project).await?;
    let mut body = json!({
        "source_branch": a.source_branch,
        "target_branch": a.target_branch,
        "title": title,
        "description": description,
        "remove_source_branch": a.remove_source_branch.unwrap_or(false),
    });
    if !a.labels.is_empty() {
        body["labels"] = json!(a.labels.join(","));
    }
    let merge_request =
        g.api()?.call(Method::POST, &p.path("/merge_requests"), Some(&body), "a new merge request").await?;
    Ok(Out::new(Output { merge_request, escaped_lines }))
}
