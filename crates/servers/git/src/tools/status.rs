//! `git_status`: the branch, its upstream distance, and every changed file,
//! porcelain-like, with rename detection.

use std::fmt::Write as _;

use git2::{Status, StatusOptions};
use mcp_core::prelude::*;

use crate::report::{current_branch, short, state_word};
use crate::sandbox::git_error;
use crate::{Git, blocking};

/// Most entries listed.
const MAX_ENTRIES: usize = 2000;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// List untracked files (default true).
    #[serde(default = "yes")]
    pub include_untracked: bool,
    /// List ignored files (default false).
    #[serde(default)]
    pub include_ignored: bool,
}

fn yes() -> bool {
    true
}

/// One changed path.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    /// Path relative to the work tree (the new path for renames).
    pub path: String,
    /// For renames: the old path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Porcelain code: index status then work-tree status, e.g. "M ", " M", "A ", "R ", "??", "UU".
    pub code: String,
    /// Change staged in the index: added, modified, deleted, renamed, typechange (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staged: Option<String>,
    /// Change in the work tree not staged: modified, deleted, renamed, typechange, untracked, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unstaged: Option<String>,
    /// True when the file has merge conflicts.
    pub conflicted: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Current branch; absent when HEAD is detached.
    pub branch: Option<String>,
    /// Abbreviated id of HEAD; absent before the first commit.
    pub head: Option<String>,
    /// True when HEAD is detached.
    pub detached: bool,
    /// Upstream branch, e.g. "origin/main".
    pub upstream: Option<String>,
    /// Commits on the branch not on its upstream.
    pub ahead: usize,
    /// Commits on the upstream not on the branch.
    pub behind: usize,
    /// clean, merging, rebasing, reverting, cherry-picking, bisecting.
    pub state: String,
    /// True when nothing is staged, modified, conflicted or untracked.
    pub clean: bool,
    /// Changed paths.
    pub entries: Vec<Entry>,
    /// True when more than 2000 entries existed and the list was cut.
    pub truncated: bool,
}

fn index_word(s: Status) -> Option<(&'static str, char)> {
    if s.contains(Status::INDEX_NEW) {
        Some(("added", 'A'))
    } else if s.contains(Status::INDEX_MODIFIED) {
        Some(("modified", 'M'))
    } else if s.contains(Status::INDEX_DELETED) {
        Some(("deleted", 'D'))
    } else if s.contains(Status::INDEX_RENAMED) {
        Some(("renamed", 'R'))
    } else if s.contains(Status::INDEX_TYPECHANGE) {
        Some(("typechange", 'T'))
    } else {
        None
    }
}

fn worktree_word(s: Status) -> Option<(&'static str, char)> {
    if s.contains(Status::WT_NEW) {
        Some(("untracked", '?'))
    } else if s.contains(Status::WT_MODIFIED) {
        Some(("modified", 'M'))
    } else if s.contains(Status::WT_DELETED) {
        Some(("deleted", 'D'))
    } else if s.contains(Status::WT_RENAMED) {
        Some(("renamed", 'R'))
    } else if s.contains(Status::WT_TYPECHANGE) {
        Some(("typechange", 'T'))
    } else if s.contains(Status::IGNORED) {
        Some(("ignored", '!'))
    } else {
        None
    }
}

