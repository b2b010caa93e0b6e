//! `git_init`: make the project folder a repository on `main`. Idempotent by
//! the git server's contract: initialising an existing repository changes
//! nothing.

use serde_json::{Value, json};

use crate::exec::Ctx;
use crate::peers::StepError;

/// Initialise the project's repository; the result names its path (the report says where the project is).
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    Ok(cx.p.peers.git.call("git_init", json!({"repo": cx.run.slug, "initial_branch": "main"})).await?)
}
