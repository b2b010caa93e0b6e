//! JUnit reports (pytest's `--junitxml` in the xunit2 family, nextest's
//! profile report), read with `quick-junit` into [`Case`]s.

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

use crate::model::{Case, excerpt};

/// Bytes of captured output kept per case.
const CASE_OUTPUT: usize = 4096;

/// How test ids are formed from a report's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `classname` is the dotted module (and class) path; the server maps it
    /// back to a node id.
    Pytest,
    /// `classname` is the nextest binary id (`crate`, `crate::cli`).
    Nextest,
}

/// Parse a report. Cases come back in report order; pytest ids are
/// provisional (`classname::name`) until [`crate::exec`] maps them to node ids.
pub fn parse(xml: &str, flavor: Flavor) -> Result<Vec<Case>, String> {
    let xml = strip_timestamps(xml);
    let report = Report::deserialize_from_str(&xml).map_err(|e| format!("the JUnit report does not parse: {e}"))?;
    let mut out = Vec::new();
    for suite in &report.test_suites {
        for tc in &suite.test_cases {
            let name = tc.name.as_str().to_owned();
            let classname =
                tc.classname.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_else(|| suite.name.as_str().to_owned());
            let id = match flavor {
                Flavor::Pytest => format!("{classname}::{name}"),
                Flavor::Nextest => nextest_id(&classname, &name),
            };
            let (status, message, text) = match &tc.status {
                TestCaseStatus::Success { .. } => ("passed", None, None),
                TestCaseStatus::NonSuccess { kind, message, description, .. } => (
                    if *kind == NonSuccessKind::Error { "error" } else { "failed" },
                    message.as_ref().map(|m| m.as_str().to_owned()),
                    description.as_ref().map(|d| d.as_str().to_owned()),
                ),
                TestCaseStatus::Skipped { message, ty, description } => (
                    if ty.as_ref().is_some_and(|t| t.as_str() == "pytest.xfail") { "xfailed" } else { "skipped" },
                    message.as_ref().map(|m| m.as_str().to_owned()),
                    description.as_ref().map(|d| d.as_str().to_owned()),
                ),
            };
            let mut c = Case::new(id, name, status);
            c.suite = Some(classname);
            c.duration_ms = tc.time.map(|t| t.as_millis() as u64).unwrap_or(0);
            c.message = message.map(|m| excerpt(&m, 1024));
            let at = match flavor {
                Flavor::Pytest => text.as_deref().and_then(location),
                Flavor::Nextest => text.as_deref().and_then(panic_location),
            };
            if let Some((file, line)) = at {
                c.file = Some(file);
                c.line = Some(line);
            }
            let mut output = text.unwrap_or_default();
            for s in [&tc.system_out, &tc.system_err].into_iter().flatten() {
                if !s.as_str().trim().is_empty() {
                    if !output.is_empty() {
                        output.push_str("\n--- captured ---\n");
                    }
                    output.push_str(s.as_str());
                }
            }
            if !output.trim().is_empty() {
                c.output = Some(excerpt(&output, CASE_OUTPUT));
            }
            // nextest puts the panic message in the output, not the message.
            if c.message.is_none() && c.is_failure() {
                c.message = c.output.as_deref().and_then(panic_message);
            }
            if c.file.is_none()
                && let Some(o) = &c.output
                && let Some((f, l)) = panic_location(o)
            {
                c.file = Some(f);
                c.line = Some(l);
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// pytest writes `timestamp` without a time zone, which quick-junit refuses
/// (it wants RFC 3339); the server does not use the times, so they go.
fn strip_timestamps(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(i) = rest.find(" timestamp=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " timestamp=\"".len()..];
        match after.find('"') {
            Some(j) => rest = &after[j + 1..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// nextest's binary id and test name as the server's Rust test id: the
/// library's own tests keep their path, other targets get the target's name
/// in front (`crate::cli` + `prints_help` → `cli::prints_help`).
pub fn nextest_id(binary_id: &str, name: &str) -> String {
    match binary_id.split_once("::") {
        Some((_, target)) => {
            let target = target.rsplit('/').next().unwrap_or(target);
            format!("{target}::{name}")
        }
        None => name.to_owned(),
    }
}

/// The last `path:line: Something` line of a pytest traceback (where it failed).
pub fn location(text: &str) -> Option<(String, u64)> {
    text.lines().rev().find_map(|l| {
        let (path, rest) = l.split_once(':')?;
        let (line, _) = rest.split_once(':')?;
        let n = line.trim().parse::<u64>().ok()?;
        (!path.is_empty() && !path.contains(' ')).then(|| (path.to_owned(), n))
    })
}

/// `thread 'x' panicked at src/lib.rs:10:9:` → (`src/lib.rs`, 10).
pub fn panic_location(text: &str) -> Option<(String, u64)> {
    text.lines().find_map(|l| {
        let rest = l.split_once("panicked at ")?.1;
        let mut parts = rest.trim_end_matches(':').rsplitn(3, ':');
        let _col = parts.next()?;
        let line = parts.next()?.parse::<u64>().ok()?;
        let file = parts.next()?;
        Some((file.to_owned(), line))
    })
}

/// The first line after `panicked at ...:` (the panic message).
pub fn panic_message(text: &str) -> Option<String> {
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.contains("panicked at ") {
            let msg: Vec<&str> =
                lines.by_ref().take_while(|l| !l.starts_with("note:") && !l.trim().is_empty()).take(8).collect();
            return (!msg.is_empty()).then(|| msg.join("\n"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytest_report() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="5" time="0.046"><testcase classname="tests.test_basic" name="test_pass" time="0.000" /><testcase classname="tests.test_basic" name="test_fail" time="0.012"><failure message="AssertionError: one plus one">def test_fail():
E       AssertionError: one plus one

tests/test_basic.py:14: AssertionError</failure><system-out>about to fail</system-out></testcase><testcase classname="tests.test_basic" name="test_error" time="0.000"><error message="failed on setup">tests/test_basic.py:19: RuntimeError</error></testcase><testcase classname="tests.test_basic" name="test_skip" time="0.000"><skipped type="pytest.skip" message="not today">x</skipped></testcase><testcase classname="tests.test_basic" name="test_xfail" time="0.000"><skipped type="pytest.xfail" message="known bug" /></testcase></testsuite></testsuites>"#;
        let cases = parse(xml, Flavor::Pytest).unwrap();
        let st: Vec<&str> = cases.iter().map(|c| c.status.as_str()).collect();
        assert_eq!(st, ["passed", "failed", "error", "skipped", "xfailed"]);
        let f = &cases[1];
        assert_eq!(f.id, "tests.test_basic::test_fail");
        assert_eq!((f.file.as_deref(), f.line, f.duration_ms), (Some("tests/test_basic.py"), Some(14), 12));
        assert!(f.output.as_deref().unwrap().contains("about to fail"));
        assert!(parse("<nope", Flavor::Pytest).is_err());
        let stamped = xml.replace("<testsuite name=", "<testsuite timestamp=\"2026-12-06T03:16:21.916820\" name=");
        assert_eq!(parse(&stamped, Flavor::Pytest).unwrap().len(), 5);
    }

    #[test]
    fn rust_names() {
        assert_eq!(nextest_id("rbasic", "tests::it_works"), "tests::it_works");
        assert_eq!(nextest_id("rbasic::cli", "prints_help"), "cli::prints_help");
        let out = "thread 'tests::fails' panicked at src/lib.rs:10:9:\nassertion `left == right` failed\n  left: 1\nnote: run with";
        assert_eq!(panic_location(out), Some(("src/lib.rs".into(), 10)));
        assert_eq!(panic_message(out).unwrap(), "assertion `left == right` failed\n  left: 1");
    }
}
