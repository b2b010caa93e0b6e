//! `git_blame`: who last changed each line of a committed file, for a line range.

use std::fmt::Write as _;
use std::path::Path;

use git2::BlameOptions;
use mcp_core::prelude::*;

use crate::report::{commit_of, rfc3339, short};
use crate::sandbox::{check_text, git_error};
use crate::{Git, blocking};

/// Most lines per call.
const MAX_LINES: usize = 2000;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// File, relative to the repository top.
    pub path: String,
    /// Blame the file as of this revision (default HEAD). Uncommitted changes are not blamed.
    pub rev: Option<String>,
    /// First line (1-based, default 1).
    pub start_line: Option<usize>,
    /// Last line, inclusive (default: start_line + 1999 or the end of the file).
    pub end_line: Option<usize>,
}

/// One line.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Line {
    /// Line number (1-based).
    pub line: usize,
    /// Abbreviated id of the commit that last changed it.
    pub commit: String,
    /// Its author.
    pub author: String,
    /// Author time, RFC 3339.
    pub time: String,
    /// The line's text.
    pub content: String,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The file.
    pub path: String,
    /// Lines in the file at that revision.
    pub total_lines: usize,
    /// The lines asked for, up to the byte cap.
    pub lines: Vec<Line>,
    /// True when the lines stopped at the output cap (GIT_MAX_DIFF_BYTES): call again from the next line.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_blame",
        "For each line of a committed file (optionally a line range, up to 2000 lines), the commit, author and date \
         that last changed it.",
        Annotations::read_only(),
        run,
    )
    .title("Blame")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    check_text("path", &a.path)?;
    if a.path.starts_with('/') || a.path.split('/').any(|c| c == "..") {
        return Err(ToolError::invalid(format!(
            "path {:?} must be relative to the repository top, without '..'",
            a.path
        )));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let commit = commit_of(&repo, a.rev.as_deref().unwrap_or("HEAD"))?;
        let entry = commit.tree().map_err(git_error)?.get_path(Path::new(&a.path)).map_err(|_| {
            ToolError::not_found(format!("{:?} is not in that revision; blame works on committed files", a.path))
        })?;
        let blob = repo.find_blob(entry.id()).map_err(|_| ToolError::invalid(format!("{:?} is not a file", a.path)))?;
        if blob.is_binary() {
            return Err(ToolError::invalid(format!("{:?} is a binary file", a.path)));
        }
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        let all: Vec<&str> = text.lines().collect();
        let total = all.len();
        let start = a.start_line.unwrap_or(1);
        if start == 0 || (total > 0 && start > total) {
            return Err(ToolError::invalid(format!("start_line must be between 1 and {total}")));
        }
        let end = a.end_line.unwrap_or(start + MAX_LINES - 1).min(total);
        if end < start && total > 0 {
            return Err(ToolError::invalid("end_line is before start_line"));
        }
        if end + 1 - start > MAX_LINES {
            return Err(ToolError::invalid(format!("at most {MAX_LINES} lines per call; narrow start_line..end_line")));
        }
        let mut lines = Vec::new();
        let mut truncated = false;
        // Long lines (minified code, data) would make even 2000 lines huge:
        // the diff cap bounds the whole answer in bytes.
        let mut budget = git.config.max_diff_bytes;
        if total > 0 {
            let mut o = BlameOptions::new();
            o.newest_commit(commit.id()).min_line(start).max_line(end);
            let blame = repo.blame_file(Path::new(&a.path), Some(&mut o)).map_err(git_error)?;
            for n in start..=end {
                let Some(h) = blame.get_line(n) else { continue };
                let content = all.get(n - 1).copied().unwrap_or("");
                let cost = content.len() + 80;
                if cost > budget {
                    truncated = true;
                    break;
                }
                budget -= cost;
                let sig = h.final_signature();
                lines.push(Line {
                    line: n,
                    commit: short(h.final_commit_id()),
                    author: sig.as_ref().and_then(|s| s.name().ok().map(str::to_owned)).unwrap_or_default(),
                    time: sig.as_ref().map(|s| rfc3339(s.when().seconds())).unwrap_or_default(),
                    content: content.to_owned(),
                });
            }
        }
        let mut t = String::new();
        for l in &lines {
            let _ = writeln!(
                t,
                "{} ({} {} {:>4}) {}",
                l.commit,
                l.author,
                l.time.get(..10).unwrap_or(""),
                l.line,
                l.content
            );
        }
        if truncated {
            let next = lines.last().map_or(start, |l| l.line + 1);
            let _ = writeln!(t, "[cut at the output cap: call again with start_line {next} for the rest]");
        }
        Ok(Out::new(Output { path: a.path.clone(), total_lines: total, lines, truncated }).text(t))
    })
    .await
}
