//! Which test runner a project uses, and why: the fleet's `template.json`
//! first (its `commands.test` argv, whose own arguments are kept), then the
//! runners' configuration files, then the shape of the test files.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

/// The runners this server knows.
pub const RUNNERS: &[&str] = &["pytest", "unittest", "cargo", "nextest"];

/// What detection found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Detection {
    /// `pytest`, `unittest`, `cargo`, `nextest`, or `none`.
    pub runner: String,
    /// The base command the server runs (the project's own arguments kept); selections and report
    /// options are added to it.
    pub argv: Vec<String>,
    /// What decided it: `template.json`, `pyproject.toml`, `pytest.ini`, `setup.cfg`, `tox.ini`,
    /// `conftest.py`, `test files`, `Cargo.toml`, `.config/nextest.toml`, or `argument` (the caller's
    /// `runner`).
    pub source: String,
    /// Everything found, one line each.
    pub reasons: Vec<String>,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// The project's interpreter: its virtualenv's when there is one.
pub fn python(project: &Path) -> String {
    if project.join(".venv/bin/python").exists() { ".venv/bin/python".to_owned() } else { "python3".to_owned() }
}

/// The default base command of a runner.
pub fn default_argv(runner: &str, project: &Path) -> Vec<String> {
    let py = python(project);
    match runner {
        // The fleet's templates disable the cache too: it would write
        // `.pytest_cache` into the project, and failed ids are kept here.
        "pytest" => vec![py, "-m".into(), "pytest".into(), "-p".into(), "no:cacheprovider".into()],
        "unittest" => vec![py, "-m".into(), "unittest".into()],
        "nextest" => s(&["cargo", "nextest", "run"]),
        _ => s(&["cargo", "test", "--offline"]),
    }
}

/// The runner an argv is (`python -m pytest`, `cargo nextest run`...).
pub fn runner_of(argv: &[String]) -> Option<&'static str> {
    let has = |w: &str| argv.iter().any(|a| a == w);
    let first = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or("");
    if first == "cargo" || first == "cargo-nextest" {
        return Some(if has("nextest") || first == "cargo-nextest" { "nextest" } else { "cargo" });
    }
    if first == "pytest" || has("pytest") {
        return Some("pytest");
    }
    if has("unittest") {
        return Some("unittest");
    }
    None
}

fn read(p: &Path) -> Option<String> {
    let meta = std::fs::metadata(p).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// The `commands.test` argv of a `template.json` in the project.
fn template(project: &Path) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(&read(&project.join("template.json"))?).ok()?;
    let test = &v["commands"]["test"];
    // `[[argv]]` (the fleet's shape: a list of commands) or one `[argv]`.
    let first = if test.get(0).is_some_and(|x| x.is_array()) { &test[0] } else { test };
    let argv: Vec<String> = first.as_array()?.iter().map(|a| a.as_str().map(str::to_owned)).collect::<Option<_>>()?;
    (!argv.is_empty()).then_some(argv)
}

fn test_files(project: &Path) -> (usize, usize) {
    // (python test files, of which unittest-only)
    let mut files = Vec::new();
    for dir in [project.to_path_buf(), project.join("tests"), project.join("test")] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if (n.starts_with("test_") || n.ends_with("_test.py")) && n.ends_with(".py") {
                    files.push(e.path());
                }
            }
        }
    }
    let unittest = files
        .iter()
        .filter(|f| {
            read(f)
                .is_some_and(|t| t.contains("unittest") && !t.contains("import pytest") && !t.contains("from pytest"))
        })
        .count();
    (files.len(), unittest)
}

