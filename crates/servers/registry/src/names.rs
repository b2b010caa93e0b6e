//! Names checked against each ecosystem's own rules before they go near a
//! URL: a name that is not valid for its registry is refused with
//! `invalid_input`, so `../`, `?x=`, `%2e%2e`, control characters, empty
//! and oversized names never become a request path. What passes has only
//! characters that need no escaping (npm's scope slash is escaped as the
//! registry expects).

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;

/// A checked package name: as given, and the form the registry's URLs use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// As the caller wrote it.
    pub given: String,
    /// Normalised (PyPI: PEP 503; crates: lowercase for the index path; npm: as is).
    pub canonical: String,
}

fn show(s: &str) -> String {
    let cut: String = s.chars().take(60).collect();
    format!("{cut:?}{}", if s.chars().count() > 60 { "..." } else { "" })
}

/// Check `name` for `eco`.
pub fn package(eco: Ecosystem, name: &str) -> Result<Name, ToolError> {
    let n = name.trim();
    let bad =
        |why: &str| ToolError::invalid(format!("{} is not a valid {} package name: {why}", show(n), eco.as_str()));
    if n.is_empty() {
        return Err(bad("it is empty"));
    }
    match eco {
        Ecosystem::Pypi => {
            // PEP 508: ASCII letters and digits, with `.`, `_`, `-` inside.
            if n.len() > 200 {
                return Err(bad("longer than 200 characters"));
            }
            let ok_inner = n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            let ends = n.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && n.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
            if !ok_inner || !ends {
                return Err(bad(
                    "use ASCII letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit",
                ));
            }
            Ok(Name { given: n.to_owned(), canonical: pep503(n) })
        }
        Ecosystem::Crates => {
            if n.len() > 64 {
                return Err(bad("longer than 64 characters"));
            }
            let first = n.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
            if !first || !n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) {
                return Err(bad("use ASCII letters, digits, `_` and `-`, starting with a letter"));
            }
            Ok(Name { given: n.to_owned(), canonical: n.to_ascii_lowercase() })
        }
        Ecosystem::Npm => {
            if n.len() > 214 {
                return Err(bad("longer than 214 characters"));
            }
            let part_ok = |p: &str| {
                !p.is_empty()
                    && !p.starts_with(['.', '_'])
                    && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            };
            let ok = match n.strip_prefix('@') {
                Some(scoped) => matches!(scoped.split_once('/'), Some((s, p)) if part_ok(s) && part_ok(p)),
                None => part_ok(n),
            };
            if !ok || n.contains("..") {
                return Err(bad("use `name` or `@scope/name` with letters, digits, `-`, `.`, `_`, `~`"));
            }
            Ok(Name { given: n.to_owned(), canonical: n.to_owned() })
        }
    }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn pep503(n: &str) -> String {
    let mut out = String::with_capacity(n.len());
    let mut sep = false;
    for c in n.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The sparse index path of a (lowercased) crate name: `1/a`, `2/ab`,
/// `3/a/abc`, `se/rd/serde`.
pub fn crate_index_path(lower: &str) -> String {
    match lower.len() {
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", &lower[..1]),
        _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
    }
}

/// An npm name as a URL path segment (`@scope/name` → `@scope%2fname`).
pub fn npm_path(name: &str) -> String {
    name.replace('/', "%2f")
}

/// A version for a URL path (a `.crate` file name): checked by the caller to
/// parse as a version; this refuses anything else that could change the path.
pub fn version_segment(v: &str) -> Result<&str, ToolError> {
    if v.is_empty()
        || v.len() > crate::versions::MAX_VERSION_LEN
        || !v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
        || v.contains("..")
    {
        return Err(ToolError::invalid(format!("{} is not a version", show(v))));
    }
    Ok(v)
}

/// A Docker Hub image, `name` (an official image, namespace `library`) or
/// `namespace/name`; a `docker.io/` prefix and a `:tag` are dropped.
pub fn image(s: &str) -> Result<(String, String), ToolError> {
    let t = s.trim();
    let bad = |why: &str| ToolError::invalid(format!("{} is not a Docker Hub image name: {why}", show(t)));
    if t.is_empty() || t.len() > 255 {
        return Err(bad("give `name` or `namespace/name` (at most 255 characters)"));
    }
    let t = t.strip_prefix("docker.io/").or_else(|| t.strip_prefix("index.docker.io/")).unwrap_or(t);
    let t = t.split_once('@').map_or(t, |(a, _)| a);
    let t = match t.rsplit_once(':') {
        Some((a, tag)) if !tag.contains('/') => a,
        _ => t,
    };
    let parts: Vec<&str> = t.split('/').collect();
    let comp_ok = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
            && p.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && p.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
    };
    match parts.as_slice() {
        [name] if comp_ok(name) => Ok(("library".into(), (*name).to_owned())),
        [ns, name] if comp_ok(ns) && comp_ok(name) => Ok(((*ns).to_owned(), (*name).to_owned())),
        [_, _, ..] if parts[0].contains('.') || parts[0].contains(':') => {
            Err(bad("only Docker Hub images are supported, not other registries"))
        }
        _ => Err(bad("components are lowercase letters, digits, `.`, `_`, `-`")),
    }
}

