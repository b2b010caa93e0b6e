//! `spec_document_write`: a new revision of one of a spec's documents, as
//! given text or rendered from data by the document's template. Allowed only
//! when the previous document is approved and this one is not waiting for a
//! decision or approved (see `workflow`).

use mcp_core::auth::Role;
use mcp_core::prelude::*;
use mcp_types::documents::{DocumentKind, WorkflowDocument};

use super::{actor, cap_input, json_len, require, source_of};
use crate::workflow::{self, DocRow};
use crate::{Spec, kinds};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The spec's name.
    pub spec: String,
    /// requirements, design or tasks.
    pub document: WorkflowDocument,
    /// The document's Markdown text (or give data instead).
    pub content: Option<String>,
    /// Data for the document's template (the shape spec_generate takes for the same kind), instead of content.
    pub data: Option<Value>,
    /// Another template for data (default: the document's own).
    pub template: Option<String>,
}

/// The document written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: String,
    /// The document, in state draft.
    pub document: DocRow,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_document_write",
        "Write a spec document (requirements, design or tasks) as content (Markdown) or data rendered by its \
         template. The design may be written only after the requirements are approved, the tasks only after the \
         design; a document waiting for a decision or approved cannot be rewritten. Each write is a new revision in \
         state draft; submit it for approval with spec_submit.",
        Annotations::destructive(false),
        run,
    )
    .title("Write a spec document")
}

async fn run(s: Arc<Spec>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    require(&ctx, Role::Operator, "writing a spec document")?;
    workflow::need_spec(&s.db, &a.spec).await?;
    let (content, source) = match (a.content, a.data) {
        (Some(c), None) => {
            if a.template.is_some() {
                return Err(ToolError::invalid("template goes with data, not content"));
            }
            cap_input(&s, "content", c.len())?;
            if c.trim().is_empty() {
                return Err(ToolError::invalid("content is empty"));
            }
            (c, "caller".to_owned())
        }
        (None, Some(d)) => {
            cap_input(&s, "data", json_len(&d))?;
            let kind = DocumentKind::parse(a.document.as_str()).ok_or_else(|| ToolError::internal("kind"))?;
            let doc = kinds::generate(&s.engine, kind, &d, a.template.as_deref())?;
            let src = source_of(&doc.rendered.template, doc.rendered.origin);
            (doc.rendered.content, src)
        }
        _ => return Err(ToolError::invalid("give exactly one of content and data")),
    };
    let doc = workflow::write(&s.db, &a.spec, a.document, &content, &source, &actor(&ctx)).await?;
    let text = format!(
        "{} of {} is revision {} (draft, from {}); submit it with spec_submit",
        doc.document, a.spec, doc.revision, doc.source
    );
    Ok(Out::new(Output { spec: a.spec, document: doc }).text(text))
}
