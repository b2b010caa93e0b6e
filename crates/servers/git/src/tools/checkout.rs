//! `git_checkout`: switch branches (optionally creating one) or detach at a
//! revision, refusing to overwrite local changes unless forced.

use std::cell::RefCell;

use git2::build::CheckoutBuilder;
use git2::{BranchType, CheckoutNotificationType};
use mcp_core::prelude::*;

use crate::report::{commit_of, short};
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Branch to switch to. A name found only as a remote-tracking branch (origin/NAME) creates a local branch
    /// tracking it. Any other revision (tag, commit id) checks out a detached HEAD.
    pub target: String,
    /// Create `target` as a new branch at `base` and switch to it (default false).
    #[serde(default)]
    pub create: bool,
    /// Start of the new branch with create (default HEAD).
    pub base: Option<String>,
    /// Discard local changes that would be overwritten (default false: refuse and list them).
    #[serde(default)]
    pub force: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The branch now checked out; absent when detached.
    pub branch: Option<String>,
    /// Abbreviated id of HEAD.
    pub head: String,
    /// True when HEAD is detached.
    pub detached: bool,
    /// True when a branch was created.
    pub created: bool,
    /// Upstream set for a branch created from a remote-tracking branch.
    pub tracking: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_checkout",
        "Switch to a branch (create: true makes it from base), or detach at a tag or commit. Refuses when local \
         changes would be overwritten, listing the files, unless force: true (which discards them).",
        Annotations::destructive(false),
        run,
    )
    .title("Switch branch")
}

/// Check out `tree` safely (or by force), listing the files that block it.
pub fn checkout_tree(repo: &git2::Repository, obj: &git2::Object<'_>, force: bool) -> Result<(), ToolError> {
    let blocked = RefCell::new(Vec::<String>::new());
    let r = {
        let mut cb = CheckoutBuilder::new();
        if force {
            cb.force();
        } else {
            cb.safe();
        }
        cb.notify_on(CheckoutNotificationType::CONFLICT);
        cb.notify(|_, path, _, _, _| {
            if let Some(p) = path {
                blocked.borrow_mut().push(p.display().to_string());
            }
            true
        });
        repo.checkout_tree(obj, Some(&mut cb))
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.code() == git2::ErrorCode::Conflict || !blocked.borrow().is_empty() => {
            let files = blocked.into_inner();
            Err(ToolError::conflict(format!(
                "your local changes to {} would be overwritten; nothing was changed. Commit them (git_commit), stash \
                 them (git_stash), or pass force: true to discard them",
                if files.is_empty() { "some files".to_owned() } else { files.join(", ") }
            )))
        }
        Err(e) => Err(git_error(e)),
    }
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    names::revision(&a.target)?;
    if let Some(b) = &a.base {
        names::revision(b)?;
    }
    if a.base.is_some() && !a.create {
        return Err(ToolError::invalid("base only applies with create: true"));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no work tree to check out"));
        }
        if repo.state() != git2::RepositoryState::Clean && !a.force {
            return Err(ToolError::conflict(format!(
                "a {} is in progress; finish it or abort it (git_merge action abort) first",
                crate::report::state_word(&repo)
            )));
        }
        let t = a.target.as_str();
        let (commit, refname, created, tracking) = if a.create {
            names::branch(t)?;
            if repo.find_branch(t, BranchType::Local).is_ok() {
                return Err(ToolError::conflict(format!("branch {t:?} already exists; check it out without create")));
            }
            let c = commit_of(&repo, a.base.as_deref().unwrap_or("HEAD"))?;
            (c, Some(format!("refs/heads/{t}")), true, None)
        } else if let Ok(b) = repo.find_branch(t, BranchType::Local) {
            let c = b.get().peel_to_commit().map_err(git_error)?;
            (c, Some(format!("refs/heads/{t}")), false, None)
        } else {
            let remotes: Vec<String> = repo
                .branches(Some(BranchType::Remote))
                .map_err(git_error)?
                .filter_map(Result::ok)
                .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_owned))
                .filter(|n| n.split_once('/').is_some_and(|(_, rest)| rest == t))
                .collect();
            if remotes.len() == 1 && names::branch(t).is_ok() {
                let rb = repo.find_branch(&remotes[0], BranchType::Remote).map_err(git_error)?;
                let c = rb.get().peel_to_commit().map_err(git_error)?;
                (c, Some(format!("refs/heads/{t}")), true, Some(remotes[0].clone()))
            } else {
                let c = commit_of(&repo, t).map_err(|_| {
                    ToolError::not_found(format!(
                        "{t:?} is neither a branch nor a revision; list branches with git_branch, or pass create: true \
                         to make it"
                    ))
                })?;
                (c, None, false, None)
            }
        };
        checkout_tree(&repo, commit.as_object(), a.force)?;
        match &refname {
            Some(r) => {
                if created {
                    let mut b = repo.branch(t, &commit, false).map_err(git_error)?;
                    if let Some(up) = &tracking {
                        b.set_upstream(Some(up)).map_err(git_error)?;
                    }
                }
                repo.set_head(r).map_err(git_error)?;
            }
            None => repo.set_head_detached(commit.id()).map_err(git_error)?,
        }
        let out = Output {
            branch: refname.as_ref().map(|_| t.to_owned()),
            head: short(commit.id()),
            detached: refname.is_none(),
            created,
            tracking,
        };
        let text = match (&out.branch, out.created) {
            (Some(b), true) => format!(
                "Switched to a new branch '{b}' at {}{}",
                out.head,
                out.tracking.as_ref().map(|u| format!(", tracking {u}")).unwrap_or_default()
            ),
            (Some(b), false) => format!("Switched to branch '{b}' at {}", out.head),
            (None, _) => {
                format!("HEAD is now detached at {} {}", out.head, commit.summary().ok().flatten().unwrap_or(""))
            }
        };
        Ok(Out::new(out).text(text))
    })
    .await
}
