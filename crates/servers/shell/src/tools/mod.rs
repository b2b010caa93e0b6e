//! The tools, one per file, and what `run` and `start` share: turning the
//! caller's command into a checked job, and reporting a job.

pub mod list_processes;
pub mod policy;
pub mod read_output;
pub mod run;
pub mod signal;
pub mod start;
pub mod wait;
pub mod write_stdin;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::prelude::*;

use crate::Shell;
use crate::jobs::{Job, Program, Spec, State, Step};
use crate::parse::{Join, parse};
use crate::policy::Checked;
use crate::redact;

/// The command part of `run` and `start`.
pub struct Command<'a> {
    /// argv form.
    pub argv: Option<&'a [String]>,
    /// Command-line form.
    pub command: Option<&'a str>,
    /// Working directory.
    pub cwd: Option<&'a str>,
    /// Extra environment.
    pub env: &'a BTreeMap<String, String>,
    /// Remote host name.
    pub host: Option<&'a str>,
}

/// Check a command against the policy and build its job spec. A refusal is
/// logged (audit) and returned with its reason.
pub fn prepare(
    shell: &Shell,
    c: Command<'_>,
    stdin: Option<Vec<u8>>,
    keep_stdin: bool,
    timeout: Duration,
) -> Result<Spec, ToolError> {
    let shown = match (c.argv, c.command) {
        (Some(a), None) => redact::argv(a),
        (None, Some(s)) => redact::arg(s),
        _ => return Err(ToolError::invalid("give exactly one of argv (preferred) or command")),
    };
    let result = build(shell, &c, stdin, keep_stdin, timeout, &shown);
    match &result {
        Ok(spec) => mcp_core::tracing::info!(
            command = %spec.display,
            cwd = %spec.cwd.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(remote)".into()),
            host = c.host.unwrap_or(""),
            decision = "allowed",
            "command accepted"
        ),
        Err(e) => {
            mcp_core::tracing::warn!(command = %shown, host = c.host.unwrap_or(""), decision = "refused", reason = %e, "command refused")
        }
    }
    result
}

fn build(
    shell: &Shell,
    c: &Command<'_>,
    stdin: Option<Vec<u8>>,
    keep_stdin: bool,
    timeout: Duration,
    shown: &str,
) -> Result<Spec, ToolError> {
    if let Some(why) = shell.refusal() {
        return Err(ToolError::Unavailable(why));
    }
    if let Some(host) = c.host {
        return remote(shell, c, host, stdin, keep_stdin, timeout, shown);
    }
    let cwd = shell.cwd(c.cwd)?;
    let env = shell.env(c.env)?;
    let check = |argv: &[String]| -> Result<Program, ToolError> {
        shell.policy.check(argv, &cwd).map(Checked::program).map_err(|d| ToolError::denied(d.0))
    };
    let pipelines: Vec<(Vec<Program>, Join)> = match (c.argv, c.command) {
        (Some(argv), None) => vec![(vec![check(argv)?], Join::Then)],
        (None, Some(line)) => {
            if !shell.config.command_strings {
                return Err(ToolError::denied(
                    "command strings are disabled on this server; pass argv, an array of the program and its arguments",
                ));
            }
            let script = parse(line).map_err(ToolError::Invalid)?;
            let mut out = Vec::new();
            for (pipeline, join) in script.steps {
                let checked: Result<Vec<Program>, ToolError> = pipeline.iter().map(|argv| check(argv)).collect();
                out.push((checked?, join));
            }
            out
        }
        _ => return Err(ToolError::invalid("give exactly one of argv (preferred) or command")),
    };
    Ok(Spec {
        step: Step { pipelines },
        cwd: Some(cwd),
        env,
        stdin,
        keep_stdin,
        timeout,
        display: shown.to_owned(),
        confinement: shell.job_confinement(),
    })
}

