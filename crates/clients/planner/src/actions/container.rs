//! The command phases in containers (`PLANNER_ISOLATION=container`): each
//! argv of the template's phase runs in a fresh container of the toolchain
//! image through the docker server (`container_run` with `wait`), one after
//! another and never through a shell, so an argv stays an argv.
//!
//! The project folder is mounted writable at `/work/<slug>` and is the
//! working directory. The mount's source is the project's slug, which the
//! docker server resolves against its first bind root: that root must be
//! the projects folder, the same one the fs, git and shell servers have
//! first. The container runs as the folder's owner (`stat` on the fs
//! server), so what it writes (`.venv`, `target/`) belongs to the owner of
//! the rest; a folder owned by root would mean a root container, which the
//! docker server refuses unless it is configured to allow it, and the step
//! says so. Only `install` gets a network (`bridge`: dependencies are
//! downloaded there); `build`, `lint` and `test` run with none.
//!
//! Results keep the shape the report and the fix loop read
//! (`{"phase", "passed", "summary", "commands": [...]}`). `install` and
//! `build` fail the step on the first command that fails, as through the
//! shell server. `lint` and `test` run every command and pass when each
//! exits 0; a failure is a result, not a step failure. Unlike the lint and
//! test servers, a container gives no per-finding or per-test structure:
//! the summary says so and the output tails carry what the tools printed.
//! Idempotent by nature: containers are fresh each time and removed after.

use std::collections::BTreeMap;

use mcp_core::ErrorKind;
use mcp_types::docker::{ContainerRun, ContainerRunArgs, Mount};
use serde_json::{Value, json};

use super::command::{summary_line, tail, to_args};
use super::vars::template;
use crate::exec::Ctx;
use crate::peers::{Peer, StepError};

/// Where the project is inside its containers.
pub(super) fn workdir(slug: &str) -> String {
    format!("/work/{slug}")
}

/// Run `phase`'s commands in containers.
pub(super) async fn run_phase(cx: &Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    let docker = docker(cx)?;
    let template = template(cx)?;
    let rt = &cx.p.config.runtime;
    let slug = &cx.run.slug;
    let (uid, gid) = owner(cx).await?;
    let network = if phase == "install" { "bridge" } else { "none" };
    let check = matches!(phase, "lint" | "test");
    let mut commands = Vec::new();
    let mut passed = true;
    for argv in template.manifest.commands.get(phase).into_iter().flatten() {
        let args = ContainerRunArgs {
            image: rt.toolchain_image.clone(),
            argv: argv.clone(),
            env: env(slug),
            workdir: Some(workdir(slug)),
            user: Some(format!("{uid}:{gid}")),
            mounts: vec![Mount { source: slug.clone(), target: workdir(slug), writable: true }],
            network: Some(network.into()),
            limits: Some(rt.limits.clone()),
            wait: true,
            timeout_secs: Some(cx.p.config.command_timeout.as_secs()),
            remove: Some(true),
            ..ContainerRunArgs::default()
        };
        let r: ContainerRun = docker.call_as("container_run", to_args(&args)?).await.map_err(|e| {
            let e = StepError::from(e);
            if uid == 0 && !e.retryable() {
                StepError::of(
                    e.kind,
                    format!(
                        "{phase}: projects/{slug} is owned by root (uid 0), so its container would run as root, \
                         which the docker server refuses unless it allows root; give the projects folder to an \
                         unprivileged owner (the fleet's images use uid 10001). The docker server said: {}",
                        e.message
                    ),
                )
            } else {
                StepError::of(
                    e.kind,
                    format!("{phase}: `{}` could not run in a container: {}", argv.join(" "), e.message),
                )
            }
        })?;
        let out = format!("{}{}", r.stdout, r.stderr);
        let ok = r.exit_code == Some(0) && !r.timed_out;
        passed &= ok;
        commands.push(json!({
            "argv": argv, "exit_code": r.exit_code, "timed_out": r.timed_out, "duration_ms": r.duration_ms,
            "container": r.name, "container_id": r.id, "network": network, "user": format!("{uid}:{gid}"),
            "summary": summary_line(if r.stdout.trim().is_empty() { &out } else { &r.stdout }),
            "output_tail": tail(&out, 4000), "truncated": r.truncated,
        }));
        if ok || check {
            continue;
        }
        let why = match (r.timed_out, r.exit_code) {
            (true, _) => format!("killed at the time limit of {} s", cx.p.config.command_timeout.as_secs()),
            (false, Some(c)) => format!("exit code {c}"),
            (false, None) => "ended without an exit code".to_owned(),
        };
        let message = format!(
            "{phase}: `{}` failed ({why}) in a container of {}: {}",
            argv.join(" "),
            rt.toolchain_image,
            tail(&out, 1500)
        );
        // Gone without an exit code and not at the time limit: the engine or
        // the machine ended it, which another attempt may not meet.
        if r.exit_code.is_none() && !r.timed_out {
            return Err(StepError::of(ErrorKind::Unavailable, message));
        }
        return Err(StepError::fatal(message));
    }
    let summary = summary(phase, check, passed, &commands);
    Ok(json!({
        "phase": phase, "passed": passed, "summary": summary, "isolation": "container",
        "image": rt.toolchain_image, "commands": commands,
    }))
}

