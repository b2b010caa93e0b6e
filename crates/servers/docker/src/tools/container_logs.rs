//! `container_logs`: the end of a container's output (any container;
//! read-only), with a time window and a filter, secrets masked, capped.

use bollard::query_parameters::LogsOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::{collect, tail};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Container id or name.
    pub container: String,
    /// Lines from the end (default 200, at most 10000).
    pub tail: Option<u32>,
    /// Only after this time: RFC 3339 or a span back from now (`10m`, `2h`).
    pub since: Option<String>,
    /// Only before this time: RFC 3339 or a span back from now.
    pub until: Option<String>,
    /// Only lines matching this regular expression.
    pub grep: Option<String>,
    /// Prefix lines with the engine's timestamps.
    #[serde(default)]
    pub timestamps: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Standard output lines (secrets masked).
    pub stdout: String,
    /// Standard error lines (secrets masked).
    pub stderr: String,
    /// Cut to the server's output cap.
    pub truncated: bool,
}

/// Unix seconds from a time argument.
pub fn secs(v: Option<&str>, what: &str) -> Result<i32, ToolError> {
    match v {
        None => Ok(0),
        Some(t) => mcp_core::clock::parse_time(t)
            .map(|ms| (ms / 1000) as i32)
            .ok_or_else(|| ToolError::invalid(format!("{what} {t:?}: give RFC 3339 or a span like 15m"))),
    }
}

/// Keep lines matching `re`.
pub fn grep(text: &str, re: Option<&regex::Regex>) -> String {
    match re {
        None => text.to_owned(),
        Some(r) => text.lines().filter(|l| r.is_match(l)).map(|l| format!("{l}\n")).collect(),
    }
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_logs",
        "Read the end of a container's logs: tail lines, a since/until window (RFC 3339 or spans like 15m), a \
         regular-expression filter. Secret-looking environment values are masked; output is capped.",
        Annotations::read_only(),
        run,
    )
    .title("Container logs")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = super::limit(a.tail, 200, 10_000)?;
    let re = a
        .grep
        .as_deref()
        .map(|g| regex::RegexBuilder::new(g).size_limit(1 << 20).build())
        .transpose()
        .map_err(|err| ToolError::invalid(format!("grep: {err}")))?;
    let i = e.inspect(&a.container).await?;
    let masker = Engine::masker(&i);
    let opts = LogsOptions {
        stdout: true,
        stderr: true,
        since: secs(a.since.as_deref(), "since")?,
        until: secs(a.until.as_deref(), "until")?,
        timestamps: a.timestamps,
        tail: n.to_string(),
        follow: false,
    };
    let stream = e.docker.logs(i.id.as_deref().unwrap_or(&a.container), Some(opts));
    let c = collect(stream, e.config.max_output * 4, std::time::Duration::from_secs(30), &masker).await?;
    let (stdout, t1) = tail(&grep(&c.stdout, re.as_ref()), e.config.max_output);
    let (stderr, t2) = tail(&grep(&c.stderr, re.as_ref()), e.config.max_output);
    let text = format!("{stdout}{}", if stderr.is_empty() { String::new() } else { format!("\n[stderr]\n{stderr}") });
    Ok(Out::new(Output { stdout, stderr, truncated: c.truncated || t1 || t2 }).text(text))
}
