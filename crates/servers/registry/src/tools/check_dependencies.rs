//! `check_dependencies`: a manifest's dependencies checked against their registries.

use mcp_core::prelude::*;
use mcp_types::registry::{DependencyReport, DependencyStatus, ManifestInput};

use crate::Registry;
use crate::deps::{self, Mode};

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "check_dependencies",
        "Check every dependency of a requirements.txt, pyproject.toml or Cargo.toml: the version its constraint \
         resolves to (or pins), whether a newer one exists (outdated), whether it is yanked, and its known \
         vulnerabilities (vulnerabilities_checked false = unknown). Nothing is rewritten.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Check dependencies")
}

async fn run(
    r: Arc<Registry>,
    a: mcp_types::registry::ManifestInput,
    _ctx: Ctx,
) -> Result<Out<DependencyReport>, ToolError> {
    let a: ManifestInput = a;
    let (_, outcomes) = deps::evaluate(&r, &a, Mode::Check).await?;
    let (source_age_secs, offline, stale) = deps::age(&r, &outcomes);
    let rows: Vec<_> = outcomes.into_iter().map(|o| o.row).collect();
    let problems = rows
        .iter()
        .filter(|d| {
            matches!(
                d.status,
                DependencyStatus::Outdated
                    | DependencyStatus::Yanked
                    | DependencyStatus::Vulnerable
                    | DependencyStatus::NotFound
                    | DependencyStatus::Unavailable
            )
        })
        .count() as u32;
    Ok(Out::new(DependencyReport { dependencies: rows, problems, source_age_secs, offline, stale }))
}
