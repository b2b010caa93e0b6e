//! `pin_dependencies`: a manifest rewritten with pinned versions.

use mcp_core::prelude::*;
use mcp_types::registry::{ManifestInput, PinnedManifest};

use crate::Registry;
use crate::deps::{self, Mode};
use crate::manifest;

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "pin_dependencies",
        "Rewrite a requirements.txt, pyproject.toml or Cargo.toml with each dependency pinned to the newest version \
         that satisfies its constraint and is neither yanked, a pre-release, nor known to be vulnerable (name==X.Y.Z \
         for Python, \"X.Y.Z\" for Cargo). Everything else in the file is kept byte for byte; pyproject's \
         build-system.requires is never touched. Each dependency's row says what was chosen and why.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Pin dependencies")
}

async fn run(r: Arc<Registry>, a: ManifestInput, _ctx: Ctx) -> Result<Out<PinnedManifest>, ToolError> {
    let (_, outcomes) = deps::evaluate(&r, &a, Mode::Pin).await?;
    let edits: Vec<(&manifest::Edit, &str)> =
        outcomes.iter().filter_map(|o| o.write.as_ref().map(|(e, v)| (e, v.as_str()))).collect();
    let content = manifest::rewrite(&a.content, &edits);
    let (source_age_secs, offline, stale) = deps::age(&r, &outcomes);
    Ok(Out::new(PinnedManifest {
        changed: content != a.content,
        content,
        dependencies: outcomes.into_iter().map(|o| o.row).collect(),
        source_age_secs,
        offline,
        stale,
    }))
}
