//! `gitlab_packages`: packages in a GitLab project's package registry.
//!
//! GitLab's `GET /projects/:id/packages` (`package_name`, `package_type`,
//! ordered by creation, newest first). Versions of one name are also sorted
//! by semver when they read as such, since GitLab orders by date only.

use mcp_core::prelude::*;
use serde_json::Value as Json;

use crate::Registry;
use crate::config::Source;
use crate::eco::{malformed, text};
use crate::fetch::{Freshness, Req};
use crate::names;

/// Package types GitLab knows.
const TYPES: &[&str] = &[
    "conan",
    "maven",
    "npm",
    "pypi",
    "composer",
    "nuget",
    "helm",
    "terraform_module",
    "golang",
    "generic",
    "ml_model",
];

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or `group/name`.
    pub project: String,
    /// Only packages whose name contains this text.
    pub package_name: Option<String>,
    /// Only this type: `pypi`, `npm`, `maven`, `generic`, `helm`, `nuget`, `conan`, `composer`, `golang`,
    /// `terraform_module`, `ml_model`.
    pub package_type: Option<String>,
    /// How many to return (1-100, default 20).
    pub limit: Option<u32>,
}

/// One package version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackageRow {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Type (`pypi`, `npm`, ...).
    pub package_type: Option<String>,
    /// When it was published (RFC 3339).
    pub created_at: Option<String>,
    /// `default`, `hidden`, `processing`, `error`, `pending_destruction`.
    pub status: Option<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project as given.
    pub project: String,
    /// Packages, newest first.
    pub packages: Vec<PackageRow>,
    /// How old the answer is.
    pub freshness: Freshness,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "gitlab_packages",
        "List packages in a project's package registry on the configured GitLab instance (newest first), optionally \
         filtered by name and type.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("GitLab packages")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let seg = names::gitlab_project(&a.project)?;
    let limit = a.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ToolError::invalid("limit must be between 1 and 100"));
    }
    let Some(base) = r.fetch.config().gitlab_url.clone() else {
        return Err(ToolError::unavailable("no GitLab instance is configured for this server (REGISTRY_GITLAB_URL)"));
    };
    let mut url = reqwest::Url::parse(&format!("{base}/api/v4/projects/{seg}/packages"))
        .map_err(|e| ToolError::invalid(format!("not a usable project: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("order_by", "created_at").append_pair("sort", "desc").append_pair("per_page", &limit.to_string());
        if let Some(n) = &a.package_name {
            // Any text is fine as a query value (it is encoded); bounded and printable only.
            if n.is_empty() || n.len() > 255 || n.chars().any(char::is_control) {
                return Err(ToolError::invalid("package_name must be 1-255 printable characters"));
            }
            q.append_pair("package_name", n);
        }
        if let Some(t) = &a.package_type {
            if !TYPES.contains(&t.as_str()) {
                return Err(ToolError::invalid(format!("package_type must be one of {}", TYPES.join(", "))));
            }
            q.append_pair("package_type", t);
        }
    }
    let shown = a.project.trim().to_owned();
    let what = format!("GitLab packages of {shown}");
    let ans = r.fetch.get(&Req::get(Source::Gitlab, url.to_string(), &what)).await?;
    if ans.not_found() {
        return Err(ToolError::not_found(format!("GitLab has no project {shown} (or the token cannot see it)")));
    }
    let v: Json = serde_json::from_str(&ans.body).map_err(|e| malformed(&what, e))?;
    let list = v.as_array().ok_or_else(|| malformed(&what, "not a list"))?;
    let packages = list
        .iter()
        .take(limit as usize)
        .filter_map(|p| {
            Some(PackageRow {
                name: text(p, "name", 255)?,
                version: text(p, "version", 128),
                package_type: text(p, "package_type", 40),
                created_at: text(p, "created_at", 40),
                status: text(p, "status", 40),
            })
        })
        .collect();
    Ok(Out::new(Output { project: shown, packages, freshness: ans.freshness }))
}
