//! `scaffold`: write `SPEC.md` and the template's files into
//! `projects/<slug>` (fs). With a spec server, `SPEC.md` and `README.md` are
//! its documents (`spec_generate`), else the planner's own templates; the
//! result's `documents` says which made each.
//!
//! Idempotent because every file is written whole (the fs server writes
//! atomically), so a repeat rewrites the same bytes. An existing folder is
//! reused only when its `SPEC.md` names this request (a resume) or a request
//! of the same requester whose run on it failed (a retry, which `plan_start`
//! allowed); anything else is another request's project and is not touched.

use std::collections::BTreeMap;

use mcp_types::documents::{ReadmeDoc, SpecDoc, SpecGenerate, SpecGenerated};
use serde_json::{Value, json};

use super::command::to_args;
use super::vars::{template, vars};
use crate::exec::Ctx;
use crate::peers::StepError;
use crate::spec::one_line;
use crate::templates::render;
use mcp_types::spec::ProjectSpec;

/// Write the project's files; the result lists them.
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let slug = cx.run.slug.clone();
    let fs = &cx.p.peers.fs;
    let marker = format!("| Request | {} |", cx.run.request.request_id);
    // Asked with missing_ok: a project that does not exist yet is the usual case, not an error (no error span
    // in a successful run's trace).
    let there = fs.call("stat", json!({"path": slug, "missing_ok": true})).await?;
    if there["exists"] == true {
        // Resuming (or a name clash): the folder is ours only if its
        // SPEC.md names this request.
        let spec = fs.call("read_file", json!({"path": format!("{slug}/SPEC.md")})).await.ok();
        let content = spec.as_ref().and_then(|v| v["content"].as_str()).unwrap_or_default();
        let ours = content.contains(&marker) || {
            // A retry: the folder is a failed project of the same requester,
            // which plan_start let this run take over.
            let maker = content
                .lines()
                .find_map(|l| l.strip_prefix("| Request | ")?.strip_suffix(" |"))
                .map(str::trim)
                .unwrap_or_default();
            !maker.is_empty()
                && cx.p.store.has_run_on(maker, &slug).await.unwrap_or(false)
                && cx
                    .p
                    .store
                    .slug_taken(&slug, &cx.run.request.request_id, cx.run.request.requester.as_deref())
                    .await
                    .ok()
                    .flatten()
                    .is_none()
        };
        if !ours {
            return Err(StepError::fatal(format!(
                "projects/{slug} already exists and belongs to another request; ask for another project name"
            )));
        }
    }
    let template = template(cx)?;
    let vars = vars(cx)?;
    // SPEC.md and README.md: the spec server's when one is configured, else the planner's own templates; the
    // result says which, and the report passes it on.
    let mut documents = Vec::new();
    let spec_md = match &cx.p.peers.spec {
        Some(spec) => {
            let g: SpecGenerated =
                spec.call_as("spec_generate", to_args(&SpecGenerate::from(&spec_doc(cx, &vars)))?).await?;
            documents.push(json!({"file": "SPEC.md", "by": format!("spec server, {}", g.source)}));
            g.content
        }
        None => {
            documents.push(json!({"file": "SPEC.md", "by": "the planner's SPEC.md.tmpl (no spec server configured)"}));
            render(&cx.p.templates.spec, &vars).map_err(|e| StepError::fatal(format!("SPEC.md.tmpl: {e}")))?
        }
    };
    fs.call("write_file", json!({"path": format!("{slug}/SPEC.md"), "content": spec_md, "create_parents": true}))
        .await?;
    let mut written = vec!["SPEC.md".to_owned()];
    for (rel, content) in &template.files {
        let path = rel.replace("__module__", &vars["module"]);
        let mut body = render(content, &vars).map_err(|e| StepError::fatal(format!("{}/{rel}: {e}", template.name)))?;
        if path == "README.md"
            && let Some(spec) = &cx.p.peers.spec
        {
            let doc = readme_doc(cx, &template.manifest, &body, &vars);
            let g: SpecGenerated = spec.call_as("spec_generate", to_args(&SpecGenerate::from(&doc))?).await?;
            documents.push(json!({"file": "README.md", "by": format!("spec server, {}", g.source)}));
            body = g.content;
        }
        fs.call("write_file", json!({"path": format!("{slug}/{path}"), "content": body, "create_parents": true}))
            .await?;
        written.push(path);
    }
    // Without a model nothing implements what was asked: the requirements go into the repository as pending
    // tests, each skipped with that reason, so the open work is visible where the code is.
    let with_model = cx.steps.iter().any(|st| st.def.action == crate::plan::Action::Implement);
    if !with_model && let Some((path, body)) = pending_tests(&cx.run.spec) {
        fs.call("write_file", json!({"path": format!("{slug}/{path}"), "content": body, "create_parents": true}))
            .await?;
        written.push(path.to_owned());
    }
    Ok(json!({"template": template.name, "files": written, "documents": documents}))
}

