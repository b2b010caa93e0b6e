//! The result types every runner's parser produces and every tool returns:
//! one shape for pytest, unittest, cargo test and nextest, with the field
//! names the planner reads (`mcp_types::peer::TestReport`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Statuses a test can end with.
pub const STATUSES: &[&str] = &["passed", "failed", "error", "skipped", "xfailed", "xpassed"];

/// One test of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Case {
    /// Test id: a pytest node id (`tests/test_app.py::test_x`), a unittest dotted name, or a Rust test
    /// path (`tests::it_works`; integration tests prefixed with their target, `cli::prints_help`).
    pub id: String,
    /// The test's own name.
    pub name: String,
    /// Its suite: module or class, or the Rust test binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// `passed`, `failed`, `error`, `skipped`, `xfailed` or `xpassed`.
    pub status: String,
    /// Duration in milliseconds (0 when the runner does not say).
    pub duration_ms: u64,
    /// Failure, error or skip message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// File of the failure (relative to the project when the runner says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Line of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Captured output (an excerpt): traceback, panic message, prints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Failed first, then passed on a retry (`reruns`).
    #[serde(default)]
    pub flaky: bool,
}

impl Case {
    /// A case with a status and nothing else known yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>, status: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            suite: None,
            status: status.to_owned(),
            duration_ms: 0,
            message: None,
            file: None,
            line: None,
            output: None,
            flaky: false,
        }
    }

    /// Failed or errored: what `only_failed` reruns.
    pub fn is_failure(&self) -> bool {
        self.status == "failed" || self.status == "error"
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Tests reported.
    pub tests: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors (a fixture or collection failing).
    pub errors: u64,
    /// Skipped or ignored.
    pub skipped: u64,
    /// Expected failures that failed.
    pub xfailed: u64,
    /// Expected failures that passed.
    pub xpassed: u64,
    /// Failures that passed on a retry.
    pub flaky: u64,
}

impl Totals {
    /// Count `cases`.
    pub fn of(cases: &[Case]) -> Self {
        let mut t = Self { tests: cases.len() as u64, ..Self::default() };
        for c in cases {
            match c.status.as_str() {
                "passed" => t.passed += 1,
                "failed" => t.failed += 1,
                "error" => t.errors += 1,
                "skipped" => t.skipped += 1,
                "xfailed" => t.xfailed += 1,
                "xpassed" => t.xpassed += 1,
                _ => {}
            }
            if c.flaky {
                t.flaky += 1;
            }
        }
        t
    }

    /// `5 passed, 1 failed, 2 skipped` (only the non-zero counts).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.passed, "passed"),
            (self.failed, "failed"),
            (self.errors, "errors"),
            (self.skipped, "skipped"),
            (self.xfailed, "xfailed"),
            (self.xpassed, "xpassed"),
            (self.flaky, "flaky"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        if parts.is_empty() { "no tests".to_owned() } else { parts.join(", ") }
    }
}

/// Order for results: failures and errors first, then the others, each in run order.
pub fn failures_first(cases: &mut [Case]) {
    cases.sort_by_key(|c| match c.status.as_str() {
        "failed" | "error" => 0,
        "xpassed" => 1,
        _ => 2,
    });
}

/// At most `max` bytes of `s`, cut at a character boundary, with a marker when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[... {} more bytes]", &s[..end], s.len() - end)
}

/// The last `max` bytes of `s`, cut at a character boundary, with a marker when cut.
pub fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {} bytes before]\n{}", start, &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_order() {
        let mut cases =
            vec![Case::new("a", "a", "passed"), Case::new("b", "b", "failed"), Case::new("c", "c", "skipped")];
        cases[1].flaky = true;
        let t = Totals::of(&cases);
        assert_eq!((t.tests, t.passed, t.failed, t.skipped, t.flaky), (3, 1, 1, 1, 1));
        assert_eq!(t.describe(), "1 passed, 1 failed, 1 skipped, 1 flaky");
        failures_first(&mut cases);
        assert_eq!(cases[0].id, "b");
        assert_eq!(excerpt("héllo", 2), "h\n[... 5 more bytes]");
        assert!(tail("abcdef", 2).ends_with("ef"));
    }
}
