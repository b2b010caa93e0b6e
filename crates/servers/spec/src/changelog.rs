//! Changelog sections from conventional commits, and the merge of a new
//! version's section into an existing CHANGELOG.md.
//!
//! `type(scope)!: subject`: `feat` → Added, `fix` → Fixed, every other
//! type (and a subject that is not a conventional commit) → Changed; `!`
//! after the type or a `BREAKING CHANGE:`/`BREAKING-CHANGE:` footer marks the
//! entry **BREAKING**. Merge commits (`Merge ...`) are left out: their
//! content arrives with the commits they merge.

use mcp_core::ToolError;
use mcp_types::documents::{ChangeKind, ChangelogDoc};

/// Keep a Changelog's sections, in its order.
const ORDER: [(ChangeKind, &str); 6] = [
    (ChangeKind::Added, "Added"),
    (ChangeKind::Changed, "Changed"),
    (ChangeKind::Deprecated, "Deprecated"),
    (ChangeKind::Removed, "Removed"),
    (ChangeKind::Fixed, "Fixed"),
    (ChangeKind::Security, "Security"),
];

/// A parsed subject: section, scope, text, breaking.
pub fn classify(subject: &str, body: Option<&str>) -> (ChangeKind, Option<String>, String, bool) {
    let subject = crate::engine::one_line(subject);
    let footer =
        body.is_some_and(|b| b.lines().any(|l| l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:")));
    let Some((head, rest)) = subject.split_once(": ") else {
        return (ChangeKind::Changed, None, subject.clone(), footer);
    };
    let (head, bang) = match head.strip_suffix('!') {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (ty, scope) = match head.split_once('(') {
        Some((t, s)) => match s.strip_suffix(')') {
            Some(s) if !s.is_empty() && !s.contains(['(', ')']) => (t, Some(s.to_owned())),
            _ => return (ChangeKind::Changed, None, subject.clone(), footer),
        },
        None => (head, None),
    };
    if ty.is_empty() || !ty.bytes().all(|b| b.is_ascii_alphabetic()) {
        return (ChangeKind::Changed, None, subject.clone(), footer);
    }
    let kind = match ty.to_ascii_lowercase().as_str() {
        "feat" => ChangeKind::Added,
        "fix" => ChangeKind::Fixed,
        "security" => ChangeKind::Security,
        "deprecate" => ChangeKind::Deprecated,
        "remove" => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    };
    (kind, scope, rest.trim().to_owned(), bang || footer)
}

/// The sections of a version: `[{title, items}]`, empty sections left out.
pub fn sections(d: &ChangelogDoc) -> Vec<serde_json::Value> {
    let mut items: Vec<(ChangeKind, String)> = Vec::new();
    for c in &d.commits {
        if c.subject.starts_with("Merge ") {
            continue;
        }
        let (kind, scope, text, breaking) = classify(&c.subject, c.body.as_deref());
        let sha: String = c.sha.chars().filter(char::is_ascii_hexdigit).take(7).collect();
        let mut line = String::new();
        if breaking {
            line.push_str("**BREAKING:** ");
        }
        if let Some(s) = scope {
            line.push_str(&format!("**{s}:** "));
        }
        line.push_str(&text);
        if !sha.is_empty() {
            line.push_str(&format!(" ({sha})"));
        }
        items.push((kind, line));
    }
    for c in &d.changes {
        let text = crate::engine::one_line(&c.text);
        items.push((c.kind, if c.breaking { format!("**BREAKING:** {text}") } else { text }));
    }
    ORDER
        .iter()
        .filter_map(|(k, title)| {
            let list: Vec<&String> = items.iter().filter(|(ik, _)| ik == k).map(|(_, t)| t).collect();
            (!list.is_empty()).then(|| serde_json::json!({"title": title, "items": list}))
        })
        .collect()
}

/// `version` and `date` as Keep a Changelog writes them.
pub fn check(d: &ChangelogDoc) -> Result<(), ToolError> {
    let v = &d.version;
    if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c)) {
        return Err(ToolError::invalid("version must be a version such as 1.2.0 (letters, digits, `.`, `-`, `+`)"));
    }
    let b = d.date.as_bytes();
    let date_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !date_ok {
        return Err(ToolError::invalid("date must be YYYY-MM-DD"));
    }
    if d.commits.is_empty() && d.changes.is_empty() {
        return Err(ToolError::invalid("give commits or changes: a version without changes has nothing to say"));
    }
    Ok(())
}

/// Insert the `## [version]` section of `fresh` (a whole rendered
/// changelog) into `existing`: after its header and its `[Unreleased]`
/// section, before the newest released version.
pub fn merge(existing: &str, fresh: &str, version: &str) -> Result<String, ToolError> {
    let heading = format!("## [{version}]");
    let is_version = |l: &str| l.starts_with("## [") && !l.to_ascii_lowercase().starts_with("## [unreleased]");
    if existing.lines().any(|l| l.starts_with(&heading) && l[heading.len()..].trim_start().is_empty_or_dash()) {
        return Err(ToolError::conflict(format!("the existing changelog already has a section for {version}")));
    }
    let start = fresh
        .match_indices(&heading)
        .find(|(i, _)| *i == 0 || fresh.as_bytes()[i - 1] == b'\n')
        .map(|(i, _)| i)
        .ok_or_else(|| ToolError::failed(format!("the changelog template wrote no `{heading}` heading to merge")))?;
    let mut section = fresh[start..].trim_end().to_owned();
    section.push_str("\n\n");
    // The first released version's heading, at the start of a line.
    let mut offset = 0;
    let mut at = None;
    for line in existing.split_inclusive('\n') {
        if is_version(line) {
            at = Some(offset);
            break;
        }
        offset += line.len();
    }
    let mut out = String::with_capacity(existing.len() + section.len() + 2);
    match at {
        Some(i) => {
            out.push_str(&existing[..i]);
            out.push_str(&section);
            out.push_str(&existing[i..]);
        }
        None => {
            out.push_str(existing.trim_end());
            out.push_str(if existing.trim().is_empty() { "" } else { "\n\n" });
            out.push_str(&section);
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
    }
    Ok(out)
}

trait DashOrEmpty {
    fn is_empty_or_dash(&self) -> bool;
}

impl DashOrEmpty for str {
    /// What follows `## [1.0.0]` in a heading: nothing, or ` - date`.
    fn is_empty_or_dash(&self) -> bool {
        self.is_empty() || self.starts_with('-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_subjects() {
        let c = |s: &str| classify(s, None);
        assert_eq!(c("feat(api): add login"), (ChangeKind::Added, Some("api".into()), "add login".into(), false));
        assert!(c("fix!: crash on empty input").3);
        assert_eq!(c("fix!: crash on empty input").0, ChangeKind::Fixed);
        assert_eq!(c("refactor: split module").0, ChangeKind::Changed);
        assert_eq!(c("Update readme").2, "Update readme");
        assert_eq!(c("feat(: broken").0, ChangeKind::Changed);
        assert!(classify("feat: x", Some("text\n\nBREAKING CHANGE: gone")).3);
    }
}
