//! `ci_plan`: which jobs of a project's pipeline would run for a ref,
//! source and variables, in which stage and order, and why each other job
//! would not.

use std::collections::BTreeMap;

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::ci::plan::{Disposition, Plan};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The repository, relative to the server's repository roots (`.` for a root itself).
    pub path: String,
    /// The pipeline file inside it (default `.gitlab-ci.yml`).
    pub file: Option<String>,
    /// Branch or tag the pipeline is for (default: the checked-out branch). Only the CI_COMMIT_* variables
    /// change; the files are always the work tree's.
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// The ref is a tag (default: true when a tag of that name exists).
    pub tag: Option<bool>,
    /// CI_PIPELINE_SOURCE: push (default), web, schedule, merge_request_event, api, trigger, pipeline...
    pub source: Option<String>,
    /// Variables as if set when creating the pipeline (they override the file's).
    pub variables: Option<BTreeMap<String, String>>,
    /// A ref to compare with for `rules: changes` / `only: changes`; without it every tracked file counts as changed.
    pub changes_base: Option<String>,
    /// Only these jobs (and the jobs they need); manual jobs named here are played.
    pub jobs: Option<Vec<String>>,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_plan",
        "Plan a repository's .gitlab-ci.yml locally for a ref, source and variables: the jobs that would run, their \
         stages, needs, when and allow_failure, images, variables (secrets masked), and for every other job why it \
         is left out (rules, only/except, when: manual/never, workflow). Nothing runs.",
        Annotations::read_only(),
        run,
    )
    .title("Plan a pipeline locally")
}

/// The plan as text.
pub fn describe(p: &Plan) -> String {
    let mut s = if p.created {
        format!("pipeline for {} ({}) at {}:\n", p.ref_name, p.source, &p.sha[..p.sha.len().min(8)])
    } else {
        format!(
            "no pipeline for {} ({}): {}\n",
            p.ref_name,
            p.source,
            p.workflow_reason.as_deref().unwrap_or("workflow rules")
        )
    };
    for st in &p.stages {
        s.push_str(&format!("stage {st}:\n"));
        for j in p.jobs.iter().filter(|j| &j.stage == st && j.disposition != Disposition::Excluded) {
            let mut line = format!("  {} [{:?}, when {}", j.name, j.disposition, j.when);
            if j.allow_failure {
                line.push_str(", allow_failure");
            }
            if let Some(n) = &j.needs {
                line.push_str(&format!(", needs [{}]", n.join(", ")));
            }
            line.push(']');
            if let Some(r) = &j.reason {
                line.push_str(&format!(" — {r}"));
            }
            s.push_str(&line);
            s.push('\n');
        }
    }
    let left_out: Vec<_> = p.jobs.iter().filter(|j| j.disposition == Disposition::Excluded).collect();
    if !left_out.is_empty() {
        s.push_str("not in the pipeline:\n");
        for j in left_out {
            s.push_str(&format!("  {}: {}\n", j.name, j.reason.as_deref().unwrap_or("excluded")));
        }
    }
    for w in &p.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Plan>, ToolError> {
    let req = super::request(a.file, a.ref_name, a.tag, a.source, a.variables, a.changes_base, a.jobs);
    let (_, plan, _) = g.ci.plan(&a.path, &req).await?;
    let text = describe(&plan);
    Ok(Out::new(plan).text(text))
}
