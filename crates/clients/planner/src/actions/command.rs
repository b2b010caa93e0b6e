//! `command`: run the template's argv lists of one phase (install, build,
//! lint, test) in the project through the shell server, which applies its
//! policy to each. Idempotent by nature: installs, builds and checks may be
//! repeated. For lint and test a failing command is a result (the check did
//! not pass), not a step failure; the fix loop reads it.

use mcp_core::ErrorKind;
use mcp_types::peer::ShellRun;
use serde_json::{Value, json};

use super::vars::template;
use crate::exec::Ctx;
use crate::peers::StepError;
use crate::spec::one_line;

/// Run the phase; see [`run_phase`].
pub(super) async fn run(cx: &mut Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    run_phase(cx, phase).await
}

/// Run a phase's commands, stopping at the first that fails; for checks the
/// result says whether they passed, for the others a failure is the step's.
pub(super) async fn run_phase(cx: &Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    let template = template(cx)?;
    let check = matches!(phase, "lint" | "test");
    let mut passed = true;
    let mut results = Vec::new();
    let mut last_summary = String::new();
    let timeout = cx.p.config.command_timeout.as_secs();
    for argv in template.manifest.commands.get(phase).into_iter().flatten() {
        let r: ShellRun =
            cx.p.peers.shell.call_as("run", json!({"argv": argv, "cwd": cx.run.slug, "timeout_secs": timeout})).await?;
        let out = format!("{}{}", r.stdout, r.stderr);
        // pytest and cargo print their summaries on stdout; a tool that
        // only writes to stderr is summarised from that.
        last_summary = summary_line(if r.stdout.trim().is_empty() { &out } else { &r.stdout });
        results.push(json!({
            "argv": argv, "exit_code": r.exit_code, "status": r.status, "duration_ms": r.duration_ms,
            "summary": last_summary, "output_tail": tail(&out, 4000),
        }));
        if !r.success {
            passed = false;
            if !check {
                let why = r
                    .reason
                    .clone()
                    .or_else(|| r.exit_code.map(|c| format!("exit code {c}")))
                    .or_else(|| r.signal.map(|s| format!("ended by signal {s}")))
                    .unwrap_or_else(|| r.status.clone());
                let message = format!("{phase}: `{}` failed ({why}): {}", argv.join(" "), tail(&out, 1500));
                // Ended by a signal nobody in the plan sent (no time limit, no kill: the machine's
                // memory, a neighbour's sweep): worth the step's retry, unlike a command that said no.
                if r.exit_code.is_none() && r.signal.is_some() && r.reason.is_none() {
                    return Err(StepError::of(ErrorKind::Unavailable, message));
                }
                return Err(StepError::fatal(message));
            }
            break;
        }
    }
    Ok(json!({"phase": phase, "passed": passed, "summary": last_summary, "commands": results}))
}

/// Last non-empty line of a command's output: pytest's and cargo's summaries.
fn summary_line(out: &str) -> String {
    out.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| one_line(l, 160)).unwrap_or_default()
}

/// The last `n` bytes of `s` (fewer, to start on a character boundary).
fn tail(s: &str, n: usize) -> String {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    s[i..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_tails_keep_the_end() {
        assert_eq!(summary_line("collected 3\n\n=== 3 passed in 0.1s ===\n  \n"), "=== 3 passed in 0.1s ===");
        assert_eq!(summary_line(""), "");
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 10), "ab");
        // Never splits a character: "é" is two bytes.
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("aé", 2), "é");
    }
}
