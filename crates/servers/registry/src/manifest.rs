//! Manifests read into dependencies with the byte span each pin would
//! replace, and rewritten by editing those spans only: the rest of the file
//! (comments, order, formatting) stays byte for byte.
//!
//! - `requirements.txt`: one PEP 508 requirement per line; options (`-r`,
//!   `--index-url`), editable installs, paths and URLs are not registry
//!   dependencies and are left alone. A pin replaces the version specifier
//!   (`name[extras]==X.Y.Z ; marker  # comment` keeps extras, marker and comment).
//! - `pyproject.toml`: `project.dependencies` and every
//!   `project.optional-dependencies` group. **`build-system.requires` is
//!   never read or changed**: build requirements are the build backend's
//!   business, and pinning `setuptools>=61` there would freeze the backend
//!   for every builder. A pin rewrites the string literal.
//! - `Cargo.toml`: `[dependencies]`, `[dev-dependencies]`,
//!   `[build-dependencies]` and their `target.<cfg>` forms; a pin replaces the
//!   version requirement's string (`"1"` or `{ version = "1", ... }` or a
//!   `[dependencies.name]` table) with `"X.Y.Z"` (a caret requirement).
//!   Path, git, workspace and other-registry dependencies are left alone.

use mcp_types::registry::{Ecosystem, ManifestKind};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// How a pin is written into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the bytes `start..end` with the specifier `==X` (requirements line).
    Specifier {
        /// Start of the replaced bytes.
        start: usize,
        /// End.
        end: usize,
    },
    /// Replace the TOML string literal at `start..end` with the requirement
    /// `req` rewritten (`pyproject`); `spec` is the specifier's span inside `req`.
    PepString {
        /// Literal start.
        start: usize,
        /// Literal end.
        end: usize,
        /// The decoded requirement.
        req: String,
        /// The specifier's span in `req`.
        spec: (usize, usize),
    },
    /// Replace the TOML string literal at `start..end` with `"X"` (Cargo).
    CargoString {
        /// Literal start.
        start: usize,
        /// Literal end.
        end: usize,
    },
}

/// One dependency found in a manifest.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as written (the key, for a renamed Cargo dependency).
    pub name: String,
    /// The registry's name (Cargo's `package = "..."`), else `name`.
    pub package: String,
    /// Where it is declared.
    pub section: String,
    /// The constraint text (empty for any).
    pub requested: String,
    /// How to pin it; `None` = not a registry dependency (path, git, URL...).
    pub edit: Option<Edit>,
    /// Why it is not a registry dependency.
    pub skip: Option<String>,
    /// A development dependency.
    pub dev: bool,
}

/// A manifest that cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BadManifest(pub String);

/// Largest manifest accepted.
pub const MAX_MANIFEST: usize = 1 << 20;
/// Most dependencies checked in one call.
pub const MAX_DEPS: usize = 500;

/// Groups of optional dependencies counted as development ones.
const DEV_GROUPS: &[&str] = &["dev", "develop", "development", "test", "tests", "testing", "lint", "docs", "doc"];

/// The dependencies of `content`.
pub fn parse(kind: ManifestKind, content: &str) -> Result<Vec<Dep>, BadManifest> {
    if content.len() > MAX_MANIFEST {
        return Err(BadManifest(format!("the manifest is larger than {MAX_MANIFEST} bytes")));
    }
    let deps = match kind {
        ManifestKind::Requirements => requirements(content)?,
        ManifestKind::Pyproject => pyproject(content)?,
        ManifestKind::Cargo => cargo(content)?,
    };
    if deps.len() > MAX_DEPS {
        return Err(BadManifest(format!("the manifest has more than {MAX_DEPS} dependencies")));
    }
    Ok(deps)
}

