//! crates.io: versions from the sparse index (one JSON line per published
//! version: `name`, `vers`, `yanked`, `pubtime`, `rust_version`), and a
//! crate's description, license and repository from the `Cargo.toml` inside
//! its `.crate` (the web API `/api/v1/crates` is not reachable from the
//! fleet's machines; the index and downloads are).
//!
//! A `.crate` is a gzipped tar. It is read off the async threads, through a
//! cap on decompressed bytes (a gzip bomb stops there), and only
//! `<name>-<version>/Cargo.toml` is read from it, at most 1 MiB. What it
//! says is cached under a key of its own: a published version never changes.

use std::io::Read;

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use serde_json::Value;

use super::{Metadata, Package, Release, clean, malformed};
use crate::Registry;
use crate::config::Source;
use crate::fetch::{Freshness, Req};
use crate::names::{Name, crate_index_path, version_segment};
use crate::versions::Ver;

/// Longest index line read (a longer one is skipped as malformed).
const MAX_LINE: usize = 1 << 20;
/// Decompressed bytes of a `.crate` read while looking for its manifest.
const MAX_UNPACKED: u64 = 256 << 20;
/// Largest `Cargo.toml` read.
const MAX_MANIFEST: u64 = 1 << 20;

/// The crate's releases from the sparse index.
pub async fn releases(r: &Registry, name: Name) -> Result<Package, ToolError> {
    let base = &r.fetch.config().crates_index_url;
    let what = format!("crate {}", name.canonical);
    let url = format!("{base}/{}", crate_index_path(&name.canonical));
    let a = r.fetch.get(&Req::get(Source::Crates, url, &what)).await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("crates.io has no crate named {}", name.given)));
    }
    let mut out = Vec::new();
    let mut unparsable = 0;
    let mut real_name = None;
    for line in a.body.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            unparsable += 1;
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            unparsable += 1;
            continue;
        };
        let Some(vers) = v.get("vers").and_then(Value::as_str) else {
            unparsable += 1;
            continue;
        };
        let Some(ver) = Ver::parse(Ecosystem::Crates, vers) else {
            unparsable += 1;
            continue;
        };
        if real_name.is_none() {
            real_name = v
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| n.eq_ignore_ascii_case(&name.canonical))
                .map(str::to_owned);
        }
        out.push(Release {
            version: vers.to_owned(),
            ver,
            yanked: v.get("yanked").and_then(Value::as_bool).unwrap_or(false),
            note: v.get("rust_version").and_then(Value::as_str).map(|rv| format!("rust-version {}", clean(rv, 20))),
            published: v.get("pubtime").and_then(Value::as_str).filter(|t| t.len() <= 40).map(str::to_owned),
            requires_python: None,
        });
    }
    if out.is_empty() && unparsable > 0 {
        return Err(malformed(&what, "no index line could be read"));
    }
    let mut name = name;
    if let Some(n) = real_name {
        // The `.crate` file and its folder use the published spelling.
        name.given = n;
    }
    Ok(Package::new(Ecosystem::Crates, name, out, unparsable, a.freshness))
}

/// Metadata from the `Cargo.toml` of the newest stable release (else the newest).
pub async fn metadata(r: &Registry, pkg: &Package) -> Result<(Metadata, Freshness), ToolError> {
    let Some(rel) = pkg.latest_stable().or_else(|| pkg.releases.last()) else {
        return Err(ToolError::not_found(format!("crate {} has no releases", pkg.name.given)));
    };
    let name = &pkg.name.given;
    let version = version_segment(&rel.version)?;
    let url = format!("{}/{name}/{name}-{version}.crate", r.fetch.config().crates_download_url);
    let key = format!("crate-manifest {url}");
    let (doc, fresh) = match r.fetch.cached(&key).await? {
        Some((body, fresh)) => (body, fresh),
        None => {
            let what = format!("{name} {version}'s .crate");
            let bytes = r.fetch.bytes(Source::Crates, &url, r.fetch.config().max_body_bytes, &what).await?;
            let folder = format!("{name}-{version}/Cargo.toml");
            let manifest = tokio::task::spawn_blocking(move || manifest_from_crate(&bytes, &folder))
                .await
                .map_err(ToolError::internal)?
                .map_err(|e| malformed(&what, e))?;
            let fresh = r.fetch.put(&key, Source::Crates, &manifest).await?;
            (manifest, fresh)
        }
    };
    let parsed: toml::Table = toml::from_str(&doc).map_err(|e| malformed("the crate's Cargo.toml", e.message()))?;
    let p = parsed.get("package").and_then(toml::Value::as_table);
    let s = |k: &str, n: usize| p.and_then(|p| p.get(k)).and_then(toml::Value::as_str).map(|v| clean(v.trim(), n));
    Ok((
        Metadata {
            summary: s("description", 500),
            license: s("license", 200),
            homepage: s("homepage", 300),
            repository: s("repository", 300),
            documentation: s("documentation", 300),
            requires: s("rust-version", 20),
            described_version: Some(rel.version.clone()),
            metadata_source: "Cargo.toml in the .crate".into(),
        },
        fresh,
    ))
}

/// The text of `path` inside a gzipped tar.
pub fn manifest_from_crate(bytes: &[u8], path: &str) -> Result<String, String> {
    let gz = flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED);
    let mut ar = tar::Archive::new(gz);
    for entry in ar.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let p = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        if p == path {
            let mut s = String::new();
            entry.take(MAX_MANIFEST).read_to_string(&mut s).map_err(|e| e.to_string())?;
            return Ok(s);
        }
    }
    Err(format!("{path} is not in the archive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.crate`: gzipped tar with `<name>-<version>/Cargo.toml`.
    pub fn crate_file(name: &str, version: &str, manifest: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(manifest.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("{name}-{version}/Cargo.toml"), manifest.as_bytes()).unwrap();
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn the_manifest_is_read_from_the_archive() {
        let c = crate_file("demo", "1.0.0", "[package]\nname = \"demo\"\n");
        assert_eq!(manifest_from_crate(&c, "demo-1.0.0/Cargo.toml").unwrap(), "[package]\nname = \"demo\"\n");
        assert!(manifest_from_crate(&c, "other-1.0.0/Cargo.toml").is_err());
        assert!(manifest_from_crate(b"not gzip at all", "x").is_err());
    }
}
