//! Checking and pinning a manifest's dependencies: the logic behind
//! `check_dependencies` and `pin_dependencies`.
//!
//! A pin is the newest version that satisfies the original constraint and
//! is neither yanked nor a pre-release (unless the constraint names one)
//! nor known to be vulnerable: a vulnerable newest version is passed over for
//! the next, up to [`MAX_TRIES`] candidates. When none qualifies the line is
//! left as it was and the row says why. Registries are asked concurrently,
//! a few at a time; rows come back in file order.

use futures::StreamExt;
use mcp_core::ToolError;
use mcp_types::registry::{DependencyStatus, ManifestInput, PinnedDependency};

use crate::Registry;
use crate::eco::{self, Package};
use crate::fetch::Freshness;
use crate::manifest::{self, Dep, Edit};
use crate::names;
use crate::osv;
use crate::versions::{Constraint, Ver};

/// Candidates tried before a pin gives up on vulnerable versions.
pub const MAX_TRIES: usize = 5;
/// Registries asked at once.
const CONCURRENCY: usize = 6;

/// Pin or only check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Choose versions (`pin_dependencies`).
    Pin,
    /// Report on what the manifest asks for (`check_dependencies`).
    Check,
}

/// One dependency's outcome: its row and, for a pin, the version to write.
pub struct Outcome {
    /// The row.
    pub row: PinnedDependency,
    /// The edit and version to write.
    pub write: Option<(Edit, String)>,
    /// How old the answers behind it are.
    pub freshness: Option<Freshness>,
}

/// Evaluate every dependency of the input.
pub async fn evaluate(r: &Registry, input: &ManifestInput, mode: Mode) -> Result<(Vec<Dep>, Vec<Outcome>), ToolError> {
    let deps = manifest::parse(input.manifest, &input.content).map_err(|e| ToolError::invalid(e.0))?;
    let include_dev = input.include_dev.unwrap_or(true);
    let chosen: Vec<Dep> = deps.into_iter().filter(|d| include_dev || !d.dev).collect();
    // Constraints are checked up front so a bad one is `invalid_input`
    // naming its line, before any registry is asked.
    for d in &chosen {
        if d.skip.is_none() {
            Constraint::parse(d.ecosystem, &d.requested)
                .map_err(|e| ToolError::invalid(format!("{} ({}): {e}", d.section, d.name)))?;
            names::package(d.ecosystem, &d.package)
                .map_err(|e| ToolError::invalid(format!("{} ({}): {e}", d.section, d.name)))?;
        }
    }
    let floor = manifest::python_floor(input.manifest, &input.content);
    let outcomes = futures::stream::iter(0..chosen.len())
        .map(|i| one(r, &chosen[i], mode, floor.as_ref()))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    Ok((chosen, outcomes))
}

fn row(d: &Dep, status: DependencyStatus) -> PinnedDependency {
    PinnedDependency {
        ecosystem: d.ecosystem,
        name: d.name.clone(),
        section: d.section.clone(),
        requested: d.requested.clone(),
        pinned: None,
        latest: None,
        status,
        yanked: false,
        vulnerabilities: Vec::new(),
        vulnerabilities_checked: false,
        vulnerability_source: None,
        note: None,
    }
}

fn set_vulns(row: &mut PinnedDependency, v: &osv::VulnCheck) {
    row.vulnerabilities = v.ids();
    row.vulnerabilities_checked = v.checked;
    row.vulnerability_source = if v.checked { v.source.clone() } else { Some("none: not checked".into()) };
}

