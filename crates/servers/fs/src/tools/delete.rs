//! `delete`: remove a file, a symlink, or a directory (recursively only when
//! asked). Present only when deletes are enabled.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;

use mcp_core::prelude::*;
use rustix::fs::{AtFlags, Mode, OFlags};

use crate::sandbox::{Kind, check_name, os_error};
use crate::walk::read_names;
use crate::{Fs, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to delete. A symlink is removed itself; its target is untouched.
    pub path: String,
    /// Delete a non-empty directory with everything in it (default false).
    #[serde(default)]
    pub recursive: bool,
}

/// What was deleted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical path deleted.
    pub path: String,
    /// Files and symlinks removed.
    pub files: u64,
    /// Directories removed.
    pub directories: u64,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "delete",
        "Delete a file, symlink or empty directory under the roots; with recursive: true, a directory and all it \
         contains. A root itself cannot be deleted.",
        Annotations::destructive(true),
        run,
    )
    .title("Delete")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let e = fs.sandbox.entry(&a.path)?;
        check_name(&e.name)?;
        let dir = fs.sandbox.open_dir(&e.parent).map_err(|err| os_error(err, &a.path))?;
        let st = rustix::fs::statat(&dir, e.name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|err| os_error(err, &a.path))?;
        let mut n = (0u64, 0u64);
        if Kind::of(&st) == Kind::Dir {
            if a.recursive {
                remove_tree(&dir, e.name.as_os_str(), &mut n).map_err(|err| os_error(err, &a.path))?;
            } else {
                rustix::fs::unlinkat(&dir, e.name.as_os_str(), AtFlags::REMOVEDIR)
                    .map_err(|err| os_error(err, &a.path))?;
                n.1 += 1;
            }
        } else {
            rustix::fs::unlinkat(&dir, e.name.as_os_str(), AtFlags::empty()).map_err(|err| os_error(err, &a.path))?;
            n.0 += 1;
        }
        let path = e.abs().display().to_string();
        let text = format!("deleted {path} ({} file(s), {} directorie(s))", n.0, n.1);
        Ok(Out::new(Output { path, files: n.0, directories: n.1 }).text(text))
    })
    .await
}

/// Remove `name` in `parent` and everything below it, through descriptors only.
fn remove_tree(parent: &OwnedFd, name: &OsStr, n: &mut (u64, u64)) -> Result<(), rustix::io::Errno> {
    let dir = rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for child in read_names(&dir)? {
        let st = rustix::fs::statat(&dir, child.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
        if Kind::of(&st) == Kind::Dir {
            remove_tree(&dir, &child, n)?;
        } else {
            rustix::fs::unlinkat(&dir, child.as_os_str(), AtFlags::empty())?;
            n.0 += 1;
        }
    }
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR)?;
    n.1 += 1;
    Ok(())
}
