//! `git_show`: one commit with its full message and its diff against the
//! first parent.

use mcp_core::prelude::*;

use crate::report::{CommitInfo, DiffReport, commit_of, diff_report};
use crate::sandbox::git_error;
use crate::{Git, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// The commit: a branch, tag, commit id or expression like HEAD~2 (default HEAD).
    pub rev: Option<String>,
    /// Only these files or folders in the diff.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Lines of context (default 3, at most 100).
    pub context_lines: Option<u32>,
    /// Only statistics, no patch text (default false).
    #[serde(default)]
    pub stat_only: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The commit.
    pub commit: CommitInfo,
    /// The full commit message.
    pub message: String,
    /// The changes against the first parent (against nothing for a root commit).
    pub diff: DiffReport,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_show",
        "Show one commit: id, author, dates, full message, and its diff against the first parent with per-file \
         statistics (path filter, context lines, stat_only).",
        Annotations::read_only(),
        run,
    )
    .title("Show commit")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let max = git.config.max_diff_bytes;
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let c = commit_of(&repo, a.rev.as_deref().unwrap_or("HEAD"))?;
        let wd = if repo.is_bare() { None } else { Some(crate::sandbox::workdir(&repo)?) };
        let mut o = super::diff::options(wd.as_deref(), &a.paths, a.context_lines)?;
        let tree = c.tree().map_err(git_error)?;
        let parent = c.parent(0).ok().and_then(|p| p.tree().ok());
        let mut diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut o)).map_err(git_error)?;
        let d = diff_report(&mut diff, max, a.stat_only)?;
        let info = CommitInfo::of(&c);
        let message = c.message().unwrap_or("").to_owned();
        let mut t = format!("commit {}\n", info.id);
        if info.parents.len() > 1 {
            t.push_str(&format!("Merge: {}\n", info.parents.iter().map(|p| &p[..7]).collect::<Vec<_>>().join(" ")));
        }
        t.push_str(&format!("Author: {} <{}>\nDate:   {}\n\n", info.author, info.email, info.time));
        for l in message.lines() {
            t.push_str("    ");
            t.push_str(l);
            t.push('\n');
        }
        t.push('\n');
        t.push_str(&d.text(max));
        Ok(Out::new(Output { commit: info, message, diff: d }).text(t))
    })
    .await
}
