//! `read_many`: several text files in one call, each capped.

use mcp_core::prelude::*;

use super::read_file;
use crate::Fs;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Paths to read (at most 50).
    pub paths: Vec<String>,
    /// Most bytes per file (default 64K, at most the server's read limit).
    #[serde(default = "sixty_four_k")]
    pub max_bytes_each: u64,
}

fn sixty_four_k() -> u64 {
    64 << 10
}

/// One file's result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FileResult {
    /// The path as given.
    pub path: String,
    /// The text, when it could be read.
    pub content: Option<String>,
    /// Why not, otherwise.
    pub error: Option<String>,
    /// True when the file is longer than what is returned.
    pub truncated: bool,
}

/// Results, in the order asked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// One entry per path.
    pub files: Vec<FileResult>,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "read_many",
        "Read several text files at once (up to 50). Each is capped at max_bytes_each; a file that cannot be read \
         gets an error entry and does not fail the others.",
        Annotations::read_only(),
        run,
    )
    .title("Read several files")
}

async fn run(fs: Arc<Fs>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.paths.is_empty() || a.paths.len() > 50 {
        return Err(ToolError::invalid("give between 1 and 50 paths"));
    }
    let each = a.max_bytes_each.clamp(1, fs.config.max_read_bytes as u64);
    let mut files = Vec::with_capacity(a.paths.len());
    let mut text = String::new();
    for p in a.paths {
        let args = read_file::Args {
            path: p.clone(),
            start_line: None,
            end_line: None,
            head: None,
            tail: None,
            offset: None,
            length: Some(each),
            binary: read_file::BinaryMode::Refuse,
        };
        let r = read_file::read_one(fs.clone(), args, ctx.clone()).await;
        match r {
            Ok(o) => {
                text.push_str(&format!("==> {p} <==\n{}\n", o.content));
                files.push(FileResult { path: p, content: Some(o.content), error: None, truncated: o.truncated });
            }
            Err(e) => {
                text.push_str(&format!("==> {p} <==\n[error: {e}]\n"));
                files.push(FileResult { path: p, content: None, error: Some(e.to_string()), truncated: false });
            }
        }
    }
    Ok(Out::new(Output { files }).text(text))
}
