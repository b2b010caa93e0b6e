//! The small pytest plugin the server writes into each run's scratch
//! directory, puts on `PYTHONPATH` and loads with `-p` (before any
//! `conftest.py`). It does two things pytest does not:
//!
//! - a per-test time limit (`test_timeout_secs`): `signal.alarm` around each
//!   test's call phase makes a hanging test fail with a clear message while
//!   the run goes on, and `faulthandler` is the backstop that dumps the stacks
//!   and ends the process when the alarm cannot interrupt (a C call);
//! - a line per test phase as it happens (`outcomes.jsonl`): the node ids
//!   JUnit's xunit2 `classname` loses, xfail/xpass (JUnit shows an xpass as
//!   a pass), partial results when the run is cut short, and a closing
//!   record carrying a token the plugin removed from the environment before
//!   any test ran, which a test forging the reports must also guess.

use std::collections::BTreeMap;

use crate::model::Case;

/// The module name (`-p mcp_fleet_pytest`).
pub const MODULE: &str = "mcp_fleet_pytest";

/// The plugin's source.
pub const SOURCE: &str = r#""""Loaded by mcp-server-test into the pytest runs it starts (see plugin.rs)."""
import faulthandler
import json
import os
import signal

import pytest

_OUT = os.environ.pop("MCP_TEST_OUTCOMES", "")
_TOKEN = os.environ.pop("MCP_TEST_TOKEN", "")
_TIMEOUT = float(os.environ.pop("MCP_TEST_TIMEOUT", "0") or 0)
_FH = open(_OUT, "a", buffering=1, encoding="utf-8") if _OUT else None
_SEEN = set()


def _write(rec):
    if _FH is not None:
        _FH.write(json.dumps(rec) + "\n")
        _FH.flush()


def _expired(signum, frame):
    pytest.fail("test exceeded the per-test time limit of %g s (test_timeout_secs)" % _TIMEOUT, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if _TIMEOUT > 0:
        signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, _TIMEOUT)
        faulthandler.dump_traceback_later(_TIMEOUT + 10, exit=True)
    try:
        yield
    finally:
        if _TIMEOUT > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            faulthandler.cancel_dump_traceback_later()


def pytest_runtest_logreport(report):
    _SEEN.add(report.nodeid)
    loc = report.location or (None, None, None)
    _write({
        "nodeid": report.nodeid,
        "when": report.when,
        "outcome": report.outcome,
        "xfail": hasattr(report, "wasxfail"),
        "file": loc[0],
        "line": (loc[1] + 1) if isinstance(loc[1], int) else None,
        "duration": getattr(report, "duration", 0.0),
    })


def pytest_collectreport(report):
    if report.failed:
        _write({"nodeid": report.nodeid, "when": "collect", "outcome": "failed", "xfail": False,
                "file": report.nodeid.split("::")[0] or None, "line": None, "duration": 0.0})


def pytest_sessionfinish(session, exitstatus):
    _write({"finish": _TOKEN, "exitstatus": int(exitstatus), "count": len(_SEEN)})
"#;

/// What the plugin recorded for one test.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Node id.
    pub nodeid: String,
    /// Final status, folded over its phases.
    pub status: String,
    /// File and line of the test (pytest's location).
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u64>,
    /// Seconds, all phases.
    pub duration: f64,
}

/// The plugin's file, read back.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Per test, in first-seen order.
    pub tests: Vec<Outcome>,
    /// The closing record: `(exit status, count)` when it carried the run's token.
    pub finish: Option<(i64, u64)>,
    /// A closing record with a wrong token was seen.
    pub forged: bool,
}