/// The oldest Python a `pyproject.toml` says it supports: the highest
/// lower bound (`>=`, `~=`, `==`) of `project.requires-python`. Pins skip
/// releases whose `requires-python` excludes it, so a project declaring
/// `>=3.9` is not pinned to a release that needs 3.10.
pub fn python_floor(kind: ManifestKind, content: &str) -> Option<pep440_rs::Version> {
    if kind != ManifestKind::Pyproject {
        return None;
    }
    let doc = DeTable::parse(content).ok()?;
    let project = table(doc.get_ref(), "project")?;
    let DeValue::String(rp) = entry(project, "requires-python")?.get_ref() else { return None };
    let spec: pep440_rs::VersionSpecifiers = rp.as_ref().parse().ok()?;
    spec.iter()
        .filter(|s| {
            matches!(
                s.operator(),
                pep440_rs::Operator::GreaterThanEqual
                    | pep440_rs::Operator::TildeEqual
                    | pep440_rs::Operator::Equal
                    | pep440_rs::Operator::EqualStar
                    | pep440_rs::Operator::ExactEqual
            )
        })
        .map(|s| s.version().clone())
        .max()
}

/// A PEP 508 requirement's parts: the name's span, where the name and
/// extras end, the specifier's span (parentheses included) and whether it is
/// a direct reference (`name @ url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep508 {
    /// The name.
    pub name: String,
    /// End of name and extras.
    pub head_end: usize,
    /// The specifier span (may be empty, at `head_end`).
    pub spec: (usize, usize),
    /// The specifier text without parentheses, trimmed.
    pub requested: String,
    /// `name @ url`.
    pub direct: bool,
}

/// Parse one requirement (`stop_at_comment`: a requirements line, where ` #` starts a comment).
pub fn pep508(s: &str, stop_at_comment: bool) -> Result<Pep508, String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let ns = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'_' | b'-')) {
        i += 1;
    }
    if i == ns {
        return Err("no package name".into());
    }
    let name = s[ns..i].to_owned();
    let mut j = i;
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    if j < b.len() && b[j] == b'[' {
        match s[j..].find(']') {
            Some(k) => {
                let extras = &s[j + 1..j + k];
                if !extras.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b',' | b' ' | b'-' | b'_' | b'.')) {
                    return Err("malformed extras".into());
                }
                i = j + k + 1;
            }
            None => return Err("unclosed `[` of extras".into()),
        }
    }
    let head_end = i;
    let mut end = b.len();
    if let Some(k) = s[head_end..].find(';') {
        end = head_end + k;
    }
    if stop_at_comment && let Some(k) = s[head_end..end].find(" #") {
        end = head_end + k;
    }
    // Per-requirement options (` --config-settings ...`) end the specifier too.
    if stop_at_comment && let Some(k) = s[head_end..end].find(" --") {
        end = head_end + k;
    }
    let raw = &s[head_end..end];
    let trimmed = raw.trim();
    if trimmed.starts_with('@') {
        return Ok(Pep508 { name, head_end, spec: (head_end, end), requested: trimmed.to_owned(), direct: true });
    }
    let lead = raw.len() - raw.trim_start().len();
    let spec = (head_end + lead, head_end + lead + trimmed.len());
    let inner = trimmed.strip_prefix('(').and_then(|t| t.strip_suffix(')')).unwrap_or(trimmed).trim();
    if !inner.is_empty() && !inner.starts_with(['<', '>', '=', '!', '~']) {
        return Err(format!("{inner:?} is not a version specifier"));
    }
    Ok(Pep508 { name, head_end, spec, requested: inner.to_owned(), direct: false })
}

fn requirements(content: &str) -> Result<Vec<Dep>, BadManifest> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, line) in content.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        let t = text.trim();
        let section = format!("line {}", n + 1);
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let skip = |why: &str| Dep {
            ecosystem: Ecosystem::Pypi,
            name: t.chars().take(80).collect(),
            package: String::new(),
            section: section.clone(),
            requested: String::new(),
            edit: None,
            skip: Some(why.to_owned()),
            dev: false,
        };
        if t.starts_with('-') {
            // Options (-r, -c, -e, --index-url): not a dependency of their own.
            if t.starts_with("-e") || t.starts_with("--editable") {
                out.push(skip("an editable install, not a registry dependency"));
            }
            continue;
        }
        if t.ends_with('\\') {
            return Err(BadManifest(format!(
                "{section}: line continuations are not supported; put the requirement on one line"
            )));
        }
        if t.contains("--hash") {
            // A new version needs new hashes, which only a resolver can write.
            out.push(skip("hash-checked (--hash): left for a resolver to update"));
            continue;
        }
        if t.starts_with(['.', '/']) || t.contains("://") && !t.contains(" @ ") {
            out.push(skip("a path or URL, not a registry dependency"));
            continue;
        }
        let r = pep508(text, true).map_err(|e| BadManifest(format!("{section}: {e}: {:?}", cut(t))))?;
        if r.direct {
            out.push(skip("a direct URL reference, not a registry dependency"));
            continue;
        }
        out.push(Dep {
            ecosystem: Ecosystem::Pypi,
            name: r.name.clone(),
            package: r.name,
            section,
            requested: r.requested,
            edit: Some(Edit::Specifier { start: start + r.head_end, end: start + r.spec.1.max(r.head_end) }),
            skip: None,
            dev: false,
        });
    }
    Ok(out)
}

