//! `write_stdin`: send input to a process started with `start`.

use mcp_core::prelude::*;

use crate::Shell;
use crate::jobs::State;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The process id from start.
    pub id: String,
    /// Text to write (include "\n" to end a line).
    #[serde(default)]
    pub data: String,
    /// Close stdin afterwards (the process sees end of input).
    #[serde(default)]
    pub close: bool,
}

/// What was written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Process id.
    pub id: String,
    /// Bytes written.
    pub bytes: usize,
    /// Whether stdin is now closed.
    pub closed: bool,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "write_stdin",
        "Write text to the stdin of a running process started with start; close: true ends its input.",
        Annotations::destructive(false),
        run,
    )
    .title("Write to a process")
}

async fn run(shell: Arc<Shell>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let job = shell.jobs.get(&a.id)?;
    if job.state() != State::Running {
        return Err(ToolError::conflict(format!("process {} is not running", a.id)));
    }
    job.write_stdin(a.data.as_bytes(), a.close).await?;
    Ok(Out::new(Output { id: a.id, bytes: a.data.len(), closed: a.close }))
}
