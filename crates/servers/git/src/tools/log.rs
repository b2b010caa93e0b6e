//! `git_log`: commit history with filters (count, dates, author, path) and
//! optional statistics.

use std::fmt::Write as _;

use git2::{DiffOptions, Sort};
use mcp_core::prelude::*;

use crate::report::{CommitInfo, commit_of};
use crate::sandbox::{check_text, git_error};
use crate::{Git, blocking, names};

/// Largest max_count.
pub const MAX_COUNT: usize = 500;
/// Most commits examined for one call (filters may skip many).
const MAX_WALK: usize = 100_000;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Where to start (default HEAD), or a range "from..to" for the commits in `to` not in `from`.
    pub rev: Option<String>,
    /// Most commits returned (default 50, at most 500).
    pub max_count: Option<usize>,
    /// Commits to skip first, for paging (default 0).
    #[serde(default)]
    pub skip: usize,
    /// Only commits at or after this time: RFC 3339 ("2024-05-01T12:00:00Z") or a date ("2024-05-01").
    pub since: Option<String>,
    /// Only commits at or before this time (same formats; a date means the end of that day).
    pub until: Option<String>,
    /// Only commits whose author name or e-mail contains this text (case-insensitive).
    pub author: Option<String>,
    /// Only commits that change this file or folder (relative to the repository top).
    pub path: Option<String>,
    /// Include files changed, insertions and deletions per commit (default false).
    #[serde(default)]
    pub stats: bool,
}

/// One commit of the log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    /// The commit.
    #[serde(flatten)]
    pub commit: CommitInfo,
    /// Files changed against the first parent (with stats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_changed: Option<usize>,
    /// Lines added (with stats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insertions: Option<usize>,
    /// Lines deleted (with stats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletions: Option<usize>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Commits, newest first.
    pub commits: Vec<Entry>,
    /// True when more matching commits exist (call again with skip).
    pub more: bool,
}

/// Parse a log time bound to seconds since the epoch.
pub fn parse_time(s: &str, end_of_day: bool) -> Result<i64, ToolError> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).map_err(|_| {
        ToolError::invalid(format!(
            "{s:?} is not a time; use RFC 3339 like 2024-05-01T12:00:00Z or a date like 2024-05-01"
        ))
    })?;
    let t = if end_of_day { d.with_hms(23, 59, 59) } else { d.with_hms(0, 0, 0) }.map_err(ToolError::internal)?;
    Ok(t.assume_utc().unix_timestamp())
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_log",
        "Commit history, newest first: from HEAD, a revision or a range (a..b), filtered by dates, author or path, \
         optionally with per-commit statistics. Page with max_count and skip.",
        Annotations::read_only(),
        run,
    )
    .title("Log")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let max = a.max_count.unwrap_or(50);
    if max == 0 || max > MAX_COUNT {
        return Err(ToolError::invalid(format!("max_count must be between 1 and {MAX_COUNT}")));
    }
    let since = a.since.as_deref().map(|s| parse_time(s, false)).transpose()?;
    let until = a.until.as_deref().map(|s| parse_time(s, true)).transpose()?;
    if let Some(au) = &a.author {
        check_text("author", au)?;
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let mut walk = repo.revwalk().map_err(git_error)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME).map_err(git_error)?;
        let rev = a.rev.as_deref().unwrap_or("HEAD");
        names::revision(rev)?;
        if rev.contains("..") {
            walk.push_range(rev).map_err(|e| ToolError::invalid(format!("range {rev:?}: {}", e.message())))?;
        } else {
            if rev == "HEAD" && repo.head().is_err() {
                return Ok(Out::new(Output { commits: vec![], more: false }).text("no commits yet"));
            }
            walk.push(commit_of(&repo, rev)?.id()).map_err(git_error)?;
        }
        let path = match &a.path {
            Some(p) => {
                if repo.is_bare() {
                    check_text("path", p)?;
                    if p.split('/').any(|c| c == "..") || p.starts_with('/') {
                        return Err(ToolError::invalid("path must be relative, without '..'"));
                    }
                    Some(p.clone())
                } else {
                    Some(crate::sandbox::pathspec(&crate::sandbox::workdir(&repo)?, p)?)
                }
            }
            None => None,
        };
        let author = a.author.as_deref().map(str::to_lowercase);
        let mut commits = Vec::new();
        let mut skipped = 0;
        let mut more = false;
        for (n, id) in walk.enumerate() {
            if n >= MAX_WALK {
                more = true;
                break;
            }
            let c = repo.find_commit(id.map_err(git_error)?).map_err(git_error)?;
            let t = c.author().when().seconds();
            if since.is_some_and(|s| t < s) || until.is_some_and(|u| t > u) {
                continue;
            }
            if let Some(au) = &author {
                let sig = c.author();
                let hay = format!("{} {}", sig.name().unwrap_or(""), sig.email().unwrap_or("")).to_lowercase();
                if !hay.contains(au.as_str()) {
                    continue;
                }
            }
            let needs_diff = path.is_some() || a.stats;
            let mut stats = None;
            if needs_diff {
                let mut o = DiffOptions::new();
                if let Some(p) = &path {
                    o.pathspec(p);
                }
                let parent = c.parent(0).ok().and_then(|p| p.tree().ok());
                let tree = c.tree().map_err(git_error)?;
                let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut o)).map_err(git_error)?;
                if path.is_some() && diff.deltas().len() == 0 {
                    continue;
                }
                if a.stats {
                    // Statistics cover the whole commit, not only the filtered path.
                    let full = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), None).map_err(git_error)?;
                    stats = Some(full.stats().map_err(git_error)?);
                }
            }
            if skipped < a.skip {
                skipped += 1;
                continue;
            }
            if commits.len() == max {
                more = true;
                break;
            }
            commits.push(Entry {
                commit: CommitInfo::of(&c),
                files_changed: stats.as_ref().map(|s| s.files_changed()),
                insertions: stats.as_ref().map(|s| s.insertions()),
                deletions: stats.as_ref().map(|s| s.deletions()),
            });
        }
        let mut t = String::new();
        for e in &commits {
            t.push_str(&e.commit.line());
            if let (Some(f), Some(i), Some(d)) = (e.files_changed, e.insertions, e.deletions) {
                let _ = write!(t, " ({f} files, +{i} -{d})");
            }
            t.push('\n');
        }
        if commits.is_empty() {
            t.push_str("no matching commits\n");
        }
        if more {
            let _ = writeln!(t, "[more commits: call again with skip: {}]", a.skip + commits.len());
        }
        Ok(Out::new(Output { commits, more }).text(t))
    })
    .await
}
