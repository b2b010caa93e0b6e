//! `spec_document_get`: one document's text and state (what a reviewer
//! reads before deciding).

use mcp_core::prelude::*;
use mcp_types::documents::WorkflowDocument;

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

/// The document.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: String,
    /// The document with its text.
    pub document: DocRow,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_document_get",
        "Read one spec document: its text, state, revision, who wrote it and the last decision with its comment.",
        Annotations::read_only(),
        run,
    )
    .title("Read a spec document")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    workflow::need_spec(&s.db, &a.spec).await?;
    let doc = workflow::document(&s.db, &a.spec, a.document)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("{} of {} is not written yet", a.document, a.spec)))?;
    let text = doc.content.clone().unwrap_or_default();
    Ok(Out::new(Output { spec: a.spec, document: doc }).text(text))
}
