//! Versions and constraints, each ecosystem its own way: PEP 440 for PyPI
//! (`pep440_rs`), semver for crates.io (Cargo's requirement syntax) and npm
//! (node-semver ranges, translated to the same requirement type).
//!
//! Registries do not sort: PyPI's Simple API lists versions as text
//! (`0.9.10` before `0.9.9`), the sparse index in publish order. Everything
//! here sorts by the ecosystem's own order.

use std::cmp::Ordering;
use std::str::FromStr;

use mcp_types::registry::Ecosystem;

/// Longest version text considered (anything longer is not a version).
pub const MAX_VERSION_LEN: usize = 128;
/// Longest constraint text considered.
pub const MAX_CONSTRAINT_LEN: usize = 1024;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ver {
    /// PEP 440.
    Pep(pep440_rs::Version),
    /// Semver.
    Sem(semver::Version),
}

impl Ver {
    /// Parse `s` as a version of `eco`.
    pub fn parse(eco: Ecosystem, s: &str) -> Option<Ver> {
        let s = s.trim();
        if s.is_empty() || s.len() > MAX_VERSION_LEN {
            return None;
        }
        match eco {
            Ecosystem::Pypi => pep440_rs::Version::from_str(s).ok().map(Ver::Pep),
            Ecosystem::Crates | Ecosystem::Npm => {
                semver::Version::parse(s.strip_prefix('v').unwrap_or(s)).ok().map(Ver::Sem)
            }
        }
    }

    /// An alpha/beta/rc/dev (PEP 440) or a version with a pre-release part (semver).
    pub fn is_pre(&self) -> bool {
        match self {
            Ver::Pep(v) => v.any_prerelease(),
            Ver::Sem(v) => !v.pre.is_empty(),
        }
    }
}

impl PartialOrd for Ver {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ver {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ver::Pep(a), Ver::Pep(b)) => a.cmp(b),
            (Ver::Sem(a), Ver::Sem(b)) => a.cmp(b),
            // Never mixed within one package; a stable order all the same.
            (Ver::Pep(_), Ver::Sem(_)) => Ordering::Less,
            (Ver::Sem(_), Ver::Pep(_)) => Ordering::Greater,
        }
    }
}

/// A parsed constraint.
#[derive(Debug, Clone)]
pub enum Constraint {
    /// Anything (an empty constraint, `*`, `latest`).
    Any,
    /// PEP 440 specifiers (`>=7,<9`, `~=1.4`, `==1.*`).
    Pep(pep440_rs::VersionSpecifiers),
    /// Cargo requirement, or an npm range's alternatives (`||`).
    Sem(Vec<semver::VersionReq>),
}

/// A constraint that does not parse, with why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BadConstraint(pub String);

impl Constraint {
    /// Parse `s` as a constraint of `eco`.
    pub fn parse(eco: Ecosystem, s: &str) -> Result<Constraint, BadConstraint> {
        let s = s.trim();
        if s.len() > MAX_CONSTRAINT_LEN {
            return Err(BadConstraint(format!("a constraint is at most {MAX_CONSTRAINT_LEN} characters")));
        }
        if s.chars().any(char::is_control) {
            return Err(BadConstraint("the constraint contains control characters".into()));
        }
        if s.is_empty() || s == "*" || s.eq_ignore_ascii_case("latest") {
            return Ok(Constraint::Any);
        }
        match eco {
            Ecosystem::Pypi => pep440_rs::VersionSpecifiers::from_str(s)
                .map(Constraint::Pep)
                .map_err(|e| BadConstraint(format!("{s:?} is not a PEP 440 specifier: {e}"))),
            Ecosystem::Crates => semver::VersionReq::parse(s)
                .map(|r| Constraint::Sem(vec![r]))
                .map_err(|e| BadConstraint(format!("{s:?} is not a Cargo version requirement: {e}"))),
            Ecosystem::Npm => {
                let mut alts = Vec::new();
                for alt in s.split("||") {
                    let r =
                        npm_range(alt.trim()).map_err(|e| BadConstraint(format!("{s:?} is not an npm range: {e}")))?;
                    alts.push(r);
                }
                Ok(Constraint::Sem(alts))
            }
        }
    }

    /// Whether `v` satisfies the constraint. A pre-release satisfies a semver
    /// requirement only when the requirement names one on the same
    /// `major.minor.patch` (Cargo's and npm's rule); PEP 440 specifiers are
    /// matched as written and pre-releases are filtered by the caller.
    pub fn matches(&self, v: &Ver) -> bool {
        match (self, v) {
            (Constraint::Any, _) => true,
            (Constraint::Pep(s), Ver::Pep(v)) => s.contains(v),
            (Constraint::Sem(alts), Ver::Sem(v)) => alts.iter().any(|r| r.matches(v)),
            _ => false,
        }
    }

    /// Whether the constraint names a pre-release itself (then pre-releases
    /// are candidates, as pip and cargo treat them).
    pub fn mentions_pre(&self) -> bool {
        match self {
            Constraint::Any => false,
            Constraint::Pep(s) => s.iter().any(|x| x.version().any_prerelease()),
            Constraint::Sem(alts) => alts.iter().any(|r| r.comparators.iter().any(|c| !c.pre.is_empty())),
        }
    }

