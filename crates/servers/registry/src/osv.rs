//! Known vulnerabilities of one version: OSV's `POST /v1/query` first; for
//! PyPI, when OSV cannot answer, the JSON API's `vulnerabilities` list, which
//! describes the project's latest release only. A result says which source
//! answered, and when none could it says `checked: false` and why: "not
//! checked" is never reported as "no known vulnerabilities".
//!
//! After OSV fails to answer, it is not asked again for a minute: a manifest
//! of fifty dependencies should not wait on fifty failing connections.

use std::time::{Duration, Instant};

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Registry;
use crate::config::Source;
use crate::eco::{clean, pypi};
use crate::fetch::{Freshness, Req};
use crate::names::Name;

/// How long OSV is left alone after failing.
const OSV_BACKOFF: Duration = Duration::from_secs(60);
/// Vulnerabilities listed per version.
const MAX_VULNS: usize = 100;

/// One known vulnerability.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Vuln {
    /// The id (`GHSA-...`, `PYSEC-...`, `RUSTSEC-...`).
    pub id: String,
    /// Other ids (CVE).
    pub aliases: Vec<String>,
    /// One line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity as the database states it (`HIGH`, a CVSS vector), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Versions that fix it, when the source says (PyPI's `fixed_in`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_in: Vec<String>,
}

/// The answer for one version.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VulnCheck {
    /// Whether any source answered; `false` means unknown, not "none".
    pub checked: bool,
    /// `osv` or `pypi` (the JSON API's list for the latest release), when one answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The known vulnerabilities (empty when checked and none are known).
    pub vulnerabilities: Vec<Vuln>,
    /// Why not checked, or a caveat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How old the answer is, when one came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
}

impl VulnCheck {
    /// The ids.
    pub fn ids(&self) -> Vec<String> {
        self.vulnerabilities.iter().map(|v| v.id.clone()).collect()
    }
}

fn osv_ecosystem(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Pypi => "PyPI",
        Ecosystem::Crates => "crates.io",
        Ecosystem::Npm => "npm",
    }
}

/// Known vulnerabilities of `name` `version` (name already checked).
pub async fn check(r: &Registry, eco: Ecosystem, name: &Name, version: &str) -> VulnCheck {
    let osv = match query_osv(r, eco, name, version).await {
        Ok(v) => return v,
        Err(e) => e,
    };
    if eco == Ecosystem::Pypi {
        match pypi::project_json(r, name).await {
            Ok((doc, fresh)) => match pypi::latest_vulnerabilities(&doc) {
                Some((_, latest)) if latest != version => {}
                Some(_) => {
                    let vulnerabilities = doc["vulnerabilities"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|v| v.get("withdrawn").is_none_or(Value::is_null))
                        .take(MAX_VULNS)
                        .filter_map(|v| {
                            Some(Vuln {
                                id: clean(v.get("id")?.as_str()?, 100),
                                aliases: strings(v.get("aliases")),
                                summary: v.get("summary").and_then(Value::as_str).map(|s| clean(s, 300)),
                                severity: None,
                                fixed_in: strings(v.get("fixed_in")),
                            })
                        })
                        .collect();
                    return VulnCheck {
                        checked: true,
                        source: Some("pypi".into()),
                        vulnerabilities,
                        note: Some(format!(
                            "OSV could not be asked ({osv}); PyPI's list for its latest release answered"
                        )),
                        freshness: Some(fresh),
                    };
                }
                None => {}
            },
            Err(e) => mcp_core::tracing::debug!(error = %e, "PyPI JSON API unavailable as a second source"),
        }
    }
    VulnCheck {
        checked: false,
        source: None,
        vulnerabilities: Vec::new(),
        note: Some(format!("not checked: {osv}")),
        freshness: None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(20)
        .map(|s| clean(s, 100))
        .collect()
}

async fn query_osv(r: &Registry, eco: Ecosystem, name: &Name, version: &str) -> Result<VulnCheck, String> {
    if let Some(until) = r.osv_down_until()
        && Instant::now() < until
    {
        return Err("OSV did not answer a moment ago".into());
    }
    // PyPI names are normalised for OSV too; crates and npm as given.
    let pkg = if eco == Ecosystem::Pypi { name.canonical.clone() } else { name.given.clone() };
    let body = json!({"package": {"name": pkg, "ecosystem": osv_ecosystem(eco)}, "version": version}).to_string();
    let what = format!("OSV vulnerabilities of {pkg} {version}");
    let req = Req {
        source: Source::Osv,
        url: format!("{}/v1/query", r.fetch.config().osv_url),
        accept: Some("application/json"),
        post: Some(body),
        what: &what,
    };
    let a = match r.fetch.get(&req).await {
        Ok(a) => a,
        Err(e) => {
            if matches!(e, ToolError::Unavailable(_) | ToolError::Timeout(_)) {
                r.set_osv_down(Instant::now() + OSV_BACKOFF);
            }
            return Err(format!("OSV: {e}"));
        }
    };
    if a.not_found() {
        return Err("OSV answered 404".into());
    }
    let doc: Value = serde_json::from_str(&a.body).map_err(|e| format!("OSV's answer is malformed: {e}"))?;
    if !doc.is_object() {
        return Err("OSV's answer is not an object".into());
    }
    let list = match doc.get("vulns") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("OSV's `vulns` is not a list".into()),
    };
    let vulnerabilities = list
        .iter()
        .take(MAX_VULNS)
        .filter_map(|v| {
            let severity = v
                .get("database_specific")
                .and_then(|d| d.get("severity"))
                .and_then(Value::as_str)
                .or_else(|| v.get("severity")?.as_array()?.first()?.get("score")?.as_str())
                .map(|s| clean(s, 100));
            Some(Vuln {
                id: clean(v.get("id")?.as_str()?, 100),
                aliases: strings(v.get("aliases")),
                summary: v.get("summary").and_then(Value::as_str).map(|s| clean(s, 300)),
                severity,
                fixed_in: Vec::new(),
            })
        })
        .collect();
    Ok(VulnCheck {
        checked: true,
        source: Some("osv".into()),
        vulnerabilities,
        note: doc.get("next_page_token").filter(|t| !t.is_null()).map(|_| "OSV has more results than shown".into()),
        freshness: Some(a.freshness),
    })
}
