//! `spec_generate`: the planner's one call — a document kind and its typed
//! data (`mcp_types::documents`), rendered by the kind's template (or a named
//! one), with where the file usually goes. The planner writes the file.

use mcp_core::prelude::*;
use mcp_types::documents::{SpecGenerate as Args, SpecGenerated as Output};

use super::{cap_input, json_len, source_of};
use crate::{Spec, kinds};

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_generate",
        "Generate a project document from data: kind spec (SPEC.md: name, summary, language, kind, template, delivery, \
         request_id, status, features, acceptance, trace_id?, requester?, requested_at?, dependencies?[{name, version, \
         note?}]), readme (name, summary, language, kind, install[], usage[], test[], features[]), changelog \
         (version, date YYYY-MM-DD, commits[{sha, subject, body?}] grouped by conventional-commit type, changes?[{kind, \
         text, breaking?}], existing? = the current CHANGELOG.md to merge into), adr (number, title, status, date, \
         context, options[], decision, consequences[], deciders[]), openapi (title, version, description?, \
         resources[{name, fields?[{name, type, required?}]}], health_path?), architecture (title?, components[{id, \
         label?, kind?}], edges[{from, to, label?}], direction?), requirements (name, summary, requirements[{title, \
         story?, acceptance[]}]), design (name, overview, components[{name, responsibility}], decisions[], diagram?), \
         tasks (name, tasks[{title, state?, requirements[], files[]}]). Unknown fields are refused. Returns the text, \
         the template used (built-in or the deployment's) and a suggested path; nothing is written.",
        Annotations::read_only(),
        run,
    )
    .title("Generate a document")
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    cap_input(&s, "data", json_len(&a.data))?;
    let d = kinds::generate(&s.engine, a.kind, &a.data, a.template.as_deref())?;
    let r = d.rendered;
    let out = Output {
        kind: a.kind,
        source: source_of(&r.template, r.origin),
        template: r.template,
        template_source: r.origin,
        suggested_path: d.suggested_path,
        bytes: r.content.len() as u64,
        content: r.content,
    };
    let text = out.content.clone();
    Ok(Out::new(out).text(text))
}
