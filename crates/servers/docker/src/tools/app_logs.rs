//! `app_logs`: the end of every replica's logs, masked and capped.

use bollard::query_parameters::LogsOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};
use crate::engine::{collect, name_of, tail};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Application name.
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
    /// Lines per replica from the end (default 100, at most 5000).
    pub tail: Option<u32>,
    /// Only after this time: RFC 3339 or a span back from now (`10m`).
    pub since: Option<String>,
    /// Only lines matching this regular expression.
    pub grep: Option<String>,
}

/// One replica's logs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplicaLogs {
    /// Container name.
    pub replica: String,
    /// Revision.
    pub revision: u64,
    /// stdout and stderr lines (masked).
    pub logs: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Per replica.
    pub replicas: Vec<ReplicaLogs>,
    /// Cut to the cap.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_logs",
        "Read the end of every replica's logs of an application (tail, since, grep), secrets masked, capped.",
        Annotations::read_only(),
        run,
    )
    .title("App logs")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    let n = super::limit(a.tail, 100, 5000)?;
    let re = a
        .grep
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|err| ToolError::invalid(format!("grep: {err}")))?;
    let since = super::container_logs::secs(a.since.as_deref(), "since")?;
    let found = apps::find(&e, &k).await?;
    if found.is_empty() {
        return Err(ToolError::not_found(format!("no replicas of {} in {}", k.name, k.env)));
    }
    let per = (e.config.max_output / found.len()).max(1024);
    let mut out = Vec::new();
    let mut truncated = false;
    for f in &found {
        let masker = Engine::masker(&f.inspect);
        let opts = LogsOptions { stdout: true, stderr: true, tail: n.to_string(), since, ..Default::default() };
        let c = collect(e.docker.logs(&f.id, Some(opts)), per * 4, std::time::Duration::from_secs(20), &masker).await?;
        let text = super::container_logs::grep(&format!("{}{}", c.stdout, c.stderr), re.as_ref());
        let (logs, t) = tail(&text, per);
        truncated |= t || c.truncated;
        out.push(ReplicaLogs { replica: name_of(&f.inspect), revision: f.rev, logs });
    }
    let text =
        out.iter().map(|r| format!("== {} (r{})\n{}", r.replica, r.revision, r.logs)).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { replicas: out, truncated }).text(text))
}
