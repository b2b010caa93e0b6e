//! Shared result shapes and the helpers that build them: commits, diffs with
//! a byte cap, merge conflict reports, identities and times.

use std::fmt::Write as _;
use std::path::Path;

use git2::{Commit, Delta, Diff, DiffFindOptions, Patch, Repository, Signature};
use mcp_core::prelude::*;

use crate::Git;
use crate::sandbox::git_error;

/// RFC 3339 UTC time from git's seconds since the epoch.
pub use mcp_core::clock::rfc3339_secs as rfc3339;

/// One commit, as every tool reports it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommitInfo {
    /// Full commit id.
    pub id: String,
    /// Abbreviated id (7 characters).
    pub short_id: String,
    /// First line of the message.
    pub summary: String,
    /// Author name.
    pub author: String,
    /// Author e-mail.
    pub email: String,
    /// Author time, RFC 3339 UTC.
    pub time: String,
    /// Committer name.
    pub committer: String,
    /// Parent commit ids.
    pub parents: Vec<String>,
}

/// Abbreviate an object id.
pub fn short(id: git2::Oid) -> String {
    let s = id.to_string();
    s[..7.min(s.len())].to_owned()
}

impl CommitInfo {
    /// Describe `c`.
    pub fn of(c: &Commit<'_>) -> Self {
        let a = c.author();
        Self {
            id: c.id().to_string(),
            short_id: short(c.id()),
            summary: c.summary().ok().flatten().unwrap_or("").to_owned(),
            author: a.name().unwrap_or("").to_owned(),
            email: a.email().unwrap_or("").to_owned(),
            time: rfc3339(a.when().seconds()),
            committer: c.committer().name().unwrap_or("").to_owned(),
            parents: c.parent_ids().map(|p| p.to_string()).collect(),
        }
    }

    /// One line: `abc1234 2024-01-01 Author: summary`.
    pub fn line(&self) -> String {
        format!("{} {} {}: {}", self.short_id, self.time.get(..10).unwrap_or(""), self.author, self.summary)
    }
}

/// One changed file in a diff.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileChange {
    /// Path (the new path for renames).
    pub path: String,
    /// The old path, for renames and copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// added, modified, deleted, renamed, copied, typechange, untracked or conflicted.
    pub status: String,
    /// Lines added.
    pub additions: usize,
    /// Lines deleted.
    pub deletions: usize,
    /// True for binary files (no line counts).
    pub binary: bool,
}

/// A diff: per-file statistics, totals, and the patch text within a byte cap.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DiffReport {
    /// Changed files (the first 5000).
    pub files: Vec<FileChange>,
    /// Number of changed files.
    pub files_changed: usize,
    /// Lines added in all.
    pub insertions: usize,
    /// Lines deleted in all.
    pub deletions: usize,
    /// Unified diff text (empty when only statistics were asked for).
    pub patch: String,
    /// True when the patch was cut at the byte limit.
    pub truncated: bool,
}

/// Most files listed in one diff.
const MAX_FILES: usize = 5000;

fn status_word(d: Delta) -> &'static str {
    match d {
        Delta::Added => "added",
        Delta::Deleted => "deleted",
        Delta::Modified => "modified",
        Delta::Renamed => "renamed",
        Delta::Copied => "copied",
        Delta::Typechange => "typechange",
        Delta::Untracked => "untracked",
        Delta::Conflicted => "conflicted",
        _ => "unmodified",
    }
}

/// Build a report of `diff`: rename detection, per-file counts, and the
/// patch text up to `max_bytes`.
pub fn diff_report(diff: &mut Diff<'_>, max_bytes: usize, stat_only: bool) -> Result<DiffReport, ToolError> {
    diff.find_similar(Some(DiffFindOptions::new().renames(true))).map_err(git_error)?;
    let mut r = DiffReport {
        files: Vec::new(),
        files_changed: 0,
        insertions: 0,
        deletions: 0,
        patch: String::new(),
        truncated: false,
    };
    let n = diff.deltas().len();
    let totals = diff.stats().map_err(git_error)?;
    r.files_changed = n;
    r.insertions = totals.insertions();
    r.deletions = totals.deletions();
    // Per-file work is bounded; the totals above cover every file.
    for i in 0..n.min(MAX_FILES) {
        let Some(delta) = diff.get_delta(i) else { continue };
        let path = |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().into_owned());
        let new_path = path(delta.new_file()).or_else(|| path(delta.old_file())).unwrap_or_default();
        let old_path = path(delta.old_file()).filter(|o| *o != new_path);
        let patch = Patch::from_diff(diff, i).map_err(git_error)?;
        let binary = delta.flags().is_binary() || patch.is_none();
        let (add, del) = match &patch {
            Some(p) if !binary => p.line_stats().map(|(_, a, d)| (a, d)).unwrap_or((0, 0)),
            _ => (0, 0),
        };
        if !stat_only && !r.truncated {
            if let Some(mut p) = patch {
                let buf = p.to_buf().map_err(git_error)?;
                let text = String::from_utf8_lossy(&buf);
                if r.patch.len() + text.len() > max_bytes {
                    let room = max_bytes.saturating_sub(r.patch.len());
                    let mut cut = room.min(text.len());
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    // End on a whole line.
                    let cut = text[..cut].rfind('\n').map_or(0, |n| n + 1);
                    r.patch.push_str(&text[..cut]);
                    r.truncated = true;
                } else {
                    r.patch.push_str(&text);
                }
            } else if binary {
                let _ = writeln!(r.patch, "Binary file {new_path} differs");
            }
        }
        r.files.push(FileChange {
            path: new_path,
            old_path,
            status: status_word(delta.status()).to_owned(),
            additions: add,
            deletions: del,
            binary,
        });
    }
    Ok(r)
}

