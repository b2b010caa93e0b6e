//! Every tool's output turned into [`Diagnostic`]s. Each parser takes the
//! project (to make paths relative) and the text the tool printed in the
//! format `linters` asks for; the samples in the tests are outputs captured
//! from the tools on the fleet's machine.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::diag::{Diagnostic, Severity, relative};

/// ruff `check --output-format json`: one array of violations.
pub fn ruff(project: &Path, stdout: &str) -> Result<Vec<Diagnostic>, String> {
    #[derive(Deserialize)]
    struct Loc {
        row: u32,
        column: u32,
    }
    #[derive(Deserialize)]
    struct Edit {
        content: String,
        location: Loc,
        end_location: Loc,
    }
    #[derive(Deserialize)]
    struct Fix {
        message: Option<String>,
        #[serde(default)]
        edits: Vec<Edit>,
    }
    #[derive(Deserialize)]
    struct V {
        code: Option<String>,
        filename: String,
        location: Loc,
        end_location: Option<Loc>,
        fix: Option<Fix>,
        message: String,
        url: Option<String>,
        severity: Option<String>,
    }
    let items: Vec<V> = serde_json::from_str(stdout.trim()).map_err(|e| format!("ruff's JSON did not parse: {e}"))?;
    Ok(items
        .into_iter()
        .map(|v| {
            // A violation without a code is a syntax error ruff could not lint past.
            let rule = v.code.unwrap_or_else(|| "syntax-error".to_owned());
            let sev = match v.severity.as_deref() {
                Some("warning") => Severity::Warning,
                Some("info") | Some("note") => Severity::Note,
                _ => Severity::Error,
            };
            let mut d = Diagnostic::new(
                "ruff",
                relative(project, &v.filename),
                v.location.row,
                v.location.column,
                rule,
                sev,
                v.message,
            );
            d.end_line = v.end_location.as_ref().map(|l| l.row);
            d.end_column = v.end_location.as_ref().map(|l| l.column);
            d.fix = v.fix.map(|f| {
                let edits: Vec<String> = f
                    .edits
                    .iter()
                    .map(|e| {
                        format!(
                            "replace {}:{}-{}:{} with {:?}",
                            e.location.row, e.location.column, e.end_location.row, e.end_location.column, e.content
                        )
                    })
                    .collect();
                match f.message {
                    Some(m) => format!("{m}: {}", edits.join("; ")),
                    None => edits.join("; "),
                }
            });
            d.help_uri = v.url;
            d
        })
        .collect())
}

/// flake8 with `--format=%(path)s:%(row)d:%(col)d:%(code)s:%(text)s`.
pub fn flake8(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let mut it = line.splitn(5, ':');
        let (Some(path), Some(row), Some(col), Some(code), Some(text)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            continue;
        };
        let (Ok(row), Ok(col)) = (row.parse::<u32>(), col.parse::<u32>()) else { continue };
        // Syntax errors and undefined names break the program; the rest is
        // style or hygiene.
        let sev = if code.starts_with("E9") || ["F821", "F822", "F823", "F63", "F7"].iter().any(|c| code.starts_with(c))
        {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut d =
            Diagnostic::new("flake8", relative(project, path), row, col, code.to_owned(), sev, text.trim().to_owned());
        d.help_uri = flake8_uri(code);
        out.push(d);
    }
    out
}

/// Where a flake8 code's family is documented.
pub fn flake8_uri(code: &str) -> Option<String> {
    match code.chars().next() {
        Some('F') => Some("https://flake8.pycqa.org/en/latest/user/error-codes.html".to_owned()),
        Some('E') | Some('W') => Some("https://pycodestyle.pycqa.org/en/latest/intro.html#error-codes".to_owned()),
        Some('C') if code.starts_with("C90") => Some("https://github.com/PyCQA/mccabe".to_owned()),
        _ => None,
    }
}

/// One hunk of a unified diff, with the old file's lines it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Hunk {
    /// The file (old side's name).
    pub file: String,
    /// First old line the hunk removes or changes (or where it inserts).
    pub first: u32,
    /// Last such line.
    pub last: u32,
    /// The hunk's text, header included.
    pub text: String,
}

