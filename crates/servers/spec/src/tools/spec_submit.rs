//! `spec_submit`: ask for approval of a draft. The text is frozen until an
//! operator decides (`spec_decide`, which the gateway's approval queue calls).

use mcp_core::auth::Role;
use mcp_core::prelude::*;
use mcp_types::documents::WorkflowDocument;

use super::{actor, require};
use crate::Spec;
use crate::workflow::{self, DocRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The spec's name.
    pub spec: String,
    /// requirements, design or tasks.
    pub document: WorkflowDocument,
}

/// The document submitted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: String,
    /// The document, pending approval.
    pub document: DocRow,
    /// Submitted now (false: it was already pending).
    pub submitted: bool,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_submit",
        "Submit a draft spec document for approval: its state becomes pending_approval and its text cannot change \
         until an operator approves it, requests changes or rejects it (spec_decide). Submitting a pending document \
         again returns it.",
        Annotations::additive(true),
        run,
    )
    .title("Submit for approval")
}

async fn run(s: Arc<Spec>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    require(&ctx, Role::Operator, "submitting a spec document")?;
    workflow::need_spec(&s.db, &a.spec).await?;
    let (mut doc, submitted) = workflow::submit(&s.db, &a.spec, a.document, &actor(&ctx)).await?;
    doc.content = None;
    let text = format!("{} of {} revision {} waits for approval", doc.document, a.spec, doc.revision);
    Ok(Out::new(Output { spec: a.spec, document: doc, submitted }).text(text))
}
