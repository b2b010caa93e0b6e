//! `project_audit`: a project's decisions and messages joined with its
//! traces in one timeline.

use mcp_core::prelude::*;

use crate::Observer;
use crate::audit::{Audit, audit, render};

/// Arguments: the audit's own query type (the tool and the REST route take the same).
pub use crate::audit::Args;

/// The tool.
pub fn tool() -> Tool<Observer> {
    Tool::new(
        "project_audit",
        "The audit trail of one project: its decisions and messages (from the sql server) with the traces they \
         belong to, merged with those traces' spans into one time-ordered timeline. Use it to explain what \
         happened to a request and why.",
        Annotations::read_only(),
        run,
    )
    .title("Audit a project")
}

async fn run(obs: Arc<Observer>, a: Args, _ctx: Ctx) -> Result<Out<Audit>, ToolError> {
    let out = audit(&obs, &a).await?;
    let text = render(&out);
    Ok(Out::new(out).text(text))
}
