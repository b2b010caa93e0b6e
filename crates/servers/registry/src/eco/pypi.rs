//! PyPI: versions and files from the Simple API (PEP 691 JSON, PEP 700
//! `versions`, PEP 592 yanks), project information and the latest release's
//! known vulnerabilities from the JSON API (`/pypi/<name>/json`).
//!
//! The Simple API lists `versions` as text (`0.9.10` before `0.9.9`); they
//! are sorted here by PEP 440. A version is yanked when every one of its
//! files is (PEP 592).

use std::collections::{HashMap, HashSet};

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use serde::Deserialize;
use serde_json::Value;

use super::{Metadata, Package, Release, clean, malformed, text};
use crate::Registry;
use crate::config::Source;
use crate::fetch::{Freshness, Req};
use crate::names::Name;
use crate::versions::Ver;

/// PEP 691's JSON media type.
pub const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Deserialize)]
struct Simple {
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    files: Vec<SimpleFile>,
}

#[derive(Deserialize)]
struct SimpleFile {
    filename: String,
    #[serde(default)]
    yanked: Value,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
}

/// What a version's files say.
#[derive(Debug, Clone, Default)]
struct Files {
    files: usize,
    yanked: usize,
    first_upload: Option<String>,
    yank_reason: Option<String>,
    requires_python: Option<String>,
}

/// Which of `versions` a distribution file belongs to: wheels and eggs carry
/// it as their second `-` component; sdists end with it (names may contain
/// `-` in old sdists, so the last component is tried first).
fn file_version<'a>(filename: &str, versions: &'a HashSet<String>) -> Option<&'a String> {
    let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar", ".whl", ".egg", ".exe", ".msi", ".rpm"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))
        .unwrap_or(filename);
    if let Some((_, last)) = stem.rsplit_once('-')
        && let Some(v) = versions.get(last)
    {
        return Some(v);
    }
    stem.split('-').skip(1).find_map(|c| versions.get(c))
}

/// The project's releases from the Simple API.
pub async fn releases(r: &Registry, name: Name) -> Result<Package, ToolError> {
    let base = &r.fetch.config().pypi_url;
    let what = format!("PyPI project {}", name.canonical);
    let req = Req::get(Source::Pypi, format!("{base}/simple/{}/", name.canonical), &what).accept(SIMPLE_JSON);
    let a = r.fetch.get(&req).await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("PyPI has no project named {}", name.given)));
    }
    let simple: Simple = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
    let set: HashSet<String> = simple.versions.iter().cloned().collect();
    let mut files: HashMap<&String, Files> = HashMap::new();
    for f in &simple.files {
        let Some(v) = file_version(&f.filename, &set) else { continue };
        let e = files.entry(v).or_default();
        e.files += 1;
        if e.requires_python.is_none()
            && let Some(rp) = f.requires_python.as_deref().map(str::trim).filter(|r| !r.is_empty() && r.len() <= 100)
        {
            e.requires_python = Some(clean(rp, 100));
        }
        let yanked = match &f.yanked {
            Value::Bool(b) => *b,
            Value::String(s) => {
                if e.yank_reason.is_none() && !s.trim().is_empty() {
                    e.yank_reason = Some(clean(s, 300));
                }
                true
            }
            _ => false,
        };
        if yanked {
            e.yanked += 1;
        }
        if let Some(t) = &f.upload_time
            && t.len() <= 40
            && e.first_upload.as_ref().is_none_or(|old| t < old)
        {
            e.first_upload = Some(t.clone());
        }
    }
    let mut out = Vec::with_capacity(simple.versions.len());
    let mut unparsable = 0;
    for v in &simple.versions {
        let Some(ver) = Ver::parse(Ecosystem::Pypi, v) else {
            unparsable += 1;
            continue;
        };
        let fs = files.get(v).cloned().unwrap_or_default();
        let yanked = fs.files > 0 && fs.yanked == fs.files;
        out.push(Release {
            version: clean(v, 128),
            ver,
            yanked,
            note: if yanked { fs.yank_reason } else { None },
            published: fs.first_upload,
            requires_python: fs.requires_python,
        });
    }
    Ok(Package::new(Ecosystem::Pypi, name, out, unparsable, a.freshness))
}

/// The JSON API's project document (`info`, `vulnerabilities`).
pub async fn project_json(r: &Registry, name: &Name) -> Result<(Value, Freshness), ToolError> {
    let base = &r.fetch.config().pypi_url;
    let what = format!("PyPI project {} (JSON API)", name.canonical);
    let a = r.fetch.get(&Req::get(Source::Pypi, format!("{base}/pypi/{}/json", name.canonical), &what)).await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("PyPI has no project named {}", name.given)));
    }
    let v: Value = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
    if !v.get("info").is_some_and(Value::is_object) {
        return Err(malformed(&what, "no `info` object"));
    }
    Ok((v, a.freshness))
}

/// Project information from the JSON API.
pub async fn metadata(r: &Registry, pkg: &Package) -> Result<(Metadata, Freshness), ToolError> {
    let (doc, fresh) = project_json(r, &pkg.name).await?;
    let info = &doc["info"];
    let urls = info.get("project_urls").and_then(Value::as_object);
    let url_like = |keys: &[&str]| -> Option<String> {
        let m = urls?;
        m.iter()
            .find(|(k, _)| keys.iter().any(|w| k.to_ascii_lowercase().contains(w)))
            .and_then(|(_, v)| v.as_str())
            .map(|s| clean(s, 300))
    };
    let license = text(info, "license_expression", 200).or_else(|| text(info, "license", 200));
    Ok((
        Metadata {
            summary: text(info, "summary", 500),
            license,
            homepage: text(info, "home_page", 300).or_else(|| url_like(&["home"])),
            repository: url_like(&["source", "repository", "code", "github"]),
            documentation: text(info, "docs_url", 300).or_else(|| url_like(&["doc"])),
            requires: text(info, "requires_python", 100),
            described_version: text(info, "version", 128),
            metadata_source: "PyPI JSON API".into(),
        },
        fresh,
    ))
}

/// PyPI's own list of known vulnerabilities of the project's latest release:
/// `Some((ids, latest_version))`, or `None` when the document has none to give.
pub fn latest_vulnerabilities(doc: &Value) -> Option<(Vec<String>, String)> {
    let latest = doc["info"].get("version")?.as_str()?.to_owned();
    let list = doc.get("vulnerabilities")?.as_array()?;
    let ids = list
        .iter()
        .filter(|v| v.get("withdrawn").is_none_or(Value::is_null))
        .filter_map(|v| v.get("id").and_then(Value::as_str).map(|s| clean(s, 100)))
        .collect();
    Some((ids, latest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_map_to_their_versions() {
        let set: HashSet<String> = ["1.0", "1.0.1", "2.0rc1"].iter().map(|s| s.to_string()).collect();
        assert_eq!(file_version("pkg-1.0.tar.gz", &set).map(String::as_str), Some("1.0"));
        assert_eq!(file_version("python-dateutil-1.0.1.tar.gz", &set).map(String::as_str), Some("1.0.1"));
        assert_eq!(file_version("pkg-2.0rc1-py3-none-any.whl", &set).map(String::as_str), Some("2.0rc1"));
        assert_eq!(file_version("pkg-3.0.tar.gz", &set), None);
    }
}
