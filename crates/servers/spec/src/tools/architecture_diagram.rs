//! `architecture_diagram`: a Mermaid flowchart from components and edges,
//! valid by construction (see `mermaid`).

use mcp_core::prelude::*;
use mcp_types::documents::{Component, Edge};

use super::{cap_input, json_len};
use crate::{Spec, mermaid};

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The boxes: id (what edges name), label (shown; default the id), kind (service, database, queue, external, user, component: the shape).
    pub components: Vec<Component>,
    /// The arrows: from and to (component ids), label (optional).
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// LR (default), TB, TD, RL or BT.
    pub direction: Option<String>,
}

/// The diagram.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Mermaid `flowchart` text.
    pub mermaid: String,
    /// The same inside a Markdown fence, ready to paste.
    pub markdown: String,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "architecture_diagram",
        "Build a Mermaid flowchart from components (id, label, kind) and edges (from, to, label). Ids are made safe \
         and labels quoted, so the text is valid Mermaid whatever the names; an edge to an unknown component is an \
         error. Returns the text and a fenced Markdown block.",
        Annotations::read_only(),
        run,
    )
    .title("Architecture diagram")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    cap_input(&s, "the diagram's data", json_len(&serde_json::to_value(&a).unwrap_or_default()))?;
    let text = mermaid::flowchart(&a.components, &a.edges, a.direction.as_deref())?;
    let markdown = format!("```mermaid\n{text}```\n");
    Ok(Out::new(Output { mermaid: text.clone(), markdown }).text(text))
}