impl Outcomes {
    /// Parse `text` (JSON lines); `token` is the run's.
    pub fn parse(text: &str, token: &str) -> Self {
        let mut out = Self::default();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if let Some(t) = v.get("finish") {
                if t.as_str() == Some(token) && !token.is_empty() {
                    out.finish = Some((v["exitstatus"].as_i64().unwrap_or(-1), v["count"].as_u64().unwrap_or(0)));
                } else {
                    out.forged = true;
                }
                continue;
            }
            let Some(id) = v["nodeid"].as_str() else { continue };
            let i = *index.entry(id.to_owned()).or_insert_with(|| {
                out.tests.push(Outcome { nodeid: id.to_owned(), status: "passed".to_owned(), ..Outcome::default() });
                out.tests.len() - 1
            });
            let o = &mut out.tests[i];
            if o.file.is_none() {
                o.file = v["file"].as_str().map(str::to_owned);
                o.line = v["line"].as_u64();
            }
            o.duration += v["duration"].as_f64().unwrap_or(0.0);
            let when = v["when"].as_str().unwrap_or("");
            let outcome = v["outcome"].as_str().unwrap_or("");
            let xfail = v["xfail"].as_bool().unwrap_or(false);
            // The worst phase decides: an error in setup or teardown is an
            // `error`, a failing call a `failure`, as pytest itself counts.
            let status = match (when, outcome, xfail) {
                (_, "skipped", true) => "xfailed",
                ("call", "passed", true) => "xpassed",
                (_, "skipped", false) => "skipped",
                ("call", "failed", _) => "failed",
                (_, "failed", _) => "error",
                _ => "passed",
            };
            if rank(status) > rank(&o.status) {
                o.status = status.to_owned();
            }
        }
        out
    }

    /// The recorded tests as cases (when JUnit is missing: a run cut short).
    pub fn cases(&self) -> Vec<Case> {
        self.tests
            .iter()
            .map(|o| {
                let (suite, name) = split_nodeid(&o.nodeid);
                let mut c = Case::new(&o.nodeid, name, &o.status);
                c.suite = suite;
                c.duration_ms = (o.duration * 1000.0) as u64;
                c.file = o.file.clone();
                c.line = o.line;
                c
            })
            .collect()
    }
}

fn rank(s: &str) -> u8 {
    match s {
        "error" => 5,
        "failed" => 4,
        "xpassed" => 3,
        "xfailed" => 2,
        "skipped" => 1,
        _ => 0,
    }
}

/// `tests/test_a.py::TestX::test_y[1]` → (`tests/test_a.py::TestX`, `test_y[1]`).
pub fn split_nodeid(id: &str) -> (Option<String>, String) {
    let (path, params) = match id.find('[') {
        Some(i) => (&id[..i], &id[i..]),
        None => (id, ""),
    };
    match path.rsplit_once("::") {
        Some((suite, name)) => (Some(suite.to_owned()), format!("{name}{params}")),
        None => (None, id.to_owned()),
    }
}

/// The `(classname, name)` pytest's JUnit writer gives a node id
/// (`_pytest.junitxml.mangle_test_address`): path separators become dots,
/// `.py` goes, parameters stay on the name.
pub fn junit_names(nodeid: &str) -> (String, String) {
    let (path, params) = match nodeid.find('[') {
        Some(i) => (&nodeid[..i], &nodeid[i..]),
        None => (nodeid, ""),
    };
    let mut names: Vec<String> = path.split("::").map(str::to_owned).collect();
    if let Some(first) = names.first_mut() {
        let dotted = first.replace('/', ".");
        *first = dotted.strip_suffix(".py").map(str::to_owned).unwrap_or(dotted);
    }
    let last = names.pop().unwrap_or_default();
    (names.join("."), format!("{last}{params}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_phases_and_token() {
        let text = [
            r#"{"nodeid":"t.py::a","when":"setup","outcome":"passed","xfail":false,"file":"t.py","line":3,"duration":0.1}"#,
            r#"{"nodeid":"t.py::a","when":"call","outcome":"failed","xfail":false,"file":"t.py","line":3,"duration":0.2}"#,
            r#"{"nodeid":"t.py::b","when":"setup","outcome":"failed","xfail":false,"file":"t.py","line":9,"duration":0}"#,
            r#"{"nodeid":"t.py::c","when":"call","outcome":"skipped","xfail":true,"file":"t.py","line":12,"duration":0}"#,
            r#"{"nodeid":"t.py::d","when":"call","outcome":"passed","xfail":true,"file":"t.py","line":15,"duration":0}"#,
            r#"{"finish":"nope","exitstatus":0,"count":4}"#,
            r#"{"finish":"tok","exitstatus":1,"count":4}"#,
        ]
        .join("\n");
        let o = Outcomes::parse(&text, "tok");
        let st: Vec<&str> = o.tests.iter().map(|t| t.status.as_str()).collect();
        assert_eq!(st, ["failed", "error", "xfailed", "xpassed"]);
        assert_eq!(o.finish, Some((1, 4)));
        assert!(o.forged);
        assert_eq!(
            junit_names("tests/test_a.py::TestX::test_y[a::b]"),
            ("tests.test_a.TestX".into(), "test_y[a::b]".into())
        );
        assert_eq!(split_nodeid("tests/t.py::T::x[1]"), (Some("tests/t.py::T".into()), "x[1]".into()));
    }
}
