//! `git_remote`: list, add, remove remotes and change their URLs, with every
//! URL checked against the server's remote policy.

use std::fmt::Write as _;

use mcp_core::prelude::*;

use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List remotes (default).
    List,
    /// Add remote `name` with `url`.
    Add,
    /// Remove remote `name` and its remote-tracking branches.
    Remove,
    /// Change the URL of remote `name`.
    SetUrl,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// list (default), add, remove or set_url.
    pub action: Option<Action>,
    /// Remote name, e.g. "origin".
    pub name: Option<String>,
    /// URL for add and set_url: https://host/path.git, ssh://git@host/path.git, git@host:path.git, git://host/path,
    /// or a local path or file:// URL inside the roots, as the server's policy allows. No credentials in URLs.
    pub url: Option<String>,
    /// For set_url: set the push URL only (default false: the fetch URL).
    #[serde(default)]
    pub push: bool,
}

/// One remote.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RemoteInfo {
    /// Name.
    pub name: String,
    /// Fetch URL (credentials removed).
    pub url: Option<String>,
    /// Push URL, when different (credentials removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_url: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// listed, added, removed or updated.
    pub action: String,
    /// Remotes (for list), or the one affected.
    pub remotes: Vec<RemoteInfo>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_remote",
        "Remotes: list them with their URLs, add one, remove one, or set its (push) URL. URLs must satisfy the \
         server's allowed schemes and hosts.",
        Annotations::destructive(false),
        run,
    )
    .title("Remotes")
}

fn info(git: &Git, repo: &git2::Repository, name: &str) -> Option<RemoteInfo> {
    let r = repo.find_remote(name).ok()?;
    Some(RemoteInfo {
        name: name.to_owned(),
        url: r.url().ok().map(|u| git.policy.redact(u)),
        push_url: r.pushurl().ok().flatten().map(|u| git.policy.redact(u)),
    })
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let name = || -> Result<String, ToolError> {
            let n = a.name.clone().ok_or_else(|| ToolError::invalid("this action needs name"))?;
            names::remote(&n)?;
            Ok(n)
        };
        let url = || -> Result<String, ToolError> {
            let u = a.url.clone().ok_or_else(|| ToolError::invalid("this action needs url"))?;
            Ok(git.policy.check_url(&git.roots, &u)?.url)
        };
        let out = match a.action.unwrap_or(Action::List) {
            Action::List => {
                let names = repo.remotes().map_err(git_error)?;
                let remotes = names.iter().flatten().flatten().filter_map(|n| info(&git, &repo, n)).collect();
                Output { action: "listed".into(), remotes }
            }
            Action::Add => {
                let (n, u) = (name()?, url()?);
                if repo.find_remote(&n).is_ok() {
                    return Err(ToolError::conflict(format!(
                        "remote {n:?} already exists; use action set_url to change its URL"
                    )));
                }
                repo.remote(&n, &u).map_err(git_error)?;
                Output { action: "added".into(), remotes: info(&git, &repo, &n).into_iter().collect() }
            }
            Action::Remove => {
                let n = name()?;
                let i = info(&git, &repo, &n).ok_or_else(|| ToolError::not_found(format!("no remote {n:?}")))?;
                repo.remote_delete(&n).map_err(git_error)?;
                Output { action: "removed".into(), remotes: vec![i] }
            }
            Action::SetUrl => {
                let (n, u) = (name()?, url()?);
                if repo.find_remote(&n).is_err() {
                    return Err(ToolError::not_found(format!("no remote {n:?}; add it with action add")));
                }
                if a.push {
                    repo.remote_set_pushurl(&n, Some(&u)).map_err(git_error)?;
                } else {
                    repo.remote_set_url(&n, &u).map_err(git_error)?;
                }
                Output { action: "updated".into(), remotes: info(&git, &repo, &n).into_iter().collect() }
            }
        };
        let mut t = String::new();
        for r in &out.remotes {
            let _ = writeln!(t, "{}\t{} (fetch)", r.name, r.url.as_deref().unwrap_or(""));
            let _ = writeln!(t, "{}\t{} (push)", r.name, r.push_url.as_deref().or(r.url.as_deref()).unwrap_or(""));
        }
        if out.remotes.is_empty() {
            t.push_str("no remotes\n");
        } else if out.action != "listed" {
            t = format!("{} remote:\n{t}", out.action);
        }
        Ok(Out::new(out).text(t))
    })
    .await
}
