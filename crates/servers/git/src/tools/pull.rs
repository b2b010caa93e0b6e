//! `git_pull`: fetch and integrate the upstream branch: fast-forward only by
//! default; with `ff_only: false` a merge, which may stop with a conflict report.

use std::ffi::OsString;
use std::time::Duration;

use mcp_core::prelude::*;

use super::{net_error, net_repo};
use crate::cli::pack_program;
use crate::report::{ConflictFile, conflicts, conflicts_text, identity, short};
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Remote name (default "origin").
    pub remote: Option<String>,
    /// Remote branch to pull (default: the current branch's upstream).
    pub branch: Option<String>,
    /// Only fast-forward (default true). Set false to create a merge commit when the branches have diverged.
    pub ff_only: Option<bool>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// up_to_date, fast_forward, merged or conflicts.
    pub status: String,
    /// Abbreviated HEAD before.
    pub before: Option<String>,
    /// Abbreviated HEAD after.
    pub after: Option<String>,
    /// Conflicted files (status conflicts): resolve, git_add and git_commit, or git_merge action abort.
    pub conflicts: Vec<ConflictFile>,
}

/// The tool.
pub fn tool(timeout: Duration) -> Tool<Git> {
    Tool::new(
        "git_pull",
        "Fetch from a remote and integrate into the current branch: fast-forward only by default (refuses diverged \
         branches); ff_only: false merges, reporting conflicts with their regions if any.",
        Annotations::destructive(false).open_world(),
        run,
    )
    .title("Pull")
    .timeout(timeout + Duration::from_secs(15))
}

async fn run(git: Arc<Git>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let remote = a.remote.clone().unwrap_or_else(|| "origin".into());
    if let Some(b) = &a.branch {
        names::branch(b)?;
    }
    let ff_only = a.ff_only.unwrap_or(true);
    let (g, r) = (git.clone(), a.repo.clone());
    let (before, ident) = blocking(move || {
        let repo = g.roots.open(&r)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("a bare repository has no work tree to pull into; use git_fetch"));
        }
        if repo.state() != git2::RepositoryState::Clean {
            return Err(ToolError::conflict(format!(
                "a {} is in progress; finish it (git_commit) or abort it (git_merge action abort) first",
                crate::report::state_word(&repo)
            )));
        }
        let before = repo.head().ok().and_then(|h| h.target());
        let ident = if ff_only { None } else { identity(&g, &repo, None, None).ok() };
        Ok((before, ident.map(|s| (s.name().unwrap_or("").to_owned(), s.email().unwrap_or("").to_owned()))))
    })
    .await?;
    let nr = net_repo(&git, &a.repo, &remote, false, &ctx).await?;
    let mut args: Vec<OsString> =
        vec!["pull".into(), "--no-recurse-submodules".into(), "--no-edit".into(), "--no-stat".into()];
    args.push(if ff_only { "--ff-only".into() } else { "--no-rebase".into() });
    if let Some(p) = pack_program(&nr.remote, false) {
        args.push(p);
    }
    args.push("--".into());
    args.push(remote.clone().into());
    if let Some(b) = &a.branch {
        args.push(b.into());
    }
    let mut run = nr.run(args, git.config.network_timeout);
    if let Some((n, e)) = ident {
        run.env = vec![
            ("GIT_AUTHOR_NAME".into(), n.clone()),
            ("GIT_AUTHOR_EMAIL".into(), e.clone()),
            ("GIT_COMMITTER_NAME".into(), n),
            ("GIT_COMMITTER_EMAIL".into(), e),
        ];
    }
    let o = git.cli.run(run, &ctx).await?;
    let (g, r) = (git.clone(), a.repo.clone());
    let (state_merge, after, found, merged) = blocking(move || {
        let repo = g.roots.open(&r)?;
        let after = repo.head().ok().and_then(|h| h.target());
        let merging = repo.state() == git2::RepositoryState::Merge;
        let found = if merging { conflicts(&repo)? } else { vec![] };
        let merged = match after {
            Some(id) => repo.find_commit(id).map_err(git_error)?.parent_count() > 1 && Some(id) != before,
            None => false,
        };
        Ok((merging, after, found, merged))
    })
    .await?;
    if !o.success {
        if state_merge && !found.is_empty() {
            let text = format!(
                "Pull from {remote} stopped with conflicts; the merge is in progress.\n{}Fix the conflict regions, \
                 stage with git_add and conclude with git_commit, or run git_merge action abort.",
                conflicts_text(&found)
            );
            let out = Output {
                status: "conflicts".into(),
                before: before.map(short),
                after: after.map(short),
                conflicts: found,
            };
            return Ok(Out::new(out).text(text));
        }
        let low = o.tail().to_ascii_lowercase();
        if low.contains("not possible to fast-forward") || low.contains("diverg") {
            return Err(ToolError::conflict(format!(
                "git pull refused: the local branch and {remote} have diverged, so a fast-forward is impossible.\n{}\n\
                 Pull again with ff_only: false to merge, or inspect with git_fetch and git_log first.",
                o.tail()
            )));
        }
        if low.contains("no tracking information") {
            return Err(ToolError::invalid(format!(
                "the current branch has no upstream; pass branch (the remote branch to pull). git said:\n{}",
                o.tail()
            )));
        }
        if low.contains("would be overwritten") {
            return Err(ToolError::conflict(format!(
                "local changes would be overwritten by the pull; commit or stash them first. git said:\n{}",
                o.tail()
            )));
        }
        return Err(net_error("pull", &o));
    }
    let status = if after == before {
        "up_to_date"
    } else if merged {
        "merged"
    } else {
        "fast_forward"
    };
    let text = match status {
        "up_to_date" => format!("Already up to date with {remote}."),
        s => format!(
            "Pulled from {remote} ({s}): {} -> {}",
            before.map(short).unwrap_or_else(|| "(none)".into()),
            after.map(short).unwrap_or_default()
        ),
    };
    Ok(Out::new(Output {
        status: status.into(),
        before: before.map(short),
        after: after.map(short),
        conflicts: vec![],
    })
    .text(text))
}
