//! `pin`: check the generated project's dependencies against their
//! registries and pin them to current versions that are not yanked and have
//! no known vulnerability (the registry server's `pin_dependencies`), then
//! write the manifest back (fs) when it changed.
//!
//! Idempotent: the manifest is written whole, and a repeat pins what the
//! first attempt wrote (already-pinned lines pin to themselves unless a
//! newer safe version came out in between, which is what a repeat should
//! see).
//!
//! Pinning is advice about the project, not a gate on it: when the
//! registry cannot answer (offline, a registry down) the step records why
//! and succeeds with `passed: false`, the run goes on with the template's
//! constraints, and the report says the versions were not pinned. Only the
//! fs server failing fails the step.

use mcp_core::tracing::warn;
use mcp_types::registry::{ManifestInput, ManifestKind, PinnedManifest};
use serde_json::{Value, json};

use super::vars::template;
use crate::exec::Ctx;
use crate::peers::StepError;

/// The manifests the registry server reads, in the order a template is searched for one.
const MANIFESTS: &[ManifestKind] = &[ManifestKind::Pyproject, ManifestKind::Cargo, ManifestKind::Requirements];

/// Pin the project's dependencies; the result lists each one.
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let Some(registry) = cx.p.peers.registry.clone() else {
        return Ok(json!({"passed": false, "ran": false, "summary": "no registry server is configured"}));
    };
    let template = template(cx)?;
    let Some(kind) = MANIFESTS.iter().copied().find(|m| template.files.iter().any(|(rel, _)| rel == m.as_str())) else {
        return Ok(json!({"passed": true, "ran": false, "summary": "the template has no dependency manifest",
                         "dependencies": []}));
    };
    let manifest = kind.as_str();
    let path = format!("{}/{manifest}", cx.run.slug);
    let fs = &cx.p.peers.fs;
    let file = fs.call("read_file", json!({"path": path})).await?;
    let content = file["content"].as_str().unwrap_or_default().to_owned();
    let args = ManifestInput { manifest: kind, content, include_dev: Some(true) };
    let pinned: PinnedManifest = match registry.call_as("pin_dependencies", super::command::to_args(&args)?).await {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "dependencies not pinned");
            return Ok(json!({"passed": false, "manifest": manifest, "dependencies": [],
                             "summary": format!("the registry server could not pin them: {}", e.message)}));
        }
    };
    if pinned.changed {
        fs.call("write_file", json!({"path": path, "content": pinned.content})).await?;
    }
    let summary = summary(&pinned);
    // Left as written on purpose (a path or git dependency, an exact pin already current) is not a failure.
    let unresolved = pinned
        .dependencies
        .iter()
        .any(|d| d.pinned.is_none() && d.status != mcp_types::registry::DependencyStatus::Unchanged);
    Ok(json!({
        "passed": !unresolved, "manifest": manifest, "changed": pinned.changed, "summary": summary,
        "dependencies": pinned.dependencies,
    }))
}

/// One line: how many pinned, and the ones that could not be.
fn summary(p: &PinnedManifest) -> String {
    if p.dependencies.is_empty() {
        return "no dependencies declared".into();
    }
    let unchanged = |d: &&mcp_types::registry::PinnedDependency| {
        d.pinned.is_none() && d.status == mcp_types::registry::DependencyStatus::Unchanged
    };
    let done = p.dependencies.iter().filter(|d| d.pinned.is_some()).count();
    let mut s = format!("{done} of {} pinned", p.dependencies.len());
    let kept = p.dependencies.iter().filter(unchanged).count();
    if kept > 0 {
        s.push_str(&format!(", {kept} left as written"));
    }
    let open: Vec<String> = p
        .dependencies
        .iter()
        .filter(|d| d.pinned.is_none() && !unchanged(d))
        .map(|d| format!("{} ({})", d.name, d.note.as_deref().unwrap_or(d.status.as_str())))
        .collect();
    if !open.is_empty() {
        s.push_str(&format!("; not pinned: {}", open.join(", ")));
    }
    s
}