/// The docker server, which the configuration requires with container isolation.
pub(super) fn docker<'a>(cx: &Ctx<'a>) -> Result<&'a Peer, StepError> {
    cx.p.peers.docker.as_ref().ok_or_else(|| {
        StepError::fatal(format!(
            "no docker server: set {} (needed by PLANNER_ISOLATION=container and PLANNER_DEPLOY=on)",
            mcp_core::config::peer_var("mcp-server-docker")
        ))
    })
}

/// The project folder's owner, `(uid, gid)`, as the fs server sees it.
async fn owner(cx: &Ctx<'_>) -> Result<(u64, u64), StepError> {
    let st = cx.p.peers.fs.call("stat", json!({"path": cx.run.slug})).await?;
    match (st["uid"].as_u64(), st["gid"].as_u64()) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(StepError::of(ErrorKind::Internal, format!("stat of projects/{} has no owner: {st}", cx.run.slug))),
    }
}

/// The environment of a phase container: a writable home whatever the uid
/// (it may have no passwd entry), and cargo's downloads kept in the project
/// (`.cargo`, ignored by git) so that `install`, which has the network,
/// fetches what the offline `build`, `lint` and `test` containers read.
fn env(slug: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("HOME".to_owned(), "/tmp".to_owned()),
        ("CARGO_HOME".to_owned(), format!("{}/.cargo", workdir(slug))),
    ])
}

/// One line for the report: what ran and how it ended; for checks, that the
/// result is the commands' exit codes, not per-finding records.
fn summary(phase: &str, check: bool, passed: bool, commands: &[Value]) -> String {
    let last = commands.last().and_then(|c| c["summary"].as_str()).unwrap_or("").to_owned();
    if !check {
        return last;
    }
    let failing: Vec<String> = commands
        .iter()
        .filter(|c| c["exit_code"] != 0 || c["timed_out"] == true)
        .map(|c| {
            let argv: Vec<&str> = c["argv"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let how = if c["timed_out"] == true { "timed out".to_owned() } else { format!("exit {}", c["exit_code"]) };
            format!("`{}` {how}", argv.join(" "))
        })
        .collect();
    let note = "in a container: no per-finding structure, see the output tails";
    let what = match (phase, passed) {
        ("test", _) if !last.is_empty() => last,
        (_, true) => format!("{} command(s) exited 0", commands.len()),
        (_, false) => failing.join(", "),
    };
    let what = if !passed && phase == "test" { format!("{what}; {}", failing.join(", ")) } else { what };
    crate::spec::one_line(&format!("{what} ({note})"), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_what_ran_and_that_there_is_no_structure() {
        let ok = json!({"argv": ["pytest", "-q"], "exit_code": 0, "timed_out": false, "summary": "3 passed in 0.1s"});
        let bad =
            json!({"argv": ["flake8", "src"], "exit_code": 1, "timed_out": false, "summary": "src/a.py:1:1: F401"});
        assert_eq!(summary("build", false, true, std::slice::from_ref(&ok)), "3 passed in 0.1s");
        let s = summary("test", true, true, std::slice::from_ref(&ok));
        assert!(s.starts_with("3 passed in 0.1s (in a container: no per-finding structure"), "{s}");
        let s = summary("lint", true, false, &[ok.clone(), bad.clone()]);
        assert!(s.starts_with("`flake8 src` exit 1 (in a container"), "{s}");
        let failed = json!({"argv": ["pytest"], "exit_code": 1, "timed_out": false, "summary": "1 failed"});
        let s = summary("test", true, false, &[failed]);
        assert!(s.starts_with("1 failed; `pytest` exit 1"), "{s}");
        assert_eq!(env("x")["CARGO_HOME"], "/work/x/.cargo");
    }
}
