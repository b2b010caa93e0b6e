//! What the scaffold and the report render with: the run's template and the
//! template values, made safe for every file type (see
//! `templates/README.md`).

use std::collections::BTreeMap;

use crate::exec::Ctx;
use crate::peers::StepError;
use crate::spec::one_line;
use crate::templates::Template;

/// The run's template; it was there at `plan_start`, so its absence now is
/// a deployment that dropped it, which no retry fixes.
pub(super) fn template<'a>(cx: &Ctx<'a>) -> Result<&'a Template, StepError> {
    cx.p.templates
        .projects
        .get(&cx.run.template)
        .ok_or_else(|| StepError::fatal(format!("template {} is gone", cx.run.template)))
}

/// Template values of the run.
pub(super) fn vars(cx: &Ctx<'_>) -> Result<BTreeMap<&'static str, String>, StepError> {
    let s = &cx.run.spec;
    let list = |items: &[String], empty: &str| {
        if items.is_empty() {
            format!("- {empty}")
        } else {
            items.iter().map(|f| format!("- {}", one_line(f, 300))).collect::<Vec<_>>().join("\n")
        }
    };
    let module = s.module().map_err(|e| StepError::fatal(e.to_string()))?;
    // What the requester gets says what it is: features implemented by the
    // model step, or a scaffold whose features are open work.
    let implemented = cx.steps.iter().any(|st| st.def.action == crate::plan::Action::Implement);
    let status = if implemented {
        "The features below are implemented by the fleet's language-model step; the acceptance criteria \
         are checked by the tests it wrote."
            .to_owned()
    } else {
        format!(
            "**A scaffold, not the finished program.** It was generated from the {} template without a \
             language model: it builds, passes lint and its starter tests, but the features below are open \
             work — none of them is implemented yet.",
            cx.run.template
        )
    };
    Ok(BTreeMap::from([
        ("status", status),
        ("name", one_line(&s.name, 100)),
        ("slug", cx.run.slug.clone()),
        ("module", module),
        ("summary", one_line(&s.summary, 300)),
        ("language", s.language.clone()),
        ("kind", s.kind.clone()),
        ("template", cx.run.template.clone()),
        ("delivery", s.delivery.clone()),
        ("request_id", cx.run.request.request_id.clone()),
        ("trace_id", cx.run.trace_id.clone().unwrap_or_else(|| "-".into())),
        ("features", list(&s.features, "(as summarised above)")),
        ("acceptance", list(&s.acceptance, "The generated tests pass.")),
        ("requester", one_line(cx.run.request.requester.as_deref().unwrap_or("unknown"), 200)),
        ("requested_at", cx.run.request.received_at.clone().unwrap_or_else(mcp_core::clock::now_rfc3339)),
        // The image a project's Dockerfile and .gitlab-ci.yml start from: the one its phases run in.
        ("toolchain_image", cx.p.config.runtime.toolchain_image.clone()),
    ]))
}
