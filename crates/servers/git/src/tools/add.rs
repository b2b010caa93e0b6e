//! `git_add`: stage files (new, changed and deleted) or everything.

use git2::{IndexAddOption, Status, StatusOptions};
use mcp_core::prelude::*;

use crate::sandbox::{git_error, pathspec, workdir};
use crate::{Git, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Files or folders to stage, relative to the repository top (literal paths, not patterns). Deleted files
    /// are staged as deletions.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Stage every change in the work tree, including new and deleted files (like `git add -A`). Use instead of
    /// paths.
    #[serde(default)]
    pub all: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Every path now staged (different from HEAD in the index).
    pub staged: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_add",
        "Stage changes for the next commit: the given files or folders (new, modified or deleted), or all changes. \
         Ignored files are not added.",
        Annotations::additive(true),
        run,
    )
    .title("Stage")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.all != a.paths.is_empty() {
        return Err(ToolError::invalid("give either paths or all: true (not both, not neither)"));
    }
    if a.paths.len() > 1000 {
        return Err(ToolError::invalid("at most 1000 paths per call"));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let wd = workdir(&repo)?;
        let mut index = repo.index().map_err(git_error)?;
        let specs: Vec<String> = if a.all {
            vec![".".into()]
        } else {
            let mut v = Vec::new();
            for p in &a.paths {
                let spec = pathspec(&wd, p)?;
                let on_disk = std::fs::symlink_metadata(wd.join(&spec)).is_ok();
                let tracked = index.get_path(std::path::Path::new(&spec), 0).is_some()
                    || index.iter().any(|e| e.path.starts_with(format!("{spec}/").as_bytes()));
                if !on_disk && !tracked {
                    return Err(ToolError::not_found(format!(
                        "path {p:?} matches no file in the work tree or the index; check the name with git_status"
                    )));
                }
                v.push(spec);
            }
            v
        };
        let flags = IndexAddOption::DEFAULT | IndexAddOption::DISABLE_PATHSPEC_MATCH;
        if a.all {
            index.add_all(["*"], IndexAddOption::DEFAULT, None).map_err(git_error)?;
            index.update_all(["*"], None).map_err(git_error)?;
        } else {
            index.add_all(specs.iter(), flags, None).map_err(git_error)?;
            index.update_all(specs.iter(), None).map_err(git_error)?;
        }
        index.write().map_err(git_error)?;
        let mut o = StatusOptions::new();
        o.include_untracked(false).renames_head_to_index(true);
        let staged: Vec<String> = repo
            .statuses(Some(&mut o))
            .map_err(git_error)?
            .iter()
            .filter(|s| {
                s.status().intersects(
                    Status::INDEX_NEW
                        | Status::INDEX_MODIFIED
                        | Status::INDEX_DELETED
                        | Status::INDEX_RENAMED
                        | Status::INDEX_TYPECHANGE,
                )
            })
            .filter_map(|s| s.path().ok().map(str::to_owned))
            .collect();
        let text = if staged.is_empty() {
            "nothing staged (no changes matched)".to_owned()
        } else {
            format!("staged ({}):\n{}", staged.len(), staged.join("\n"))
        };
        Ok(Out::new(Output { staged }).text(text))
    })
    .await
}