async fn one(r: &Registry, d: &Dep, mode: Mode, floor: Option<&pep440_rs::Version>) -> Outcome {
    if let Some(why) = &d.skip {
        let mut x = row(d, DependencyStatus::Unchanged);
        x.note = Some(format!("left alone: {why}"));
        return Outcome { row: x, write: None, freshness: None };
    }
    // Parsed again (checked in `evaluate`): cheap, and keeps no borrow across awaits.
    let Ok(c) = Constraint::parse(d.ecosystem, &d.requested) else {
        return Outcome { row: row(d, DependencyStatus::NotFound), write: None, freshness: None };
    };
    let pkg = match eco::releases(r, d.ecosystem, &d.package).await {
        Ok(p) => p,
        Err(e) => {
            let status = if matches!(e, ToolError::NotFound(_)) {
                DependencyStatus::NotFound
            } else {
                DependencyStatus::Unavailable
            };
            let mut x = row(d, status);
            x.note = Some(e.to_string());
            return Outcome { row: x, write: None, freshness: None };
        }
    };
    let mut x = row(d, DependencyStatus::Pinned);
    x.latest = pkg.latest_stable().map(|l| l.version.clone());
    let out = match mode {
        Mode::Pin => pin(r, d, &c, &pkg, x, floor).await,
        Mode::Check => check(r, d, &c, &pkg, x).await,
    };
    // The row is as old as the oldest answer behind it (versions or vulnerabilities).
    let freshness = Some(match out.freshness.clone() {
        Some(v) => pkg.freshness.clone().merge(v),
        None => pkg.freshness.clone(),
    });
    Outcome { freshness, ..out }
}

async fn pin(
    r: &Registry,
    d: &Dep,
    c: &Constraint,
    pkg: &Package,
    mut x: PinnedDependency,
    floor: Option<&pep440_rs::Version>,
) -> Outcome {
    let exact = c.exact();
    let mut skipped: Vec<String> = Vec::new();
    let mut vfresh: Option<Freshness> = None;
    // Releases that need a newer Python than the project declares are passed over, and said so.
    let too_new: Vec<String> = pkg
        .candidates(c, false)
        .take_while(|rel| !Package::supports_python(rel, floor))
        .take(3)
        .map(|rel| format!("{} (requires Python {})", rel.version, rel.requires_python.as_deref().unwrap_or("?")))
        .collect();
    let candidates: Vec<_> =
        pkg.candidates(c, false).filter(|rel| Package::supports_python(rel, floor)).take(MAX_TRIES).collect();
    if candidates.is_empty() && !too_new.is_empty() {
        x.status = DependencyStatus::NotFound;
        x.note = Some(format!(
            "no version satisfying {:?} supports Python {} (the project's requires-python); left unchanged",
            d.requested,
            floor.map(ToString::to_string).unwrap_or_default()
        ));
        return Outcome { row: x, write: None, freshness: None };
    }
    if candidates.is_empty() {
        let yanked_pin =
            exact.as_deref().and_then(|e| Ver::parse(d.ecosystem, e)).and_then(|v| pkg.find(&v)).filter(|r| r.yanked);
        if let Some(y) = yanked_pin {
            // Nothing was pinned: `pinned` stays empty, the note names the version.
            x.status = DependencyStatus::Yanked;
            x.yanked = true;
            x.note = Some(format!(
                "{} is yanked{} and the constraint allows no other version; left unchanged",
                y.version,
                y.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
            ));
        } else {
            x.status = DependencyStatus::NotFound;
            x.note = Some(format!(
                "no published, non-yanked, non-pre-release version satisfies {:?}; left unchanged",
                d.requested
            ));
        }
        return Outcome { row: x, write: None, freshness: None };
    }
    for cand in candidates {
        let v = osv::check(r, d.ecosystem, &pkg.name, &cand.version).await;
        if let Some(f) = &v.freshness {
            vfresh = Some(vfresh.map_or(f.clone(), |g| g.merge(f.clone())));
        }
        if v.checked && !v.vulnerabilities.is_empty() {
            skipped.push(format!("{} ({})", cand.version, v.ids().join(", ")));
            set_vulns(&mut x, &v);
            continue;
        }
        set_vulns(&mut x, &v);
        x.pinned = Some(cand.version.clone());
        let same = exact.as_deref().and_then(|e| Ver::parse(d.ecosystem, e)).is_some_and(|e| e == cand.ver);
        x.status = if same { DependencyStatus::Unchanged } else { DependencyStatus::Pinned };
        let mut notes = Vec::new();
        if !too_new.is_empty() {
            notes.push(format!(
                "skipped {}: the project's requires-python includes Python {}",
                too_new.join(", "),
                floor.map(ToString::to_string).unwrap_or_default()
            ));
        }
        if !skipped.is_empty() {
            notes.push(format!("skipped vulnerable {}", skipped.join("; ")));
        }
        if !v.checked {
            notes.push(v.note.clone().unwrap_or_else(|| "vulnerabilities not checked".into()));
        }
        if let Some(n) = &cand.note
            && d.ecosystem == mcp_types::registry::Ecosystem::Npm
        {
            notes.push(n.clone());
        }
        x.note = (!notes.is_empty()).then(|| notes.join("; "));
        let write = (!same).then(|| d.edit.clone().map(|e| (e, cand.version.clone()))).flatten();
        return Outcome { row: x, write, freshness: vfresh };
    }
    x.status = DependencyStatus::Vulnerable;
    x.note = Some(format!(
        "the {} newest versions allowed all have known vulnerabilities ({}); left unchanged",
        skipped.len(),
        skipped.join("; ")
    ));
    Outcome { row: x, write: None, freshness: vfresh }
}

