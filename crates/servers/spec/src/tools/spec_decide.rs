//! `spec_decide`: an operator's decision on a submitted document. Only
//! callers with the operator or admin role may decide: the gateway's
//! approval queue proxies operators' decisions here (naming the person in
//! `decided_by`), and a viewer is refused.

use mcp_core::auth::Role;
use mcp_core::prelude::*;
use mcp_types::documents::{SpecDecide as Args, SpecDecision};

use super::{actor, require};
use crate::Spec;
use crate::engine::one_line;
use crate::workflow::{self, DocRow};

/// The decided document.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: String,
    /// The document after the decision.
    pub document: DocRow,
    /// Decided now (false: the same decision had already been made).
    pub decided: bool,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_decide",
        "Decide on a spec document waiting for approval: approve (the next document may then be drafted), \
         request_changes or reject (both need a comment saying why). Needs the operator or admin role. revision, \
         when given, must be the revision the decider read. The first decision stands: another decision on a decided \
         document is a conflict; the same one again returns it.",
        Annotations::additive(true),
        run,
    )
    .title("Decide on a spec document")
}

async fn run(s: Arc<Spec>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    require(&ctx, Role::Operator, "deciding on a spec document")?;
    workflow::need_spec(&s.db, &a.spec).await?;
    let comment = a.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = comment
        && c.len() > 4000
    {
        return Err(ToolError::invalid("comment is longer than 4000 bytes"));
    }
    if a.decision != SpecDecision::Approve && comment.is_none() {
        return Err(ToolError::invalid(format!("{} needs a comment saying what to change or why", a.decision)));
    }
    // The caller is who decides; a caller deciding for a person (the gateway) names them.
    let caller = actor(&ctx);
    let by = match a.decided_by.as_deref().map(one_line).filter(|b| !b.is_empty()) {
        Some(p) if p.len() <= 254 => format!("{p} (via {caller})"),
        Some(_) => return Err(ToolError::invalid("decided_by must be at most 254 characters")),
        None => caller,
    };
    let (mut doc, decided) = workflow::decide(&s.db, &a.spec, a.document, a.decision, comment, &by, a.revision).await?;
    doc.content = None;
    let text = format!(
        "{} of {} revision {} is {} (by {})",
        doc.document,
        a.spec,
        doc.revision,
        doc.state,
        doc.decided_by.as_deref().unwrap_or("?")
    );
    Ok(Out::new(Output { spec: a.spec, document: doc, decided }).text(text))
}