/// A GitHub `owner/name`.
pub fn github_repo(s: &str) -> Result<(String, String), ToolError> {
    let t = s.trim().trim_end_matches(".git");
    let bad = || ToolError::invalid(format!("{} is not a GitHub repository: give `owner/name`", show(t)));
    let (o, n) = t.split_once('/').ok_or_else(bad)?;
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 100
            && p != "."
            && p != ".."
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if ok(o) && ok(n) { Ok((o.to_owned(), n.to_owned())) } else { Err(bad()) }
}

/// A GitLab project path (`group/sub/name`) or numeric id, URL-encoded for
/// `/projects/:id`.
pub fn gitlab_project(s: &str) -> Result<String, ToolError> {
    let t = s.trim().trim_matches('/');
    let bad = || ToolError::invalid(format!("{} is not a GitLab project: give an id or `group/name`", show(t)));
    if t.is_empty() || t.len() > 255 {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(t.to_owned());
    }
    let comps: Vec<&str> = t.split('/').collect();
    let ok = comps.len() >= 2
        && comps.iter().all(|p| {
            !p.is_empty()
                && *p != "."
                && *p != ".."
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok { Ok(t.replace('/', "%2F")) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        let long = "a".repeat(300);
        for eco in [Ecosystem::Pypi, Ecosystem::Crates, Ecosystem::Npm] {
            for n in
                ["", "../etc/passwd", "foo?x=1", "%2e%2e", "a/../b", "naïve", "a\u{0}b", "a\nb", &long, "a b", "#x"]
            {
                assert!(package(eco, n).is_err(), "{eco}: {n:?} accepted");
            }
        }
    }

    #[test]
    fn valid_names_normalise() {
        assert_eq!(package(Ecosystem::Pypi, "Flask_SQLAlchemy").unwrap().canonical, "flask-sqlalchemy");
        assert_eq!(package(Ecosystem::Crates, "Serde_JSON").unwrap().canonical, "serde_json");
        assert_eq!(npm_path(&package(Ecosystem::Npm, "@types/node").unwrap().canonical), "@types%2fnode");
        assert!(package(Ecosystem::Crates, "1abc").is_err());
        assert!(package(Ecosystem::Npm, "@scope").is_err());
    }

    #[test]
    fn index_paths_follow_cargos_layout() {
        assert_eq!(crate_index_path("a"), "1/a");
        assert_eq!(crate_index_path("ab"), "2/ab");
        assert_eq!(crate_index_path("abc"), "3/a/abc");
        assert_eq!(crate_index_path("serde"), "se/rd/serde");
    }

    #[test]
    fn images_and_repos() {
        assert_eq!(image("python:3.12").unwrap(), ("library".into(), "python".into()));
        assert_eq!(image("docker.io/grafana/grafana").unwrap(), ("grafana".into(), "grafana".into()));
        assert!(image("ghcr.io/a/b").is_err());
        assert!(image("../x").is_err());
        assert!(github_repo("rust-lang/rust").is_ok());
        assert!(github_repo("../x").is_err());
        assert!(github_repo("a/b?x=1").is_err());
        assert_eq!(gitlab_project("g/sub/p").unwrap(), "g%2Fsub%2Fp");
        assert!(gitlab_project("g/../p").is_err());
    }
}
