//! What the planner asks `mcp-server-registry` for: a project's manifest
//! checked against its registries and rewritten with pinned versions.
//!
//! The planner calls `pin_dependencies` with a [`ManifestInput`] and reads
//! back a [`PinnedManifest`]; `check_dependencies` takes the same input and
//! answers a [`DependencyReport`] (the same per-dependency rows, no rewrite).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::text_enum;

text_enum! {
    /// A package ecosystem the registry server knows.
    pub enum Ecosystem {
        /// PyPI (versions are PEP 440).
        Pypi = "pypi",
        /// crates.io (versions are semver).
        Crates = "crates",
        /// npm (versions are semver).
        Npm = "npm",
    }
}

text_enum! {
    /// The kind of manifest.
    pub enum ManifestKind {
        /// `pyproject.toml`: `project.dependencies` and
        /// `project.optional-dependencies.*` (never `build-system.requires`).
        Pyproject = "pyproject.toml",
        /// `requirements.txt`: one requirement per line.
        Requirements = "requirements.txt",
        /// `Cargo.toml`: `[dependencies]`, `[dev-dependencies]` (and `[build-dependencies]`).
        Cargo = "Cargo.toml",
    }
}

text_enum! {
    /// What happened to one dependency.
    pub enum DependencyStatus {
        /// Pinned to `pinned` (or, for `check_dependencies`, the pin is current).
        Pinned = "pinned",
        /// Left as it was: already pinned to the version the pin would choose,
        /// or not a registry dependency (a path, git or URL dependency).
        Unchanged = "unchanged",
        /// The requested (pinned) version is yanked.
        Yanked = "yanked",
        /// Every otherwise acceptable version has known vulnerabilities, or
        /// (check) the pinned version has.
        Vulnerable = "vulnerable",
        /// The registry has no such package, or no version satisfies the constraint.
        NotFound = "not_found",
        /// The registry could not be asked (offline without a cached answer,
        /// unreachable, rate limited).
        Unavailable = "unavailable",
        /// (check) A newer version exists than the constraint allows.
        Outdated = "outdated",
    }
}

/// The input of `pin_dependencies` and `check_dependencies`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestInput {
    /// `pyproject.toml`, `requirements.txt` or `Cargo.toml`.
    pub manifest: ManifestKind,
    /// The file's text.
    pub content: String,
    /// Include development dependencies (`[dev-dependencies]`, the `dev`/`test`
    /// optional-dependency groups); default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_dev: Option<bool>,
}

/// One dependency as checked or pinned.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PinnedDependency {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// The package name as written.
    pub name: String,
    /// Where it is declared (`project.dependencies`, `project.optional-dependencies.dev`,
    /// `dev-dependencies`, `line 3`).
    pub section: String,
    /// The original constraint text (`>=7`, `^1.0`, empty for "any").
    pub requested: String,
    /// The chosen version (pin) or, for a check, the version the manifest pins.
    pub pinned: Option<String>,
    /// The newest non-yanked, non-pre-release version in the registry.
    pub latest: Option<String>,
    /// What happened.
    pub status: DependencyStatus,
    /// The pinned version is yanked.
    pub yanked: bool,
    /// Known vulnerability ids (OSV, GHSA, PYSEC, CVE) of the pinned version.
    pub vulnerabilities: Vec<String>,
    /// Whether vulnerabilities were looked up at all; `false` means "unknown",
    /// never "none".
    pub vulnerabilities_checked: bool,
    /// Who answered the vulnerability question (`osv`, `pypi`), or why nobody did.
    pub vulnerability_source: Option<String>,
    /// A sentence for the report (why a version was skipped, why nothing was pinned).
    pub note: Option<String>,
}

/// What `pin_dependencies` answers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PinnedManifest {
    /// The manifest with pins written in; everything else byte for byte.
    pub content: String,
    /// Whether `content` differs from the input.
    pub changed: bool,
    /// One row per dependency, in file order.
    pub dependencies: Vec<PinnedDependency>,
    /// The oldest registry answer used, seconds (0 when every answer came fresh from the registry).
    pub source_age_secs: u64,
    /// The server runs offline: every answer came from its cache.
    pub offline: bool,
    /// Some answer came from an expired cache entry because a registry could not be reached.
    pub stale: bool,
}

/// What `check_dependencies` answers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DependencyReport {
    /// One row per dependency, in file order.
    pub dependencies: Vec<PinnedDependency>,
    /// Dependencies that need attention (outdated, yanked, vulnerable, not found).
    pub problems: u32,
    /// The oldest registry answer used, seconds (0 when every answer came fresh from the registry).
    pub source_age_secs: u64,
    /// The server runs offline: every answer came from its cache.
    pub offline: bool,
    /// Some answer came from an expired cache entry because a registry could not be reached.
    pub stale: bool,
}