async fn check(r: &Registry, d: &Dep, c: &Constraint, pkg: &Package, mut x: PinnedDependency) -> Outcome {
    let target = match c.exact() {
        Some(e) => match Ver::parse(d.ecosystem, &e).and_then(|v| pkg.find(&v)) {
            Some(rel) => rel,
            None => {
                x.status = DependencyStatus::NotFound;
                x.pinned = Some(e.clone());
                x.note = Some(format!("{} {e} is not published", pkg.name.given));
                return Outcome { row: x, write: None, freshness: None };
            }
        },
        None => match pkg.candidates(c, false).next() {
            Some(rel) => rel,
            None => {
                x.status = DependencyStatus::NotFound;
                x.note = Some(format!("no published, non-yanked version satisfies {:?}", d.requested));
                return Outcome { row: x, write: None, freshness: None };
            }
        },
    };
    x.pinned = Some(target.version.clone());
    x.yanked = target.yanked;
    let v = osv::check(r, d.ecosystem, &pkg.name, &target.version).await;
    set_vulns(&mut x, &v);
    let newer = pkg.latest_stable().filter(|l| l.ver > target.ver);
    let mut notes = Vec::new();
    x.status = if target.yanked {
        notes.push(format!(
            "{} is yanked{}",
            target.version,
            target.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
        ));
        DependencyStatus::Yanked
    } else if v.checked && !v.vulnerabilities.is_empty() {
        notes.push(format!("{} has known vulnerabilities", target.version));
        DependencyStatus::Vulnerable
    } else if let Some(n) = newer {
        notes.push(format!("{} is newer than what {:?} allows", n.version, d.requested));
        DependencyStatus::Outdated
    } else {
        DependencyStatus::Pinned
    };
    if c.exact().is_none() {
        notes.push(format!("the constraint resolves to {}", target.version));
    }
    if !v.checked {
        notes.push(v.note.clone().unwrap_or_else(|| "vulnerabilities not checked".into()));
    }
    x.note = Some(notes.join("; "));
    Outcome { row: x, write: None, freshness: v.freshness }
}

/// The age summary of a set of outcomes: `(source_age_secs, offline, stale)`.
pub fn age(r: &Registry, outcomes: &[Outcome]) -> (u64, bool, bool) {
    let mut age = 0;
    let mut stale = false;
    for f in outcomes.iter().filter_map(|o| o.freshness.as_ref()) {
        age = age.max(f.age_secs);
        stale |= f.stale;
    }
    (age, r.fetch.config().offline, stale)
}
