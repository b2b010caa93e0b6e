//! `tree`: several levels of a directory at once, `.gitignore`-aware.

use mcp_core::prelude::*;

use super::globset;
use crate::sandbox::{Kind, os_error};
use crate::walk::{Options, walk};
use crate::{Fs, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Directory to start from (default: the first root).
    #[serde(default = "dot")]
    pub path: String,
    /// Levels to descend, 1-20 (default 3).
    #[serde(default = "three")]
    pub depth: usize,
    /// Glob patterns to leave out, e.g. ["node_modules", "*.pyc"].
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Skip what .gitignore files ignore, and .git itself (default true).
    #[serde(default = "yes")]
    pub gitignore: bool,
    /// Most entries to return (default 500, at most the server's walk limit).
    #[serde(default = "five_hundred")]
    pub max_entries: usize,
}

fn dot() -> String {
    ".".into()
}
fn three() -> usize {
    3
}
fn yes() -> bool {
    true
}
fn five_hundred() -> usize {
    500
}

/// One node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Node {
    /// Path relative to the start.
    pub path: String,
    /// file, dir, symlink or other.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Size in bytes (files).
    pub size: u64,
    /// Depth below the start, 1 for direct children.
    pub depth: usize,
}

/// The tree.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Canonical start directory.
    pub path: String,
    /// Entries in walk order (a directory before its contents).
    pub entries: Vec<Node>,
    /// True when max_entries stopped the walk.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "tree",
        "Show a directory tree under the roots to a given depth, skipping .gitignored files and .git by default. \
         Symlinks are listed, never followed.",
        Annotations::read_only(),
        run,
    )
    .title("Directory tree")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if !(1..=20).contains(&a.depth) {
        return Err(ToolError::invalid("depth must be between 1 and 20"));
    }
    let exclude = globset(&a.exclude)?;
    blocking(move || {
        let r = fs.sandbox.existing(&a.path)?;
        let dir = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
        let opts = Options {
            max_depth: a.depth,
            gitignore: a.gitignore,
            exclude: exclude.as_ref(),
            limit: a.max_entries.clamp(1, fs.config.max_walk_entries),
        };
        let abs = r.abs();
        let mut entries = Vec::new();
        let mut text = format!("{}\n", abs.display());
        let summary = walk(dir, &abs, &opts, &mut |e| {
            let name = e.rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let suffix = match e.kind {
                Kind::Dir => "/".to_owned(),
                Kind::Symlink => " -> (symlink)".to_owned(),
                _ => format!(" ({} B)", e.stat.st_size),
            };
            text.push_str(&format!("{}{name}{suffix}\n", "  ".repeat(e.depth)));
            entries.push(Node {
                path: e.rel.display().to_string(),
                kind: e.kind,
                size: e.stat.st_size as u64,
                depth: e.depth,
            });
            true
        });
        if summary.truncated {
            text.push_str("[truncated: raise max_entries, lower depth, or start deeper]\n");
        }
        Ok(Out::new(Output { path: abs.display().to_string(), entries, truncated: summary.truncated }).text(text))
    })
    .await
}
