//! `mark`: set or clear \Seen and \Flagged — the only way mail gets marked.

use mcp_core::prelude::*;

use super::load;
use crate::{Email, backend};

/// Arguments: at least one of `seen` and `flagged`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The message id.
    pub id: String,
    /// true marks it seen (read), false unseen.
    #[serde(default)]
    pub seen: Option<bool>,
    /// true flags it, false clears the flag.
    #[serde(default)]
    pub flagged: Option<bool>,
}

/// The flags now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The message id.
    pub id: String,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "mark",
        "Mark a message seen/unseen and/or flagged/unflagged (reading never does this by itself).",
        Annotations::additive(true),
        run,
    )
    .title("Mark a message")
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.seen.is_none() && a.flagged.is_none() {
        return Err(ToolError::invalid("give seen and/or flagged"));
    }
    let s = load(&e, &a.id).await?;
    let (seen, flagged) = backend::set_flags(&e, &s, a.seen, a.flagged).await?;
    Ok(Out::new(Output { id: a.id, seen, flagged }))
}
