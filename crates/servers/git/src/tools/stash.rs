//! `git_stash`: set local changes aside (push), list them, bring them back
//! (pop) or drop them.

use std::fmt::Write as _;

use git2::{StashApplyOptions, StashFlags};
use mcp_core::prelude::*;

use crate::report::{identity, short};
use crate::sandbox::git_error;
use crate::{Git, blocking};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Save local changes and clean the work tree.
    Push,
    /// List stashes (default).
    List,
    /// Re-apply a stash and remove it.
    Pop,
    /// Delete a stash without applying it.
    Drop,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// push, list (default), pop or drop.
    pub action: Option<Action>,
    /// Description for push.
    pub message: Option<String>,
    /// For push: also stash untracked files (default false).
    #[serde(default)]
    pub include_untracked: bool,
    /// For pop and drop: which stash, 0 being the newest (default 0).
    #[serde(default)]
    pub index: usize,
}

/// One stash.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StashInfo {
    /// Position: 0 is the newest (stash@{0}).
    pub index: usize,
    /// Its description.
    pub message: String,
    /// Abbreviated id of the stash commit.
    pub id: String,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// pushed, listed, popped or dropped.
    pub action: String,
    /// Stashes (for list), or the one affected.
    pub stashes: Vec<StashInfo>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_stash",
        "Stash local changes: push saves them and cleans the work tree, list shows stashes, pop re-applies one and \
         removes it (refused if it would conflict), drop deletes one.",
        Annotations::destructive(false),
        run,
    )
    .title("Stash")
}

fn list(repo: &mut git2::Repository) -> Result<Vec<StashInfo>, ToolError> {
    let mut v = Vec::new();
    repo.stash_foreach(|i, msg, id| {
        v.push(StashInfo { index: i, message: msg.to_owned(), id: short(*id) });
        v.len() < 1000
    })
    .map_err(git_error)?;
    Ok(v)
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let mut repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no work tree to stash"));
        }
        let out = match a.action.unwrap_or(Action::List) {
            Action::List => Output { action: "listed".into(), stashes: list(&mut repo)? },
            Action::Push => {
                let sig = identity(&git, &repo, None, None)?;
                if let Some(m) = &a.message
                    && (m.contains('\0') || m.len() > 4096)
                {
                    return Err(ToolError::invalid("message must be under 4096 bytes without NUL"));
                }
                let flags = if a.include_untracked { StashFlags::INCLUDE_UNTRACKED } else { StashFlags::DEFAULT };
                repo.stash_save2(&sig, a.message.as_deref(), Some(flags)).map_err(|e| {
                    if e.code() == git2::ErrorCode::NotFound {
                        ToolError::conflict("there are no local changes to stash")
                    } else {
                        git_error(e)
                    }
                })?;
                let first = list(&mut repo)?.into_iter().next();
                Output { action: "pushed".into(), stashes: first.into_iter().collect() }
            }
            Action::Pop | Action::Drop => {
                let all = list(&mut repo)?;
                let Some(entry) = all.into_iter().find(|s| s.index == a.index) else {
                    return Err(ToolError::not_found(format!(
                        "no stash at index {}; list them with git_stash",
                        a.index
                    )));
                };
                if a.action == Some(Action::Pop) {
                    let mut o = StashApplyOptions::new();
                    repo.stash_pop(a.index, Some(&mut o)).map_err(|e| match e.code() {
                        git2::ErrorCode::Conflict | git2::ErrorCode::MergeConflict => ToolError::conflict(
                            "applying the stash would overwrite local changes or conflict; commit or discard them \
                             first. The stash was kept",
                        ),
                        _ => git_error(e),
                    })?;
                    Output { action: "popped".into(), stashes: vec![entry] }
                } else {
                    repo.stash_drop(a.index).map_err(git_error)?;
                    Output { action: "dropped".into(), stashes: vec![entry] }
                }
            }
        };
        let mut t = String::new();
        if out.action == "listed" {
            for s in &out.stashes {
                let _ = writeln!(t, "stash@{{{}}} {} {}", s.index, s.id, s.message);
            }
            if out.stashes.is_empty() {
                t.push_str("no stashes\n");
            }
        } else if let Some(s) = out.stashes.first() {
            let _ = write!(t, "{} stash@{{{}}}: {}", out.action, s.index, s.message);
        }
        Ok(Out::new(out).text(t))
    })
    .await
}
