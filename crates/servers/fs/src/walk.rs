//! A bounded, `.gitignore`-aware directory walk that descends through
//! directory descriptors with `O_NOFOLLOW`, so it can never be redirected out
//! of a root by a symlink swapped in during the walk. Symlinks are reported as
//! entries and never followed.
//!
//! Used by `tree`, `find`, `grep`, `changes` and the resource listing.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rustix::fs::{AtFlags, Dir, Mode, OFlags};

use crate::sandbox::Kind;

/// Walk settings.
pub struct Options<'a> {
    /// Deepest level to descend (1 = direct children only).
    pub max_depth: usize,
    /// Skip what `.gitignore` files ignore, and `.git` itself.
    pub gitignore: bool,
    /// Skip paths matching these globs (relative to the walk's start).
    pub exclude: Option<&'a GlobSet>,
    /// Stop after this many entries.
    pub limit: usize,
}

/// One entry.
#[derive(Debug, Clone)]
pub struct WalkEntry {
    /// Path relative to the walk's start.
    pub rel: PathBuf,
    /// Its kind.
    pub kind: Kind,
    /// Depth, 1 for direct children.
    pub depth: usize,
    /// The entry's stat (not following symlinks).
    pub stat: rustix::fs::Stat,
}

/// What a walk ended with.
#[derive(Debug, Default)]
pub struct Summary {
    /// The limit stopped the walk early.
    pub truncated: bool,
    /// Directories that could not be read (permission denied...), skipped.
    pub skipped: Vec<String>,
}

/// Walk `dir` (an open directory descriptor whose absolute path is `abs`),
/// calling `visit` for each entry in name order. `visit` returns false to stop.
pub fn walk(dir: OwnedFd, abs: &Path, opts: &Options<'_>, visit: &mut dyn FnMut(&WalkEntry) -> bool) -> Summary {
    let mut summary = Summary::default();
    let mut count = 0usize;
    let mut ignores: Vec<Gitignore> = Vec::new();
    let mut stop = false;
    walk_dir(dir, abs, Path::new(""), 1, opts, &mut ignores, &mut count, &mut summary, &mut stop, visit);
    summary
}

#[allow(clippy::too_many_arguments)]
fn walk_dir(
    dir: OwnedFd,
    abs: &Path,
    rel: &Path,
    depth: usize,
    opts: &Options<'_>,
    ignores: &mut Vec<Gitignore>,
    count: &mut usize,
    summary: &mut Summary,
    stop: &mut bool,
    visit: &mut dyn FnMut(&WalkEntry) -> bool,
) {
    let pushed =
        if opts.gitignore { load_gitignore(&dir, &abs.join(rel)).map(|g| ignores.push(g)).is_some() } else { false };
    let names = match read_names(&dir) {
        Ok(n) => n,
        Err(e) => {
            summary.skipped.push(format!("{}: {e}", rel.display()));
            if pushed {
                ignores.pop();
            }
            return;
        }
    };
    for name in names {
        if *stop {
            break;
        }
        let Ok(st) = rustix::fs::statat(&dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
        let kind = Kind::of(&st);
        let child_rel = rel.join(&name);
        if opts.gitignore
            && (name.as_bytes() == b".git" || is_ignored(ignores, &abs.join(&child_rel), kind == Kind::Dir))
        {
            continue;
        }
        if let Some(ex) = opts.exclude
            && (ex.is_match(&child_rel) || ex.is_match(Path::new(&name)))
        {
            continue;
        }
        if *count >= opts.limit {
            summary.truncated = true;
            *stop = true;
            break;
        }
        *count += 1;
        let entry = WalkEntry { rel: child_rel.clone(), kind, depth, stat: st };
        if !visit(&entry) {
            *stop = true;
            break;
        }
        if kind == Kind::Dir && depth < opts.max_depth {
            match rustix::fs::openat(
                &dir,
                name.as_os_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(child) => walk_dir(child, abs, &child_rel, depth + 1, opts, ignores, count, summary, stop, visit),
                Err(e) => summary.skipped.push(format!("{}: {e}", child_rel.display())),
            }
        }
    }
    if pushed {
        ignores.pop();
    }
}

/// Entry names of a directory, sorted, without `.` and `..`.
pub fn read_names(dir: &OwnedFd) -> Result<Vec<OsString>, rustix::io::Errno> {
    let mut names = Vec::new();
    for e in Dir::read_from(dir)? {
        let e = e?;
        let n = e.file_name().to_bytes();
        if n == b"." || n == b".." {
            continue;
        }
        names.push(OsString::from(std::ffi::OsStr::from_bytes(n)));
    }
    names.sort();
    Ok(names)
}

fn load_gitignore(dir: &OwnedFd, abs: &Path) -> Option<Gitignore> {
    let fd = rustix::fs::openat(dir, ".gitignore", OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
        .ok()?;
    let mut text = String::new();
    use std::io::Read;
    std::fs::File::from(fd).take(1 << 20).read_to_string(&mut text).ok()?;
    let mut b = GitignoreBuilder::new(abs);
    for line in text.lines() {
        let _ = b.add_line(None, line);
    }
    b.build().ok()
}

fn is_ignored(stack: &[Gitignore], path: &Path, is_dir: bool) -> bool {
    for g in stack.iter().rev() {
        match g.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}