impl DiffReport {
    /// Readable text: a stat block, then the patch, then a truncation note.
    pub fn text(&self, max_bytes: usize) -> String {
        if self.files_changed == 0 {
            return "no changes".into();
        }
        let mut t = String::new();
        for f in &self.files {
            let name = match &f.old_path {
                Some(o) => format!("{o} => {}", f.path),
                None => f.path.clone(),
            };
            if f.binary {
                let _ = writeln!(t, " {name} | binary ({})", f.status);
            } else {
                let _ = writeln!(t, " {name} | +{} -{} ({})", f.additions, f.deletions, f.status);
            }
        }
        let _ = writeln!(
            t,
            " {} file(s) changed, {} insertion(s)(+), {} deletion(s)(-)",
            self.files_changed, self.insertions, self.deletions
        );
        if !self.patch.is_empty() {
            t.push('\n');
            t.push_str(&self.patch);
        }
        if self.truncated {
            let _ = write!(
                t,
                "\n[diff truncated at {max_bytes} bytes; the statistics above are complete. Pass paths to see \
                 particular files, or stat_only: true for statistics alone.]"
            );
        }
        t
    }
}

/// One conflicted region of a file, between conflict markers.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConflictHunk {
    /// Line of the `<<<<<<<` marker (1-based).
    pub start_line: usize,
    /// Line of the `>>>>>>>` marker.
    pub end_line: usize,
    /// Our side's lines.
    pub ours: String,
    /// Their side's lines.
    pub theirs: String,
}

/// A conflicted file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConflictFile {
    /// Path in the work tree.
    pub path: String,
    /// both modified, both added, deleted by us or deleted by them.
    pub kind: String,
    /// The regions between conflict markers (empty for delete/modify conflicts and binary files).
    pub hunks: Vec<ConflictHunk>,
}

const MAX_CONFLICT_FILES: usize = 200;
const MAX_HUNKS: usize = 50;
const MAX_SIDE_BYTES: usize = 4096;

fn capped(mut s: String) -> String {
    if s.len() > MAX_SIDE_BYTES {
        let mut cut = MAX_SIDE_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[... cut]");
    }
    s
}

/// Find the conflict-marker regions of a file's text.
pub fn marker_hunks(text: &str) -> Vec<ConflictHunk> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String, String, u8)> = None; // start, ours, theirs, section 0 ours 1 base 2 theirs
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with("<<<<<<<") {
            cur = Some((n, String::new(), String::new(), 0));
        } else if let Some((start, ours, theirs, section)) = cur.as_mut() {
            if line.starts_with("|||||||") && *section == 0 {
                *section = 1;
            } else if line.starts_with("=======") && *section < 2 {
                *section = 2;
            } else if line.starts_with(">>>>>>>") {
                if out.len() < MAX_HUNKS {
                    out.push(ConflictHunk {
                        start_line: *start,
                        end_line: n,
                        ours: capped(std::mem::take(ours)),
                        theirs: capped(std::mem::take(theirs)),
                    });
                }
                cur = None;
            } else if *section == 0 {
                ours.push_str(line);
                ours.push('\n');
            } else if *section == 2 {
                theirs.push_str(line);
                theirs.push('\n');
            }
        }
    }
    out
}

