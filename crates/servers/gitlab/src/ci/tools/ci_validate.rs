//! `ci_validate`: check a project's `.gitlab-ci.yml` against GitLab's
//! schema (vendored, in process) and the local runner's semantic checks:
//! includes, `extends`, `!reference`, stages, `needs` (unknown jobs, later
//! stages, cycles), and keywords the runner refuses.

use mcp_core::prelude::*;
use mcp_core::schemas::{Finding, Kind, check_text};

use crate::Gitlab;
use crate::ci::{parse, plan};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The repository, relative to the server's repository roots (`.` for a root itself).
    pub path: String,
    /// The pipeline file inside it (default `.gitlab-ci.yml`).
    pub file: Option<String>,
}

/// The verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// No schema finding and no error.
    pub valid: bool,
    /// The file checked.
    pub file: String,
    /// GitLab schema findings (the main file only; includes are checked by the semantic pass).
    pub schema: Vec<Finding>,
    /// Semantic errors (each one stops a local run).
    pub errors: Vec<String>,
    /// Keywords the local runner refuses, when one is used (the file may still be valid for GitLab).
    pub refused: Vec<String>,
    /// Ignored keywords and other remarks.
    pub warnings: Vec<String>,
    /// Stages, `.pre` and `.post` included.
    pub stages: Vec<String>,
    /// Visible jobs.
    pub jobs: Vec<String>,
    /// Files read (the main file, then includes).
    pub files: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_validate",
        "Validate a repository's .gitlab-ci.yml locally, without GitLab: GitLab's JSON schema plus semantic checks \
         (local includes, extends, !reference, stages, needs cycles/unknown jobs/later stages) and the keywords the \
         local runner refuses (it names them). Use before ci_plan or ci_run_local.",
        Annotations::read_only(),
        run,
    )
    .title("Validate a pipeline file locally")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let p = g.ci.project(&a.path)?;
    let file = parse::safe_rel(a.file.as_deref().unwrap_or(".gitlab-ci.yml"), "file")
        .map_err(|e| ToolError::invalid(e.to_string()))?;
    let full = p.dir.join(&file);
    let text = mcp_core::tool::blocking({
        let (full, file, root) = (full.clone(), file.clone(), p.dir.clone());
        move || {
            let real = std::fs::canonicalize(&full).map_err(|e| ToolError::not_found(format!("{file}: {e}")))?;
            if !real.starts_with(&root) {
                return Err(ToolError::denied(format!("{file} leads out of the repository")));
            }
            let meta = std::fs::metadata(&real).map_err(|e| ToolError::not_found(format!("{file}: {e}")))?;
            if meta.len() > parse::MAX_FILE_BYTES {
                return Err(ToolError::invalid(format!("{file} is larger than {} bytes", parse::MAX_FILE_BYTES)));
            }
            std::fs::read_to_string(&real).map_err(|e| ToolError::invalid(format!("{file}: {e}")))
        }
    })
    .await?;
    let schema = check_text(&text, Kind::GitlabCi).map_err(ToolError::internal)?;
    let mut out = Output {
        valid: false,
        file: file.clone(),
        schema,
        errors: Vec::new(),
        refused: Vec::new(),
        warnings: Vec::new(),
        stages: Vec::new(),
        jobs: Vec::new(),
        files: vec![file.clone()],
    };
    let dir = p.dir.clone();
    let parsed = mcp_core::tool::blocking(move || Ok(parse::load(&dir, &file))).await?;
    match parsed {
        Ok(pl) => {
            out.errors.extend(plan::check_needs(&pl));
            out.warnings = pl.warnings.clone();
            out.stages = pl.stages.clone();
            out.jobs = pl.jobs.iter().map(|j| j.name.clone()).collect();
            out.files = pl.files.clone();
        }
        Err(e) => {
            if let parse::ParseError::Refused { keyword, .. } = &e {
                out.refused.push(keyword.clone());
            }
            out.errors.push(e.to_string());
        }
    }
    out.valid = out.schema.is_empty() && out.errors.is_empty();
    let mut text = if out.valid {
        format!("{} is valid: {} job(s) in {} stage(s)", out.file, out.jobs.len(), out.stages.len())
    } else {
        format!("{} is not valid", out.file)
    };
    for f in &out.schema {
        text.push_str(&format!("\n  schema {}:{} [{}] {}", f.line, f.column, f.rule, f.message));
    }
    for e in &out.errors {
        text.push_str(&format!("\n  error: {e}"));
    }
    for w in &out.warnings {
        text.push_str(&format!("\n  warning: {w}"));
    }
    Ok(Out::new(out).text(text))
}
