//! `find`: paths matching a glob, `.gitignore`-aware.

use globset::GlobBuilder;
use mcp_core::prelude::*;

use super::globset;
use crate::sandbox::{Kind, os_error};
use crate::walk::{Options, walk};
use crate::{Fs, blocking};

/// Which kinds to return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypeFilter {
    /// Everything (default).
    #[default]
    Any,
    /// Regular files.
    File,
    /// Directories.
    Dir,
    /// Symlinks.
    Symlink,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Glob to match, e.g. "*.py" (matched against the file name) or "src/**/test_*.py" (against the path from `path`).
    pub pattern: String,
    /// Directory to search (default: the first root).
    #[serde(default = "dot")]
    pub path: String,
    /// "any" (default), "file", "dir" or "symlink".
    #[serde(default, rename = "type")]
    pub kind: TypeFilter,
    /// Glob patterns to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Skip .gitignored paths and .git (default true).
    #[serde(default = "yes")]
    pub gitignore: bool,
    /// Most results (default 200).
    #[serde(default = "two_hundred")]
    pub max_results: usize,
}

fn dot() -> String {
    ".".into()
}
fn yes() -> bool {
    true
}
fn two_hundred() -> usize {
    200
}

/// Matches.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Canonical start directory.
    pub path: String,
    /// Matching paths, relative to the start.
    pub matches: Vec<String>,
    /// True when max_results or the walk limit stopped the search.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "find",
        "Find paths under a directory by glob. A pattern without / matches file names (\"*.rs\"); one with / matches \
         the path from the start (\"src/**/mod.rs\"). Skips .gitignored paths by default.",
        Annotations::read_only(),
        run,
    )
    .title("Find files")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let glob = GlobBuilder::new(&a.pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| ToolError::invalid(format!("bad glob {:?}: {e}", a.pattern)))?
        .compile_matcher();
    let by_name = !a.pattern.contains('/');
    let exclude = globset(&a.exclude)?;
    blocking(move || {
        let r = fs.sandbox.existing(&a.path)?;
        let dir = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
        let opts = Options {
            max_depth: 64,
            gitignore: a.gitignore,
            exclude: exclude.as_ref(),
            limit: fs.config.max_walk_entries,
        };
        let max = a.max_results.clamp(1, 10_000);
        let mut matches = Vec::new();
        let mut full = false;
        let abs = r.abs();
        let summary = walk(dir, &abs, &opts, &mut |e| {
            let kind_ok = match a.kind {
                TypeFilter::Any => true,
                TypeFilter::File => e.kind == Kind::File,
                TypeFilter::Dir => e.kind == Kind::Dir,
                TypeFilter::Symlink => e.kind == Kind::Symlink,
            };
            let hit = if by_name { e.rel.file_name().is_some_and(|n| glob.is_match(n)) } else { glob.is_match(&e.rel) };
            if kind_ok && hit {
                if matches.len() == max {
                    full = true;
                    return false;
                }
                matches.push(e.rel.display().to_string());
            }
            true
        });
        let truncated = full || summary.truncated;
        let mut text = matches.join("\n");
        if truncated {
            text.push_str("\n[truncated: narrow the pattern or path, or raise max_results]");
        }
        if matches.is_empty() {
            text = format!("no paths match {:?} under {}", a.pattern, abs.display());
        }
        Ok(Out::new(Output { path: abs.display().to_string(), matches, truncated }).text(text))
    })
    .await
}
