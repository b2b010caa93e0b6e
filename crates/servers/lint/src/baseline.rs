//! `since`: keep only findings on lines changed since a git ref. The changed
//! lines come from `git diff -U0 <ref> --` (the working tree against the
//! ref) and the untracked files from `git ls-files --others`, both run by
//! `linters` through the sandboxed runner; this module checks the ref and
//! reads their output.

use std::collections::{HashMap, HashSet};

use crate::diag::Diagnostic;

/// Lines added or changed per file, and files that are new as a whole.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// File → inclusive line ranges of the working tree.
    pub lines: HashMap<String, Vec<(u32, u32)>>,
    /// Files the ref does not have (added since, or untracked).
    pub new_files: HashSet<String>,
}

/// A ref a caller may name: not an option, no control characters or
/// whitespace, of sane length. git itself decides whether it exists.
pub fn check_ref(r: &str) -> Result<(), String> {
    if r.is_empty() || r.len() > 200 {
        return Err("since must be a git ref of 1 to 200 characters".to_owned());
    }
    if r.starts_with('-') {
        return Err(format!("since {r:?} starts with '-': a ref, not an option, is expected"));
    }
    if r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("since contains whitespace or control characters".to_owned());
    }
    Ok(())
}

/// Read `git diff -U0 --no-color` output.
pub fn parse_diff(text: &str, changes: &mut Changes) {
    let mut file: Option<String> = None;
    let mut from_null = false;
    for line in text.lines() {
        if line.starts_with("diff --git ") {
            file = None;
            from_null = false;
        } else if let Some(rest) = line.strip_prefix("--- ") {
            from_null = rest == "/dev/null";
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            file = (rest != "/dev/null").then(|| unquote(rest.strip_prefix("b/").unwrap_or(rest)));
            if let (Some(f), true) = (&file, from_null) {
                changes.new_files.insert(f.clone());
            }
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let Some(f) = &file else { continue };
            // `@@ -a[,b] +c[,d] @@`: d lines added from c (d defaults to 1; 0 is a pure deletion).
            let Some(plus) = rest.split(' ').find(|p| p.starts_with('+')) else { continue };
            let mut it = plus[1..].split(',');
            let start: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(1);
            if count > 0 {
                changes.lines.entry(f.clone()).or_default().push((start, start + count - 1));
            }
        }
    }
}

/// git quotes names with unusual bytes (`"a\tb"`); the common escapes are undone.
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else { return s.to_owned() };
    let inner = inner.strip_prefix("b/").unwrap_or(inner);
    inner.replace("\\t", "\t").replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\")
}

impl Changes {
    /// A finding is new when its file is new, or any line of its range was
    /// added or changed. Findings without a line (0) count as new only in new files.
    pub fn keeps(&self, d: &Diagnostic) -> bool {
        if self.new_files.contains(&d.file) {
            return true;
        }
        let Some(ranges) = self.lines.get(&d.file) else { return false };
        let (a, b) = (d.line, d.end_line.unwrap_or(d.line).max(d.line));
        a > 0 && ranges.iter().any(|&(s, e)| a <= e && s <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;

    #[test]
    fn refs() {
        assert!(check_ref("HEAD~1").is_ok());
        assert!(check_ref("main").is_ok());
        for bad in ["", "-c", "--output=x", "a b", "a\nb"] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn diff_lines() {
        let d = "diff --git a/src/a.py b/src/a.py\nindex 1..2 100644\n--- a/src/a.py\n+++ b/src/a.py\n@@ -3,0 +4,2 @@ def f():\n+x\n+y\n@@ -10 +12 @@\n-a\n+b\n@@ -20,2 +21,0 @@\n-c\ndiff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,3 @@\n";
        let mut c = Changes::default();
        parse_diff(d, &mut c);
        assert_eq!(c.lines["src/a.py"], vec![(4, 5), (12, 12)]);
        assert!(c.new_files.contains("n.py"));
        let at = |f: &str, l: u32| Diagnostic::new("t", f.into(), l, 1, "r".into(), Severity::Warning, "m".into());
        assert!(c.keeps(&at("src/a.py", 5)));
        assert!(!c.keeps(&at("src/a.py", 6)));
        assert!(c.keeps(&at("n.py", 99)));
        assert!(!c.keeps(&at("other.py", 1)));
    }
}
