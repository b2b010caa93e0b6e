//! `git_init`: create a repository (or re-initialise an existing one, which is harmless).

use mcp_core::prelude::*;

use crate::report::current_branch;
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Folder of the new repository, absolute or relative to the first root. Missing parent folders are created.
    pub repo: String,
    /// Create a bare repository (no work tree), as for a shared remote (default false).
    #[serde(default)]
    pub bare: bool,
    /// Name of the first branch (default "main").
    pub initial_branch: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Canonical path of the repository folder.
    pub path: String,
    /// True when the repository is bare.
    pub bare: bool,
    /// False when a repository already existed there.
    pub created: bool,
    /// The branch HEAD points to.
    pub branch: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_init",
        "Create a git repository in a folder under the roots (bare for a shared remote). Running it on an existing \
         repository changes nothing.",
        Annotations::additive(true),
        run,
    )
    .title("Create repository")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let branch = a.initial_branch.clone().unwrap_or_else(|| "main".into());
    names::branch(&branch)?;
    blocking(move || {
        let path = git.roots.new_path("repo", &a.repo)?;
        let existed =
            git2::Repository::open_ext(&path, git2::RepositoryOpenFlags::NO_SEARCH, &[] as &[&std::ffi::OsStr]).is_ok();
        if !existed {
            let mut o = git2::RepositoryInitOptions::new();
            o.bare(a.bare).mkpath(true).external_template(false).initial_head(&branch);
            git2::Repository::init_opts(&path, &o).map_err(git_error)?;
        }
        // Open through the sandbox so a pre-existing repository is checked like any other.
        let repo = git.roots.open(&path.display().to_string())?;
        let out = Output {
            path: path.display().to_string(),
            bare: repo.is_bare(),
            created: !existed,
            branch: current_branch(&repo),
        };
        let text = format!(
            "{} {}repository at {} (branch {})",
            if existed { "Existing" } else { "Created" },
            if out.bare { "bare " } else { "" },
            out.path,
            out.branch.as_deref().unwrap_or("?")
        );
        Ok(Out::new(out).text(text))
    })
    .await
}
