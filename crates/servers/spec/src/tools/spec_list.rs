//! `spec_list`: specs with their documents' states; `state:
//! pending_approval` is the list of what waits for an operator (the
//! gateway's approval queue reads it).

use mcp_core::prelude::*;
use mcp_types::documents::DocumentState;

use crate::Spec;
use crate::workflow::{self, DocRow, SpecRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only specs with a document in this state (pending_approval: what waits for a decision).
    pub state: Option<DocumentState>,
    /// Most specs (default 50, at most 500).
    pub limit: Option<i64>,
}

/// One spec.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// The spec.
    pub spec: SpecRow,
    /// Its documents (without text).
    pub documents: Vec<DocRow>,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Specs, newest first.
    pub specs: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_list",
        "List specs, newest first, with each document's state and revision. state=pending_approval lists the specs \
         with a document waiting for an operator's decision.",
        Annotations::read_only(),
        run,
    )
    .title("List specs")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = a.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ToolError::invalid("limit must be 1..=500"));
    }
    let rows = workflow::list(&s.db, a.state, limit).await?;
    let specs: Vec<Item> = rows.into_iter().map(|(spec, documents)| Item { spec, documents }).collect();
    let text = specs
        .iter()
        .map(|i| {
            let docs: Vec<String> = i.documents.iter().map(|d| format!("{} {}", d.document, d.state)).collect();
            format!("{}: {}", i.spec.name, if docs.is_empty() { "no documents".into() } else { docs.join(", ") })
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { specs }).text(if text.is_empty() { "no specs".into() } else { text }))
}
