//! `git_clone`: copy a remote repository into a new folder under the roots,
//! through the git command line under the server's policy.

use std::ffi::OsString;
use std::time::Duration;

use mcp_core::prelude::*;

use crate::cli::{Run, pack_program};
use crate::report::{current_branch, short};
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to clone: https://host/path.git, ssh://git@host/path.git, git@host:path.git, git://host/path, or a
    /// local path / file:// URL inside the roots, as the server's policy allows. No credentials in the URL: the
    /// server adds its configured token or SSH key.
    pub url: String,
    /// New folder for the clone, absolute or relative to the first root. Must not exist or be empty.
    pub path: String,
    /// Shallow clone with only the last N commits (implies single_branch unless that is set to false).
    pub depth: Option<u32>,
    /// Branch (or tag) to check out instead of the remote's default.
    pub branch: Option<String>,
    /// Fetch only one branch (true) or all (false); default: true with depth, else false.
    pub single_branch: Option<bool>,
    /// Make a bare clone without a work tree (default false).
    #[serde(default)]
    pub bare: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Canonical path of the new repository.
    pub path: String,
    /// The URL cloned (credentials removed).
    pub url: String,
    /// The branch checked out.
    pub branch: Option<String>,
    /// Abbreviated id of HEAD.
    pub head: Option<String>,
    /// True for a bare clone.
    pub bare: bool,
    /// True for a shallow clone.
    pub shallow: bool,
}

/// The tool.
pub fn tool(timeout: Duration) -> Tool<Git> {
    Tool::new(
        "git_clone",
        "Clone a remote repository into a new folder under the roots: optionally shallow (depth), one branch, or \
         bare. Authenticates with the server's configured credentials; times out and reports git's error.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Clone")
    .timeout(timeout + Duration::from_secs(15))
}

async fn run(git: Arc<Git>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let remote = git.policy.check_url(&git.roots, &a.url)?;
    if let Some(b) = &a.branch {
        names::branch(b)?;
    }
    if a.depth == Some(0) {
        return Err(ToolError::invalid("depth must be at least 1"));
    }
    let dest = git.roots.new_path("path", &a.path)?;
    if let Ok(mut rd) = std::fs::read_dir(&dest)
        && rd.next().is_some()
    {
        return Err(ToolError::conflict(format!(
            "{} already exists and is not empty; choose a new folder",
            dest.display()
        )));
    }
    if dest.exists() && !dest.is_dir() {
        return Err(ToolError::conflict(format!("{} exists and is not a folder", dest.display())));
    }
    let mut args: Vec<OsString> = vec!["clone".into(), "--no-recurse-submodules".into(), "--no-hardlinks".into()];
    if let Some(p) = pack_program(&remote, false) {
        args.push(p);
    }
    if let Some(d) = a.depth {
        args.push(format!("--depth={d}").into());
    }
    if let Some(b) = &a.branch {
        args.push(format!("--branch={b}").into());
    }
    match a.single_branch {
        Some(true) => args.push("--single-branch".into()),
        Some(false) => args.push("--no-single-branch".into()),
        None => {}
    }
    if a.bare {
        args.push("--bare".into());
    }
    args.push("--".into());
    args.push(remote.url.clone().into());
    args.push(dest.clone().into_os_string());
    let cwd = git.roots.paths()[0].clone();
    let o = git
        .cli
        .run(
            Run {
                cwd: &cwd,
                git_dir: None,
                work_tree: None,
                args,
                remote: Some(&remote),
                timeout: git.config.network_timeout,
                env: vec![],
            },
            &ctx,
        )
        .await?;
    if !o.success {
        return Err(super::net_error("clone", &o));
    }
    let shown = git.policy.redact(&remote.url);
    blocking(move || {
        let repo = git.roots.open(&dest.display().to_string())?;
        let out = Output {
            path: dest.display().to_string(),
            url: shown,
            branch: current_branch(&repo),
            head: repo.head().ok().and_then(|h| h.target()).map(short),
            bare: repo.is_bare(),
            shallow: repo.is_shallow(),
        };
        let text = format!(
            "Cloned {} into {}{}{} (branch {}, HEAD {})",
            out.url,
            out.path,
            if out.bare { ", bare" } else { "" },
            if out.shallow { ", shallow" } else { "" },
            out.branch.as_deref().unwrap_or("?"),
            out.head.as_deref().unwrap_or("none")
        );
        Ok(Out::new(out).text(text))
    })
    .await
}