/// Every conflicted file of the index, with its marker regions.
pub fn conflicts(repo: &Repository) -> Result<Vec<ConflictFile>, ToolError> {
    let index = repo.index().map_err(git_error)?;
    if !index.has_conflicts() {
        return Ok(Vec::new());
    }
    let workdir = repo.workdir().map(Path::to_path_buf);
    let mut out = Vec::new();
    for c in index.conflicts().map_err(git_error)? {
        let c = c.map_err(git_error)?;
        let entry = c.our.as_ref().or(c.their.as_ref()).or(c.ancestor.as_ref());
        let Some(e) = entry else { continue };
        let path = String::from_utf8_lossy(&e.path).into_owned();
        let kind = match (&c.ancestor, &c.our, &c.their) {
            (_, None, Some(_)) => "deleted by us",
            (_, Some(_), None) => "deleted by them",
            (None, Some(_), Some(_)) => "both added",
            _ => "both modified",
        };
        let hunks = workdir
            .as_ref()
            .and_then(|w| std::fs::read(w.join(&path)).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .map(|t| marker_hunks(&t))
            .unwrap_or_default();
        if out.len() < MAX_CONFLICT_FILES {
            out.push(ConflictFile { path, kind: kind.into(), hunks });
        }
    }
    Ok(out)
}

/// Readable text of a conflict report.
pub fn conflicts_text(files: &[ConflictFile]) -> String {
    let mut t = String::new();
    for f in files {
        let _ = writeln!(t, "CONFLICT ({}): {}", f.kind, f.path);
        for h in &f.hunks {
            let _ = writeln!(t, "  lines {}-{}:", h.start_line, h.end_line);
            let _ = writeln!(t, "    ours:   {}", h.ours.trim_end().replace('\n', "\n            "));
            let _ = writeln!(t, "    theirs: {}", h.theirs.trim_end().replace('\n', "\n            "));
        }
    }
    t
}

fn check_identity(what: &str, s: &str) -> Result<(), ToolError> {
    if s.trim().is_empty() || s.len() > 200 || s.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err(ToolError::invalid(format!(
            "{what} {s:?} must be 1-200 characters without '<', '>' or control characters"
        )));
    }
    Ok(())
}

/// The identity for a new commit, tag, stash or merge: the arguments, then
/// the server's defaults, then the repository's `user.name`/`user.email`.
pub fn identity(
    git: &Git,
    repo: &Repository,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<Signature<'static>, ToolError> {
    let (name, email) = match (name, email) {
        (Some(n), Some(e)) => (n.to_owned(), e.to_owned()),
        (Some(_), None) | (None, Some(_)) => {
            return Err(ToolError::invalid("give both a name and an e-mail, or neither to use the defaults"));
        }
        (None, None) => match (&git.config.author_name, &git.config.author_email) {
            (Some(n), Some(e)) => (n.clone(), e.clone()),
            _ => {
                return repo.signature().map_err(|_| {
                    ToolError::invalid(
                        "no identity: pass author_name and author_email (the server has no GIT_AUTHOR_NAME/\
                         GIT_AUTHOR_EMAIL default and the repository no user.name/user.email)",
                    )
                });
            }
        },
    };
    check_identity("name", &name)?;
    check_identity("e-mail", &email)?;
    Signature::now(&name, &email).map_err(git_error)
}

/// Resolve a revision to a commit, with a message that says what to give.
pub fn commit_of<'r>(repo: &'r Repository, rev: &str) -> Result<Commit<'r>, ToolError> {
    crate::names::revision(rev)?;
    let obj = repo.revparse_single(rev).map_err(|e| {
        ToolError::not_found(format!(
            "revision {rev:?} not found ({}); give a branch, tag, commit id or an expression like HEAD~1",
            e.message()
        ))
    })?;
    obj.peel_to_commit().map_err(|_| ToolError::invalid(format!("{rev:?} does not point to a commit")))
}

/// The current branch's short name, `None` when detached.
pub fn current_branch(repo: &Repository) -> Option<String> {
    match repo.head() {
        Ok(h) if h.is_branch() => h.shorthand().ok().map(str::to_owned),
        Ok(_) => None,
        Err(_) => {
            // Unborn: HEAD is a symbolic ref to a branch with no commit yet.
            repo.find_reference("HEAD").ok().and_then(|r| {
                r.symbolic_target().ok().flatten().map(|t| t.trim_start_matches("refs/heads/").to_owned())
            })
        }
    }
}

/// The repository state as a word.
pub fn state_word(repo: &Repository) -> &'static str {
    use git2::RepositoryState as S;
    match repo.state() {
        S::Clean => "clean",
        S::Merge => "merging",
        S::Revert | S::RevertSequence => "reverting",
        S::CherryPick | S::CherryPickSequence => "cherry-picking",
        S::Bisect => "bisecting",
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => "rebasing",
        S::ApplyMailbox | S::ApplyMailboxOrRebase => "applying patches",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let t = "a\n<<<<<<< HEAD\nours 1\n=======\ntheirs 1\n>>>>>>> other\nb\n<<<<<<< HEAD\nx\n||||||| base\ny\n=======\nz\n>>>>>>> o\n";
        let h = marker_hunks(t);
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].start_line, h[0].end_line), (2, 6));
        assert_eq!(h[0].ours, "ours 1\n");
        assert_eq!(h[0].theirs, "theirs 1\n");
        assert_eq!(h[1].ours, "x\n");
        assert_eq!(h[1].theirs, "z\n");
    }
}
