//! `git_push`: send a branch (and optionally tags) to a remote. Force is only
//! ever `--force-with-lease`; force and deletion of protected branches are
//! refused unless `confirm: true`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::time::Duration;

use mcp_core::prelude::*;

use super::{net_error, net_repo};
use crate::cli::pack_program;
use crate::report::current_branch;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Remote name (default "origin").
    pub remote: Option<String>,
    /// Local branch to push (default: the current branch).
    pub branch: Option<String>,
    /// Name of the branch on the remote (default: the same as the local branch).
    pub remote_branch: Option<String>,
    /// Record the remote branch as the local branch's upstream (default false).
    #[serde(default)]
    pub set_upstream: bool,
    /// Also push all tags (default false).
    #[serde(default)]
    pub tags: bool,
    /// Overwrite the remote branch even if it is not an ancestor, as --force-with-lease: refused if the remote
    /// moved since your last fetch. On a protected branch also needs confirm: true.
    #[serde(default)]
    pub force: bool,
    /// Delete the remote branch instead of pushing. On a protected branch also needs confirm: true.
    #[serde(default)]
    pub delete: bool,
    /// Approve a force-push or deletion of a protected branch. Set only when a human asked for exactly that.
    #[serde(default)]
    pub confirm: bool,
}

/// One reference the remote reported on.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PushedRef {
    /// Local reference (empty for a deletion).
    pub local: String,
    /// Remote reference.
    pub remote: String,
    /// fast_forward, forced, new, deleted, up_to_date or rejected.
    pub status: String,
    /// git's summary, e.g. "abc1234..def5678" or a rejection reason.
    pub summary: String,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The remote.
    pub remote: String,
    /// Per-reference outcome.
    pub refs: Vec<PushedRef>,
    /// The upstream recorded (with set_upstream).
    pub upstream: Option<String>,
}

/// The tool.
pub fn tool(timeout: Duration) -> Tool<Git> {
    Tool::new(
        "git_push",
        "Push a branch to a remote (default: current branch to origin), optionally setting upstream and pushing \
         tags. force is --force-with-lease; force or delete on a protected branch is refused unless confirm: true.",
        Annotations::destructive(false).open_world(),
        run,
    )
    .title("Push")
    .timeout(timeout + Duration::from_secs(15))
}

/// Parse `git push --porcelain` output.
pub fn parse_porcelain(stdout: &str) -> Vec<PushedRef> {
    let mut v = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(flag), Some(refs), summary) = (parts.next(), parts.next(), parts.next()) else { continue };
        if flag.chars().count() != 1 {
            continue;
        }
        let (local, remote) = refs.split_once(':').unwrap_or(("", refs));
        let status = match flag {
            " " => "fast_forward",
            "+" => "forced",
            "-" => "deleted",
            "*" => "new",
            "=" => "up_to_date",
            "!" => "rejected",
            _ => "unknown",
        };
        v.push(PushedRef {
            local: local.to_owned(),
            remote: remote.to_owned(),
            status: status.to_owned(),
            summary: summary.unwrap_or("").to_owned(),
        });
    }
    v
}

async fn run(git: Arc<Git>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let remote = a.remote.clone().unwrap_or_else(|| "origin".into());
    if a.delete && (a.force || a.set_upstream || a.tags) {
        return Err(ToolError::invalid("delete cannot be combined with force, set_upstream or tags"));
    }
    for b in [&a.branch, &a.remote_branch].into_iter().flatten() {
        names::branch(b)?;
    }
    let (g, r, br) = (git.clone(), a.repo.clone(), a.branch.clone());
    let local = blocking(move || {
        let repo = g.roots.open(&r)?;
        let local = match br {
            Some(b) => b,
            None => current_branch(&repo)
                .ok_or_else(|| ToolError::invalid("HEAD is detached; pass branch (the local branch to push)"))?,
        };
        Ok(local)
    })
    .await?;
    let target = a.remote_branch.clone().unwrap_or_else(|| local.clone());
    names::branch(&target)?;
    if git.policy.is_protected(&target) && (a.force || a.delete) && !a.confirm {
        return Err(ToolError::denied(format!(
            "{target:?} is a protected branch ({}); {} it is refused without confirm: true. Push to another branch, \
             or ask a human and call again with confirm: true only if they approve",
            git.policy.protected_patterns().join(", "),
            if a.delete { "deleting" } else { "force-pushing" }
        )));
    }
    if !a.delete {
        let (g, r, l) = (git.clone(), a.repo.clone(), local.clone());
        blocking(move || {
            let repo = g.roots.open(&r)?;
            repo.find_branch(&l, git2::BranchType::Local).map(|_| ()).map_err(|_| {
                ToolError::not_found(format!(
                    "no local branch {l:?} (with commits) to push; list branches with git_branch"
                ))
            })
        })
        .await?;
    }
    let nr = net_repo(&git, &a.repo, &remote, true, &ctx).await?;
    let mut args: Vec<OsString> = vec!["push".into(), "--porcelain".into(), "--recurse-submodules=no".into()];
    if let Some(p) = pack_program(&nr.remote, true) {
        args.push(p);
    }
    if a.set_upstream {
        args.push("--set-upstream".into());
    }
    if a.force {
        args.push(format!("--force-with-lease=refs/heads/{target}").into());
    }
    if a.tags {
        args.push("--tags".into());
    }
    args.push("--".into());
    args.push(remote.clone().into());
    args.push(
        if a.delete { format!(":refs/heads/{target}") } else { format!("refs/heads/{local}:refs/heads/{target}") }
            .into(),
    );
    let o = git.cli.run(nr.run(args, git.config.network_timeout), &ctx).await?;
    let refs = parse_porcelain(&o.stdout);
    if !o.success {
        let rejected: Vec<String> =
            refs.iter().filter(|r| r.status == "rejected").map(|r| format!("{} ({})", r.remote, r.summary)).collect();
        if !rejected.is_empty() {
            let why = rejected.join(", ");
            let hint = if why.contains("stale info") {
                "The remote moved since your last fetch, so the lease failed: git_fetch, review, then push again."
            } else {
                "The remote has commits you do not have: git_pull (or git_fetch and git_merge) first, then push again."
            };
            return Err(ToolError::conflict(format!("push rejected: {why}.\n{}\n{hint}", o.tail())));
        }
        return Err(net_error("push", &o));
    }
    let upstream = a.set_upstream.then(|| format!("{remote}/{target}"));
    let mut t = format!("pushed to {remote}:\n");
    for r in &refs {
        let _ = writeln!(t, "  {} {} -> {} {}", r.status, r.local, r.remote, r.summary);
    }
    if let Some(u) = &upstream {
        let _ = writeln!(t, "  {local} now tracks {u}");
    }
    Ok(Out::new(Output { remote, refs, upstream }).text(t))
}
