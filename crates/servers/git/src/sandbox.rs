//! The roots, and the only way to reach a repository or a file in its work tree.
//!
//! A `repo` argument is checked lexically (no NUL, no `..`, no leading `-`),
//! canonicalised, and must lie inside a root. The repository is then opened
//! with `NO_SEARCH`, so libgit2 never walks up out of the root looking for a
//! `.git`, and its git directory, common directory and work tree (which a
//! `.git` file or `core.worktree` could point anywhere) must all be inside the
//! roots too. File arguments (pathspecs) are relative, free of `..`, and their
//! canonical parent must stay inside the work tree, so a symlink cannot carry
//! a read or write outside it.

use std::path::{Component, Path, PathBuf};

use git2::{Repository, RepositoryOpenFlags};
use mcp_core::ToolError;

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// The allowed roots, canonical.
#[derive(Debug, Clone)]
pub struct Roots {
    roots: Vec<PathBuf>,
}

/// Why the roots cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    /// No roots configured.
    #[error("no roots configured")]
    Empty,
    /// A root is missing or not a directory.
    #[error("{0}: {1}")]
    Bad(String, std::io::Error),
}

impl Roots {
    /// Canonicalise every root; each must exist and be a directory.
    pub fn new(paths: &[PathBuf]) -> Result<Self, RootsError> {
        if paths.is_empty() {
            return Err(RootsError::Empty);
        }
        let mut roots = Vec::new();
        for p in paths {
            let c = std::fs::canonicalize(p).map_err(|e| RootsError::Bad(p.display().to_string(), e))?;
            if !c.is_dir() {
                return Err(RootsError::Bad(
                    p.display().to_string(),
                    std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
                ));
            }
            roots.push(c);
        }
        Ok(Self { roots })
    }

    /// The canonical roots.
    pub fn paths(&self) -> &[PathBuf] {
        &self.roots
    }

    /// True when `p` (canonical) is a root or inside one.
    pub fn contains(&self, p: &Path) -> bool {
        self.roots.iter().any(|r| p.starts_with(r))
    }