/// Upstream name and ahead/behind for the current branch.
pub fn upstream(repo: &git2::Repository) -> (Option<String>, usize, usize) {
    let Ok(head) = repo.head() else { return (None, 0, 0) };
    if !head.is_branch() {
        return (None, 0, 0);
    }
    let Ok(name) = head.shorthand() else { return (None, 0, 0) };
    let Ok(b) = repo.find_branch(name, git2::BranchType::Local) else { return (None, 0, 0) };
    let Ok(up) = b.upstream() else { return (None, 0, 0) };
    let up_name = up.name().ok().flatten().map(str::to_owned);
    let (ahead, behind) = match (head.target(), up.get().target()) {
        (Some(l), Some(u)) => repo.graph_ahead_behind(l, u).unwrap_or((0, 0)),
        _ => (0, 0),
    };
    (up_name, ahead, behind)
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_status",
        "Working tree status: branch, upstream ahead/behind, repository state (merging...), and each staged, \
         unstaged, untracked or conflicted file with a porcelain code (renames detected).",
        Annotations::read_only(),
        run,
    )
    .title("Status")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        if repo.is_bare() {
            return Err(ToolError::invalid("this is a bare repository: it has no work tree to report on"));
        }
        let mut o = StatusOptions::new();
        o.include_untracked(a.include_untracked)
            .recurse_untracked_dirs(a.include_untracked)
            .include_ignored(a.include_ignored)
            .renames_head_to_index(true)
            .renames_index_to_workdir(true)
            .exclude_submodules(false);
        let statuses = repo.statuses(Some(&mut o)).map_err(git_error)?;
        let mut entries = Vec::new();
        let mut truncated = false;
        for s in statuses.iter() {
            let st = s.status();
            if st.is_empty() || st == Status::CURRENT {
                continue;
            }
            if entries.len() >= MAX_ENTRIES {
                truncated = true;
                break;
            }
            let conflicted = st.contains(Status::CONFLICTED);
            let staged = index_word(st);
            let unstaged = worktree_word(st);
            let (path, renamed_from) = {
                let h2i = s.head_to_index();
                let i2w = s.index_to_workdir();
                let pick = |d: Option<git2::DiffDelta<'_>>| {
                    d.filter(|d| d.status() == git2::Delta::Renamed).map(|d| {
                        (
                            d.new_file().path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
                            d.old_file().path().map(|p| p.to_string_lossy().into_owned()),
                        )
                    })
                };
                match pick(h2i).or_else(|| pick(i2w)) {
                    Some((new, old)) => (new, old),
                    None => (s.path().unwrap_or("").to_owned(), None),
                }
            };
            let code = if conflicted {
                "UU".to_owned()
            } else if st.contains(Status::WT_NEW) {
                "??".to_owned()
            } else if st.contains(Status::IGNORED) {
                "!!".to_owned()
            } else {
                format!("{}{}", staged.map_or(' ', |x| x.1), unstaged.map_or(' ', |x| x.1))
            };
            entries.push(Entry {
                path,
                renamed_from,
                code,
                staged: staged.map(|x| x.0.to_owned()).filter(|_| !conflicted),
                unstaged: unstaged.map(|x| x.0.to_owned()).filter(|_| !conflicted),
                conflicted,
            });
        }
        let head = repo.head().ok().and_then(|h| h.target()).map(short);
        let detached = repo.head_detached().unwrap_or(false);
        let (up, ahead, behind) = upstream(&repo);
        let clean = entries.iter().all(|e| e.code == "!!");
        let out = Output {
            branch: if detached { None } else { current_branch(&repo) },
            head,
            detached,
            upstream: up,
            ahead,
            behind,
            state: state_word(&repo).to_owned(),
            clean,
            entries,
            truncated,
        };
        let mut t = String::new();
        let _ = write!(
            t,
            "## {}",
            match (&out.branch, &out.head) {
                (Some(b), _) => b.clone(),
                (None, Some(h)) => format!("HEAD (detached at {h})"),
                (None, None) => "HEAD".into(),
            }
        );
        if let Some(u) = &out.upstream {
            let _ = write!(t, "...{u}");
            if out.ahead > 0 || out.behind > 0 {
                let _ = write!(t, " [ahead {}, behind {}]", out.ahead, out.behind);
            }
        }
        if out.head.is_none() {
            t.push_str(" (no commits yet)");
        }
        if out.state != "clean" {
            let _ = write!(t, " ({})", out.state);
        }
        t.push('\n');
        for e in &out.entries {
            match &e.renamed_from {
                Some(old) => {
                    let _ = writeln!(t, "{} {old} -> {}", e.code, e.path);
                }
                None => {
                    let _ = writeln!(t, "{} {}", e.code, e.path);
                }
            }
        }
        if out.clean {
            t.push_str("nothing to commit, working tree clean\n");
        }
        if out.truncated {
            let _ = writeln!(t, "[only the first {MAX_ENTRIES} entries are listed]");
        }
        Ok(Out::new(out).text(t))
    })
    .await
}