fn remote(
    shell: &Shell,
    c: &Command<'_>,
    host: &str,
    stdin: Option<Vec<u8>>,
    keep_stdin: bool,
    timeout: Duration,
    shown: &str,
) -> Result<Spec, ToolError> {
    let h = shell.config.hosts.iter().find(|h| h.name == host).ok_or_else(|| {
        ToolError::denied(format!(
            "unknown host {host:?}; hosts come from configuration only: {}",
            shell.config.hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let Some(argv) = c.argv else {
        return Err(ToolError::invalid("remote commands take argv only"));
    };
    if c.cwd.is_some() || !c.env.is_empty() {
        return Err(ToolError::invalid(
            "remote commands run in the remote user's home with its environment; drop cwd and env",
        ));
    }
    let checked = shell.policy.check_remote(argv).map_err(|d| ToolError::denied(d.0))?;
    let ssh = PathBuf::from(&shell.config.ssh_bin);
    let ssh = if ssh.is_absolute() {
        ssh
    } else {
        shell
            .policy
            .path
            .iter()
            .map(|d| d.join(&ssh))
            .find(|p| p.is_file())
            .ok_or_else(|| ToolError::Unavailable("ssh is not installed".into()))?
    };
    let known = shell.config.ssh_known_hosts.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let mut args: Vec<String> = [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        &format!("UserKnownHostsFile={known}"),
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ForwardAgent=no",
        "-o",
        "ClearAllForwardings=yes",
        "-F",
        "/dev/null",
        "-T",
        "-p",
        &h.port.to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(k) = &shell.config.ssh_key {
        args.extend(["-i".into(), k.display().to_string(), "-o".into(), "IdentitiesOnly=yes".into()]);
    }
    args.push(h.target.clone());
    // The remote side hands this string to the user's shell: every word is
    // single-quoted so it arrives as exactly the argv that was checked.
    let line: Vec<String> =
        std::iter::once(checked.name.clone()).chain(checked.args.iter().cloned()).map(|a| redact::quote(&a)).collect();
    args.push(line.join(" "));
    let program = Checked { exe: ssh, name: "ssh".into(), args, arg0: None };
    let env = vec![
        ("PATH".to_owned(), shell.policy.path_var()),
        ("HOME".to_owned(), shell.home.display().to_string()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
    ];
    Ok(Spec {
        step: Step::single(program.program()),
        cwd: Some(shell.home.clone()),
        env,
        stdin,
        keep_stdin,
        timeout,
        display: format!("[{host}] {shown}"),
        // ssh needs the network, its key and the known hosts, and nothing
        // of the roots; it still runs confined.
        confinement: shell.config.sandbox.then(|| {
            let read: Vec<PathBuf> =
                shell.config.ssh_key.iter().chain(shell.config.ssh_known_hosts.iter()).cloned().collect();
            shell.confinement(&read, true)
        }),
    })
}

/// A job's result: status, output excerpts and counts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// Process id for `read_output`, `wait`, `signal`.
    pub id: String,
    /// The command as run (secrets redacted).
    pub command: String,
    /// "running", "exited", "killed" or "failed".
    pub status: String,
    /// True when it exited with code 0.
    pub success: bool,
    /// Exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
    /// Why it was killed or failed to start.
    pub reason: Option<String>,
    /// True when the time limit killed it.
    pub timed_out: bool,
    /// Run time so far, milliseconds.
    pub duration_ms: u64,
    /// stdout (start and end when long; see `stdout_truncated`).
    pub stdout: String,
    /// stderr (start and end when long).
    pub stderr: String,
    /// stdout bytes written in all.
    pub stdout_bytes: u64,
    /// stderr bytes written in all.
    pub stderr_bytes: u64,
    /// stdout was cut here; read it whole with `read_output`.
    pub stdout_truncated: bool,
    /// stderr was cut here; read it whole with `read_output`.
    pub stderr_truncated: bool,
    /// How the kernel confined its processes: `full` (files, TCP when
    /// refused, signals), `partial` (an older kernel) or `off`.
    pub sandbox: mcp_core::sandbox::Enforcement,
}

/// Report a job, with at most `max` bytes of each stream.
pub fn report(job: &Job, max: usize) -> (Report, String) {
    let state = job.state();
    let hint = |s: &str| format!("call read_output with id={} stream={s} and an offset to read the rest", job.id);
    let (stdout, so_cut) = job.stdout.excerpt(max, &hint("stdout"));
    let (stderr, se_cut) = job.stderr.excerpt(max, &hint("stderr"));
    let (status, code, signal, reason) = match &state {
        State::Running => ("running", None, None, None),
        State::Exited { code, signal } => ("exited", *code, *signal, None),
        State::Killed { reason } => ("killed", None, Some(9), Some(reason.clone())),
        State::Failed { error } => ("failed", None, None, Some(error.clone())),
    };
    let timed_out = reason.as_deref().is_some_and(|r| r.starts_with("time limit"));
    let r = Report {
        id: job.id.clone(),
        command: job.display.clone(),
        status: status.into(),
        success: code == Some(0),
        exit_code: code,
        signal,
        reason,
        timed_out,
        duration_ms: job.elapsed().as_millis() as u64,
        stdout,
        stderr,
        stdout_bytes: job.stdout.total(),
        stderr_bytes: job.stderr.total(),
        stdout_truncated: so_cut,
        stderr_truncated: se_cut,
        sandbox: job.sandbox,
    };
    let head = match (&state, code) {
        (State::Running, _) => format!("{} is still running (id {})", r.command, r.id),
        (State::Exited { .. }, Some(0)) => format!("exit code 0 in {} ms", r.duration_ms),
        (State::Exited { .. }, Some(c)) => format!("FAILED: exit code {c} in {} ms", r.duration_ms),
        (State::Exited { .. }, None) => format!("FAILED: ended by signal {}", signal.unwrap_or(0)),
        (State::Killed { reason }, _) => format!("KILLED: {reason}"),
        (State::Failed { error }, _) => format!("FAILED TO START: {error}"),
    };
    let mut text = format!("{head}\n$ {}\n", r.command);
    if !r.stdout.is_empty() {
        text.push_str(&format!("--- stdout ({} bytes) ---\n{}\n", r.stdout_bytes, r.stdout));
    }
    if !r.stderr.is_empty() {
        text.push_str(&format!("--- stderr ({} bytes) ---\n{}\n", r.stderr_bytes, r.stderr));
    }
    (r, text)
}

/// Log the end of a job (the audit record).
pub fn audit_end(r: &Report) {
    mcp_core::tracing::info!(
        id = %r.id,
        command = %r.command,
        status = %r.status,
        exit_code = r.exit_code.unwrap_or(-1),
        signal = r.signal.unwrap_or(0),
        duration_ms = r.duration_ms,
        timed_out = r.timed_out,
        "command finished"
    );
}
