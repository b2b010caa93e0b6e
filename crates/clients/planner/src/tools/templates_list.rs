//! `templates_list`: what the planner can build.

use mcp_core::prelude::*;

use crate::Planner;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// One template and the list: the contract the agent reads (`mcp-types`).
pub use mcp_types::plan::{TemplateEntry as Entry, TemplatesList as Output};

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "templates_list",
        "The project templates the planner builds from: language, kind and description of each.",
        Annotations::read_only(),
        run,
    )
    .title("List templates")
}

async fn run(s: Arc<Planner>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let templates: Vec<Entry> = s
        .templates
        .projects
        .values()
        .map(|t| Entry {
            name: t.name.clone(),
            language: t.manifest.language.clone(),
            kind: t.manifest.kind.clone(),
            description: t.manifest.description.clone(),
        })
        .collect();
    let text = templates
        .iter()
        .map(|t| format!("{}: {} {} — {}", t.name, t.language, t.kind, t.description))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { templates }).text(text))
}
