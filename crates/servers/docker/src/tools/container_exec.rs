//! `container_exec`: run an argv inside a running container this server
//! created, as its user (or another non-root one), with a time limit; the
//! exit code and the end of the output, secrets masked. A process still
//! running at the limit is reported `timed_out` and left to the container
//! (the Engine API cannot kill an exec; restart the container to end it).

use std::collections::BTreeMap;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::{api, collect};
use crate::policy::Masker;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Container id or name.
    pub container: String,
    /// The command as argv (never a shell string).
    pub argv: Vec<String>,
    /// Seconds to wait (default: the server's, DOCKER_TIMEOUT_SECS).
    pub timeout_secs: Option<u64>,
    /// Numeric `uid:gid`; the container's user when absent.
    pub user: Option<String>,
    /// Working directory.
    pub workdir: Option<String>,
    /// Extra environment (values never echoed).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Exit code (absent when it did not finish in time).
    pub exit_code: Option<i64>,
    /// Did not finish within the time limit.
    pub timed_out: bool,
    /// End of standard output (masked).
    pub stdout: String,
    /// End of standard error (masked).
    pub stderr: String,
    /// Output was cut to the cap.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_exec",
        "Run a command (argv) inside a running container this server created, as the container's user, and return \
         its exit code and output (capped, secrets masked).",
        Annotations::destructive(false),
        run,
    )
    .title("Exec in a container")
    .timeout(std::time::Duration::from_secs(3700))
}

async fn run(e: Arc<Engine>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.argv.is_empty() {
        return Err(ToolError::invalid("argv is empty"));
    }
    let i = e.owned(&a.container).await?;
    let id = i.id.clone().unwrap_or_default();
    let user = match &a.user {
        Some(u) => e.policy.user(Some(u))?,
        None => i.config.as_ref().and_then(|c| c.user.clone()).unwrap_or_default(),
    };
    if crate::policy::is_root_user(&user) && !e.policy.allow_root() {
        return Err(crate::policy::deny("root-user", "exec as root is not allowed"));
    }
    let mut masker = Engine::masker(&i);
    masker.extend(&Masker::from_env(a.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    let exec = e
        .docker
        .create_exec(
            &id,
            ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(a.argv.clone()),
                env: Some(a.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
                user: Some(user),
                working_dir: a.workdir.clone(),
                privileged: Some(false),
                ..Default::default()
            },
        )
        .await
        .map_err(api)?;
    let limit = e.time_limit(a.timeout_secs).min(ctx.remaining().saturating_sub(std::time::Duration::from_secs(2)));
    let c = match e.docker.start_exec(&exec.id, None::<StartExecOptions>).await.map_err(api)? {
        StartExecResults::Attached { output, .. } => collect(output, e.config.max_output, limit, &masker).await?,
        StartExecResults::Detached => return Err(ToolError::internal("exec started detached")),
    };
    let exit_code = if c.timed_out { None } else { e.docker.inspect_exec(&exec.id).await.map_err(api)?.exit_code };
    let text = format!(
        "{}\n{}{}",
        match exit_code {
            Some(x) => format!("exit {x}"),
            None => "timed out".into(),
        },
        c.stdout,
        c.stderr
    );
    Ok(Out::new(Output {
        exit_code,
        timed_out: c.timed_out,
        stdout: c.stdout,
        stderr: c.stderr,
        truncated: c.truncated,
    })
    .text(text))
}
