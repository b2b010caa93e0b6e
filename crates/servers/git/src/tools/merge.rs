//! `git_merge`: fast-forward when possible, otherwise a three-way merge that
//! either commits or stops with a conflict report (files and marker regions),
//! leaving the repository merging so `abort` can restore it.

use git2::build::CheckoutBuilder;
use git2::{MergeOptions, RepositoryState, ResetType, Status, StatusOptions};
use mcp_core::prelude::*;

use crate::report::{CommitInfo, ConflictFile, conflicts, conflicts_text, identity, short};
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Merge `rev` into the current branch (default).
    Merge,
    /// Abandon a merge in progress and restore the state before it.
    Abort,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// merge (default) or abort.
    pub action: Option<Action>,
    /// What to merge: a branch (local or remote-tracking like origin/main), tag or commit.
    pub rev: Option<String>,
    /// Only fast-forward; refuse when a merge commit would be needed (default false).
    #[serde(default)]
    pub ff_only: bool,
    /// Create a merge commit even when a fast-forward is possible (default false).
    #[serde(default)]
    pub no_ff: bool,
    /// Message of the merge commit (default "Merge branch '<rev>'").
    pub message: Option<String>,
    /// Author of the merge commit (default: the server's GIT_AUTHOR_NAME). Give with author_email.
    pub author_name: Option<String>,
    /// Author e-mail. Give with author_name.
    pub author_email: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// up_to_date, fast_forward, merged, conflicts or aborted.
    pub status: String,
    /// Abbreviated id of HEAD afterwards.
    pub head: Option<String>,
    /// The merge commit, when one was made.
    pub commit: Option<CommitInfo>,
    /// Conflicted files with their conflict regions (status conflicts). Resolve, git_add, then git_commit; or
    /// git_merge action abort.
    pub conflicts: Vec<ConflictFile>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_merge",
        "Merge a branch or commit into the current branch: fast-forward when possible, else a three-way merge commit. \
         On conflicts, returns each conflicted file with its conflict regions and leaves the merge in progress; \
         action abort restores the state before the merge.",
        Annotations::destructive(false),
        run,
    )
    .title("Merge")
}

fn has_tracked_changes(repo: &git2::Repository) -> Result<bool, ToolError> {
    let mut o = StatusOptions::new();
    o.include_untracked(false).include_ignored(false);
    Ok(repo
        .statuses(Some(&mut o))
        .map_err(git_error)?
        .iter()
        .any(|s| !s.status().is_empty() && s.status() != Status::CURRENT))
}

