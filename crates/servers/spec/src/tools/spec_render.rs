//! `spec_render`: any template by name with free-form data. The data is the
//! template's context: text in it is printed, never run as template code.

use mcp_core::prelude::*;
use mcp_types::documents::TemplateOrigin;

use super::{cap_input, json_len, source_of};
use crate::Spec;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Template name from spec_templates_list (`[a-z0-9][a-z0-9_-]*`, no paths).
    pub template: String,
    /// The values the template uses (an object). A value the template needs and the data lacks is an error naming it.
    pub data: Value,
}

/// The rendered text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The template.
    pub template: String,
    /// Built-in or the deployment's.
    pub template_source: TemplateOrigin,
    /// `template:<name> (builtin|user)`.
    pub source: String,
    /// The text.
    pub content: String,
    /// Its length in bytes.
    pub bytes: u64,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_render",
        "Render a template by name (see spec_templates_list) with data, an object of values. Missing values are an \
         error naming them; values are inserted as text (template syntax inside them is not evaluated). Returns the \
         text; nothing is written.",
        Annotations::read_only(),
        run,
    )
    .title("Render a template")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    cap_input(&s, "data", json_len(&a.data))?;
    if !a.data.is_object() {
        return Err(ToolError::invalid("data must be an object of the template's values"));
    }
    let r = s.engine.render(&a.template, &a.data)?;
    let out = Output {
        source: source_of(&r.template, r.origin),
        template: r.template,
        template_source: r.origin,
        bytes: r.content.len() as u64,
        content: r.content,
    };
    let text = out.content.clone();
    Ok(Out::new(out).text(text))
}
