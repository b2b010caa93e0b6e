//! `read_output`: page through the full output a process wrote.

use mcp_core::prelude::*;

use crate::Shell;
use crate::jobs::State;

/// Which stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Standard output (default).
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The process id from run or start.
    pub id: String,
    /// "stdout" (default) or "stderr".
    #[serde(default)]
    pub stream: Stream,
    /// Byte offset to read from (0 for the start; pass the previous next_offset to continue).
    #[serde(default)]
    pub offset: u64,
    /// Most bytes to return (default 64K, at most 1M).
    pub max_bytes: Option<usize>,
}

/// A page of output.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Process id.
    pub id: String,
    /// The text (invalid UTF-8 replaced).
    pub text: String,
    /// Offset of the first byte returned.
    pub offset: u64,
    /// Where to continue.
    pub next_offset: u64,
    /// True when this reaches the end of what is kept so far.
    pub at_end: bool,
    /// Whether the process is still running (more may come).
    pub running: bool,
    /// Bytes the stream has produced in all.
    pub total_bytes: u64,
    /// Bytes kept on the server (beyond the spool limit the rest was dropped).
    pub kept_bytes: u64,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "read_output",
        "Read a process's stdout or stderr from a byte offset: the full output of a run whose result was cut, or the \
         latest output of a process started with start.",
        Annotations::read_only(),
        run,
    )
    .title("Read process output")
}

async fn run(shell: Arc<Shell>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let job = shell.jobs.get(&a.id)?;
    let cap = match a.stream {
        Stream::Stdout => &job.stdout,
        Stream::Stderr => &job.stderr,
    };
    let max = a.max_bytes.unwrap_or(64 << 10).clamp(1, 1 << 20);
    let page = cap.read(a.offset, max).map_err(ToolError::internal)?;
    let running = job.state() == State::Running;
    let out = Output {
        id: job.id.clone(),
        text: page.text.clone(),
        offset: a.offset,
        next_offset: page.next_offset,
        at_end: page.at_end,
        running,
        total_bytes: cap.total(),
        kept_bytes: cap.spooled(),
    };
    let mut text = page.text;
    if !page.at_end {
        text.push_str(&format!("\n[more: call read_output with offset={}]", page.next_offset));
    }
    Ok(Out::new(out).text(text))
}