    /// The exact version the constraint pins (`==1.2.3`, `=1.2.3`), when it is one.
    pub fn exact(&self) -> Option<String> {
        match self {
            Constraint::Pep(s) => {
                let specs: Vec<_> = s.iter().collect();
                match specs.as_slice() {
                    [one] if matches!(one.operator(), pep440_rs::Operator::Equal | pep440_rs::Operator::ExactEqual) => {
                        Some(one.version().to_string())
                    }
                    _ => None,
                }
            }
            Constraint::Sem(alts) => match alts.as_slice() {
                [r] => match r.comparators.as_slice() {
                    [c] if c.op == semver::Op::Exact && c.minor.is_some() && c.patch.is_some() => Some(
                        semver::Version {
                            major: c.major,
                            minor: c.minor.unwrap_or(0),
                            patch: c.patch.unwrap_or(0),
                            pre: c.pre.clone(),
                            build: semver::BuildMetadata::EMPTY,
                        }
                        .to_string(),
                    ),
                    _ => None,
                },
                _ => None,
            },
            Constraint::Any => None,
        }
    }
}

/// One npm range alternative (no `||`) as a semver requirement: hyphen
/// ranges (`1.2 - 2.3`), `x`-ranges, bare versions (exact in npm) and
/// space-separated comparators.
fn npm_range(s: &str) -> Result<semver::VersionReq, String> {
    if s.is_empty() || s == "*" || s == "x" || s == "X" {
        return Ok(semver::VersionReq::STAR);
    }
    if let Some((lo, hi)) = s.split_once(" - ") {
        return semver::VersionReq::parse(&format!(">={}, <={}", lo.trim(), hi.trim())).map_err(|e| e.to_string());
    }
    // Join an operator with its version (`>= 1.2` → `>=1.2`), then split comparators.
    let mut tokens: Vec<String> = Vec::new();
    for t in s.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if matches!(last.as_str(), ">" | ">=" | "<" | "<=" | "=" | "~" | "^") => last.push_str(t),
            _ => tokens.push(t.to_owned()),
        }
    }
    let parts: Vec<String> = tokens
        .into_iter()
        .map(|t| {
            let t = t.strip_prefix('v').unwrap_or(&t).to_owned();
            // A bare full version is exact in npm (Cargo would read it as `^`).
            if t.chars().next().is_some_and(|c| c.is_ascii_digit())
                && t.split('.').count() == 3
                && !t.contains(['x', 'X', '*'])
            {
                format!("={t}")
            } else {
                t
            }
        })
        .collect();
    semver::VersionReq::parse(&parts.join(", ")).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(eco: Ecosystem, vs: &[&str]) -> Vec<String> {
        let mut p: Vec<(Ver, &str)> = vs.iter().map(|s| (Ver::parse(eco, s).unwrap(), *s)).collect();
        p.sort_by(|a, b| a.0.cmp(&b.0));
        p.into_iter().map(|(_, s)| s.to_owned()).collect()
    }

    #[test]
    fn pep440_orders_numerically_not_as_text() {
        assert_eq!(
            sorted(Ecosystem::Pypi, &["0.9.9", "0.9.10", "1.0", "1.0rc1", "1.0.post1", "1.0.dev0", "0.9.8"]),
            ["0.9.8", "0.9.9", "0.9.10", "1.0.dev0", "1.0rc1", "1.0", "1.0.post1"]
        );
    }

    #[test]
    fn semver_orders_prereleases_first() {
        assert_eq!(
            sorted(Ecosystem::Crates, &["1.0.0", "1.0.0-beta.2", "1.0.0-alpha", "0.10.0", "0.9.0"]),
            ["0.9.0", "0.10.0", "1.0.0-alpha", "1.0.0-beta.2", "1.0.0"]
        );
    }

    fn m(eco: Ecosystem, c: &str, v: &str) -> bool {
        Constraint::parse(eco, c).unwrap().matches(&Ver::parse(eco, v).unwrap())
    }

    #[test]
    fn constraints_match_each_ecosystems_way() {
        assert!(m(Ecosystem::Pypi, ">=7", "8.1"));
        assert!(!m(Ecosystem::Pypi, ">=7,<8", "8.0"));
        assert!(m(Ecosystem::Pypi, "~=1.4", "1.9"));
        assert!(m(Ecosystem::Crates, "1", "1.9.0"));
        assert!(!m(Ecosystem::Crates, "1.2", "2.0.0"));
        assert!(m(Ecosystem::Crates, "0.3", "0.3.9"));
        assert!(!m(Ecosystem::Crates, "0.3", "0.4.0"));
        assert!(m(Ecosystem::Npm, "^4.17.0 || ^5", "5.1.0"));
        assert!(m(Ecosystem::Npm, ">= 1.2 < 2", "1.9.9"));
        assert!(!m(Ecosystem::Npm, "1.2.3", "1.2.4"));
        assert!(m(Ecosystem::Npm, "1.2 - 1.4", "1.3.0"));
        assert!(Constraint::parse(Ecosystem::Pypi, ">=>=1").is_err());
        assert!(Constraint::parse(Ecosystem::Crates, "1.\u{0}").is_err());
    }

    #[test]
    fn exact_pins_are_recognised() {
        assert_eq!(Constraint::parse(Ecosystem::Pypi, "==2.31.0").unwrap().exact().as_deref(), Some("2.31.0"));
        assert_eq!(Constraint::parse(Ecosystem::Crates, "=1.0.3").unwrap().exact().as_deref(), Some("1.0.3"));
        assert!(Constraint::parse(Ecosystem::Crates, "1.0.3").unwrap().exact().is_none());
        assert!(Constraint::parse(Ecosystem::Pypi, ">=1").unwrap().exact().is_none());
    }

    #[test]
    fn hostile_versions_do_not_parse() {
        for s in ["", "../1.0", "1.0?x=", &"9".repeat(500), "1.\n0", "1.0\u{7}", "%2e%2e"] {
            assert!(Ver::parse(Ecosystem::Pypi, s).is_none(), "{s:?}");
            assert!(Ver::parse(Ecosystem::Crates, s).is_none(), "{s:?}");
        }
    }
}