/// Detect the runner of `project`; `wanted` is the caller's choice (`auto` or a runner).
pub fn detect(project: &Path, wanted: Option<&str>) -> Detection {
    let mut reasons = Vec::new();
    let tpl = template(project);
    if let Some(argv) = &tpl {
        reasons.push(format!("template.json commands.test: {}", argv.join(" ")));
    }
    let pyproject = read(&project.join("pyproject.toml"));
    let pytest_in_pyproject = pyproject
        .as_deref()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.get("tool").and_then(|x| x.get("pytest")).and_then(|x| x.get("ini_options")).is_some());
    if pytest_in_pyproject {
        reasons.push("pyproject.toml has [tool.pytest.ini_options]".into());
    }
    let pytest_ini = project.join("pytest.ini").is_file();
    if pytest_ini {
        reasons.push("pytest.ini exists".into());
    }
    let setup_cfg = read(&project.join("setup.cfg")).is_some_and(|t| t.contains("[tool:pytest]"));
    if setup_cfg {
        reasons.push("setup.cfg has [tool:pytest]".into());
    }
    let tox = read(&project.join("tox.ini")).is_some_and(|t| t.contains("[pytest]"));
    if tox {
        reasons.push("tox.ini has [pytest]".into());
    }
    let conftest = project.join("conftest.py").is_file() || project.join("tests/conftest.py").is_file();
    if conftest {
        reasons.push("conftest.py exists".into());
    }
    let (py_files, unittest_files) = test_files(project);
    if py_files > 0 {
        reasons.push(format!("{py_files} Python test files ({unittest_files} use unittest without pytest)"));
    }
    let cargo = project.join("Cargo.toml").is_file();
    if cargo {
        reasons.push("Cargo.toml exists".into());
    }
    let nextest_cfg = project.join(".config/nextest.toml").is_file();
    if nextest_cfg {
        reasons.push(".config/nextest.toml exists".into());
    }
    let done = |runner: &str, argv: Vec<String>, source: &str, reasons: Vec<String>| Detection {
        runner: runner.to_owned(),
        argv,
        source: source.to_owned(),
        reasons,
    };
    if let Some(w) = wanted.filter(|w| *w != "auto") {
        // The template's argv is kept when it is the same runner.
        let argv = tpl.filter(|a| runner_of(a) == Some(w)).unwrap_or_else(|| default_argv(w, project));
        return done(w, argv, "argument", reasons);
    }
    if let Some(argv) = tpl
        && let Some(r) = runner_of(&argv)
    {
        return done(r, argv, "template.json", reasons);
    }
    let pytest_source = if pytest_in_pyproject {
        Some("pyproject.toml")
    } else if pytest_ini {
        Some("pytest.ini")
    } else if setup_cfg {
        Some("setup.cfg")
    } else if tox {
        Some("tox.ini")
    } else if conftest {
        Some("conftest.py")
    } else {
        None
    };
    if let Some(src) = pytest_source {
        return done("pytest", default_argv("pytest", project), src, reasons);
    }
    if py_files > 0 {
        let r = if unittest_files == py_files { "unittest" } else { "pytest" };
        return done(r, default_argv(r, project), "test files", reasons);
    }
    if cargo {
        if nextest_cfg {
            return done("nextest", default_argv("nextest", project), ".config/nextest.toml", reasons);
        }
        return done("cargo", default_argv("cargo", project), "Cargo.toml", reasons);
    }
    reasons.push("no test configuration or test files found".into());
    done("none", Vec::new(), "nothing", reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(files: &[(&str, &str)], wanted: Option<&str>, runner: &str, source: &str, argv0: &[&str]) {
        let d = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
        let det = detect(d.path(), wanted);
        assert_eq!((det.runner.as_str(), det.source.as_str()), (runner, source), "{det:?}");
        assert_eq!(&det.argv[..argv0.len()], argv0, "{det:?}");
    }

    #[test]
    fn order() {
        let tpl = r#"{"commands":{"test":[[".venv/bin/python","-m","pytest","-q","-p","no:cacheprovider"]]}}"#;
        check(
            &[("template.json", tpl), ("Cargo.toml", "")],
            None,
            "pytest",
            "template.json",
            &[".venv/bin/python", "-m", "pytest", "-q"],
        );
        check(
            &[("template.json", r#"{"commands":{"test":[["cargo","test","--offline"]]}}"#)],
            None,
            "cargo",
            "template.json",
            &["cargo", "test", "--offline"],
        );
        check(
            &[("pyproject.toml", "[tool.pytest.ini_options]\naddopts='-q'\n")],
            None,
            "pytest",
            "pyproject.toml",
            &["python3", "-m", "pytest"],
        );
        check(&[("setup.cfg", "[tool:pytest]\n")], None, "pytest", "setup.cfg", &["python3"]);
        check(&[("tox.ini", "[pytest]\n")], None, "pytest", "tox.ini", &["python3"]);
        check(&[("pytest.ini", "[pytest]\n")], None, "pytest", "pytest.ini", &["python3"]);
        check(&[("tests/conftest.py", "")], None, "pytest", "conftest.py", &["python3"]);
        check(
            &[("tests/test_a.py", "import unittest\nclass T(unittest.TestCase): pass\n")],
            None,
            "unittest",
            "test files",
            &["python3", "-m", "unittest"],
        );
        check(
            &[("tests/test_a.py", "def test_x(): pass\n")],
            None,
            "pytest",
            "test files",
            &["python3", "-m", "pytest"],
        );
        check(
            &[("Cargo.toml", ""), (".config/nextest.toml", "")],
            None,
            "nextest",
            ".config/nextest.toml",
            &["cargo", "nextest", "run"],
        );
        check(&[("Cargo.toml", "")], None, "cargo", "Cargo.toml", &["cargo", "test"]);
        check(&[("Cargo.toml", "")], Some("nextest"), "nextest", "argument", &["cargo", "nextest"]);
        check(&[("README", "")], None, "none", "nothing", &[]);
    }
}
