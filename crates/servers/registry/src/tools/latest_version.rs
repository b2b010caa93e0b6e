//! `latest_version`: the newest version matching an optional constraint.

use mcp_core::prelude::*;
use mcp_types::registry::Ecosystem;

use crate::Registry;
use crate::eco::{self, VersionInfo};
use crate::fetch::Freshness;
use crate::versions::Constraint;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `pypi`, `crates` or `npm`.
    pub ecosystem: Ecosystem,
    /// The package name.
    pub name: String,
    /// A constraint in the ecosystem's syntax: PEP 440 (`>=2,<3`, `~=1.4`), Cargo (`1.2`, `^0.3`, `>=1, <2`)
    /// or npm (`^4 || ^5`, `1.2 - 1.4`). Empty or absent: any version.
    pub constraint: Option<String>,
    /// Consider pre-releases; default false (a constraint naming one also allows them).
    #[serde(default)]
    pub prereleases: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as the registry knows it.
    pub name: String,
    /// The constraint applied.
    pub constraint: String,
    /// The newest non-yanked version satisfying it (absent when none does).
    pub version: Option<VersionInfo>,
    /// The newest non-yanked, non-pre-release version overall.
    pub latest: Option<String>,
    /// Why `version` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How old the answer is.
    pub freshness: Freshness,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "latest_version",
        "Get the newest non-yanked version of a package that satisfies an optional constraint (pre-releases excluded \
         unless asked), and the newest stable version overall.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Latest version")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let text = a.constraint.unwrap_or_default();
    let c = Constraint::parse(a.ecosystem, &text).map_err(|e| ToolError::invalid(e.0))?;
    let pkg = eco::releases(&r, a.ecosystem, &a.name).await?;
    let version = pkg.candidates(&c, a.prereleases).next().map(|x| x.info());
    let note = version.is_none().then(|| format!("no non-yanked version satisfies {text:?}"));
    Ok(Out::new(Output {
        ecosystem: a.ecosystem,
        name: pkg.name.given.clone(),
        constraint: text,
        version,
        latest: pkg.latest_stable().map(|l| l.version.clone()),
        note,
        freshness: pkg.freshness.clone(),
    }))
}
