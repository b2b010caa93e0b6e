//! `spec_templates_list`: the templates a render may name, built-in and the
//! deployment's own, and which of them wins for each name.

use mcp_core::prelude::*;
use mcp_types::documents::TemplateOrigin;

use crate::Spec;
use crate::engine::BUILTINS;

/// Arguments (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// One template.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateInfo {
    /// The name to render it by.
    pub name: String,
    /// Where the one used comes from.
    pub source: TemplateOrigin,
    /// What it makes (built-in templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The file in the template directory (user templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A user template replaces the built-in one of this name.
    pub overrides_builtin: bool,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Templates by name.
    pub templates: Vec<TemplateInfo>,
    /// Drafting with a model is available (else: templates only).
    pub model: bool,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_templates_list",
        "List the templates spec_render and spec_generate can use: the built-in ones (spec, readme, changelog, adr, \
         openapi, architecture, requirements, design, tasks) and the deployment's own, which replace a built-in \
         template of the same name. Says whether a model is configured for spec_draft_section.",
        Annotations::read_only(),
        run,
    )
    .title("List templates")
}

async fn run(s: Arc<Spec>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let user = s.engine.user_templates();
    let mut templates: Vec<TemplateInfo> = BUILTINS
        .iter()
        .filter(|b| !user.iter().any(|(n, _)| n == b.name))
        .map(|b| TemplateInfo {
            name: b.name.to_owned(),
            source: TemplateOrigin::Builtin,
            description: Some(b.description.to_owned()),
            file: None,
            overrides_builtin: false,
        })
        .collect();
    for (name, file) in user {
        let builtin = BUILTINS.iter().find(|b| b.name == name);
        templates.push(TemplateInfo {
            overrides_builtin: builtin.is_some(),
            description: builtin.map(|b| b.description.to_owned()),
            name,
            source: TemplateOrigin::User,
            file: Some(file),
        });
    }
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    let text = templates.iter().map(|t| format!("{} ({})", t.name, t.source)).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { templates, model: s.model.is_some() }).text(text))
}
