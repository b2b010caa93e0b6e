//! `lint_detect`: what a project uses, why, and whether this server can run it.

use mcp_core::prelude::*;

use crate::Lint;
use crate::detect;
use crate::linters::{self, Launch};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project directory, relative to the server's first root (e.g. `my-app`).
    pub path: String,
}

/// One tool found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DetectedTool {
    /// Tool name (`ruff`, `flake8`, `black`, `isort`, `bandit`, `mypy`, `clippy`, `rustfmt`,
    /// `shellcheck`, `hadolint`, `yamllint`, `compose-schema`, `gitlab-ci-schema`).
    pub tool: String,
    /// `python`, `rust`, `shell`, `dockerfile` or `yaml`.
    pub language: String,
    /// Why: the file and section (or `template.json` command) that named it.
    pub reason: String,
    /// The configuration file it reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Installed here (or built in).
    pub available: bool,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The argv `lint_run` would run (absent for built-in checks and missing tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// Why it is not available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project, as asked.
    pub project: String,
    /// The tools the project uses, in a fixed order.
    pub tools: Vec<DetectedTool>,
    /// Problems met reading the project's files (a `template.json` command this server does not know).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Lint> {
    Tool::new(
        "lint_detect",
        "Find which linters, formatters and schema checks a project uses, and why (the fleet's template.json \
         commands first, then pyproject.toml/setup.cfg/tox.ini/.flake8/mypy.ini/ruff.toml sections, Cargo.toml, \
         clippy.toml/rustfmt.toml, *.sh, Dockerfile*, YAML, compose and .gitlab-ci.yml files), which of them are \
         installed here (with versions) and which are missing. Runs only `--version` probes.",
        Annotations::read_only(),
        run,
    )
    .title("Detect a project's linters")
}

async fn run(lint: Arc<Lint>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = lint.runner.project(&a.path)?;
    let files = detect::files(&project);
    let (found, notes) = detect::detect(&project, &files);
    let mut tools = Vec::new();
    for d in &found {
        let launch = lint.launch(&project, d).await;
        let (available, version, argv, message) = match launch {
            Launch::Program { prefix, version } => {
                let argv = linters::argv(&project, d, &prefix, &files, None, version.as_deref(), None);
                (true, version, Some(argv), None)
            }
            Launch::Builtin(v) => (true, Some(v.to_owned()), None, None),
            Launch::Missing(m) | Launch::Refused(m) => (false, None, None, Some(m)),
        };
        tools.push(DetectedTool {
            tool: d.tool.clone(),
            language: d.language.clone(),
            reason: d.reason.clone(),
            config: d.config.clone(),
            available,
            version,
            argv,
            message,
        });
    }
    let mut text = format!("{}: {} tool(s)\n", a.path, tools.len());
    for t in &tools {
        text.push_str(&format!(
            "- {} ({}): {}; {}{}\n",
            t.tool,
            t.language,
            t.reason,
            if t.available { "available" } else { "MISSING" },
            t.version.as_ref().map(|v| format!(" {v}")).unwrap_or_default()
        ));
    }
    for n in &notes {
        text.push_str(&format!("note: {n}\n"));
    }
    Ok(Out::new(Output { project: a.path, tools, notes }).text(text))
}