/// Abandon a merge: reset index and work tree to HEAD and drop the merge state.
pub fn abort(repo: &git2::Repository) -> Result<Output, ToolError> {
    if repo.state() != RepositoryState::Merge {
        return Err(ToolError::conflict("no merge is in progress; there is nothing to abort"));
    }
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(git_error)?;
    repo.reset(head.as_object(), ResetType::Hard, None).map_err(git_error)?;
    repo.cleanup_state().map_err(git_error)?;
    Ok(Output { status: "aborted".into(), head: Some(short(head.id())), commit: None, conflicts: vec![] })
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.ff_only && a.no_ff {
        return Err(ToolError::invalid("ff_only and no_ff contradict each other; choose one"));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no work tree to merge in"));
        }
        if a.action == Some(Action::Abort) {
            let out = abort(&repo)?;
            let text = format!("merge aborted; HEAD is at {}", out.head.as_deref().unwrap_or("?"));
            return Ok(Out::new(out).text(text));
        }
        let rev = a.rev.as_deref().ok_or_else(|| ToolError::invalid("merge needs rev: the branch or commit to merge"))?;
        names::revision(rev)?;
        if repo.state() != RepositoryState::Clean {
            return Err(ToolError::conflict(format!(
                "a {} is already in progress; resolve the conflicts and git_commit, or git_merge action abort",
                crate::report::state_word(&repo)
            )));
        }
        let (obj, reference) = repo
            .revparse_ext(rev)
            .map_err(|e| ToolError::not_found(format!("{rev:?} not found ({}); give a branch, tag or commit", e.message())))?;
        let their = obj.peel_to_commit().map_err(|_| ToolError::invalid(format!("{rev:?} is not a commit")))?;
        let ac = match &reference {
            Some(r) => repo.reference_to_annotated_commit(r),
            None => repo.find_annotated_commit(their.id()),
        }
        .map_err(git_error)?;
        let (analysis, _) = repo.merge_analysis(&[&ac]).map_err(git_error)?;
        if analysis.is_up_to_date() {
            let head = repo.head().ok().and_then(|h| h.target()).map(short);
            return Ok(Out::new(Output { status: "up_to_date".into(), head, commit: None, conflicts: vec![] })
                .text("Already up to date."));
        }
        if analysis.is_unborn() || (analysis.is_fast_forward() && !a.no_ff) {
            super::checkout::checkout_tree(&repo, their.as_object(), false)?;
            let msg = format!("merge {rev}: Fast-forward");
            match repo.head() {
                Ok(mut h) if h.is_branch() => {
                    h.set_target(their.id(), &msg).map_err(git_error)?;
                }
                Ok(_) => repo.set_head_detached(their.id()).map_err(git_error)?,
                Err(_) => {
                    // Unborn branch: create it where HEAD points.
                    let target = repo
                        .find_reference("HEAD")
                        .ok()
                        .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_owned))
                        .unwrap_or_else(|| "refs/heads/main".into());
                    repo.reference(&target, their.id(), true, &msg).map_err(git_error)?;
                }
            }
            let out = Output { status: "fast_forward".into(), head: Some(short(their.id())), commit: None, conflicts: vec![] };
            return Ok(Out::new(out).text(format!("Fast-forward to {} {}", short(their.id()), their.summary().ok().flatten().unwrap_or(""))));
        }
        if a.ff_only {
            return Err(ToolError::conflict(format!(
                "cannot fast-forward to {rev:?}: the branches have diverged. Merge without ff_only to create a merge commit"
            )));
        }
        if has_tracked_changes(&repo)? {
            return Err(ToolError::conflict(
                "the work tree or index has uncommitted changes to tracked files; commit (git_commit) or stash \
                 (git_stash) them before merging, so that abort can restore everything",
            ));
        }
        let sig = identity(&git, &repo, a.author_name.as_deref(), a.author_email.as_deref())?;
        let mut mo = MergeOptions::new();
        let mut co = CheckoutBuilder::new();
        co.safe().allow_conflicts(true).conflict_style_merge(true);
        repo.merge(&[&ac], Some(&mut mo), Some(&mut co)).map_err(git_error)?;
        let found = conflicts(&repo)?;
        if !found.is_empty() {
            let head = repo.head().ok().and_then(|h| h.target()).map(short);
            let text = format!(
                "Automatic merge of {rev} failed; the merge is in progress.\n{}Fix the conflict regions, stage the \
                 files with git_add and conclude with git_commit, or run git_merge action abort.",
                conflicts_text(&found)
            );
            return Ok(Out::new(Output { status: "conflicts".into(), head, commit: None, conflicts: found }).text(text));
        }
        let mut index = repo.index().map_err(git_error)?;
        let tree = repo.find_tree(index.write_tree().map_err(git_error)?).map_err(git_error)?;
        let ours = repo.head().and_then(|h| h.peel_to_commit()).map_err(git_error)?;
        let message = a.message.clone().unwrap_or_else(|| match &reference {
            Some(r) if r.is_remote() => format!("Merge remote-tracking branch '{}'", r.shorthand().unwrap_or(rev)),
            Some(r) if r.is_branch() => format!("Merge branch '{}'", r.shorthand().unwrap_or(rev)),
            _ => format!("Merge commit '{rev}'"),
        });
        let id = repo.commit(Some("HEAD"), &sig, &sig, &message, &tree, &[&ours, &their]).map_err(git_error)?;
        repo.cleanup_state().map_err(git_error)?;
        let c = repo.find_commit(id).map_err(git_error)?;
        let info = CommitInfo::of(&c);
        let text = format!("Merge made: {} {}", info.short_id, info.summary);
        Ok(Out::new(Output { status: "merged".into(), head: Some(info.short_id.clone()), commit: Some(info), conflicts: vec![] })
            .text(text))
    })
    .await
}
