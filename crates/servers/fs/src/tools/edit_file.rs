//! `edit_file`: exact search/replace edits, applied in order, atomically; a
//! dry run returns the unified diff without writing.

use std::io::Read;

use mcp_core::prelude::*;
use rustix::fs::OFlags;

use super::write::atomic_write;
use crate::sandbox::{Kind, os_error};
use crate::{Fs, blocking};

/// One replacement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// Exact text to find, including whitespace and indentation. Must occur exactly once unless replace_all.
    pub old_text: String,
    /// Text to put in its place.
    pub new_text: String,
    /// Replace every occurrence instead of requiring exactly one (default false).
    #[serde(default)]
    pub replace_all: bool,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Path of the text file to edit.
    pub path: String,
    /// Replacements, applied in order to the result of the previous one.
    pub edits: Vec<Edit>,
    /// Only compute and return the diff; do not write (default false).
    #[serde(default)]
    pub dry_run: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical path.
    pub path: String,
    /// Unified diff of the change.
    pub diff: String,
    /// Occurrences replaced in all.
    pub replacements: usize,
    /// True when the file was written (false for a dry run or no change).
    pub written: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "edit_file",
        "Edit a text file by exact search and replace. Each old_text must match exactly once (or set replace_all). \
         All edits apply or none do. dry_run returns the unified diff without writing.",
        Annotations::destructive(false),
        run,
    )
    .title("Edit file")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.edits.is_empty() {
        return Err(ToolError::invalid("edits is empty; give at least one {old_text, new_text}"));
    }
    blocking(move || {
        let e = fs.sandbox.entry(&a.path)?;
        let st = fs.sandbox.lstat(&e).map_err(|err| os_error(err, &a.path))?;
        match Kind::of(&st) {
            Kind::File => {}
            Kind::Symlink => return Err(ToolError::conflict(format!("{} is a symbolic link; edit the file it points to", a.path))),
            _ => return Err(ToolError::invalid(format!("{} is not a regular file", a.path))),
        }
        if st.st_size as usize > fs.config.max_file_bytes {
            return Err(ToolError::invalid(format!("{} is larger than the {}-byte edit limit", a.path, fs.config.max_file_bytes)));
        }
        let r = fs.sandbox.existing(&a.path)?;
        let fd = fs.sandbox.open(&r, OFlags::RDONLY).map_err(|err| os_error(err, &a.path))?;
        let mut old = String::new();
        std::fs::File::from(fd)
            .read_to_string(&mut old)
            .map_err(|_| ToolError::invalid(format!("{} is not UTF-8 text; edit_file only edits text", a.path)))?;
        let mut new = old.clone();
        let mut replacements = 0;
        for (i, ed) in a.edits.iter().enumerate() {
            if ed.old_text.is_empty() {
                return Err(ToolError::invalid(format!("edit {}: old_text is empty", i + 1)));
            }
            let count = new.matches(&ed.old_text).count();
            match (count, ed.replace_all) {
                (0, _) => {
                    return Err(ToolError::invalid(format!(
                        "edit {}: old_text was not found{}. Read the file again and copy the exact text, whitespace included.",
                        i + 1,
                        if i > 0 { " (after the earlier edits were applied)" } else { "" }
                    )));
                }
                (1, _) | (_, true) => {
                    new = new.replace(&ed.old_text, &ed.new_text);
                    replacements += count;
                }
                (n, false) => {
                    return Err(ToolError::invalid(format!(
                        "edit {}: old_text occurs {n} times; include more surrounding text to make it unique, or set replace_all: true",
                        i + 1
                    )));
                }
            }
        }
        let path = e.abs().display().to_string();
        let diff = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", e.rel().display()), &format!("b/{}", e.rel().display()))
            .to_string();
        let written = !a.dry_run && new != old;
        if written {
            atomic_write(&fs, &e, &a.path, new.as_bytes(), false)?;
        }
        let text = if diff.is_empty() { "no change".to_owned() } else { diff.clone() };
        Ok(Out::new(Output { path, diff, replacements, written }).text(text))
    })
    .await
}
