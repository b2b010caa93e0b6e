//! `stat`: metadata of one path, without following a final symlink.

use mcp_core::prelude::*;

use crate::sandbox::{Kind, os_error};
use crate::{Fs, blocking, rfc3339};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Path to describe.
    pub path: String,
    /// A path that does not exist is an answer (`exists: false`), not a
    /// `not_found` error: for callers that only ask whether it is there.
    #[serde(default)]
    pub missing_ok: bool,
}

/// The answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The path as asked (canonicalised when it exists; a final symlink is not followed).
    pub path: String,
    /// Whether it exists (false only with `missing_ok`).
    pub exists: bool,
    /// Its metadata, when it exists.
    #[serde(flatten)]
    pub meta: Option<Meta>,
}

/// Metadata.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Meta {
    /// file, dir, symlink or other.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits in octal, e.g. "0644".
    pub permissions: String,
    /// Last modification, RFC 3339.
    pub modified: String,
    /// Last access, RFC 3339.
    pub accessed: String,
    /// Last status change, RFC 3339.
    pub changed: String,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// For a symlink: what it points to.
    pub symlink_target: Option<String>,
    /// For a symlink: whether its target stays inside the roots.
    pub symlink_target_inside_roots: Option<bool>,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "stat",
        "Metadata of a file, directory or symlink under the roots: type, size, permissions, times, owner, and for a \
         symlink its target. With missing_ok, a path that does not exist answers exists: false instead of an error.",
        Annotations::read_only(),
        run,
    )
    .title("File metadata")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (asked, missing_ok) = (a.path.clone(), a.missing_ok);
    match describe(fs, a).await {
        Err(e) if missing_ok && e.kind() == ErrorKind::NotFound => {
            let text = format!("{asked} does not exist");
            Ok(Out::new(Output { path: asked, exists: false, meta: None }).text(text))
        }
        other => other,
    }
}

async fn describe(fs: Arc<Fs>, a: Args) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let (path, st, target, inside) = if fs.sandbox.is_root(&a.path) {
            let r = fs.sandbox.existing(&a.path)?;
            let fd = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
            (r.abs(), rustix::fs::fstat(&fd).map_err(|e| os_error(e, &a.path))?, None, None)
        } else {
            let e = fs.sandbox.entry(&a.path)?;
            let st = fs.sandbox.lstat(&e).map_err(|err| os_error(err, &a.path))?;
            let (target, inside) = if Kind::of(&st) == Kind::Symlink {
                let parent = fs.sandbox.open_dir(&e.parent).map_err(|err| os_error(err, &a.path))?;
                let t = rustix::fs::readlinkat(&parent, e.name.as_os_str(), Vec::new())
                    .map(|c| c.to_string_lossy().into_owned())
                    .ok();
                let inside = fs.sandbox.existing(&e.abs().display().to_string()).is_ok();
                (t, Some(inside))
            } else {
                (None, None)
            };
            (e.abs(), st, target, inside)
        };
        let meta = Meta {
            kind: Kind::of(&st),
            size: st.st_size as u64,
            permissions: format!("{:04o}", st.st_mode & 0o7777),
            modified: rfc3339(st.st_mtime, st.st_mtime_nsec as i64),
            accessed: rfc3339(st.st_atime, st.st_atime_nsec as i64),
            changed: rfc3339(st.st_ctime, st.st_ctime_nsec as i64),
            uid: st.st_uid,
            gid: st.st_gid,
            symlink_target: target,
            symlink_target_inside_roots: inside,
        };
        Ok(Out::new(Output { path: path.display().to_string(), exists: true, meta: Some(meta) }))
    })
    .await
}
