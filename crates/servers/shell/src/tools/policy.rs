//! `policy`: what this server allows, so the model can plan commands that will run.

use mcp_core::prelude::*;

use crate::Shell;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// An allowed program.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Program {
    /// Name to call it by.
    pub name: String,
    /// The binary it resolves to.
    pub path: String,
}

/// The policy.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Directories commands may run in.
    pub roots: Vec<String>,
    /// Programs that may run.
    pub programs: Vec<Program>,
    /// Interpreters among them (script files or allowed modules only; no inline code).
    pub interpreters: Vec<String>,
    /// Environment variables a command may be given.
    pub env_allow: Vec<String>,
    /// Whether the `command` string form is accepted.
    pub command_strings: bool,
    /// Whether commands run without network access.
    pub no_network: bool,
    /// Remote hosts usable with `host`.
    pub hosts: Vec<String>,
    /// Default and largest timeout of run, seconds.
    pub timeout_secs: (f64, f64),
    /// Bytes of each stream shown in a result.
    pub max_output_bytes: usize,
    /// Programs the preset names that this machine does not have.
    pub not_installed: Vec<String>,
    /// The kernel sandbox every job runs in (Landlock ABI, what it confines,
    /// `level`: full, partial, none (jobs refused) or off).
    pub sandbox: mcp_core::sandbox::Status,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "policy",
        "Show this server's fixed command policy: allowed programs and interpreters, working-directory roots, \
         allowed environment variables, remote hosts, timeouts and output limits, and the kernel sandbox jobs run in \
         (writable: the roots, HOME and TMPDIR only).",
        Annotations::read_only(),
        run,
    )
    .title("Command policy")
}

async fn run(shell: Arc<Shell>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let c = &shell.config;
    let out = Output {
        roots: shell.roots.iter().map(|r| r.display().to_string()).collect(),
        programs: shell
            .policy
            .programs
            .values()
            .map(|p| Program { name: p.name.clone(), path: p.path.display().to_string() })
            .collect(),
        interpreters: shell.policy.interpreters.iter().cloned().collect(),
        env_allow: shell.policy.env_allow.clone(),
        command_strings: c.command_strings,
        no_network: c.no_network,
        hosts: c.hosts.iter().map(|h| h.name.clone()).collect(),
        timeout_secs: (c.timeout.as_secs_f64(), c.max_timeout.as_secs_f64()),
        max_output_bytes: c.max_output,
        not_installed: shell.missing.clone(),
        sandbox: shell.sandbox.clone(),
    };
    let text = format!(
        "roots: {}\nprograms: {}\ninterpreters (no inline code): {}\nenv allowed: {}\ncommand strings: {}; no network: {}; hosts: {}\nsandbox: {}{}",
        out.roots.join(", "),
        shell.policy.names().join(", "),
        out.interpreters.join(", "),
        out.env_allow.join(", "),
        out.command_strings,
        out.no_network,
        if out.hosts.is_empty() { "none".to_owned() } else { out.hosts.join(", ") },
        out.sandbox.summary(),
        shell.refusal().map(|r| format!("\n{r}")).unwrap_or_default()
    );
    Ok(Out::new(out).text(text))
}
