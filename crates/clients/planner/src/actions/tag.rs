//! `tag`: create the release's annotated tag at HEAD (git); the engine runs
//! it only when lint and tests passed.
//!
//! Idempotent on the git server's side: the create carries the key
//! `<run>/<step>` and a message fixed by the run, so an attempt after a
//! crash between the tag and its checkpoint gets the first tag back instead
//! of "already exists".

use mcp_types::peer::GitTags;
use serde_json::{Value, json};

use crate::exec::Ctx;
use crate::peers::StepError;
use crate::spec::one_line;

/// Tag HEAD `name` as step `key` of the run.
pub(super) async fn run(cx: &mut Ctx<'_>, key: &str, name: &str) -> Result<Value, StepError> {
    let message = format!("{name}: {}\n\nRequest: {}", one_line(&cx.run.spec.name, 100), cx.run.request.request_id);
    let r: GitTags =
        cx.p.peers
            .git
            .call_as(
                "git_tag",
                json!({"repo": cx.run.slug, "action": "create", "name": name, "message": message,
                   "idempotency_key": format!("{}/{key}", cx.run.id)}),
            )
            .await?;
    let commit = r.tags.into_iter().find(|t| t.name == name).map(|t| t.commit);
    Ok(json!({"tag": name, "commit": commit}))
}
