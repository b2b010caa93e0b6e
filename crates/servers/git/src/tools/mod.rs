//! The tools, one per file. The registry is in `lib.rs`; what network tools
//! share (repository preparation, remote checks, error mapping) is here.

pub mod add;
pub mod blame;
pub mod branch;
pub mod checkout;
pub mod clone;
pub mod commit;
pub mod diff;
pub mod fetch;
pub mod init;
pub mod log;
pub mod merge;
pub mod pull;
pub mod push;
pub mod reflog;
pub mod remote;
pub mod reset;
pub mod show;
pub mod stash;
pub mod status;
pub mod tag;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::prelude::*;

use crate::cli::{self, Output, Run};
use crate::policy::RemoteUrl;
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// The ready check: `git --version` runs in the controlled environment.
pub async fn version(git: &Git) -> Result<String, String> {
    let root = git.roots.paths().first().cloned().unwrap_or_else(|| PathBuf::from("/"));
    let o = git
        .cli
        .run(
            Run {
                cwd: &root,
                git_dir: None,
                work_tree: None,
                args: vec!["--version".into()],
                remote: None,
                timeout: Duration::from_secs(10),
                env: vec![],
            },
            &Ctx::detached(Duration::from_secs(10)),
        )
        .await
        .map_err(|e| e.to_string())?;
    if o.success { Ok(o.stdout.trim().to_owned()) } else { Err(format!("git --version failed: {}", o.tail())) }
}

/// A repository prepared for a network operation.
pub struct NetRepo {
    /// Canonical git directory.
    pub git_dir: PathBuf,
    /// Canonical work tree (none for bare repositories).
    pub work_tree: Option<PathBuf>,
    /// The remote's name.
    pub remote_name: String,
    /// The URL git will contact, checked against the policy.
    pub remote: RemoteUrl,
}

impl NetRepo {
    /// A run inside this repository.
    pub fn run(&self, args: Vec<OsString>, timeout: Duration) -> Run<'_> {
        Run {
            cwd: self.work_tree.as_deref().unwrap_or(&self.git_dir),
            git_dir: Some(&self.git_dir),
            work_tree: self.work_tree.as_deref(),
            args,
            remote: Some(&self.remote),
            timeout,
            env: vec![],
        }
    }
}

/// Open `repo`, refuse a dangerous configuration, and check every URL of
/// `remote` (push URLs when `push`) against the policy.
pub async fn net_repo(git: &Arc<Git>, repo: &str, remote: &str, push: bool, ctx: &Ctx) -> Result<NetRepo, ToolError> {
    names::remote(remote)?;
    let (g, r) = (git.clone(), repo.to_owned());
    let (git_dir, work_tree) = blocking(move || {
        let repo = g.roots.open(&r)?;
        let gd = std::fs::canonicalize(repo.path()).map_err(ToolError::internal)?;
        let wt = repo.workdir().map(std::fs::canonicalize).transpose().map_err(ToolError::internal)?;
        Ok((gd, wt))
    })
    .await?;
    let cwd = work_tree.clone().unwrap_or_else(|| git_dir.clone());
    let entries = cli::local_config(&git.cli, &git_dir, &cwd, ctx).await?;
    cli::scan_config(&entries)?;
    let urls = cli::remote_urls(&entries, remote, push);
    if urls.is_empty() {
        return Err(ToolError::not_found(format!(
            "the repository has no remote named {remote:?}; list remotes with git_remote, or add one with git_remote action add"
        )));
    }
    let mut checked = Vec::new();
    for u in &urls {
        let scp_like = u.split_once(':').is_some_and(|(l, _)| !l.contains('/'));
        if !u.contains("://") && !u.starts_with('/') && !scp_like {
            // git resolves a relative path from the work tree, the policy from
            // the first root: refuse rather than check a different place.
            return Err(ToolError::invalid(format!(
                "remote {remote:?} has the relative path {u:?} as URL; set an absolute path or file:// URL with \
                 git_remote action set_url"
            )));
        }
        checked.push(git.policy.check_url(&git.roots, u).map_err(|e| match e {
            ToolError::Denied(m) => ToolError::Denied(format!("remote {remote:?}: {m}")),
            other => other,
        })?);
    }
    let remote_url = checked.swap_remove(0);
    Ok(NetRepo { git_dir, work_tree, remote_name: remote.to_owned(), remote: remote_url })
}

/// Map a failed network command to an error that says what happened and what to do.
pub fn net_error(op: &str, o: &Output) -> ToolError {
    let tail = o.tail();
    let low = tail.to_ascii_lowercase();
    let msg = format!("git {op} failed (exit {}):\n{tail}", o.code.map_or("signal".into(), |c| c.to_string()));
    if low.contains("authentication failed")
        || low.contains("could not read username")
        || low.contains("unable to get password")
        || low.contains("could not read password")
        || low.contains("terminal prompts disabled")
        || low.contains(" 401")
        || low.contains(" 403")
        || low.contains("permission denied (publickey")
        || low.contains("host key verification failed")
    {
        ToolError::Failed(format!(
            "{msg}\nThe remote refused the credentials. The server authenticates with its configured GIT_HTTPS_TOKEN \
             or GIT_SSH_KEY_FILE (and GIT_SSH_KNOWN_HOSTS); check that one is set and grants access to this remote."
        ))
    } else if low.contains("could not resolve host")
        || low.contains("connection refused")
        || low.contains("unable to connect")
        || low.contains("unable to access")
        || low.contains("timed out")
    {
        ToolError::Unavailable(format!("{msg}\nThe remote could not be reached; check the URL or retry later."))
    } else if low.contains("[rejected]") || low.contains("non-fast-forward") || low.contains("stale info") {
        ToolError::Conflict(format!(
            "{msg}\nThe remote has commits you do not have. Fetch and merge (git_pull) first, then push again."
        ))
    } else {
        ToolError::Failed(msg)
    }
}

/// Snapshot of references under `prefixes`: name → target.
pub fn refs_snapshot(repo: &git2::Repository, prefixes: &[&str]) -> Result<Vec<(String, String)>, ToolError> {
    let mut v = Vec::new();
    for r in repo.references().map_err(git_error)? {
        let r = r.map_err(git_error)?;
        let Ok(name) = r.name() else { continue };
        if prefixes.iter().any(|p| name.starts_with(p))
            && let Some(t) = r.target()
        {
            v.push((name.to_owned(), t.to_string()));
        }
    }
    v.sort();
    Ok(v)
}

/// A reference that changed between two snapshots.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RefUpdate {
    /// Full reference name.
    pub reference: String,
    /// Old target (absent for a new reference).
    pub old: Option<String>,
    /// New target (absent for a deleted reference).
    pub new: Option<String>,
}

/// The differences between two snapshots.
pub fn ref_updates(before: &[(String, String)], after: &[(String, String)]) -> Vec<RefUpdate> {
    let mut out = Vec::new();
    for (name, new) in after {
        let old = before.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());
        if old.as_deref() != Some(new.as_str()) {
            out.push(RefUpdate { reference: name.clone(), old, new: Some(new.clone()) });
        }
    }
    for (name, old) in before {
        if !after.iter().any(|(n, _)| n == name) {
            out.push(RefUpdate { reference: name.clone(), old: Some(old.clone()), new: None });
        }
    }
    out
}
