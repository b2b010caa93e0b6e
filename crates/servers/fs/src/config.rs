//! Configuration of `mcp-server-fs`: every variable it reads.

use std::path::PathBuf;

use mcp_core::Reader;

/// Roots the server may touch, separated by `,` or `:` (default `./projects`).
pub const FS_ROOTS: &str = "FS_ROOTS";
/// Enable the tools that create and change files (default false: read-only).
pub const FS_WRITE: &str = "FS_WRITE";
/// Enable `delete` (default false; needs `FS_WRITE`).
pub const FS_DELETE: &str = "FS_DELETE";
/// Most bytes one read returns (default 256K).
pub const FS_MAX_READ_BYTES: &str = "FS_MAX_READ_BYTES";
/// Largest file `write_file`, `edit_file` and `grep` handle (default 16M).
pub const FS_MAX_FILE_BYTES: &str = "FS_MAX_FILE_BYTES";
/// Confine the whole server with Landlock at start to its roots (read-write
/// with `FS_WRITE`, read-only otherwise) and the system directories (default
/// `on`; `off` is the documented way to run without it).
pub const FS_SANDBOX: &str = "FS_SANDBOX";
/// Most entries a walk (`tree`, `find`, `grep`, `changes`) visits (default 20000).
pub const FS_MAX_WALK_ENTRIES: &str = "FS_MAX_WALK_ENTRIES";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Root directories.
    pub roots: Vec<PathBuf>,
    /// Writes enabled.
    pub write: bool,
    /// Deletes enabled.
    pub delete: bool,
    /// Read cap.
    pub max_read_bytes: usize,
    /// File size cap for whole-file operations.
    pub max_file_bytes: usize,
    /// Walk cap.
    pub max_walk_entries: usize,
    /// Self-confinement at start.
    pub sandbox: bool,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let mut roots = r.paths(FS_ROOTS);
        if roots.is_empty() {
            roots.push(PathBuf::from("projects"));
        }
        let write = r.bool(FS_WRITE, false);
        let delete = r.bool(FS_DELETE, false);
        if delete && !write {
            r.error(format!("{FS_DELETE}=true needs {FS_WRITE}=true"));
        }
        Self {
            roots,
            write,
            delete,
            max_read_bytes: r.bytes(FS_MAX_READ_BYTES, 256 << 10),
            max_file_bytes: r.bytes(FS_MAX_FILE_BYTES, 16 << 20),
            max_walk_entries: r.parse(FS_MAX_WALK_ENTRIES, 20_000usize),
            sandbox: r.bool(FS_SANDBOX, true),
        }
    }

    /// What the whole process may touch once started (for
    /// `mcp_core::run_confined`): the roots and the system directories,
    /// nothing else — not `/tmp`, not the secret files it read at start.
    /// Defence in depth under the `openat2` checks: a path escape they miss
    /// meets a kernel refusal. TCP stays open (it listens and exports).
    pub fn confinement(&self) -> Result<Option<mcp_core::sandbox::Confinement>, String> {
        if !self.sandbox {
            return Ok(None);
        }
        let (read, write) = if self.write { (vec![], self.roots.clone()) } else { (self.roots.clone(), vec![]) };
        Ok(Some(mcp_core::sandbox::Confinement::system(&read, &write, true)))
    }

    /// Settings for tests: one root, the given write/delete switches.
    pub fn for_root(root: impl Into<PathBuf>, write: bool, delete: bool) -> Self {
        Self {
            roots: vec![root.into()],
            write,
            delete,
            max_read_bytes: 256 << 10,
            max_file_bytes: 16 << 20,
            max_walk_entries: 20_000,
            sandbox: true,
        }
    }
}
