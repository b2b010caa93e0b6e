//! `test_detect`: which runner a project uses, why, and whether it is installed.

use mcp_core::prelude::*;

use crate::Tests;
use crate::detect::{Detection, detect};
use crate::exec::{interpreter, probe_module};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Project directory, relative to the server's first root.
    pub path: String,
    /// Force a runner: `auto` (default), `pytest`, `unittest`, `cargo` or `nextest`.
    pub runner: Option<String>,
}

/// A tool the runner needs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ToolStatus {
    /// `python3`, `.venv/bin/python`, `pytest`, `coverage`, `cargo`, `cargo-nextest`.
    pub name: String,
    /// Installed and usable.
    pub available: bool,
    /// Version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// What was found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Project (relative to the first root).
    pub project: String,
    /// The detection.
    #[serde(flatten)]
    pub detection: Detection,
    /// The runner can run here.
    pub available: bool,
    /// The tools it needs, and which are missing.
    pub tools: Vec<ToolStatus>,
    /// The commit `HEAD` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_detect",
        "Detect a project's test runner (pytest, unittest, cargo test, cargo-nextest): the fleet's template.json \
         first, then pytest/tox/setup.cfg/pyproject settings, test files, Cargo.toml and .config/nextest.toml. Says \
         what was found, the command test_run will use, and whether the runner (and coverage.py) is installed.",
        Annotations::read_only(),
        run,
    )
    .title("Detect test runner")
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let wanted = super::runner_arg(a.runner.as_deref())?;
    let (dir, project) = t.project(&a.path)?;
    let det = detect(&dir, wanted);
    let mut tools = Vec::new();
    match det.runner.as_str() {
        "pytest" | "unittest" => {
            let py = interpreter(&det.argv, &dir);
            let sys = probe_module(&t, &dir, &py, "sys").await;
            tools.push(ToolStatus { name: py.clone(), available: sys.is_some(), version: None });
            if det.runner == "pytest" {
                let v = probe_module(&t, &dir, &py, "pytest").await;
                tools.push(ToolStatus { name: "pytest".into(), available: v.is_some(), version: v });
            }
            let v = probe_module(&t, &dir, &py, "coverage").await;
            tools.push(ToolStatus { name: "coverage".into(), available: v.is_some(), version: v });
        }
        "cargo" | "nextest" => {
            tools.push(ToolStatus {
                name: "cargo".into(),
                available: t.runner.which("cargo").is_some(),
                version: None,
            });
            if det.runner == "nextest" {
                let ok = t.runner.which("cargo-nextest").is_some();
                tools.push(ToolStatus { name: "cargo-nextest".into(), available: ok, version: None });
            }
        }
        _ => {}
    }
    let available = !tools.is_empty() && tools.iter().filter(|x| x.name != "coverage").all(|x| x.available);
    let text = format!(
        "{}: {} (from {}){}; {}",
        project,
        det.runner,
        det.source,
        if available { "" } else { ", NOT available" },
        det.argv.join(" ")
    );
    let commit = crate::git::head_commit(&dir);
    Ok(Out::new(Output { project, detection: det, available, tools, commit }).text(text))
}