fn cut(s: &str) -> String {
    s.chars().take(120).collect()
}

/// The entry named `key` of a table.
fn entry<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    t.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(_, v)| v)
}

fn table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    match entry(t, key)?.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

fn parse_toml(content: &str) -> Result<Spanned<DeTable<'_>>, BadManifest> {
    DeTable::parse(content).map_err(|e| {
        let line = e.span().map(|s| line_of(content, s.start));
        BadManifest(format!(
            "not valid TOML{}: {}",
            line.map(|l| format!(" (line {l})")).unwrap_or_default(),
            e.message().trim()
        ))
    })
}

/// The 1-based line of byte `at` (counted on bytes: `at` need not be a char boundary).
fn line_of(content: &str, at: usize) -> usize {
    content.as_bytes()[..at.min(content.len())].iter().filter(|b| **b == b'\n').count() + 1
}

fn pyproject(content: &str) -> Result<Vec<Dep>, BadManifest> {
    let doc = parse_toml(content)?;
    let Some(project) = table(doc.get_ref(), "project") else { return Ok(Vec::new()) };
    let mut groups: Vec<(String, &Spanned<DeValue<'_>>, bool)> = Vec::new();
    if let Some(d) = entry(project, "dependencies") {
        groups.push(("project.dependencies".into(), d, false));
    }
    if let Some(opt) = table(project, "optional-dependencies") {
        for (k, v) in opt.iter() {
            let g = k.get_ref().as_ref();
            groups.push((format!("project.optional-dependencies.{g}"), v, DEV_GROUPS.contains(&g)));
        }
    }
    let mut out = Vec::new();
    for (section, v, dev) in groups {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(BadManifest(format!("line {}: {section} is not a list", line_of(content, v.span().start))));
        };
        for item in items.iter() {
            let span = item.span();
            let line = line_of(content, span.start);
            let DeValue::String(s) = item.get_ref() else {
                return Err(BadManifest(format!("line {line}: an entry of {section} is not a string")));
            };
            let s: &str = s.as_ref();
            let r = pep508(s, false).map_err(|e| BadManifest(format!("line {line}: {e}: {:?}", cut(s))))?;
            let (edit, skip) = if r.direct {
                (None, Some("a direct URL reference, not a registry dependency".to_owned()))
            } else {
                (
                    Some(Edit::PepString {
                        start: span.start,
                        end: span.end,
                        req: s.to_owned(),
                        spec: (r.head_end, r.spec.1.max(r.head_end)),
                    }),
                    None,
                )
            };
            out.push(Dep {
                ecosystem: Ecosystem::Pypi,
                name: r.name.clone(),
                package: r.name,
                section: section.clone(),
                requested: if r.direct { String::new() } else { r.requested },
                edit,
                skip,
                dev,
            });
        }
    }
    Ok(out)
}