/// SPEC.md's data: the same facts the planner's `SPEC.md.tmpl` carries.
fn spec_doc(cx: &Ctx<'_>, vars: &BTreeMap<&'static str, String>) -> SpecDoc {
    let s = &cx.run.spec;
    SpecDoc {
        name: vars["name"].clone(),
        summary: vars["summary"].clone(),
        language: s.language.clone(),
        kind: s.kind.clone(),
        template: cx.run.template.clone(),
        delivery: s.delivery.clone(),
        request_id: cx.run.request.request_id.clone(),
        trace_id: cx.run.trace_id.clone(),
        status: vars["status"].clone(),
        features: s.features.iter().map(|f| one_line(f, 300)).collect(),
        acceptance: s.acceptance.iter().map(|a| one_line(a, 300)).collect(),
        requester: cx.run.request.requester.as_deref().map(|r| one_line(r, 200)),
        requested_at: Some(vars["requested_at"].clone()),
        dependencies: Vec::new(),
    }
}

/// README.md's data: what it is, the template's install and test commands,
/// and its usage — the commands of the template README's first shell block,
/// which say how to run this kind of project.
fn readme_doc(
    cx: &Ctx<'_>,
    manifest: &crate::templates::Manifest,
    template_readme: &str,
    vars: &BTreeMap<&'static str, String>,
) -> ReadmeDoc {
    let argv = |phase: &str| -> Vec<String> {
        manifest.commands.get(phase).into_iter().flatten().map(|a| a.join(" ")).collect()
    };
    ReadmeDoc {
        name: vars["name"].clone(),
        summary: vars["summary"].clone(),
        language: cx.run.spec.language.clone(),
        kind: cx.run.spec.kind.clone(),
        install: argv("install"),
        usage: shell_block(template_readme),
        test: argv("test"),
        features: cx.run.spec.features.iter().map(|f| one_line(f, 300)).collect(),
    }
}

/// The lines of the first fenced `sh` block of a Markdown text.
fn shell_block(md: &str) -> Vec<String> {
    let mut lines = md.lines().skip_while(|l| !matches!(l.trim(), "```sh" | "```bash" | "```console"));
    if lines.next().is_none() {
        return Vec::new();
    }
    lines.take_while(|l| l.trim() != "```").map(|l| l.trim_end().to_owned()).filter(|l| !l.is_empty()).collect()
}

/// The features and acceptance criteria as pending tests, by language: a
/// file that names each requirement and skips it as not implemented (a
/// `pytest.mark.skip`, a Rust `#[ignore]`), or nothing when none was given.
fn pending_tests(spec: &ProjectSpec) -> Option<(&'static str, String)> {
    let items: Vec<String> = spec
        .features
        .iter()
        .map(|f| format!("feature: {}", one_line(f, 300)))
        .chain(spec.acceptance.iter().map(|a| format!("acceptance: {}", one_line(a, 300))))
        .collect();
    if items.is_empty() {
        return None;
    }
    match spec.language.as_str() {
        "python" => {
            // One line each, whatever its length: the linter is told so on that line.
            let list: String = items.iter().map(|i| format!("    \"{i}\",  # noqa: E501\n")).collect();
            Some(("tests/test_requirements.py", format!("{PYTHON_HEAD}REQUIREMENTS = [\n{list}]\n{PYTHON_TAIL}")))
        }
        "rust" => {
            let tests: String = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    format!("\n#[test]\n#[ignore = \"{PENDING}\"]\nfn requirement_{:02}() {{\n    // {item}\n    todo!()\n}}\n", i + 1)
                })
                .collect();
            Some(("tests/requirements.rs", format!("{RUST_HEAD}{tests}")))
        }
        _ => None,
    }
}

/// Why each pending test is skipped.
const PENDING: &str = "not implemented yet: scaffolded without a language model, see SPEC.md";

const PYTHON_HEAD: &str = "\"\"\"What was asked for, as pending tests: one per feature and acceptance criterion.

The project was scaffolded without a language model, so none of these is
implemented yet; each is skipped with that reason until it is (see SPEC.md).
\"\"\"

import pytest

PENDING = \"not implemented yet: scaffolded without a language model, see SPEC.md\"

";

const PYTHON_TAIL: &str = "

@pytest.mark.skip(reason=PENDING)
@pytest.mark.parametrize(\"requirement\", REQUIREMENTS)
def test_requirement(requirement):
    raise NotImplementedError(requirement)
";

const RUST_HEAD: &str = "//! What was asked for, as pending tests: one per feature and acceptance
//! criterion. The project was scaffolded without a language model, so none of
//! these is implemented yet; each is ignored with that reason until it is (see
//! SPEC.md). `cargo test -- --ignored` lists them failing.
";
