//! `git_diff`: unstaged, staged, or between revisions, with a path filter,
//! context lines, statistics and a byte cap.

use git2::DiffOptions;
use mcp_core::prelude::*;

use crate::report::{DiffReport, commit_of, diff_report};
use crate::sandbox::{git_error, pathspec, workdir};
use crate::{Git, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Compare staged changes (the index) instead of the work tree: with no `from`, HEAD against the index
    /// (like `git diff --cached`).
    #[serde(default)]
    pub staged: bool,
    /// Revision to compare from (a branch, tag, commit id, HEAD~1...). Alone: that revision against the work
    /// tree (or the index with staged). Default: the index against the work tree (unstaged changes).
    pub from: Option<String>,
    /// Revision to compare to; needs `from`. Compares two commits.
    pub to: Option<String>,
    /// Only these files or folders (relative to the repository top).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Lines of context around each change (default 3, at most 100).
    pub context_lines: Option<u32>,
    /// Only per-file statistics and totals, no patch text (default false).
    #[serde(default)]
    pub stat_only: bool,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_diff",
        "Show changes as a unified diff with per-file statistics: unstaged (default), staged, a revision against \
         the work tree, or between two revisions. Filter by paths; large diffs are cut with a note.",
        Annotations::read_only(),
        run,
    )
    .title("Diff")
}

/// Diff options from a path filter and context size.
pub fn options(
    workdir: Option<&std::path::Path>,
    paths: &[String],
    context: Option<u32>,
) -> Result<DiffOptions, ToolError> {
    let mut o = DiffOptions::new();
    let ctx = context.unwrap_or(3);
    if ctx > 100 {
        return Err(ToolError::invalid("context_lines must be at most 100"));
    }
    o.context_lines(ctx).include_typechange(true);
    for p in paths {
        let spec = match workdir {
            Some(w) => pathspec(w, p)?,
            None => {
                crate::sandbox::check_text("path", p)?;
                if p.split('/').any(|c| c == "..") || p.starts_with('/') {
                    return Err(ToolError::invalid(format!("path {p:?} must be relative, without '..'")));
                }
                p.clone()
            }
        };
        o.pathspec(spec);
    }
    if !paths.is_empty() {
        o.disable_pathspec_match(false);
    }
    Ok(o)
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<DiffReport>, ToolError> {
    if a.to.is_some() && a.from.is_none() {
        return Err(ToolError::invalid("`to` needs `from`: give both revisions to compare two commits"));
    }
    if a.to.is_some() && a.staged {
        return Err(ToolError::invalid("staged compares against the index; do not combine it with `to`"));
    }
    if a.paths.len() > 100 {
        return Err(ToolError::invalid("at most 100 paths"));
    }
    let max = git.config.max_diff_bytes;
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let wd = if repo.is_bare() { None } else { Some(workdir(&repo)?) };
        let mut o = options(wd.as_deref(), &a.paths, a.context_lines)?;
        if wd.is_none() && (a.to.is_none() || a.staged) {
            return Err(ToolError::invalid(
                "this is a bare repository: only `from` and `to` (two revisions) can be compared",
            ));
        }
        let tree_of =
            |rev: &str| -> Result<git2::Tree<'_>, ToolError> { commit_of(&repo, rev)?.tree().map_err(git_error) };
        let mut diff = match (&a.from, &a.to, a.staged) {
            (Some(f), Some(t), _) => repo.diff_tree_to_tree(Some(&tree_of(f)?), Some(&tree_of(t)?), Some(&mut o)),
            (Some(f), None, true) => repo.diff_tree_to_index(Some(&tree_of(f)?), None, Some(&mut o)),
            (Some(f), None, false) => repo.diff_tree_to_workdir_with_index(Some(&tree_of(f)?), Some(&mut o)),
            (None, None, true) => {
                let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
                repo.diff_tree_to_index(head.as_ref(), None, Some(&mut o))
            }
            (None, _, false) => repo.diff_index_to_workdir(None, Some(&mut o)),
            (None, Some(_), true) => return Err(ToolError::invalid("`to` needs `from`")),
        }
        .map_err(git_error)?;
        let r = diff_report(&mut diff, max, a.stat_only)?;
        let text = r.text(max);
        Ok(Out::new(r).text(text))
    })
    .await
}