fn cargo(content: &str) -> Result<Vec<Dep>, BadManifest> {
    let doc = parse_toml(content)?;
    let root = doc.get_ref();
    let mut tables: Vec<(String, &DeTable<'_>, bool)> = Vec::new();
    for (sec, dev) in [("dependencies", false), ("dev-dependencies", true), ("build-dependencies", false)] {
        if let Some(t) = table(root, sec) {
            tables.push((sec.to_owned(), t, dev));
        }
    }
    if let Some(targets) = table(root, "target") {
        for (cfg, v) in targets.iter() {
            if let DeValue::Table(t) = v.get_ref() {
                for (sec, dev) in [("dependencies", false), ("dev-dependencies", true), ("build-dependencies", false)] {
                    if let Some(d) = table(t, sec) {
                        tables.push((format!("target.{}.{sec}", k_str(cfg)), d, dev));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (section, t, dev) in tables {
        for (k, v) in t.iter() {
            let name = k_str(k).to_owned();
            let line = line_of(content, k.span().start);
            let mut dep = Dep {
                ecosystem: Ecosystem::Crates,
                name: name.clone(),
                package: name.clone(),
                section: section.clone(),
                requested: String::new(),
                edit: None,
                skip: None,
                dev,
            };
            match v.get_ref() {
                DeValue::String(s) => {
                    dep.requested = s.as_ref().to_owned();
                    dep.edit = Some(Edit::CargoString { start: v.span().start, end: v.span().end });
                }
                DeValue::Table(d) => {
                    let s = |key: &str| match entry(d, key).map(Spanned::get_ref) {
                        Some(DeValue::String(s)) => Some(s.as_ref().to_owned()),
                        _ => None,
                    };
                    if let Some(p) = s("package") {
                        dep.package = p;
                    }
                    if entry(d, "workspace").is_some() {
                        dep.skip = Some("inherited from the workspace".into());
                    } else if entry(d, "path").is_some() && entry(d, "version").is_none() {
                        dep.skip = Some("a path dependency".into());
                    } else if entry(d, "git").is_some() {
                        dep.skip = Some("a git dependency".into());
                    } else if entry(d, "registry").is_some() || entry(d, "registry-index").is_some() {
                        dep.skip = Some("from another registry".into());
                    } else {
                        match entry(d, "version") {
                            Some(ver) => match ver.get_ref() {
                                DeValue::String(s) => {
                                    dep.requested = s.as_ref().to_owned();
                                    dep.edit = Some(Edit::CargoString { start: ver.span().start, end: ver.span().end });
                                }
                                _ => {
                                    return Err(BadManifest(format!(
                                        "line {line}: {section}.{name}.version is not a string"
                                    )));
                                }
                            },
                            None => {
                                return Err(BadManifest(format!(
                                    "line {line}: {section}.{name} has no version, path, git or workspace key"
                                )));
                            }
                        }
                    }
                }
                _ => {
                    return Err(BadManifest(format!(
                        "line {line}: {section}.{name} is neither a version string nor a table"
                    )));
                }
            }
            out.push(dep);
        }
    }
    Ok(out)
}

fn k_str<'a>(k: &'a Spanned<toml::de::DeString<'_>>) -> &'a str {
    k.get_ref().as_ref()
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `content` with each `(edit, version)` applied (edits do not overlap).
pub fn rewrite(content: &str, edits: &[(&Edit, &str)]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|(e, v)| match e {
            Edit::Specifier { start, end } => (*start, *end, format!("=={v}")),
            Edit::PepString { start, end, req, spec } => {
                let new = format!("{}=={v}{}", req[..spec.0].trim_end(), &req[spec.1..]);
                // Keep a literal ('...') string literal when the text allows it.
                let lit = content.get(*start..*end).unwrap_or_default();
                let text = if lit.starts_with('\'') && !lit.starts_with("'''") && !new.contains(['\'', '\n']) {
                    format!("'{new}'")
                } else {
                    toml_string(&new)
                };
                (*start, *end, text)
            }
            Edit::CargoString { start, end } => {
                let lit = content.get(*start..*end).unwrap_or_default();
                let q = if lit.starts_with('\'') && !lit.starts_with("'''") { '\'' } else { '"' };
                (*start, *end, format!("{q}{v}{q}"))
            }
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(content.len() + 16 * spans.len());
    let mut at = 0;
    for (s, e, text) in spans {
        if s < at || e > content.len() || !content.is_char_boundary(s) || !content.is_char_boundary(e) {
            continue;
        }
        out.push_str(&content[at..s]);
        out.push_str(&text);
        at = e;
    }
    out.push_str(&content[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin_all(kind: ManifestKind, content: &str, v: &str) -> String {
        let deps = parse(kind, content).unwrap();
        let edits: Vec<(&Edit, &str)> = deps.iter().filter_map(|d| d.edit.as_ref().map(|e| (e, v))).collect();
        rewrite(content, &edits)
    }

    #[test]
    fn requirements_keep_extras_markers_and_comments() {
        let src = "# top\nrequests[socks] >= 2.0 ; python_version > \"3.8\"  # net\n\nflask\n-r other.txt\n./local\npytest>=7\nx==1 --hash=sha256:00\n";
        let deps = parse(ManifestKind::Requirements, src).unwrap();
        let names: Vec<_> = deps.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["requests", "flask", "./local", "pytest", "x==1 --hash=sha256:00"]);
        assert_eq!(deps[0].requested, ">= 2.0");
        assert_eq!(
            pin_all(ManifestKind::Requirements, src, "9.9"),
            "# top\nrequests[socks]==9.9 ; python_version > \"3.8\"  # net\n\nflask==9.9\n-r other.txt\n./local\npytest==9.9\nx==1 --hash=sha256:00\n"
        );
    }

    #[test]
    fn pyproject_pins_strings_and_leaves_build_system_alone() {
        let src = "[build-system]\nrequires = [\"setuptools>=61\"]\n\n[project]\nname = \"x\"\ndependencies = []\n\n[project.optional-dependencies]\ndev = [\"pytest>=7\", 'flake8>=6; python_version>\"3\"']\n";
        let deps = parse(ManifestKind::Pyproject, src).unwrap();
        assert_eq!(deps.len(), 2);
        assert!(deps.iter().all(|d| d.dev && d.section == "project.optional-dependencies.dev"));
        assert_eq!(
            pin_all(ManifestKind::Pyproject, src, "8.1.0"),
            "[build-system]\nrequires = [\"setuptools>=61\"]\n\n[project]\nname = \"x\"\ndependencies = []\n\n[project.optional-dependencies]\ndev = [\"pytest==8.1.0\", 'flake8==8.1.0; python_version>\"3\"']\n"
        );
    }

    #[test]
    fn cargo_keeps_inline_tables_and_skips_paths() {
        let src = "[package]\nname = \"x\" # ünïcødé ✓\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nanyhow = \"1.0\" # errors\nlocal = { path = \"../l\" }\n\n[dev-dependencies.tempfile]\nversion = \"3\"\n";
        let deps = parse(ManifestKind::Cargo, src).unwrap();
        assert_eq!(deps.len(), 4);
        assert_eq!(deps[2].skip.as_deref(), Some("a path dependency"));
        assert!(deps[3].dev);
        assert_eq!(
            pin_all(ManifestKind::Cargo, src, "1.2.3"),
            "[package]\nname = \"x\" # ünïcødé ✓\n\n[dependencies]\nserde = { version = \"1.2.3\", features = [\"derive\"] }\nanyhow = \"1.2.3\" # errors\nlocal = { path = \"../l\" }\n\n[dev-dependencies.tempfile]\nversion = \"1.2.3\"\n"
        );
    }

    #[test]
    fn the_python_floor_comes_from_requires_python() {
        let f = |t: &str| python_floor(ManifestKind::Pyproject, t).map(|v| v.to_string());
        assert_eq!(f("[project]\nrequires-python = \">=3.9\"\n").as_deref(), Some("3.9"));
        assert_eq!(f("[project]\nrequires-python = \">=3.8, <4, !=3.9.1\"\n").as_deref(), Some("3.8"));
        assert_eq!(f("[project]\nname = \"x\"\n"), None);
        assert_eq!(python_floor(ManifestKind::Cargo, "[project]\nrequires-python = \">=3.9\"\n"), None);
    }

    #[test]
    fn bad_manifests_name_the_line() {
        let e = parse(ManifestKind::Requirements, "ok>=1\n!!!\n").unwrap_err();
        assert!(e.0.contains("line 2"), "{e}");
        let e = parse(ManifestKind::Cargo, "[dependencies]\nserde = 1\n").unwrap_err();
        assert!(e.0.contains("line 2"), "{e}");
        let e = parse(ManifestKind::Pyproject, "[project\n").unwrap_err();
        assert!(e.0.contains("line 1"), "{e}");
        assert!(parse(ManifestKind::Cargo, "[dependencies]\n").unwrap().is_empty());
    }
}
