//! `signal`: send a signal to a process's whole process group; KILL also
//! takes every descendant.

use mcp_core::prelude::*;
use rustix::process::Signal;

use crate::Shell;
use crate::jobs::State;

/// Signals a caller may send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Sig {
    /// Ask to terminate (default).
    #[default]
    Term,
    /// Interrupt (Ctrl-C).
    Int,
    /// Hang up (many servers reload on it).
    Hup,
    /// Kill the process and all its descendants at once.
    Kill,
    /// Quit.
    Quit,
    /// User signal 1.
    Usr1,
    /// User signal 2.
    Usr2,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The process id.
    pub id: String,
    /// TERM (default), INT, HUP, KILL, QUIT, USR1 or USR2.
    #[serde(default)]
    pub signal: Sig,
}

/// What happened.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Process id.
    pub id: String,
    /// The signal sent.
    pub signal: String,
    /// Process groups signalled.
    pub groups: usize,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "signal",
        "Send a signal to a running process and its whole process group: TERM (default) to stop it gracefully, KILL \
         to end it and every descendant immediately.",
        Annotations::destructive(true),
        run,
    )
    .title("Signal a process")
}

async fn run(shell: Arc<Shell>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let job = shell.jobs.get(&a.id)?;
    if job.state() != State::Running {
        return Err(ToolError::conflict(format!("process {} is not running ({:?})", a.id, job.state())));
    }
    let (sig, name) = match a.signal {
        Sig::Term => (Signal::TERM, "TERM"),
        Sig::Int => (Signal::INT, "INT"),
        Sig::Hup => (Signal::HUP, "HUP"),
        Sig::Kill => (Signal::KILL, "KILL"),
        Sig::Quit => (Signal::QUIT, "QUIT"),
        Sig::Usr1 => (Signal::USR1, "USR1"),
        Sig::Usr2 => (Signal::USR2, "USR2"),
    };
    let groups = if sig == Signal::KILL {
        job.kill_tree("killed by the signal tool");
        1
    } else {
        job.signal(sig)
    };
    mcp_core::tracing::info!(id = %a.id, signal = name, "signal sent");
    Ok(Out::new(Output { id: a.id, signal: name.into(), groups }))
}
