//! `write_file`: create or replace a file atomically.

use base64::Engine as _;
use mcp_core::prelude::*;

use super::write::{atomic_write, mkdir_p, write_in};
use crate::{Fs, blocking};

/// How the content is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 text (default).
    #[default]
    Utf8,
    /// Base64-encoded bytes.
    Base64,
}

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Create the file or replace it (default).
    #[default]
    Overwrite,
    /// Create the file; fail if it already exists.
    CreateNew,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Path of the file to write.
    pub path: String,
    /// The whole new content.
    pub content: String,
    /// "utf_8" (default) or "base64".
    #[serde(default)]
    pub encoding: Encoding,
    /// "overwrite" (default) or "create_new" (fail if the file exists).
    #[serde(default)]
    pub mode: WriteMode,
    /// Create missing parent directories (default false).
    #[serde(default)]
    pub create_parents: bool,
}

/// What was written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical path written.
    pub path: String,
    /// Bytes written.
    pub bytes: u64,
    /// True when the file did not exist before.
    pub created: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "write_file",
        "Write a whole file under the roots, atomically (readers never see a half-written file). Replaces an \
         existing file unless mode is \"create_new\". To change part of a file use edit_file instead.",
        Annotations::destructive(true),
        run,
    )
    .title("Write file")
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let bytes = match a.encoding {
        Encoding::Utf8 => a.content.into_bytes(),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(a.content.as_bytes())
            .map_err(|e| ToolError::invalid(format!("content is not valid base64: {e}")))?,
    };
    if bytes.len() > fs.config.max_file_bytes {
        return Err(ToolError::invalid(format!(
            "content is {} bytes, over this server's {}-byte file limit",
            bytes.len(),
            fs.config.max_file_bytes
        )));
    }
    let exclusive = a.mode == WriteMode::CreateNew;
    blocking(move || {
        let (created, path) = if a.create_parents {
            let (dir, _) = mkdir_p(&fs, &a.path, false)?;
            let e = fs.sandbox.entry(&a.path)?;
            (write_in(&dir, &e.name, &a.path, &bytes, exclusive)?, e.abs())
        } else {
            let e = fs.sandbox.entry(&a.path)?;
            (atomic_write(&fs, &e, &a.path, &bytes, exclusive)?, e.abs())
        };
        let path = path.display().to_string();
        let text = format!("{} {path} ({} bytes)", if created { "created" } else { "replaced" }, bytes.len());
        Ok(Out::new(Output { path, bytes: bytes.len() as u64, created }).text(text))
    })
    .await
}
