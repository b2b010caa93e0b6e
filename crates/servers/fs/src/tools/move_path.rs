//! `move`: rename or move a file or directory within the roots.

use mcp_core::prelude::*;
use rustix::fs::RenameFlags;
use rustix::io::Errno;

use crate::sandbox::{check_name, os_error};
use crate::{Fs, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to move (a symlink is moved itself, not its target).
    pub source: String,
    /// Where to; its parent directory must exist.
    pub destination: String,
    /// Replace an existing destination file (default false).
    #[serde(default)]
    pub overwrite: bool,
}

/// The move done.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Old canonical path.
    pub from: String,
    /// New canonical path.
    pub to: String,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "move",
        "Move or rename a file or directory within the roots. Refuses to replace an existing destination unless \
         overwrite is true.",
        Annotations::destructive(false),
        run,
    )
    .title("Move or rename")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let src = fs.sandbox.entry(&a.source)?;
        let dst = fs.sandbox.entry(&a.destination)?;
        check_name(&src.name)?;
        check_name(&dst.name)?;
        let sd = fs.sandbox.open_dir(&src.parent).map_err(|e| os_error(e, &a.source))?;
        let dd = fs.sandbox.open_dir(&dst.parent).map_err(|e| os_error(e, &a.destination))?;
        let flags = if a.overwrite { RenameFlags::empty() } else { RenameFlags::NOREPLACE };
        rustix::fs::renameat_with(&sd, src.name.as_os_str(), &dd, dst.name.as_os_str(), flags).map_err(
            |e| match e {
                Errno::EXIST => {
                    ToolError::conflict(format!("{} already exists; pass overwrite: true to replace it", a.destination))
                }
                Errno::XDEV => ToolError::invalid("source and destination are on different filesystems; copy instead"),
                Errno::INVAL => ToolError::invalid("cannot move a directory into itself"),
                other => os_error(other, &a.source),
            },
        )?;
        let (from, to) = (src.abs().display().to_string(), dst.abs().display().to_string());
        let text = format!("moved {from} -> {to}");
        Ok(Out::new(Output { from, to }).text(text))
    })
    .await
}
