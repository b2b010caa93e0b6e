//! `git_commit`: record the staged changes (optionally all tracked changes),
//! or amend the last commit. With an idempotency key the commit is recorded
//! before the branch moves, so a retry returns it, or completes the move an
//! interruption cut short (see [`crate::idempotency`]).

use git2::{DiffOptions, Oid, Repository};
use mcp_core::prelude::*;

use crate::idempotency::{self, Claim, Completion, Key, Record};
use crate::report::{CommitInfo, current_branch, identity, short};
use crate::sandbox::git_error;
use crate::{Git, blocking};

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
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
    /// When there is nothing to commit, answer with HEAD and `unchanged: true` instead of a `conflict`: for a
    /// caller that commits whatever a step left behind, if anything (default false; needs a HEAD).
    #[serde(default)]
    pub skip_unchanged: bool,
    /// Makes the commit safe to retry: the first call with a key commits; a call with the same key and the same
    /// arguments returns that first commit (`duplicate: true`) and commits nothing (if the first call was
    /// interrupted before its branch moved, the retry moves it); the same key with different arguments is refused
    /// as a conflict. Use one key per commit meant, e.g. "<run>/<step>". At most 200 characters.
    pub idempotency_key: Option<String>,
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
    /// True when this is the commit of an earlier call with the same idempotency key: nothing new was committed.
    pub duplicate: bool,
    /// True when nothing was committed because nothing changed (`skip_unchanged`): `commit` is HEAD.
    pub unchanged: bool,
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
    let key = Key::new("git_commit", a.idempotency_key.as_deref(), &a)?;
    blocking(move || {
        let mut repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no index to commit from"));
        }
        let _one_at_a_time = key.as_ref().map(|_| idempotency::lock());
        if let Some(k) = &key
            && let Some(rec) = k.find(&repo)?
        {
            return replay(&repo, &rec, a.amend);
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
        let mut parents = Vec::new();
        if a.amend {
            if head.is_none() {
                return Err(ToolError::conflict("there is no commit to amend yet; commit without amend first"));
            }
            if !merge_heads.is_empty() {
                return Err(ToolError::conflict("a merge is in progress; conclude it with a plain commit, not amend"));
            }
        } else {
            let unchanged = match &head {
                Some(h) => h.tree_id() == tree_id,
                None => tree.is_empty(),
            };
            if unchanged && merge_heads.is_empty() && !a.allow_empty {
                if let (true, Some(h)) = (a.skip_unchanged, &head) {
                    let commit = CommitInfo::of(h);
                    let text = format!("nothing to commit; HEAD is {} {}", commit.short_id, commit.summary);
                    let branch = current_branch(&repo);
                    return Ok(Out::new(Output {
                        commit,
                        branch,
                        amended: false,
                        files_changed: 0,
                        insertions: 0,
                        deletions: 0,
                        duplicate: false,
                        unchanged: true,
                    })
                    .text(text));
                }
                return Err(ToolError::conflict(
                    "nothing to commit: no staged changes. Stage files with git_add (or pass all: true for tracked \
                     files), or set allow_empty: true",
                ));
            }
            if let Some(h) = &head {
                parents.push(h.clone());
            }
            for m in &merge_heads {
                parents.push(repo.find_commit(*m).map_err(git_error)?);
            }
        }
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        // The commit, moving HEAD (`Some("HEAD")`, with libgit2's check that
        // the branch is still at the parent and its reflog entry) or not.
        // Written twice with the same signatures it is the same object.
        let write = |update_ref: Option<&str>| match &head {
            Some(h) if a.amend => {
                h.amend(update_ref, Some(&author), Some(&committer), None, Some(&message), Some(&tree))
            }
            _ => repo.commit(update_ref, &author, &committer, &message, &tree, &refs),
        };
        let id = match &key {
            None => write(Some("HEAD")).map_err(git_error)?,
            Some(k) => {
                let (reference, old) = head_reference(&repo)?;
                let id = write(None).map_err(git_error)?;
                match k.claim(&repo, &reference, old, id)? {
                    Claim::Taken(rec) => return replay(&repo, &rec, a.amend),
                    Claim::Mine(rec) => {
                        let written = match write(Some("HEAD")) {
                            Ok(moved) if moved != id => {
                                k.release(&repo, &rec);
                                return Err(ToolError::internal(format!(
                                    "the commit was written twice with different ids ({id}, {moved})"
                                )));
                            }
                            other => other.map(|_| ()),
                        };
                        k.finish(&repo, &rec, written, git_error)?;
                    }
                }
                id
            }
        };
        if !merge_heads.is_empty() {
            repo.cleanup_state().map_err(git_error)?;
        }
        report(&repo, id, current_branch(&repo), a.amend, None)
    })
    .await
}

