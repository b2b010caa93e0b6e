//! `vulnerabilities`: known vulnerabilities of one version.

use mcp_core::prelude::*;
use mcp_types::registry::Ecosystem;

use crate::Registry;
use crate::osv::{self, VulnCheck};
use crate::versions::Ver;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `pypi`, `crates` or `npm`.
    pub ecosystem: Ecosystem,
    /// The package name.
    pub name: String,
    /// The exact version (`2.31.0`).
    pub version: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The package.
    pub name: String,
    /// The version.
    pub version: String,
    /// The answer: `checked: false` means unknown, never "none".
    #[serde(flatten)]
    pub check: VulnCheck,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "vulnerabilities",
        "List known vulnerabilities of one package version from OSV (for PyPI, PyPI's own list for the latest \
         release when OSV cannot answer). `checked: false` means nobody could be asked: unknown, not safe.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Vulnerabilities")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let name = crate::names::package(a.ecosystem, &a.name)?;
    if Ver::parse(a.ecosystem, &a.version).is_none() {
        return Err(ToolError::invalid(format!(
            "{:?} is not a {} version",
            a.version.chars().take(60).collect::<String>(),
            a.ecosystem
        )));
    }
    let check = osv::check(&r, a.ecosystem, &name, a.version.trim()).await;
    Ok(Out::new(Output { ecosystem: a.ecosystem, name: name.given, version: a.version.trim().to_owned(), check }))
}
