//! `create_directory`: make a directory (and, by default, its parents).

use mcp_core::prelude::*;
use rustix::fs::Mode;

use super::write::mkdir_p;
use crate::sandbox::{check_name, os_error};
use crate::{Fs, blocking};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Path of the directory to create.
    pub path: String,
    /// Also create missing parents (default true). An existing directory is not an error then.
    #[serde(default = "yes")]
    pub parents: bool,
}

fn yes() -> bool {
    true
}

/// What was created.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical path.
    pub path: String,
    /// Directories created (0 when it already existed).
    pub created: usize,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "create_directory",
        "Create a directory under the roots, with its missing parents unless parents is false.",
        Annotations::additive(true),
        run,
    )
    .title("Create directory")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let created = if a.parents {
            mkdir_p(&fs, &a.path, true)?.1
        } else {
            let e = fs.sandbox.entry(&a.path)?;
            check_name(&e.name)?;
            let dir = fs.sandbox.open_dir(&e.parent).map_err(|err| os_error(err, &a.path))?;
            rustix::fs::mkdirat(&dir, e.name.as_os_str(), Mode::from_raw_mode(0o755))
                .map_err(|err| os_error(err, &a.path))?;
            1
        };
        let path = fs.sandbox.existing(&a.path)?.abs().display().to_string();
        let text = if created == 0 { format!("{path} already exists") } else { format!("created {path}") };
        Ok(Out::new(Output { path, created }).text(text))
    })
    .await
}
