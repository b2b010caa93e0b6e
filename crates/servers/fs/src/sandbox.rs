//! The roots and the only ways to touch files under them.
//!
//! Every path goes through two steps. **Check**: the input is validated
//! lexically (no NUL, no `..`, no backslash, bounded length) and then
//! canonicalised, and the real path must lie inside a root; this is what gives
//! the model a clear message such as "resolves outside the allowed roots".
//! **Use**: the file is opened relative to the root's directory descriptor with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`. The canonical path has no
//! symlinks left, so if anything on it is swapped for a symlink between check
//! and use, the kernel refuses the open instead of following it out of the
//! root. Creations, renames and deletions work on a parent directory
//! descriptor opened the same way plus a single validated name (`*at` calls),
//! and directory walks descend through descriptors with `O_NOFOLLOW`, so no
//! step ever resolves a path that could have changed underneath it.
//!
//! On a kernel without `openat2` (before 5.6, or a seccomp profile that hides
//! it) the same guarantee comes from opening one component at a time with
//! `O_NOFOLLOW`.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use mcp_core::ToolError;
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Longest accepted path, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted file name, in bytes (Linux `NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;

/// One allowed root: its canonical path and a descriptor to it.
#[derive(Debug)]
pub struct Root {
    /// Canonical absolute path.
    pub path: PathBuf,
    fd: OwnedFd,
}

/// The allowed roots.
pub struct Sandbox {
    roots: Vec<Root>,
    openat2: AtomicBool,
}

/// A path that passed the check: the root it is in and its path relative to
/// that root (empty for the root itself).
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    /// Index of the root.
    pub root: &'a Root,
    /// Relative path inside the root, without symlinks.
    pub rel: PathBuf,
}

impl Resolved<'_> {
    /// The absolute canonical path.
    pub fn abs(&self) -> PathBuf {
        if self.rel.as_os_str().is_empty() { self.root.path.clone() } else { self.root.path.join(&self.rel) }
    }
}

/// A not-yet-existing (or not-to-be-followed) entry: its resolved parent and name.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The parent directory, resolved.
    pub parent: Resolved<'a>,
    /// The final name (one component).
    pub name: OsString,
}

impl Entry<'_> {
    /// The absolute path of the entry.
    pub fn abs(&self) -> PathBuf {
        self.parent.abs().join(&self.name)
    }
    /// Its path relative to the root.
    pub fn rel(&self) -> PathBuf {
        self.parent.rel.join(&self.name)
    }
}

/// Map an OS error to what the model should hear.
pub fn os_error(e: Errno, path: &str) -> ToolError {
    match e {
        Errno::NOENT => ToolError::not_found(format!("{path} does not exist")),
        Errno::ACCESS | Errno::PERM => ToolError::denied(format!("{path}: permission denied by the operating system")),
        Errno::LOOP => {
            ToolError::invalid(format!("{path}: too many levels of symbolic links, or a symlink where none may be"))
        }
        Errno::NAMETOOLONG => ToolError::invalid(format!("{path}: name too long")),
        Errno::XDEV => ToolError::denied(format!("{path}: escapes the allowed roots or crosses a filesystem")),
        Errno::NOTDIR => ToolError::invalid(format!("{path}: a component of the path is not a directory")),
        Errno::ISDIR => ToolError::invalid(format!("{path} is a directory")),
        Errno::EXIST => ToolError::conflict(format!("{path} already exists")),
        Errno::NOTEMPTY => ToolError::conflict(format!(
            "{path} is a directory that is not empty; pass recursive: true to delete it with its contents"
        )),
        Errno::NOSPC => ToolError::Unavailable("no space left on the device".into()),
        Errno::ROFS => ToolError::denied(format!("{path}: the filesystem is read-only")),
        Errno::FBIG => ToolError::invalid(format!("{path}: file too large")),
        Errno::BUSY | Errno::TXTBSY => ToolError::conflict(format!("{path} is busy")),
        other => ToolError::internal(std::io::Error::from(other)),
    }
}

/// Map a std I/O error the same way.
pub fn io_error(e: std::io::Error, path: &str) -> ToolError {
    match e.raw_os_error() {
        Some(code) => os_error(Errno::from_raw_os_error(code), path),
        None => ToolError::internal(e),
    }
}

impl Sandbox {
    /// Open the roots. Each must exist and be a directory.
    pub fn new(paths: &[PathBuf]) -> Result<Self, String> {
        if paths.is_empty() {
            return Err("at least one root is required".into());
        }
        let mut roots = Vec::with_capacity(paths.len());
        for p in paths {
            let canon = std::fs::canonicalize(p).map_err(|e| format!("root {}: {e}", p.display()))?;
            if !canon.is_dir() {
                return Err(format!("root {} is not a directory", p.display()));
            }
            let fd = rustix::fs::open(&canon, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| format!("root {}: {e}", canon.display()))?;
            roots.push(Root { path: canon, fd });
        }
        // Nested roots would make "which root" ambiguous; refuse them.
        for (i, a) in roots.iter().enumerate() {
            for b in roots.iter().skip(i + 1) {
                if a.path.starts_with(&b.path) || b.path.starts_with(&a.path) {
                    return Err(format!("roots {} and {} overlap", a.path.display(), b.path.display()));
                }
            }
        }
        Ok(Self { roots, openat2: AtomicBool::new(true) })
    }

    /// The roots.
    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// Validate the text of a path before touching the filesystem.
    pub fn check_input(input: &str) -> Result<(), ToolError> {
        if input.is_empty() {
            return Err(ToolError::invalid("the path is empty; pass a path inside one of the roots (see list_roots)"));
        }
        if input.contains('\0') {
            return Err(ToolError::invalid("the path contains a NUL byte"));
        }
        if input.len() > MAX_PATH_BYTES {
            return Err(ToolError::invalid(format!(
                "the path is {} bytes, over the {MAX_PATH_BYTES}-byte limit",
                input.len()
            )));
        }
        if input.contains('\\') {
            return Err(ToolError::invalid(
                "the path contains a backslash; use / as the separator (paths are POSIX paths here)",
            ));
        }
        for c in Path::new(input).components() {
            match c {
                Component::ParentDir => {
                    return Err(ToolError::invalid(
                        "the path contains `..`; give the path from a root instead of climbing out of a directory",
                    ));
                }
                Component::Normal(n) if n.len() > MAX_NAME_BYTES => {
                    return Err(ToolError::invalid(format!(
                        "a path component is {} bytes, over the {MAX_NAME_BYTES}-byte limit",
                        n.len()
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The absolute lexical path: relative inputs are taken from the first root.
    fn lexical(&self, input: &str) -> Result<PathBuf, ToolError> {
        Self::check_input(input)?;
        let p = Path::new(input);
        let abs = if p.is_absolute() {
            if !self.roots.iter().any(|r| p.starts_with(&r.path)) {
                return Err(self.outside(input));
            }
            p.to_path_buf()
        } else {
            self.roots[0].path.join(p)
        };
        // Normalise `.` components away.
        Ok(abs.components().filter(|c| !matches!(c, Component::CurDir)).collect())
    }

    fn outside(&self, input: &str) -> ToolError {
        let list: Vec<String> = self.roots.iter().map(|r| r.path.display().to_string()).collect();
        ToolError::denied(format!(
            "{input} is outside the allowed roots ({}); use a path inside one of them",
            list.join(", ")
        ))
    }

    fn locate(&self, canon: &Path, input: &str) -> Result<Resolved<'_>, ToolError> {
        for r in &self.roots {
            if let Ok(rel) = canon.strip_prefix(&r.path) {
                return Ok(Resolved { root: r, rel: rel.to_path_buf() });
            }
        }
        Err(ToolError::denied(format!(
            "{input} resolves to {} through a symbolic link, outside the allowed roots; it cannot be used",
            canon.display()
        )))
    }

    /// Resolve an existing path, following symlinks that stay inside the roots.
    pub fn existing(&self, input: &str) -> Result<Resolved<'_>, ToolError> {
        let lex = self.lexical(input)?;
        let canon = std::fs::canonicalize(&lex).map_err(|e| io_error(e, input))?;
        self.locate(&canon, input)
    }

    /// Resolve an entry without following its final component: for creating,
    /// and for acting on a symlink itself (stat, delete, move).
    pub fn entry(&self, input: &str) -> Result<Entry<'_>, ToolError> {
        let lex = self.lexical(input)?;
        let (Some(parent), Some(name)) = (lex.parent(), lex.file_name()) else {
            return Err(ToolError::invalid(format!("{input} is a root; it cannot be the target of this operation")));
        };
        if self.roots.iter().any(|r| r.path == lex) {
            return Err(ToolError::invalid(format!("{input} is a root; it cannot be the target of this operation")));
        }
        let canon_parent = std::fs::canonicalize(parent).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolError::not_found(format!(
                "the parent directory of {input} does not exist; create it first (create_directory) or pass create_parents: true"
            )),
            _ => io_error(e, input),
        })?;
        let parent = self.locate(&canon_parent, input)?;
        Ok(Entry { parent, name: name.to_os_string() })
    }

    /// The root a path lies in lexically, and its components below that root.
    /// Used to create missing parents, where nothing can be canonicalised yet.
    pub fn lexical_in_root(&self, input: &str) -> Result<(&Root, Vec<OsString>), ToolError> {
        let lex = self.lexical(input)?;
        let root = self.roots.iter().find(|r| lex.starts_with(&r.path)).ok_or_else(|| self.outside(input))?;
        let rel = lex.strip_prefix(&root.path).map_err(ToolError::internal)?;
        Ok((root, rel.components().map(|c| c.as_os_str().to_os_string()).collect()))
    }

    /// A descriptor for a root itself.
    pub fn root_dir(&self, root: &Root) -> Result<OwnedFd, Errno> {
        rustix::fs::openat(&root.fd, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
    }

    /// Whether `input` names a root itself.
    pub fn is_root(&self, input: &str) -> bool {
        self.lexical(input).is_ok_and(|l| self.roots.iter().any(|r| r.path == l))
    }

    /// Open `r` with `flags`, refusing any symlink on the way (see module docs).
    pub fn open(&self, r: &Resolved<'_>, flags: OFlags) -> Result<OwnedFd, Errno> {
        self.open_rel(r.root.fd.as_fd(), &r.rel, flags)
    }

    /// Open the directory `r`.
    pub fn open_dir(&self, r: &Resolved<'_>) -> Result<OwnedFd, Errno> {
        self.open(r, OFlags::RDONLY | OFlags::DIRECTORY)
    }

    fn open_rel(&self, dir: BorrowedFd<'_>, rel: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
        let rel: &Path = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
        let flags = flags | OFlags::CLOEXEC;
        if self.openat2.load(Ordering::Relaxed) {
            match rustix::fs::openat2(
                dir,
                rel,
                flags,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            ) {
                Err(Errno::NOSYS) | Err(Errno::PERM) if self.openat2_unavailable(dir) => {}
                r => return r,
            }
        }
        // Fallback: one component at a time, never following a symlink.
        let comps: Vec<&OsStr> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        if comps.is_empty() {
            return rustix::fs::openat(dir, ".", flags, Mode::empty());
        }
        let mut cur: Option<OwnedFd> = None;
        for (i, c) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let f = if last {
                flags | OFlags::NOFOLLOW
            } else {
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
            };
            let base = cur.as_ref().map_or(dir, |f| f.as_fd());
            cur = Some(rustix::fs::openat(base, *c, f, Mode::empty())?);
        }
        cur.ok_or(Errno::NOENT)
    }

    /// `openat2` failed with ENOSYS or EPERM: find out whether the call is
    /// missing (switch to the fallback for good) or the file is forbidden.
    fn openat2_unavailable(&self, dir: BorrowedFd<'_>) -> bool {
        match rustix::fs::openat2(dir, ".", OFlags::PATH | OFlags::CLOEXEC, Mode::empty(), ResolveFlags::BENEATH) {
            Err(Errno::NOSYS) | Err(Errno::PERM) => {
                tracing_fallback();
                self.openat2.store(false, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// `stat` of an entry without following a final symlink.
    pub fn lstat(&self, e: &Entry<'_>) -> Result<rustix::fs::Stat, Errno> {
        let parent = self.open(&e.parent, OFlags::PATH | OFlags::DIRECTORY)?;
        rustix::fs::statat(&parent, e.name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
    }
}

fn tracing_fallback() {
    mcp_core::tracing::warn!("openat2 is unavailable; falling back to component-wise O_NOFOLLOW opens");
}

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link (never followed by listings and walks).
    Symlink,
    /// Anything else (socket, fifo, device).
    Other,
}

impl Kind {
    /// From a stat mode.
    pub fn of(st: &rustix::fs::Stat) -> Self {
        match rustix::fs::FileType::from_raw_mode(st.st_mode) {
            rustix::fs::FileType::RegularFile => Self::File,
            rustix::fs::FileType::Directory => Self::Dir,
            rustix::fs::FileType::Symlink => Self::Symlink,
            _ => Self::Other,
        }
    }
}

/// Validate that `name` is a single ordinary file name.
pub fn check_name(name: &OsStr) -> Result<(), ToolError> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(ToolError::invalid(format!("{name:?} is not a valid file name")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_checks() {
        for bad in ["", "a\0b", "..", "a/../b", "a\\b", &"x".repeat(4097), &format!("a/{}", "n".repeat(256))] {
            assert!(Sandbox::check_input(bad).is_err(), "{bad:?}");
        }
        for ok in ["a", "./a/b", "/abs/path", "a/./b", "\u{2025}/x", "ａ／ｂ"] {
            assert!(Sandbox::check_input(ok).is_ok(), "{ok:?}");
        }
    }
}
