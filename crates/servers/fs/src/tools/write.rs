//! Shared write paths: atomic replace, exclusive create, `mkdir -p`, all
//! through directory descriptors (see `sandbox`).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use mcp_core::ToolError;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::Fs;
use crate::sandbox::{Entry, Kind, check_name, os_error};

/// Write `bytes` to `entry` atomically: a temporary file in the same
/// directory, fsync, then rename over the target (or rename without replacing
/// when `exclusive`). Readers see the old content or the new, never a mix.
/// Returns whether the file was created.
pub fn atomic_write(fs: &Fs, entry: &Entry<'_>, input: &str, bytes: &[u8], exclusive: bool) -> Result<bool, ToolError> {
    check_name(&entry.name)?;
    let dir = fs.sandbox.open_dir(&entry.parent).map_err(|e| os_error(e, input))?;
    write_in(&dir, &entry.name, input, bytes, exclusive)
}

/// As [`atomic_write`], given the parent directory's descriptor.
pub fn write_in(dir: &OwnedFd, name: &OsStr, input: &str, bytes: &[u8], exclusive: bool) -> Result<bool, ToolError> {
    let (created, mode) = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => match Kind::of(&st) {
            Kind::Dir => return Err(ToolError::invalid(format!("{input} is a directory"))),
            Kind::Symlink => {
                return Err(ToolError::conflict(format!(
                    "{input} is a symbolic link; write to the file it points to instead (stat shows the target)"
                )));
            }
            _ if exclusive => return Err(ToolError::conflict(format!("{input} already exists (mode create_new)"))),
            _ => (false, st.st_mode & 0o7777),
        },
        Err(Errno::NOENT) => (true, 0o644),
        Err(e) => return Err(os_error(e, input)),
    };
    // Keep the temporary name within NAME_MAX whatever the target's length.
    let stem: Vec<u8> = name.as_bytes().iter().take(200).copied().collect();
    let mut tmp = OsString::from(".");
    tmp.push(OsStr::from_bytes(&stem));
    tmp.push(format!(".mcp-{:016x}.tmp", rand_u64()));
    let fd = rustix::fs::openat(
        dir,
        tmp.as_os_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|e| os_error(e, input))?;
    let result = (|| -> Result<(), ToolError> {
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| os_error(e, input))?;
        let mut f = std::fs::File::from(fd);
        f.write_all(bytes).map_err(|e| crate::sandbox::io_error(e, input))?;
        f.sync_all().map_err(|e| crate::sandbox::io_error(e, input))?;
        if exclusive {
            rustix::fs::renameat_with(dir, tmp.as_os_str(), dir, name, RenameFlags::NOREPLACE)
        } else {
            rustix::fs::renameat(dir, tmp.as_os_str(), dir, name)
        }
        .map_err(|e| os_error(e, input))
    })();
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, tmp.as_os_str(), AtFlags::empty());
    }
    result.map(|()| created)
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// Create every missing directory of `input` (like `mkdir -p`), never
/// following a symlink. Returns the descriptor of the last directory and how
/// many were created.
pub fn mkdir_p(fs: &Fs, input: &str, include_last: bool) -> Result<(OwnedFd, usize), ToolError> {
    let (root, mut comps) = fs.sandbox.lexical_in_root(input)?;
    if !include_last {
        comps.pop();
    }
    let mut cur = fs.sandbox.root_dir(root).map_err(|e| os_error(e, input))?;
    let mut created = 0;
    for c in comps {
        check_name(&c)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let next = match rustix::fs::openat(&cur, c.as_os_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                match rustix::fs::mkdirat(&cur, c.as_os_str(), Mode::from_raw_mode(0o755)) {
                    Ok(()) => created += 1,
                    Err(Errno::EXIST) => {}
                    Err(e) => return Err(os_error(e, input)),
                }
                rustix::fs::openat(&cur, c.as_os_str(), flags, Mode::empty()).map_err(|e| os_error(e, input))?
            }
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                return Err(ToolError::conflict(format!(
                    "{:?} on the way to {input} is a file or a symbolic link, not a directory",
                    c
                )));
            }
            Err(e) => return Err(os_error(e, input)),
        };
        cur = next;
    }
    Ok((cur, created))
}
