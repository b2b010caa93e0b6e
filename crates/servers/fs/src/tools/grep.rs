//! `grep`: lines matching a regular expression, with context, bounded and
//! `.gitignore`-aware. The regex engine runs in linear time, so no pattern can
//! make it hang.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use mcp_core::prelude::*;
use regex::bytes::RegexBuilder;
use rustix::fs::OFlags;

use super::globset;
use super::read_file::looks_binary;
use crate::sandbox::{Kind, Resolved, os_error};
use crate::walk::{Options, walk};
use crate::{Fs, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Regular expression (Rust regex syntax), or plain text with fixed_string.
    pub pattern: String,
    /// File or directory to search (default: the first root).
    #[serde(default = "dot")]
    pub path: String,
    /// Treat the pattern as plain text.
    #[serde(default)]
    pub fixed_string: bool,
    /// Ignore case.
    #[serde(default)]
    pub case_insensitive: bool,
    /// Only search files whose name or path matches one of these globs, e.g. ["*.py"].
    #[serde(default)]
    pub include: Vec<String>,
    /// Lines of context before and after each match, 0-10 (default 0).
    #[serde(default)]
    pub context: usize,
    /// Most matching lines to return (default 100).
    #[serde(default = "hundred")]
    pub max_matches: usize,
    /// Skip .gitignored files and .git (default true).
    #[serde(default = "yes")]
    pub gitignore: bool,
}

fn dot() -> String {
    ".".into()
}
fn yes() -> bool {
    true
}
fn hundred() -> usize {
    100
}

/// One matching line.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Match {
    /// File path relative to the search start.
    pub path: String,
    /// Line number (1-based).
    pub line: u64,
    /// The line (lossily decoded, at most 500 characters).
    pub text: String,
    /// Lines before.
    pub before: Vec<String>,
    /// Lines after.
    pub after: Vec<String>,
}

/// Results.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Matches in file then line order.
    pub matches: Vec<Match>,
    /// Files searched.
    pub files_searched: u64,
    /// Files skipped as binary or too large.
    pub files_skipped: u64,
    /// True when max_matches or the walk limit stopped the search.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "grep",
        "Search file contents under a path for a regular expression, with optional context lines. Skips binary \
         files, files over the size limit, and .gitignored paths by default. Results are bounded by max_matches.",
        Annotations::read_only(),
        run,
    )
    .title("Search file contents")
}

fn clip(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    let s = s.trim_end_matches(['\n', '\r']);
    match s.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.context > 10 {
        return Err(ToolError::invalid("context must be at most 10 lines"));
    }
    let pattern = if a.fixed_string { regex::escape(&a.pattern) } else { a.pattern.clone() };
    let re = RegexBuilder::new(&pattern)
        .case_insensitive(a.case_insensitive)
        .size_limit(1 << 20)
        .dfa_size_limit(4 << 20)
        .build()
        .map_err(|e| ToolError::invalid(format!("bad regular expression: {e}")))?;
    let include = globset(&a.include)?;
    blocking(move || {
        let r = fs.sandbox.existing(&a.path)?;
        let max = a.max_matches.clamp(1, 5000);
        let mut out = Output { matches: Vec::new(), files_searched: 0, files_skipped: 0, truncated: false };
        let search = |rel: &Path, res: &Resolved<'_>, out: &mut Output| -> bool {
            let Ok(fd) = fs.sandbox.open(res, OFlags::RDONLY) else { return true };
            let mut f = std::fs::File::from(fd);
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let mut head = [0u8; 1024];
            let n = f.read(&mut head).unwrap_or(0);
            if size as usize > fs.config.max_file_bytes || looks_binary(&head[..n]) {
                out.files_skipped += 1;
                return true;
            }
            out.files_searched += 1;
            let rd = BufReader::new(std::io::Cursor::new(head[..n].to_vec()).chain(f));
            let mut before: std::collections::VecDeque<String> = Default::default();
            let mut pending: Vec<usize> = Vec::new();
            for (i, line) in rd.split(b'\n').enumerate() {
                let Ok(line) = line else { break };
                let text = clip(&line);
                for idx in std::mem::take(&mut pending) {
                    let m: &mut Match = &mut out.matches[idx];
                    m.after.push(text.clone());
                    if m.after.len() < a.context {
                        pending.push(idx);
                    }
                }
                if re.is_match(&line) {
                    if out.matches.len() == max {
                        out.truncated = true;
                        return false;
                    }
                    out.matches.push(Match {
                        path: rel.display().to_string(),
                        line: i as u64 + 1,
                        text: text.clone(),
                        before: before.iter().cloned().collect(),
                        after: Vec::new(),
                    });
                    if a.context > 0 {
                        pending.push(out.matches.len() - 1);
                    }
                }
                if a.context > 0 {
                    before.push_back(text);
                    if before.len() > a.context {
                        before.pop_front();
                    }
                }
            }
            true
        };
        let abs = r.abs();
        let dir_kind = rustix::fs::fstat(fs.sandbox.open(&r, OFlags::PATH).map_err(|e| os_error(e, &a.path))?)
            .map(|st| Kind::of(&st))
            .map_err(|e| os_error(e, &a.path))?;
        if dir_kind == Kind::File {
            let name = abs.file_name().map(Path::new).unwrap_or(Path::new(""));
            search(name, &r, &mut out);
        } else {
            let dir = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
            let opts =
                Options { max_depth: 64, gitignore: a.gitignore, exclude: None, limit: fs.config.max_walk_entries };
            let summary = walk(dir, &abs, &opts, &mut |e| {
                if e.kind != Kind::File {
                    return true;
                }
                if let Some(g) = &include
                    && !(g.is_match(&e.rel) || e.rel.file_name().is_some_and(|n| g.is_match(n)))
                {
                    return true;
                }
                let res = Resolved { root: r.root, rel: r.rel.join(&e.rel) };
                search(&e.rel, &res, &mut out)
            });
            out.truncated |= summary.truncated;
        }
        let mut text = String::new();
        for m in &out.matches {
            for b in &m.before {
                text.push_str(&format!("{}-  {b}\n", m.path));
            }
            text.push_str(&format!("{}:{}: {}\n", m.path, m.line, m.text));
            for b in &m.after {
                text.push_str(&format!("{}-  {b}\n", m.path));
            }
        }
        if out.matches.is_empty() {
            text = format!("no matches in {} file(s)", out.files_searched);
        }
        if out.truncated {
            text.push_str("[truncated: narrow the pattern, path or include globs, or raise max_matches]\n");
        }
        Ok(Out::new(out).text(text))
    })
    .await
}