    /// Lexical checks shared by every path argument; returns the absolute,
    /// not yet canonical, path.
    fn lexical(&self, what: &str, p: &str) -> Result<PathBuf, ToolError> {
        check_text(what, p)?;
        let path = Path::new(p);
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(ToolError::invalid(format!(
                "{what} {p:?} contains '..'; give a path inside the roots without '..'"
            )));
        }
        Ok(if path.is_absolute() { path.to_path_buf() } else { self.roots[0].join(path) })
    }

    /// An existing directory inside the roots, canonical.
    pub fn existing(&self, what: &str, p: &str) -> Result<PathBuf, ToolError> {
        let abs = self.lexical(what, p)?;
        let c = std::fs::canonicalize(&abs).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ToolError::not_found(format!("{what} {p:?} does not exist (relative paths start at {})", self.first()))
            }
            _ => ToolError::invalid(format!("{what} {p:?}: {e}")),
        })?;
        if !self.contains(&c) {
            return Err(self.outside(what, p));
        }
        Ok(c)
    }

    /// A path that may not exist yet (a new repository or clone destination):
    /// its nearest existing ancestor must be inside the roots, and if it
    /// exists it must itself resolve inside them.
    pub fn new_path(&self, what: &str, p: &str) -> Result<PathBuf, ToolError> {
        let abs = self.lexical(what, p)?;
        if let Ok(c) = std::fs::canonicalize(&abs) {
            if !self.contains(&c) {
                return Err(self.outside(what, p));
            }
            return Ok(c);
        }
        if std::fs::symlink_metadata(&abs).is_ok() {
            // Exists but does not resolve: a dangling symlink could be followed by a later create.
            return Err(ToolError::invalid(format!("{what} {p:?} is a dangling symbolic link")));
        }
        let mut rest = Vec::new();
        let mut cur = abs.as_path();
        loop {
            let Some(parent) = cur.parent() else { return Err(self.outside(what, p)) };
            rest.push(cur.file_name().map(|n| n.to_os_string()).unwrap_or_default());
            if let Ok(c) = std::fs::canonicalize(parent) {
                if !self.contains(&c) {
                    return Err(self.outside(what, p));
                }
                let mut out = c;
                for name in rest.iter().rev() {
                    out.push(name);
                }
                return Ok(out);
            }
            cur = parent;
        }
    }

    fn first(&self) -> String {
        self.roots[0].display().to_string()
    }

    fn outside(&self, what: &str, p: &str) -> ToolError {
        ToolError::denied(format!(
            "{what} {p:?} resolves outside the allowed roots ({}); use a repository inside them",
            self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
        ))
    }

    /// Open the repository at `repo` (absolute, or relative to the first root).
    pub fn open(&self, repo: &str) -> Result<Repository, ToolError> {
        let dir = self.existing("repo", repo)?;
        let r =
            Repository::open_ext(&dir, RepositoryOpenFlags::NO_SEARCH, &[] as &[&std::ffi::OsStr]).map_err(|e| {
                if e.code() == git2::ErrorCode::NotFound {
                    ToolError::not_found(format!(
                        "{repo:?} is not a git repository (no .git here; the server does not search parent folders). \
                     Create one with git_init or git_clone, or give the repository's top folder"
                    ))
                } else {
                    git_error(e)
                }
            })?;
        for (what, p) in
            [("git directory", Some(r.path())), ("common directory", Some(r.commondir())), ("work tree", r.workdir())]
        {
            let Some(p) = p else { continue };
            let c = std::fs::canonicalize(p)
                .map_err(|e| ToolError::invalid(format!("{repo:?}: its {what} {}: {e}", p.display())))?;
            if !self.contains(&c) {
                return Err(ToolError::denied(format!(
                    "{repo:?}: its {what} is {}, outside the allowed roots (through a .git file or core.worktree); \
                     this repository cannot be used here",
                    c.display()
                )));
            }
        }
        self.check_object_store(repo, r.commondir(), 0)?;
        Ok(r)
    }

    /// The object store must be inside the roots too: a symlinked `objects`
    /// folder, or alternates (`objects/info/alternates`, followed the way
    /// git follows them, a few levels deep) pointing elsewhere, would let a
    /// repository under the roots read — and hand out through diff, show,
    /// clone and fetch — objects of repositories outside them. HTTP
    /// alternates are refused outright.
    fn check_object_store(&self, repo: &str, git_dir: &Path, depth: usize) -> Result<(), ToolError> {
        let outside = |what: &str, p: &Path| {
            ToolError::denied(format!(
                "{repo:?}: its {what} {} is outside the allowed roots; this repository cannot be used here",
                p.display()
            ))
        };
        let objects = git_dir.join("objects");
        let Ok(canonical) = std::fs::canonicalize(&objects) else { return Ok(()) };
        if !self.contains(&canonical) {
            return Err(outside("object store", &canonical));
        }
        let info = canonical.join("info");
        if info.join("http-alternates").exists() {
            return Err(ToolError::denied(format!(
                "{repo:?}: its object store names HTTP alternates (objects/info/http-alternates), which this server \
                 never follows; remove that file"
            )));
        }
        let Ok(text) = std::fs::read_to_string(info.join("alternates")) else { return Ok(()) };
        if depth >= 5 {
            return Err(ToolError::denied(format!("{repo:?}: its alternates nest more than 5 levels deep")));
        }
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let p = canonical.join(line);
            let alt = std::fs::canonicalize(&p).map_err(|_| outside("alternate object store", &p))?;
            if !self.contains(&alt) {
                return Err(outside("alternate object store", &alt));
            }
            // An alternate's own alternates are followed by git as well.
            if let Some(parent) = alt.parent() {
                self.check_object_store(repo, parent, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// The canonical work tree of a repository, or an error for a bare one.
pub fn workdir(repo: &Repository) -> Result<PathBuf, ToolError> {
    let w = repo.workdir().ok_or_else(|| {
        ToolError::invalid("this is a bare repository (no work tree); this operation needs a work tree")
    })?;
    std::fs::canonicalize(w).map_err(|e| ToolError::invalid(format!("work tree {}: {e}", w.display())))
}

/// No NUL, no control characters, not empty, bounded, no leading `-`.
pub fn check_text(what: &str, s: &str) -> Result<(), ToolError> {
    if s.is_empty() {
        return Err(ToolError::invalid(format!("{what} is empty")));
    }
    if s.len() > MAX_PATH_BYTES {
        return Err(ToolError::invalid(format!("{what} is longer than {MAX_PATH_BYTES} bytes")));
    }
    if s.contains('\0') {
        return Err(ToolError::invalid(format!("{what} contains a NUL byte")));
    }
    if s.chars().any(char::is_control) {
        return Err(ToolError::invalid(format!("{what} {s:?} contains control characters")));
    }
    if s.starts_with('-') {
        return Err(ToolError::invalid(format!(
            "{what} {s:?} starts with '-', which git would read as an option; remove the leading '-'"
        )));
    }
    Ok(())
}

/// A file argument inside the work tree: relative, no `..`, no `.git`
/// component, no leading `-`, and its canonical parent inside `workdir`.
/// Returns the path as git wants it (relative, `/`-separated).
pub fn pathspec(workdir: &Path, p: &str) -> Result<String, ToolError> {
    check_text("path", p)?;
    let path = Path::new(p);
    if path.is_absolute() {
        return Err(ToolError::invalid(format!(
            "path {p:?} is absolute; give it relative to the repository's top folder"
        )));
    }
    let mut clean = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => {
                if n.eq_ignore_ascii_case(".git") {
                    return Err(ToolError::denied(format!(
                        "path {p:?} is inside .git; the git directory is off limits"
                    )));
                }
                clean.push(n);
            }
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(ToolError::invalid(format!(
                    "path {p:?} contains '..'; give a path inside the work tree without '..'"
                )));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ToolError::invalid(format!("path {p:?} is not relative")));
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Ok(".".into());
    }
    // The parent must resolve inside the work tree; the final component may be
    // a symlink (git records links, it does not follow them).
    let parent = clean.parent().map(|q| workdir.join(q)).unwrap_or_else(|| workdir.to_path_buf());
    if let Ok(c) = std::fs::canonicalize(&parent)
        && !c.starts_with(workdir)
    {
        return Err(ToolError::denied(format!(
            "path {p:?} goes through a symbolic link that leads outside the work tree"
        )));
    }
    clean.to_str().map(str::to_owned).ok_or_else(|| ToolError::invalid(format!("path {p:?} is not UTF-8")))
}

/// A git2 error as a tool error the model can act on.
pub fn git_error(e: git2::Error) -> ToolError {
    use git2::ErrorCode as C;
    let msg = e.message().to_owned();
    match e.code() {
        C::NotFound => ToolError::not_found(msg),
        C::Exists => ToolError::conflict(format!("{msg} (it already exists)")),
        C::Conflict | C::MergeConflict => ToolError::conflict(format!(
            "{msg}; commit or stash your local changes first, or use force to discard them"
        )),
        C::Locked => ToolError::conflict(format!("{msg}; another git process holds the lock, retry shortly")),
        C::UnbornBranch => ToolError::conflict(format!("{msg}; the branch has no commits yet, commit first")),
        C::BareRepo => ToolError::invalid(format!("{msg}; this is a bare repository without a work tree")),
        C::InvalidSpec | C::Ambiguous => ToolError::invalid(msg),
        C::Owner => ToolError::denied(format!("{msg}; the repository is owned by another user")),
        C::Uncommitted | C::Modified => ToolError::conflict(format!("{msg}; commit or stash your changes first")),
        _ => ToolError::failed(format!("git: {msg}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathspec_rules() {
        let d = tempfile::tempdir().unwrap();
        let w = std::fs::canonicalize(d.path()).unwrap();
        assert_eq!(pathspec(&w, "a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(pathspec(&w, "./a").unwrap(), "a");
        for bad in ["", "-x", "--upload-pack=x", "../x", "a/../../x", "/etc/passwd", ".git/config", "a\0b", "a\nb"] {
            assert!(pathspec(&w, bad).is_err(), "{bad:?} accepted");
        }
        std::os::unix::fs::symlink("/etc", w.join("out")).unwrap();
        assert!(pathspec(&w, "out/passwd").is_err());
        assert!(pathspec(&w, "out").is_ok(), "the link itself may be staged");
    }
}
