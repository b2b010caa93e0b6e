//! `list_directory`: the entries of one directory with types, sizes and times.

use mcp_core::prelude::*;
use rustix::fs::AtFlags;

use super::mtime;
use crate::sandbox::{Kind, os_error};
use crate::walk::read_names;
use crate::{Fs, blocking};

/// Sort order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// By name (default).
    #[default]
    Name,
    /// Largest first.
    Size,
    /// Most recently modified first.
    Modified,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Directory to list (default: the first root).
    #[serde(default = "dot")]
    pub path: String,
    /// "name" (default), "size" or "modified".
    #[serde(default)]
    pub sort: SortBy,
    /// Include names starting with a dot (default true).
    #[serde(default = "yes")]
    pub include_hidden: bool,
}

fn dot() -> String {
    ".".into()
}
fn yes() -> bool {
    true
}

/// One entry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// File name.
    pub name: String,
    /// file, dir, symlink or other.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, RFC 3339.
    pub modified: String,
}

/// The listing.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical directory path.
    pub path: String,
    /// Entries.
    pub entries: Vec<Item>,
    /// True when the listing stopped at the server's entry limit.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "list_directory",
        "List one directory under the roots: name, type, size and modification time of each entry. Symlinks are \
         shown as symlinks, not followed. For several levels at once use tree.",
        Annotations::read_only(),
        run,
    )
    .title("List directory")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let r = fs.sandbox.existing(&a.path)?;
        let dir = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
        let names = read_names(&dir).map_err(|e| os_error(e, &a.path))?;
        let limit = fs.config.max_walk_entries;
        let truncated = names.len() > limit;
        let mut entries: Vec<(Item, i64)> = Vec::new();
        for n in names.into_iter().take(limit) {
            let name = n.to_string_lossy().into_owned();
            if !a.include_hidden && name.starts_with('.') {
                continue;
            }
            let Ok(st) = rustix::fs::statat(&dir, n.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
            entries
                .push((Item { name, kind: Kind::of(&st), size: st.st_size as u64, modified: mtime(&st) }, st.st_mtime));
        }
        match a.sort {
            SortBy::Name => {}
            SortBy::Size => entries.sort_by_key(|x| std::cmp::Reverse(x.0.size)),
            SortBy::Modified => entries.sort_by_key(|x| std::cmp::Reverse(x.1)),
        }
        let entries: Vec<Item> = entries.into_iter().map(|e| e.0).collect();
        let path = r.abs().display().to_string();
        let mut text = format!("{path}: {} entries{}\n", entries.len(), if truncated { " (truncated)" } else { "" });
        for e in &entries {
            let tag = match e.kind {
                Kind::Dir => "[dir] ",
                Kind::Symlink => "[link]",
                Kind::File => "[file]",
                Kind::Other => "[other]",
            };
            text.push_str(&format!("{tag} {} ({} bytes)\n", e.name, e.size));
        }
        Ok(Out::new(Output { path, entries, truncated }).text(text))
    })
    .await
}