/// A unified diff (black `--diff`, isort `--diff`) as hunks. The `---`
/// header names the file (its timestamp and isort's `:before` dropped).
pub fn unified_diff(stdout: &str) -> Vec<Hunk> {
    let mut out: Vec<Hunk> = Vec::new();
    let mut file: Option<String> = None;
    let mut cur: Option<(Hunk, u32, bool)> = None;
    let flush = |cur: &mut Option<(Hunk, u32, bool)>, out: &mut Vec<Hunk>| {
        if let Some((h, _, _)) = cur.take() {
            out.push(h);
        }
    };
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("--- ") {
            flush(&mut cur, &mut out);
            let name = rest.split('\t').next().unwrap_or(rest).trim_end();
            let name = name.strip_suffix(":before").unwrap_or(name);
            file = Some(name.strip_prefix("a/").unwrap_or(name).to_owned());
            continue;
        }
        if line.starts_with("+++ ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@@ -") {
            flush(&mut cur, &mut out);
            let old = rest.split([' ', ',']).next().unwrap_or("1");
            let start: u32 = old.parse().unwrap_or(1);
            if let Some(f) = &file {
                cur = Some((
                    Hunk { file: f.clone(), first: start.max(1), last: start.max(1), text: format!("{line}\n") },
                    start,
                    false,
                ));
            }
            continue;
        }
        if let Some((h, at, seen)) = cur.as_mut() {
            h.text.push_str(line);
            h.text.push('\n');
            match line.chars().next() {
                Some('-') => {
                    if !*seen {
                        h.first = *at;
                        *seen = true;
                    }
                    h.last = *at;
                    *at += 1;
                }
                Some('+') => {
                    // Added lines sit after old line `at - 1`.
                    let before = at.saturating_sub(1).max(1);
                    if !*seen {
                        h.first = before;
                        h.last = before;
                        *seen = true;
                    }
                    h.last = h.last.max(before);
                }
                Some('\\') => {}
                _ => *at += 1,
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Formatter findings: one per hunk, the hunk as the fix.
pub fn format_hunks(tool: &str, rule: &str, message: &str, project: &Path, hunks: Vec<Hunk>) -> Vec<Diagnostic> {
    hunks
        .into_iter()
        .map(|h| {
            let mut d = Diagnostic::new(
                tool,
                relative(project, &h.file),
                h.first,
                1,
                rule.to_owned(),
                Severity::Warning,
                message.to_owned(),
            );
            d.end_line = Some(h.last);
            d.fix = Some(h.text);
            d
        })
        .collect()
}

/// A rustfmt chunk being read: file, header line, text, first and last
/// changed old lines, the old line at hand.
type Chunk = (String, u32, String, Option<u32>, u32, u32);

/// `cargo fmt --check`: chunks headed `Diff in PATH:LINE:` (rustfmt 1.x) or
/// `Diff in PATH at line N:` (older), each followed by context, `-` and `+` lines.
pub fn rustfmt(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut cur: Option<Chunk> = None;
    let push = |cur: &mut Option<Chunk>, out: &mut Vec<Diagnostic>| {
        if let Some((file, line, text, first, last, _)) = cur.take() {
            let first = first.unwrap_or(line);
            let mut d = Diagnostic::new(
                "rustfmt",
                relative(project, &file),
                first,
                1,
                "rustfmt".to_owned(),
                Severity::Warning,
                "rustfmt would reformat these lines".to_owned(),
            );
            d.end_line = Some(last.max(first));
            d.fix = Some(text);
            out.push(d);
        }
    };
    for raw in stdout.lines() {
        let line = strip_ansi(raw);
        if let Some(rest) = line.strip_prefix("Diff in ") {
            push(&mut cur, &mut out);
            let rest = rest.trim_end().trim_end_matches(':');
            let parsed = if let Some((f, n)) = rest.rsplit_once(" at line ") {
                n.trim().parse::<u32>().ok().map(|n| (f.to_owned(), n))
            } else if let Some((f, n)) = rest.rsplit_once(':') {
                n.trim().parse::<u32>().ok().map(|n| (f.to_owned(), n))
            } else {
                None
            };
            if let Some((f, n)) = parsed {
                cur = Some((f, n, String::new(), None, n, n));
            }
            continue;
        }
        if let Some((_, _, text, first, last, at)) = cur.as_mut() {
            text.push_str(&line);
            text.push('\n');
            match line.chars().next() {
                Some('-') => {
                    first.get_or_insert(*at);
                    *last = *at;
                    *at += 1;
                }
                Some('+') => {
                    let before = at.saturating_sub(1).max(1);
                    if first.is_none() {
                        *first = Some(before);
                        *last = before;
                    }
                    *last = (*last).max(before);
                }
                _ => *at += 1,
            }
        }
    }
    push(&mut cur, &mut out);
    out
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences end with a letter; `ESC ( B` is a charset switch.
            match chars.next() {
                Some('[') => {
                    for n in chars.by_ref() {
                        if n.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
                Some('(') => {
                    chars.next();
                }
                _ => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// mypy text output with `--show-column-numbers --show-error-codes
/// --no-error-summary`: `file:line:col: severity: message  [code]`. A note
/// right after a finding on the same line is folded into it.
pub fn mypy_text(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for line in stdout.lines() {
        let Some((loc, rest)) = split_severity(line) else { continue };
        let (sev_word, msg) = rest;
        let mut parts = loc.split(':');
        let Some(file) = parts.next() else { continue };
        let Some(Ok(row)) = parts.next().map(str::parse::<u32>) else { continue };
        let col = parts.next().and_then(|c| c.parse::<u32>().ok()).unwrap_or(0);
        let (msg, code) = match msg.rsplit_once("  [") {
            Some((m, c)) if c.ends_with(']') => (m.to_owned(), Some(c.trim_end_matches(']').to_owned())),
            _ => (msg.to_owned(), None),
        };
        let file = relative(project, file);
        if sev_word == "note"
            && let Some(prev) = out.last_mut()
            && prev.file == file
            && prev.line == row
        {
            prev.message.push_str(&format!("\nnote: {msg}"));
            continue;
        }
        let sev = match sev_word {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            _ => Severity::Note,
        };
        let rule = code.clone().unwrap_or_else(|| "mypy".to_owned());
        let mut d = Diagnostic::new("mypy", file, row, col, rule, sev, msg);
        d.help_uri = code.map(|c| mypy_uri(&c));
        out.push(d);
    }
    out
}

/// Where a mypy error code is documented.
pub fn mypy_uri(code: &str) -> String {
    format!("https://mypy.readthedocs.io/en/stable/error_code_list.html#code-{code}")
}

fn split_severity(line: &str) -> Option<(&str, (&str, &str))> {
    for sev in ["error", "warning", "note"] {
        let pat = format!(": {sev}: ");
        if let Some(i) = line.find(&pat) {
            return Some((&line[..i], (sev, &line[i + pat.len()..])));
        }
    }
    None
}

/// mypy `-O json` (mypy 1.11 and later): one object per line with
/// `file, line, column (0-based), message, hint, code, severity`.
pub fn mypy_json(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| l.trim_start().starts_with('{')) {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        let file = v["file"].as_str().unwrap_or_default();
        let row = v["line"].as_u64().unwrap_or(0) as u32;
        // mypy counts columns from 0 internally and prints `1 + column` in text.
        let col = v["column"].as_i64().map(|c| (c + 1).max(0) as u32).unwrap_or(0);
        let sev = match v["severity"].as_str() {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            _ => Severity::Note,
        };
        let mut msg = v["message"].as_str().unwrap_or_default().to_owned();
        if let Some(h) = v["hint"].as_str() {
            msg.push_str(&format!("\nhint: {h}"));
        }
        let code = v["code"].as_str().map(str::to_owned);
        let mut d = Diagnostic::new(
            "mypy",
            relative(project, file),
            row,
            col,
            code.clone().unwrap_or_else(|| "mypy".into()),
            sev,
            msg,
        );
        d.help_uri = code.map(|c| mypy_uri(&c));
        out.push(d);
    }
    out
}

/// bandit `-f json`.
pub fn bandit(project: &Path, stdout: &str) -> Result<Vec<Diagnostic>, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("bandit's JSON did not parse: {e}"))?;
    let mut out = Vec::new();
    for r in v["results"].as_array().into_iter().flatten() {
        let sev = match r["issue_severity"].as_str() {
            Some("HIGH") => Severity::Error,
            Some("MEDIUM") => Severity::Warning,
            _ => Severity::Note,
        };
        let col = r["col_offset"].as_u64().map(|c| c as u32 + 1).unwrap_or(0);
        let mut d = Diagnostic::new(
            "bandit",
            relative(project, r["filename"].as_str().unwrap_or_default()),
            r["line_number"].as_u64().unwrap_or(0) as u32,
            col,
            r["test_id"].as_str().unwrap_or("bandit").to_owned(),
            sev,
            format!(
                "{} (confidence {})",
                r["issue_text"].as_str().unwrap_or_default(),
                r["issue_confidence"].as_str().unwrap_or("?").to_lowercase()
            ),
        );
        d.end_line = r["line_range"].as_array().and_then(|a| a.last()).and_then(Value::as_u64).map(|n| n as u32);
        d.end_column = r["end_col_offset"].as_u64().map(|c| c as u32 + 1);
        d.help_uri = r["more_info"].as_str().map(str::to_owned);
        out.push(d);
    }
    Ok(out)
}

/// `cargo clippy --message-format=json`: `compiler-message` records, the
/// primary span's place, `message.code.code`, the first suggested
/// replacement. The same message reported for two targets (bin and test)
/// is kept once.
pub fn clippy(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        if v["reason"] != "compiler-message" {
            continue;
        }
        let m = &v["message"];
        let spans = m["spans"].as_array().cloned().unwrap_or_default();
        let Some(span) = spans.iter().find(|s| s["is_primary"] == true) else { continue };
        let sev = match m["level"].as_str() {
            Some("error") | Some("error: internal compiler error") => Severity::Error,
            Some("warning") => Severity::Warning,
            _ => Severity::Note,
        };
        let code = m["code"]["code"].as_str().map(str::to_owned);
        let rule = code.clone().unwrap_or_else(|| "rustc".to_owned());
        let file = relative(project, span["file_name"].as_str().unwrap_or_default());
        let n = |k: &str| span[k].as_u64().unwrap_or(0) as u32;
        let msg = m["message"].as_str().unwrap_or_default().to_owned();
        if !seen.insert((rule.clone(), file.clone(), n("line_start"), n("column_start"), msg.clone())) {
            continue;
        }
        let mut d = Diagnostic::new("clippy", file, n("line_start"), n("column_start"), rule, sev, msg);
        d.end_line = Some(n("line_end"));
        d.end_column = Some(n("column_end"));
        d.help_uri = code.as_deref().and_then(rust_uri);
        d.fix = m["children"].as_array().into_iter().flatten().find_map(|c| {
            let s = c["spans"].as_array()?.iter().find(|s| s["suggested_replacement"].is_string())?;
            Some(format!(
                "{}: replace {}:{}-{}:{} with {:?}",
                c["message"].as_str().unwrap_or("suggestion"),
                s["line_start"],
                s["column_start"],
                s["line_end"],
                s["column_end"],
                s["suggested_replacement"].as_str().unwrap_or_default()
            ))
        });
        out.push(d);
    }
    out
}

/// The documentation of a rustc error code or a clippy lint.
pub fn rust_uri(code: &str) -> Option<String> {
    if let Some(name) = code.strip_prefix("clippy::") {
        return Some(format!("https://rust-lang.github.io/rust-clippy/master/index.html#{name}"));
    }
    if code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("https://doc.rust-lang.org/error_codes/{code}.html"));
    }
    None
}

/// shellcheck `-f json1`.
pub fn shellcheck(project: &Path, stdout: &str) -> Result<Vec<Diagnostic>, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("shellcheck's JSON did not parse: {e}"))?;
    let mut out = Vec::new();
    for c in v["comments"].as_array().into_iter().flatten() {
        let code = format!("SC{}", c["code"].as_u64().unwrap_or(0));
        let sev = match c["level"].as_str() {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            _ => Severity::Note,
        };
        let n = |k: &str| c[k].as_u64().unwrap_or(0) as u32;
        let mut d = Diagnostic::new(
            "shellcheck",
            relative(project, c["file"].as_str().unwrap_or_default()),
            n("line"),
            n("column"),
            code.clone(),
            sev,
            c["message"].as_str().unwrap_or_default().to_owned(),
        );
        d.end_line = Some(n("endLine"));
        d.end_column = Some(n("endColumn"));
        d.help_uri = Some(format!("https://www.shellcheck.net/wiki/{code}"));
        d.fix = c["fix"]["replacements"].as_array().filter(|r| !r.is_empty()).map(|reps| {
            reps.iter()
                .map(|r| {
                    format!(
                        "insert {:?} at {}:{}",
                        r["replacement"].as_str().unwrap_or_default(),
                        r["line"],
                        if r["insertionPoint"] == "afterEnd" { &r["endColumn"] } else { &r["column"] }
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
        out.push(d);
    }
    Ok(out)
}

/// hadolint `-f json`.
pub fn hadolint(project: &Path, stdout: &str) -> Result<Vec<Diagnostic>, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("hadolint's JSON did not parse: {e}"))?;
    let mut out = Vec::new();
    for c in v.as_array().into_iter().flatten() {
        let code = c["code"].as_str().unwrap_or("hadolint").to_owned();
        let sev = match c["level"].as_str() {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            _ => Severity::Note,
        };
        let mut d = Diagnostic::new(
            "hadolint",
            relative(project, c["file"].as_str().unwrap_or_default()),
            c["line"].as_u64().unwrap_or(0) as u32,
            c["column"].as_u64().unwrap_or(0) as u32,
            code.clone(),
            sev,
            c["message"].as_str().unwrap_or_default().to_owned(),
        );
        d.help_uri = hadolint_uri(&code);
        out.push(d);
    }
    Ok(out)
}

/// hadolint's own rules are on its wiki; the `SC` ones it borrows from shellcheck.
pub fn hadolint_uri(code: &str) -> Option<String> {
    if code.starts_with("DL") {
        Some(format!("https://github.com/hadolint/hadolint/wiki/{code}"))
    } else if code.starts_with("SC") {
        Some(format!("https://www.shellcheck.net/wiki/{code}"))
    } else {
        None
    }
}

/// yamllint `-f parsable`: `file:line:col: [level] message (rule)`.
pub fn yamllint(project: &Path, stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Some((loc, rest)) = line.split_once(": [") else { continue };
        let mut parts = loc.rsplitn(3, ':');
        let (Some(col), Some(row), Some(file)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (Ok(row), Ok(col)) = (row.parse::<u32>(), col.parse::<u32>()) else { continue };
        let Some((level, msg)) = rest.split_once("] ") else { continue };
        let (msg, rule) = match msg.rsplit_once(" (") {
            Some((m, r)) if r.ends_with(')') => (m.to_owned(), r.trim_end_matches(')').to_owned()),
            _ => (msg.to_owned(), "yamllint".to_owned()),
        };
        let sev = if level == "error" { Severity::Error } else { Severity::Warning };
        let mut d = Diagnostic::new("yamllint", relative(project, file), row, col, rule.clone(), sev, msg);
        d.help_uri = (rule != "yamllint" && rule != "syntax").then(|| yamllint_uri(&rule));
        out.push(d);
    }
    out
}

/// Where a yamllint rule is documented.
pub fn yamllint_uri(rule: &str) -> String {
    format!("https://yamllint.readthedocs.io/en/stable/rules.html#module-yamllint.rules.{}", rule.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/r/p")
    }

    #[test]
    fn flake8_lines() {
        let d = flake8(
            p(),
            "src/pkg/app.py:1:1:F401:'sys' imported but unused\nsrc/pkg/app.py:19:14:E231:missing whitespace after ':'\nnoise\n",
        );
        assert_eq!(d.len(), 2);
        assert_eq!((d[1].rule.as_str(), d[1].line, d[1].column), ("E231", 19, 14));
        assert_eq!(d[1].message, "missing whitespace after ':'");
    }

    #[test]
    fn diffs_of_black_and_isort() {
        let black = "--- /r/p/src/a.py\t2026-12-06 03:04:09.373421 +0000\n+++ /r/p/src/a.py\t2026-12-06 03:04:12 +0000\n@@ -14,6 +14,6 @@\n \n def run(cmd: str) -> None:\n     subprocess.call(cmd, shell=True)\n \n \n-CONFIG = {'a':1}\n+CONFIG = {\"a\": 1}\n";
        let d = format_hunks("black", "format", "m", p(), unified_diff(black));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].file.as_str(), d[0].line, d[0].end_line), ("src/a.py", 19, Some(19)));
        let isort = "--- /r/p/src/a.py:before\t2026-12-06 03:04:09.373421\n+++ /r/p/src/a.py:after\t2026\n@@ -1,6 +1,6 @@\n-import sys\n import os\n import subprocess\n+import sys\n \n";
        let d = format_hunks("isort", "isort", "m", p(), unified_diff(isort));
        assert_eq!((d[0].file.as_str(), d[0].line, d[0].end_line), ("src/a.py", 1, Some(3)));
    }

    #[test]
    fn rustfmt_headers() {
        let out = "Diff in /r/p/src/main.rs:6:\n     return x * 2;\n }\n \n\u{1b}[31m-fn   spaced( y : i32 ) -> i32 { y }\n\u{1b}(B\u{1b}[m\u{1b}[32m+fn spaced(y: i32) -> i32 {\n+    y\n+}\n \nDiff in src/lib.rs at line 3:\n-a\n+b\n";
        let d = rustfmt(p(), out);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].file.as_str(), d[0].line), ("src/main.rs", 9));
        assert_eq!((d[1].file.as_str(), d[1].line), ("src/lib.rs", 3));
        assert!(d[0].fix.as_ref().unwrap().contains("+fn spaced(y: i32)"));
    }

    #[test]
    fn mypy_both_forms() {
        let t = "src/a.py:12:19: error: Argument 2 to \"add\" has incompatible type \"str\"; expected \"int\"  [arg-type]\nsrc/a.py:12:19: note: See docs\n";
        let d = mypy_text(p(), t);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].rule.as_str(), d[0].line, d[0].column), ("arg-type", 12, 19));
        assert!(d[0].message.ends_with("note: See docs"));
        let j = r#"{"file": "src/a.py", "line": 12, "column": 18, "message": "Bad", "hint": null, "code": "arg-type", "severity": "error"}"#;
        let d = mypy_json(p(), j);
        assert_eq!((d[0].rule.as_str(), d[0].line, d[0].column), ("arg-type", 12, 19));
    }

    #[test]
    fn yamllint_lines() {
        let d = yamllint(
            p(),
            "config.yml:2:1: [error] duplication of key \"key\" in mapping (key-duplicates)\nx.yml:1:1: [warning] missing document start \"---\" (document-start)\n",
        );
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].rule.as_str(), d[0].line, d[0].severity), ("key-duplicates", 2, Severity::Error));
    }

    #[test]
    fn shellcheck_and_hadolint() {
        let s = r#"{"comments":[{"file":"deploy.sh","line":4,"endLine":4,"column":12,"endColumn":19,"level":"info","code":2086,"message":"Double quote to prevent globbing and word splitting.","fix":{"replacements":[{"column":12,"endColumn":12,"endLine":4,"insertionPoint":"afterEnd","line":4,"precedence":7,"replacement":"\""}]}}]}"#;
        let d = shellcheck(p(), s).unwrap();
        assert_eq!((d[0].rule.as_str(), d[0].line, d[0].severity), ("SC2086", 4, Severity::Note));
        let h =
            r#"[{"code":"DL3007","column":1,"file":"Dockerfile","level":"warning","line":1,"message":"Using latest"}]"#;
        let d = hadolint(p(), h).unwrap();
        assert_eq!((d[0].rule.as_str(), d[0].line), ("DL3007", 1));
        assert!(shellcheck(p(), "not json").is_err());
    }
}
