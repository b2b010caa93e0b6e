//! `spec_draft_section`: a section drafted by the configured model. Without
//! one the call answers `unavailable`, saying templates are what this server
//! offers; with one the text comes back marked `drafted_by: model:<name>`
//! for the caller to review and place (it is never run as a template).

use mcp_core::prelude::*;

use super::{cap_input, json_len};
use crate::Spec;
use crate::config::LLM_PROVIDER;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The document the section belongs to (a kind such as design, readme, adr, or free text).
    pub document: String,
    /// The section's heading ("Overview", "Consequences").
    pub section: String,
    /// What the section should say.
    pub prompt: String,
    /// Facts to draw on (the spec's data, earlier documents): text or any JSON.
    pub context: Option<Value>,
}

/// The draft.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The section's Markdown body.
    pub content: String,
    /// `model:<name>`: who wrote it.
    pub drafted_by: String,
    /// Its length in bytes.
    pub bytes: u64,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_draft_section",
        "Draft one section of a document (its Markdown body) with the configured language model from a prompt and \
         context. The result is marked drafted_by model:<name>: review it before use. Without a configured model \
         this answers unavailable; spec_generate and spec_render (templates) always work.",
        // A model's answer differs call to call: read-only, not idempotent.
        Annotations { read_only: true, destructive: false, idempotent: false, open_world: true },
        run,
    )
    .title("Draft a section with a model")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let Some(model) = &s.model else {
        return Err(ToolError::unavailable(format!(
            "drafting needs a language model and none is configured ({LLM_PROVIDER}=openai with LLM_BASE_URL and \
             LLM_MODEL); this server offers templates only: use spec_generate or spec_render"
        )));
    };
    let one = |x: &str, what: &str, max: usize| -> Result<String, ToolError> {
        let t = x.trim();
        if t.is_empty() || t.len() > max {
            return Err(ToolError::invalid(format!("{what} must be 1-{max} bytes")));
        }
        Ok(t.to_owned())
    };
    let document = one(&a.document, "document", 100)?;
    let section = one(&a.section, "section", 200)?;
    let prompt = one(&a.prompt, "prompt", 8000)?;
    let context = match &a.context {
        None => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    };
    cap_input(&s, "context", context.len() + json_len(&Value::String(prompt.clone())))?;
    let content = model.draft(&document, &section, &prompt, &context).await?;
    let drafted_by = format!("model:{}", model.model);
    let text = format!("{content}\n\n(drafted by {drafted_by})");
    Ok(Out::new(Output { bytes: content.len() as u64, content, drafted_by }).text(text))
}
