//! `scaffold`: write `SPEC.md` and the template's files into
//! `projects/<slug>` (fs).
//!
//! Idempotent because every file is written whole (the fs server writes
//! atomically), so a repeat rewrites the same bytes. An existing folder is
//! reused only when its `SPEC.md` names this request (a resume) or a request
//! of the same requester whose run on it failed (a retry, which `plan_start`
//! allowed); anything else is another request's project and is not touched.

use serde_json::{Value, json};

use super::vars::{template, vars};
use crate::exec::Ctx;
use crate::peers::StepError;
use crate::templates::render;

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
    let spec_md = render(&cx.p.templates.spec, &vars).map_err(|e| StepError::fatal(format!("SPEC.md.tmpl: {e}")))?;
    fs.call("write_file", json!({"path": format!("{slug}/SPEC.md"), "content": spec_md, "create_parents": true}))
        .await?;
    let mut written = vec!["SPEC.md".to_owned()];
    for (rel, content) in &template.files {
        let path = rel.replace("__module__", &vars["module"]);
        let body = render(content, &vars).map_err(|e| StepError::fatal(format!("{}/{rel}: {e}", template.name)))?;
        fs.call("write_file", json!({"path": format!("{slug}/{path}"), "content": body, "create_parents": true}))
            .await?;
        written.push(path);
    }
    Ok(json!({"template": template.name, "files": written}))
}
