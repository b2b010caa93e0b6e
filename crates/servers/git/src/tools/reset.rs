//! `git_reset`: unstage paths, or move the branch to a revision (soft, mixed,
//! or hard with `confirm`).

use git2::ResetType;
use mcp_core::prelude::*;

use crate::report::{commit_of, short};
use crate::sandbox::{git_error, pathspec, workdir};
use crate::{Git, blocking};

/// How far a reset goes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Move the branch only; the index and work tree keep the changes (staged).
    Soft,
    /// Move the branch and reset the index; changes stay in the work tree (unstaged).
    Mixed,
    /// Move the branch and discard every change to tracked files. Needs confirm: true.
    Hard,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Unstage these files (reset their index entries to `target`); the work tree is not touched. Cannot be
    /// combined with mode soft or hard.
    #[serde(default)]
    pub paths: Vec<String>,
    /// soft, mixed (default) or hard.
    pub mode: Option<Mode>,
    /// Revision to reset to (default HEAD).
    pub target: Option<String>,
    /// Required for mode hard, which discards uncommitted changes for good. Set only when that loss is intended.
    #[serde(default)]
    pub confirm: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// soft, mixed, hard, or paths.
    pub mode: String,
    /// The commit reset to.
    pub target: String,
    /// HEAD before.
    pub previous_head: Option<String>,
    /// Paths unstaged, for a path reset.
    pub paths: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_reset",
        "Unstage files (paths), or move the current branch to a revision: soft keeps changes staged, mixed keeps \
         them unstaged, hard discards them and requires confirm: true.",
        Annotations::destructive(false),
        run,
    )
    .title("Reset")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mode = a.mode.unwrap_or(Mode::Mixed);
    if !a.paths.is_empty() && mode != Mode::Mixed {
        return Err(ToolError::invalid("a path reset only unstages; leave mode out (or mixed) when giving paths"));
    }
    if mode == Mode::Hard && !a.confirm {
        return Err(ToolError::denied(
            "a hard reset discards uncommitted changes for good; call again with confirm: true if that is intended, \
             or use mode mixed to keep them",
        ));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let target_rev = a.target.as_deref().unwrap_or("HEAD");
        if !a.paths.is_empty() && a.target.is_none() && repo.head().is_err() {
            // No commit yet: unstaging means removing the entries from the index.
            let wd = workdir(&repo)?;
            let specs = a.paths.iter().map(|p| pathspec(&wd, p)).collect::<Result<Vec<_>, _>>()?;
            let mut index = repo.index().map_err(git_error)?;
            index.remove_all(specs.iter(), None).map_err(git_error)?;
            index.write().map_err(git_error)?;
            let text = format!("unstaged {} path(s): {}", specs.len(), specs.join(", "));
            return Ok(Out::new(Output {
                mode: "paths".into(),
                target: String::new(),
                previous_head: None,
                paths: specs,
            })
            .text(text));
        }
        let commit = commit_of(&repo, target_rev)?;
        let previous_head = repo.head().ok().and_then(|h| h.target()).map(short);
        if !a.paths.is_empty() {
            let wd = workdir(&repo)?;
            let specs = a.paths.iter().map(|p| pathspec(&wd, p)).collect::<Result<Vec<_>, _>>()?;
            repo.reset_default(Some(commit.as_object()), specs.iter()).map_err(git_error)?;
            let text = format!("unstaged {} path(s): {}", specs.len(), specs.join(", "));
            return Ok(Out::new(Output {
                mode: "paths".into(),
                target: commit.id().to_string(),
                previous_head,
                paths: specs,
            })
            .text(text));
        }
        if mode != Mode::Soft && repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no index or work tree; only mode soft applies"));
        }
        let kind = match mode {
            Mode::Soft => ResetType::Soft,
            Mode::Mixed => ResetType::Mixed,
            Mode::Hard => ResetType::Hard,
        };
        repo.reset(commit.as_object(), kind, None).map_err(git_error)?;
        let name = match mode {
            Mode::Soft => "soft",
            Mode::Mixed => "mixed",
            Mode::Hard => "hard",
        };
        let text = format!(
            "{name} reset: HEAD is now at {} {}",
            short(commit.id()),
            commit.summary().ok().flatten().unwrap_or("")
        );
        Ok(Out::new(Output { mode: name.into(), target: commit.id().to_string(), previous_head, paths: vec![] })
            .text(text))
    })
    .await
}
