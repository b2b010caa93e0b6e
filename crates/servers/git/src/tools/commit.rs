//! `git_commit`: record the staged changes (optionally all tracked changes),
//! or amend the last commit.

use git2::{DiffOptions, Oid};
use mcp_core::prelude::*;

use crate::report::{CommitInfo, current_branch, identity};
use crate::sandbox::git_error;
use crate::{Git, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Commit message: a short summary line, optionally a blank line and a body.
    pub message: String,
    /// Author name (default: the server's GIT_AUTHOR_NAME, else the repository's user.name). Give with author_email.
    pub author_name: Option<String>,
    /// Author e-mail. Give with author_name.
    pub author_email: Option<String>,
    /// Committer name (default: the author). Give with committer_email.
    pub committer_name: Option<String>,
    /// Committer e-mail. Give with committer_name.
    pub committer_email: Option<String>,
    /// Stage every change to tracked files first (like `git commit -a`; new files still need git_add).
    #[serde(default)]
    pub all: bool,
    /// Replace the last commit (new message and the current index) instead of adding one. The old commit stays
    /// reachable through git_reflog.
    #[serde(default)]
    pub amend: bool,
    /// Allow a commit that changes nothing (default false).
    #[serde(default)]
    pub allow_empty: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The new commit.
    pub commit: CommitInfo,
    /// The branch it was recorded on; absent when HEAD is detached.
    pub branch: Option<String>,
    /// True when the last commit was replaced.
    pub amended: bool,
    /// Files changed relative to the first parent.
    pub files_changed: usize,
    /// Lines added.
    pub insertions: usize,
    /// Lines deleted.
    pub deletions: usize,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_commit",
        "Commit the staged changes with a message (all: true stages tracked changes first). Author from the \
         arguments or the server's defaults; amend replaces the last commit. Concludes a merge after conflicts are \
         resolved and staged.",
        Annotations::additive(false),
        run,
    )
    .title("Commit")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let message = a.message.trim().to_owned();
    if message.is_empty() {
        return Err(ToolError::invalid("message is empty; describe the change in one line"));
    }
    if message.len() > 64 * 1024 || message.contains('\0') {
        return Err(ToolError::invalid("message must be under 64 KiB and contain no NUL"));
    }
    blocking(move || {
        let mut repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no index to commit from"));
        }
        let author = identity(&git, &repo, a.author_name.as_deref(), a.author_email.as_deref())?;
        let committer = match (&a.committer_name, &a.committer_email) {
            (None, None) => author.clone(),
            (n, e) => identity(&git, &repo, n.as_deref(), e.as_deref())?,
        };
        let mut merge_heads: Vec<Oid> = Vec::new();
        if repo.state() == git2::RepositoryState::Merge {
            repo.mergehead_foreach(|id| {
                merge_heads.push(*id);
                true
            })
            .map_err(git_error)?;
        }
        let mut index = repo.index().map_err(git_error)?;
        if a.all {
            index.update_all(["*"], None).map_err(git_error)?;
            index.write().map_err(git_error)?;
        }
        if index.has_conflicts() {
            return Err(ToolError::conflict(
                "there are unresolved conflicts; edit the conflicted files, stage them with git_add, then commit \
                 (or abandon the merge with git_merge action abort)",
            ));
        }
        let tree_id = index.write_tree().map_err(git_error)?;
        let tree = repo.find_tree(tree_id).map_err(git_error)?;
        let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let id = if a.amend {
            let Some(h) = &head else {
                return Err(ToolError::conflict("there is no commit to amend yet; commit without amend first"));
            };
            if !merge_heads.is_empty() {
                return Err(ToolError::conflict("a merge is in progress; conclude it with a plain commit, not amend"));
            }
            h.amend(Some("HEAD"), Some(&author), Some(&committer), None, Some(&message), Some(&tree))
                .map_err(git_error)?
        } else {
            let unchanged = match &head {
                Some(h) => h.tree_id() == tree_id,
                None => tree.is_empty(),
            };
            if unchanged && merge_heads.is_empty() && !a.allow_empty {
                return Err(ToolError::conflict(
                    "nothing to commit: no staged changes. Stage files with git_add (or pass all: true for tracked \
                     files), or set allow_empty: true",
                ));
            }
            let mut parents = Vec::new();
            if let Some(h) = &head {
                parents.push(h.clone());
            }
            for m in &merge_heads {
                parents.push(repo.find_commit(*m).map_err(git_error)?);
            }
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            repo.commit(Some("HEAD"), &author, &committer, &message, &tree, &refs).map_err(git_error)?
        };
        if !merge_heads.is_empty() {
            repo.cleanup_state().map_err(git_error)?;
        }
        let commit = repo.find_commit(id).map_err(git_error)?;
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let diff = repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut DiffOptions::new()))
            .map_err(git_error)?;
        let stats = diff.stats().map_err(git_error)?;
        let info = CommitInfo::of(&commit);
        let branch = current_branch(&repo);
        let text = format!(
            "[{} {}] {}\n {} file(s) changed, {} insertion(s)(+), {} deletion(s)(-){}",
            branch.as_deref().unwrap_or("detached HEAD"),
            info.short_id,
            info.summary,
            stats.files_changed(),
            stats.insertions(),
            stats.deletions(),
            if a.amend { " (amended)" } else { "" }
        );
        Ok(Out::new(Output {
            commit: info,
            branch,
            amended: a.amend,
            files_changed: stats.files_changed(),
            insertions: stats.insertions(),
            deletions: stats.deletions(),
        })
        .text(text))
    })
    .await
}
