//! `git_fetch`: download commits and references from a remote, reporting
//! which remote-tracking branches and tags moved.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::time::Duration;

use mcp_core::prelude::*;

use super::{RefUpdate, net_error, net_repo, ref_updates, refs_snapshot};
use crate::cli::pack_program;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Remote name (default "origin").
    pub remote: Option<String>,
    /// Only these branches or refspecs (default: the remote's configured ones).
    #[serde(default)]
    pub refspecs: Vec<String>,
    /// Remove remote-tracking branches that no longer exist on the remote (default false).
    #[serde(default)]
    pub prune: bool,
    /// Fetch all tags too (default false: only tags pointing into fetched history).
    #[serde(default)]
    pub tags: bool,
    /// Deepen or limit a shallow repository to N commits.
    pub depth: Option<u32>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The remote fetched from.
    pub remote: String,
    /// Remote-tracking branches and tags that were created, moved or deleted.
    pub updated: Vec<RefUpdate>,
}

/// The tool.
pub fn tool(timeout: Duration) -> Tool<Git> {
    Tool::new(
        "git_fetch",
        "Fetch from a remote (default origin): updates remote-tracking branches and tags, never your branches or \
         work tree. Reports which references moved.",
        Annotations::additive(true).open_world(),
        run,
    )
    .title("Fetch")
    .timeout(timeout + Duration::from_secs(15))
}

/// Remote-tracking and tag references, for before/after comparison.
pub async fn snapshot(git: &Arc<Git>, repo: &str, remote: &str) -> Result<Vec<(String, String)>, ToolError> {
    let (g, r, prefix) = (git.clone(), repo.to_owned(), format!("refs/remotes/{remote}/"));
    blocking(move || {
        let repo = g.roots.open(&r)?;
        refs_snapshot(&repo, &[prefix.as_str(), "refs/tags/", "refs/heads/"])
    })
    .await
}

async fn run(git: Arc<Git>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let remote = a.remote.clone().unwrap_or_else(|| "origin".into());
    for r in &a.refspecs {
        names::refspec(r)?;
    }
    if a.refspecs.len() > 50 {
        return Err(ToolError::invalid("at most 50 refspecs"));
    }
    if a.depth == Some(0) {
        return Err(ToolError::invalid("depth must be at least 1"));
    }
    let nr = net_repo(&git, &a.repo, &remote, false, &ctx).await?;
    let before = snapshot(&git, &a.repo, &remote).await?;
    let mut args: Vec<OsString> =
        vec!["fetch".into(), "--no-recurse-submodules".into(), "--no-write-fetch-head".into()];
    if let Some(p) = pack_program(&nr.remote, false) {
        args.push(p);
    }
    if a.prune {
        args.push("--prune".into());
    }
    if a.tags {
        args.push("--tags".into());
    }
    if let Some(d) = a.depth {
        args.push(format!("--depth={d}").into());
    }
    args.push("--".into());
    args.push(remote.clone().into());
    args.extend(a.refspecs.iter().map(OsString::from));
    let o = git.cli.run(nr.run(args, git.config.network_timeout), &ctx).await?;
    if !o.success {
        return Err(net_error("fetch", &o));
    }
    let after = snapshot(&git, &a.repo, &remote).await?;
    let updated = ref_updates(&before, &after);
    let mut t = format!("fetched from {remote}");
    if updated.is_empty() {
        t.push_str(": already up to date");
    }
    t.push('\n');
    for u in &updated {
        let s = |x: &Option<String>| x.as_deref().map_or("(none)".to_owned(), |v| v[..7.min(v.len())].to_owned());
        let _ = writeln!(t, "  {} {}..{}", u.reference, s(&u.old), s(&u.new));
    }
    Ok(Out::new(Output { remote, updated }).text(t))
}
