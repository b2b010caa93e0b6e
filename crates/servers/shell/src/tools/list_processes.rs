//! `list_processes`: the processes this server runs or ran recently.

use mcp_core::prelude::*;

use crate::Shell;
use crate::jobs::State;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Include finished processes (default true; the newest 64 are kept).
    #[serde(default = "yes")]
    pub include_finished: bool,
}

fn yes() -> bool {
    true
}

/// One process.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Id.
    pub id: String,
    /// Command (redacted).
    pub command: String,
    /// running, exited, killed or failed.
    pub status: String,
    /// Exit code when it exited.
    pub exit_code: Option<i32>,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// Run time so far, milliseconds.
    pub duration_ms: u64,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Processes, oldest first.
    pub processes: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "list_processes",
        "List the processes started through this server: running ones and recently finished ones, with status and \
         exit code.",
        Annotations::read_only(),
        run,
    )
    .title("List processes")
}

async fn run(shell: Arc<Shell>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut processes = Vec::new();
    let mut text = String::new();
    for j in shell.jobs.list() {
        let state = j.state();
        if !a.include_finished && state != State::Running {
            continue;
        }
        let (status, code) = match &state {
            State::Running => ("running", None),
            State::Exited { code, .. } => ("exited", *code),
            State::Killed { .. } => ("killed", None),
            State::Failed { .. } => ("failed", None),
        };
        text.push_str(&format!("{} {status:<8} {}\n", j.id, j.display));
        processes.push(Item {
            id: j.id.clone(),
            command: j.display.clone(),
            status: status.into(),
            exit_code: code,
            started_at: j.started_at.clone(),
            duration_ms: j.elapsed().as_millis() as u64,
        });
    }
    if processes.is_empty() {
        text = "no processes".into();
    }
    Ok(Out::new(Output { processes }).text(text))
}
