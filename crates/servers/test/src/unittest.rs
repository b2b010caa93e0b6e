//! `python -m unittest -v` prints text only: one `name (dotted.id) ... ok`
//! line per test on stderr (a docstring's first line may come between the
//! name and the outcome), then `ERROR:`/`FAIL:` sections with tracebacks,
//! `Ran N tests` and `OK`/`FAILED (...)`.

use crate::model::{Case, excerpt};

/// Cases and what did not add up.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Cases in output order.
    pub cases: Vec<Case>,
    /// The `Ran N tests` count, when printed.
    pub ran: Option<usize>,
}

/// Parse unittest's verbose stderr. `root` is the project, stripped from traceback paths.
pub fn parse(stderr: &str, root: &str) -> Parsed {
    let mut p = Parsed::default();
    let mut pending: Option<(String, String)> = None;
    let lines: Vec<&str> = stderr.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if let Some(rest) = line.strip_prefix("Ran ") {
            p.ran = rest.split(' ').next().and_then(|n| n.parse().ok());
            continue;
        }
        if let Some((kind, rest)) = line.split_once(": ")
            && (kind == "FAIL" || kind == "ERROR")
            && let Some((_, id)) = head(rest)
        {
            // The section runs to the next `=====` rule or the closing one.
            let mut text = String::new();
            while i < lines.len() && !lines[i].starts_with("======") && !lines[i].starts_with("Ran ") {
                if !lines[i].starts_with("------") {
                    text.push_str(lines[i]);
                    text.push('\n');
                }
                i += 1;
            }
            if let Some(c) = p.cases.iter_mut().find(|c| c.id == id) {
                c.message = text.trim_end().lines().last().map(str::to_owned);
                if let Some((f, l)) = last_frame(&text, root) {
                    c.file = Some(f);
                    c.line = Some(l);
                }
                c.output = Some(excerpt(text.trim(), 4096));
            }
            continue;
        }
        let (head_part, outcome) = match line.rsplit_once(" ... ") {
            Some((h, o)) => (h, Some(o)),
            None => (line, None),
        };
        if let Some((name, id)) = head(head_part) {
            pending = Some((name, id));
        }
        let (Some(outcome), Some((name, id))) = (outcome, pending.clone()) else { continue };
        let status = match outcome.trim() {
            "ok" => "passed",
            "FAIL" => "failed",
            "ERROR" => "error",
            "expected failure" => "xfailed",
            "unexpected success" => "xpassed",
            o if o.starts_with("skipped") => "skipped",
            _ => continue,
        };
        pending = None;
        let mut c = Case::new(&id, name, status);
        c.suite = id.rsplit_once('.').map(|(s, _)| s.to_owned());
        if let Some(reason) = outcome.trim().strip_prefix("skipped ") {
            c.message = Some(reason.trim_matches('\'').to_owned());
        }
        p.cases.push(c);
    }
    p
}

/// `test_x (pkg.mod.Class.test_x)` → (`test_x`, `pkg.mod.Class.test_x`).
fn head(s: &str) -> Option<(String, String)> {
    let (name, rest) = s.split_once(" (")?;
    let id = rest.strip_suffix(')')?;
    let ok = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    (ok(name) && ok(id) && id.ends_with(name)).then(|| (name.to_owned(), id.to_owned()))
}

/// The last `File "...", line N` of a traceback, relative to the project.
fn last_frame(text: &str, root: &str) -> Option<(String, u64)> {
    text.lines().rev().find_map(|l| {
        let rest = l.trim().strip_prefix("File \"")?;
        let (file, rest) = rest.split_once("\", line ")?;
        let n = rest.split(',').next()?.trim().parse().ok()?;
        let file = file.strip_prefix(root).map(|f| f.trim_start_matches('/')).unwrap_or(file);
        Some((file.to_owned(), n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_output() {
        let text = "test_error (tests.test_units.Units.test_error) ... ERROR\ntest_fail (tests.test_units.Units.test_fail)\nAdds wrong. ... FAIL\ntest_pass (tests.test_units.Units.test_pass) ... ok\ntest_skip (tests.test_units.Units.test_skip) ... skipped 'not today'\ntest_xfail (tests.test_units.Units.test_xfail) ... expected failure\n\n======================================================================\nERROR: test_error (tests.test_units.Units.test_error)\n----------------------------------------------------------------------\nTraceback (most recent call last):\n  File \"/p/tests/test_units.py\", line 17, in test_error\n    raise RuntimeError(\"boom\")\nRuntimeError: boom\n\n======================================================================\nFAIL: test_fail (tests.test_units.Units.test_fail)\nAdds wrong.\n----------------------------------------------------------------------\nTraceback (most recent call last):\n  File \"/p/tests/test_units.py\", line 10, in test_fail\n    self.assertEqual(1 + 1, 3, \"one plus one\")\nAssertionError: 2 != 3 : one plus one\n\n----------------------------------------------------------------------\nRan 5 tests in 0.001s\n\nFAILED (failures=1, errors=1, skipped=1, expected failures=1)\n";
        let p = parse(text, "/p");
        let st: Vec<&str> = p.cases.iter().map(|c| c.status.as_str()).collect();
        assert_eq!(st, ["error", "failed", "passed", "skipped", "xfailed"]);
        assert_eq!(p.ran, Some(5));
        let f = &p.cases[1];
        assert_eq!(f.id, "tests.test_units.Units.test_fail");
        assert_eq!((f.file.as_deref(), f.line), (Some("tests/test_units.py"), Some(10)));
        assert_eq!(f.message.as_deref(), Some("AssertionError: 2 != 3 : one plus one"));
        assert_eq!(p.cases[3].message.as_deref(), Some("not today"));
    }
}