/// The reference a commit on HEAD moves (the checked-out branch, or HEAD
/// itself when detached) and where it is now (none while the branch is unborn).
fn head_reference(repo: &Repository) -> Result<(String, Option<Oid>), ToolError> {
    let head = repo.find_reference("HEAD").map_err(git_error)?;
    let Some(branch) = head.symbolic_target().map_err(git_error)? else {
        return Ok(("HEAD".to_owned(), head.target()));
    };
    match repo.refname_to_id(branch) {
        Ok(id) => Ok((branch.to_owned(), Some(id))),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok((branch.to_owned(), None)),
        Err(e) => Err(git_error(e)),
    }
}

/// The answer to a call whose key is already recorded: the recorded commit,
/// after completing a branch move an interruption cut short.
fn replay(repo: &Repository, rec: &Record, amend: bool) -> Result<Out<Output>, ToolError> {
    let commit = repo.find_commit(rec.new).map_err(git_error)?;
    let branch = rec.reference.strip_prefix("refs/heads/").map(str::to_owned);
    let on = branch.as_deref().unwrap_or("HEAD");
    let kind = match commit.parent_count() {
        _ if amend => " (amend)",
        0 => " (initial)",
        1 => "",
        _ => " (merge)",
    };
    let reflog =
        format!("commit{kind}: {} (completed after an interruption)", commit.summary().ok().flatten().unwrap_or(""));
    let note = match rec.complete(repo, true, &reflog)? {
        Completion::Done => {
            "already committed under this idempotency key with the same arguments; nothing new was committed".to_owned()
        }
        Completion::Completed => {
            // A merge the interrupted call concluded: its state goes now, as
            // after any commit that concludes a merge. (MERGE_HEAD is read as
            // a file because libgit2's iterator wants the handle mutably.)
            let parents: Vec<Oid> = commit.parent_ids().skip(1).collect();
            if repo.state() == git2::RepositoryState::Merge && !parents.is_empty() {
                let heads = std::fs::read_to_string(repo.path().join("MERGE_HEAD")).unwrap_or_default();
                if heads.lines().all(|l| Oid::from_str(l.trim()).is_ok_and(|h| parents.contains(&h))) {
                    repo.cleanup_state().map_err(git_error)?;
                }
            }
            format!(
                "an earlier call with this idempotency key wrote this commit but was interrupted before {on} moved; \
                 {on} now points to it (nothing new was committed)"
            )
        }
        Completion::Elsewhere(now) => format!(
            "already committed under this idempotency key with the same arguments, but {on} has since moved to {} \
             and does not contain this commit; nothing was changed",
            now.map_or_else(|| "nothing (deleted)".to_owned(), short)
        ),
    };
    report(repo, rec.new, branch, amend, Some(note))
}

/// The result for commit `id`: its description and its changes against the
/// first parent; with a note, the recorded commit of a replay.
fn report(
    repo: &Repository,
    id: Oid,
    branch: Option<String>,
    amended: bool,
    note: Option<String>,
) -> Result<Out<Output>, ToolError> {
    let commit = repo.find_commit(id).map_err(git_error)?;
    let tree = commit.tree().map_err(git_error)?;
    let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
    let diff =
        repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut DiffOptions::new())).map_err(git_error)?;
    let stats = diff.stats().map_err(git_error)?;
    let info = CommitInfo::of(&commit);
    let mut text = format!(
        "[{} {}] {}\n {} file(s) changed, {} insertion(s)(+), {} deletion(s)(-){}",
        branch.as_deref().unwrap_or("detached HEAD"),
        info.short_id,
        info.summary,
        stats.files_changed(),
        stats.insertions(),
        stats.deletions(),
        if amended { " (amended)" } else { "" }
    );
    if let Some(n) = &note {
        text.push_str(&format!("\n(duplicate: {n})"));
    }
    Ok(Out::new(Output {
        commit: info,
        branch,
        amended,
        files_changed: stats.files_changed(),
        insertions: stats.insertions(),
        deletions: stats.deletions(),
        duplicate: note.is_some(),
        unchanged: false,
    })
    .text(text))
}
