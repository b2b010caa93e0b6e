//! `git_branch`: list, create, delete and rename branches.

use std::fmt::Write as _;

use git2::BranchType;
use mcp_core::prelude::*;

use crate::report::{commit_of, current_branch, short};
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// List branches (default).
    List,
    /// Create `name` at `base`.
    Create,
    /// Delete local branch `name`.
    Delete,
    /// Rename local branch `name` to `new_name`.
    Rename,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// list (default), create, delete or rename.
    pub action: Option<Action>,
    /// The branch to create, delete or rename.
    pub name: Option<String>,
    /// New name, for rename.
    pub new_name: Option<String>,
    /// Where a new branch starts: a branch, tag or commit (default HEAD).
    pub base: Option<String>,
    /// For list: include remote-tracking branches (default false).
    #[serde(default)]
    pub remotes: bool,
    /// For delete: delete even if not merged into HEAD; for rename: overwrite an existing new_name.
    #[serde(default)]
    pub force: bool,
    /// Deleting or renaming a protected branch (GIT_PROTECTED_BRANCHES) needs confirm: true, in every form.
    #[serde(default)]
    pub confirm: bool,
}

/// One branch.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BranchInfo {
    /// Short name, e.g. "main" or "origin/main".
    pub name: String,
    /// local or remote.
    pub kind: String,
    /// True for the checked-out branch.
    pub current: bool,
    /// Abbreviated commit id.
    pub commit: Option<String>,
    /// First line of the commit message.
    pub summary: Option<String>,
    /// Upstream of a local branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// What was done: listed, created, deleted or renamed.
    pub action: String,
    /// Branches (for list), or the one affected.
    pub branches: Vec<BranchInfo>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_branch",
        "Branches: list local (and remote-tracking with remotes: true), create from a base, delete (refused when \
         not merged unless force) or rename.",
        Annotations::destructive(false),
        run,
    )
    .title("Branches")
}

fn info(b: &git2::Branch<'_>, kind: BranchType) -> BranchInfo {
    let name = b.name().ok().flatten().unwrap_or("").to_owned();
    let commit = b.get().peel_to_commit().ok();
    let upstream = if kind == BranchType::Local {
        b.upstream().ok().and_then(|u| u.name().ok().flatten().map(str::to_owned))
    } else {
        None
    };
    BranchInfo {
        current: kind == BranchType::Local && b.is_head(),
        kind: if kind == BranchType::Local { "local" } else { "remote" }.into(),
        commit: commit.as_ref().map(|c| short(c.id())),
        summary: commit.as_ref().and_then(|c| c.summary().ok().flatten().map(str::to_owned)),
        upstream,
        name,
    }
}

fn need<'a>(v: &'a Option<String>, what: &str, action: &str) -> Result<&'a str, ToolError> {
    v.as_deref().ok_or_else(|| ToolError::invalid(format!("{action} needs {what}")))
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let out = match a.action.unwrap_or(Action::List) {
            Action::List => {
                let mut v = Vec::new();
                let filter = if a.remotes { None } else { Some(BranchType::Local) };
                for b in repo.branches(filter).map_err(git_error)? {
                    let (b, kind) = b.map_err(git_error)?;
                    if kind == BranchType::Remote && b.get().symbolic_target().ok().flatten().is_some() {
                        continue; // origin/HEAD
                    }
                    v.push(info(&b, kind));
                }
                v.sort_by(|x, y| (&x.kind, &x.name).cmp(&(&y.kind, &y.name)));
                Output { action: "listed".into(), branches: v }
            }
            Action::Create => {
                let name = need(&a.name, "name", "create")?;
                names::branch(name)?;
                let base = commit_of(&repo, a.base.as_deref().unwrap_or("HEAD"))?;
                let b = repo.branch(name, &base, false).map_err(|e| {
                    if e.code() == git2::ErrorCode::Exists {
                        ToolError::conflict(format!(
                            "branch {name:?} already exists; pick another name or delete it first"
                        ))
                    } else {
                        git_error(e)
                    }
                })?;
                Output { action: "created".into(), branches: vec![info(&b, BranchType::Local)] }
            }
            Action::Delete => {
                let name = need(&a.name, "name", "delete")?;
                names::branch(name)?;
                protected_needs_confirm(&git, name, "delete", a.confirm)?;
                let mut b = repo.find_branch(name, BranchType::Local).map_err(|_| {
                    ToolError::not_found(format!("no local branch {name:?}; list them with git_branch"))
                })?;
                if b.is_head() {
                    return Err(ToolError::conflict(format!(
                        "{name:?} is the current branch; switch to another with git_checkout first"
                    )));
                }
                let tip = b.get().target();
                if !a.force
                    && let (Some(tip), Some(head)) = (tip, repo.head().ok().and_then(|h| h.target()))
                    && tip != head
                    && !repo.graph_descendant_of(head, tip).unwrap_or(false)
                {
                    return Err(ToolError::conflict(format!(
                        "branch {name:?} is not merged into HEAD; its commits would only stay reachable through the \
                         reflog. Merge it first, or pass force: true to delete it anyway"
                    )));
                }
                let i = info(&b, BranchType::Local);
                b.delete().map_err(git_error)?;
                Output { action: "deleted".into(), branches: vec![i] }
            }
            Action::Rename => {
                let name = need(&a.name, "name", "rename")?;
                let new_name = need(&a.new_name, "new_name", "rename")?;
                names::branch(name)?;
                protected_needs_confirm(&git, name, "rename", a.confirm)?;
                if a.force {
                    protected_needs_confirm(&git, new_name, "overwrite", a.confirm)?;
                }
                names::branch(new_name)?;
                let mut b = repo.find_branch(name, BranchType::Local).map_err(|_| {
                    ToolError::not_found(format!("no local branch {name:?}; list them with git_branch"))
                })?;
                let nb = b.rename(new_name, a.force).map_err(|e| {
                    if e.code() == git2::ErrorCode::Exists {
                        ToolError::conflict(format!(
                            "branch {new_name:?} already exists; pass force: true to overwrite it"
                        ))
                    } else {
                        git_error(e)
                    }
                })?;
                Output { action: "renamed".into(), branches: vec![info(&nb, BranchType::Local)] }
            }
        };
        let mut t = String::new();
        if out.action == "listed" {
            for b in &out.branches {
                let _ = writeln!(
                    t,
                    "{} {}{} {} {}{}",
                    if b.current { "*" } else { " " },
                    if b.kind == "remote" { "remotes/" } else { "" },
                    b.name,
                    b.commit.as_deref().unwrap_or("(no commit)"),
                    b.summary.as_deref().unwrap_or(""),
                    b.upstream.as_ref().map(|u| format!(" [{u}]")).unwrap_or_default()
                );
            }
            if out.branches.is_empty() {
                let _ = writeln!(t, "no branches yet (current: {})", current_branch(&repo).unwrap_or_default());
            }
        } else if let Some(b) = out.branches.first() {
            let _ = write!(t, "{} branch {} at {}", out.action, b.name, b.commit.as_deref().unwrap_or("?"));
        }
        Ok(Out::new(out).text(t))
    })
    .await
}

/// A protected branch is deleted, renamed or overwritten only with `confirm`.
fn protected_needs_confirm(git: &Git, name: &str, what: &str, confirm: bool) -> Result<(), ToolError> {
    if git.policy.is_protected(name) && !confirm {
        return Err(ToolError::denied(format!(
            "{name:?} is a protected branch ({}); to {what} it, call again with confirm: true",
            git.policy.protected_patterns().join(", ")
        )));
    }
    Ok(())
}
