//! The step engine: walks a claimed run's steps in order, checkpoints every
//! attempt, retries what is worth retrying, enforces budgets, honours
//! cancellation, waits at approval gates (`gate`), and always ends with the
//! report.
//!
//! The engine knows the plan's rules (dependencies, the report that always
//! runs, tag only after passing checks and pipeline, fix only after failing
//! checks, an unhealthy deployment or a failed GitLab pipeline fails the
//! run) but not what a step does: [`crate::actions::run`] does that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_core::ErrorKind;
use mcp_core::tracing::{self, Instrument, info, warn};
use serde_json::{Value, json};

use super::{Ctx, Event, RunError, gate};
use crate::Planner;
use crate::peers::StepError;
use crate::plan::{Action, StepDef};
use crate::store::{Run, RunState, StepState};

/// Run a claimed run from where it stands to its end.
pub(super) async fn execute(p: &Arc<Planner>, run: Run) -> Result<(), RunError> {
    let steps = p.store.steps(&run.id).await?;
    let total = steps.len();
    info!(run_id = %run.id, steps = total, state = %run.state, "run claimed");
    task(p, &run, "task_start", json!({"name": "plan", "project": run.slug, "detail": "started"})).await;
    let waited_ms = p.store.approval_wait_ms(&run.id, mcp_core::clock::now_ms()).await?;
    let mut cx = Ctx { p, run, steps, started: Instant::now(), waited_ms };
    let mut stop_reason: Option<(RunState, String)> = None; // (final state, why)
    for i in 0..cx.steps.len() {
        let step = cx.steps[i].clone();
        if step.state.is_settled() {
            // Decided before a restart: its result stands.
            continue;
        }
        // Fresh counters from the store (budgets, cancellation).
        if let Some(r) = p.store.run(&cx.run.id).await? {
            cx.run = r;
        }
        let is_report = step.def.action == Action::Report;
        if !is_report {
            if stop_reason.is_none() && cx.run.cancel_requested {
                stop_reason = Some((RunState::Cancelled, "cancelled on request".into()));
            }
            if stop_reason.is_none()
                && let Err(why) = cx.budget_left()
            {
                stop_reason = Some((RunState::BudgetExhausted, why));
            }
            if let Some((state, why)) = &stop_reason {
                let kind = match state {
                    RunState::BudgetExhausted => ErrorKind::BudgetExhausted,
                    _ => ErrorKind::Cancelled,
                };
                skip(&mut cx, i, why, Some(kind)).await?;
                continue;
            }
            if let Some(why) = blocked(&cx, &step.def) {
                skip(&mut cx, i, &why, None).await?;
                continue;
            }
            // A step that needs a person waits here; not approved, it is stopped and the run ends.
            if p.config.approval.needed(&step.def.key, step.def.action.kind())
                && let gate::Gate::Stop { state, run_why, step_why, kind } = gate::wait(&mut cx, i).await?
            {
                skip(&mut cx, i, &step_why, Some(kind)).await?;
                stop_reason = Some((state, run_why));
                continue;
            }
        } else {
            // The outcome is decided before the report, which tells it.
            let (state, why) = outcome(&cx, stop_reason.as_ref());
            p.store.set_state(&cx.run.id, RunState::Running, Some(&why)).await?;
            cx.run.reason = Some(why);
            cx.run.state = state;
        }
        let outcome = attempt(&mut cx, i).await?;
        if let Err(e) = &outcome
            && stop_reason.is_none()
            && e.kind == ErrorKind::BudgetExhausted
        {
            stop_reason = Some((RunState::BudgetExhausted, e.message.clone()));
        }
        let done = cx.steps.iter().filter(|s| s.state.is_settled()).count();
        p.emit(Event {
            run_id: cx.run.id.clone(),
            done,
            total,
            message: format!("{}: {}", step.def.key, cx.steps[i].state),
            finished: false,
        });
        task(p, &cx.run, "task_heartbeat", json!({"detail": format!("{} {}", step.def.key, cx.steps[i].state)})).await;
    }
    let (state, why) = outcome(&cx, stop_reason.as_ref());
    p.store.set_state(&cx.run.id, state, Some(&why)).await?;
    let outcome_name = match state {
        RunState::Succeeded | RunState::Cancelled => state.as_str(),
        _ => "failed",
    };
    task(p, &cx.run, "task_finish", json!({"outcome": outcome_name, "result": {"state": state, "reason": why}})).await;
    info!(run_id = %cx.run.id, state = %state, reason = %why, secs = cx.started.elapsed().as_secs_f64(), "run finished");
    p.emit(Event { run_id: cx.run.id.clone(), done: total, total, message: format!("run {state}"), finished: true });
    Ok(())
}

/// The run's final state and why, from its steps.
fn outcome(cx: &Ctx<'_>, stop: Option<&(RunState, String)>) -> (RunState, String) {
    if let Some((state, why)) = stop {
        return (*state, why.clone());
    }
    // After a restart the stop is known from what it left behind.
    if cx.run.cancel_requested {
        return (RunState::Cancelled, "cancelled on request".into());
    }
    // A step a person did not approve (its error says by whom and why) ended the run.
    if let Some(s) =
        cx.steps.iter().find(|s| s.state == StepState::Skipped && s.error_kind == Some(ErrorKind::Forbidden))
    {
        return (RunState::Cancelled, gate::run_reason(&s.def.title, s.error.as_deref().unwrap_or("not approved")));
    }
    if let Some(s) = cx.steps.iter().find(|s| s.error_kind == Some(ErrorKind::BudgetExhausted)) {
        return (RunState::BudgetExhausted, s.error.clone().unwrap_or_default());
    }
    if let Some(s) = cx.steps.iter().find(|s| s.state == StepState::Failed && s.def.action != Action::Report) {
        return (RunState::Failed, format!("{} failed: {}", s.def.title, s.error.as_deref().unwrap_or("")));
    }
    let (passed, lines) = cx.checks();
    if !passed {
        return (RunState::Failed, format!("the checks did not pass ({})", lines.join("; ").replace("- ", "")));
    }
    // A delivery whose GitLab pipeline did not pass: the release is pushed, GitLab's checks failed.
    let delivered =
        cx.steps.iter().find(|s| matches!(s.def.action, Action::Deliver { .. })).and_then(|s| cx.result_of(&s.def.key));
    if let Some(d) = delivered.filter(|d| d["passed"] == false) {
        return (
            RunState::Failed,
            format!("the GitLab pipeline did not pass: {}", d["summary"].as_str().unwrap_or("")),
        );
    }
    // A deployment that answered but is not healthy: the release is tagged, the service does not run.
    let deploy = cx.steps.iter().find(|s| matches!(s.def.action, Action::Deploy { .. }));
    let deployed = deploy.and_then(|s| cx.result_of(&s.def.key));
    if let Some(d) = deployed.filter(|d| d["passed"] == false) {
        return (RunState::Failed, format!("the deployment is not healthy: {}", d["summary"].as_str().unwrap_or("")));
    }
    let mut why = "built, lint clean, tests passing".to_owned();
    if cx.result_of("pipeline").is_some_and(|r| r["passed"] == true) {
        why.push_str(", CI pipeline passing");
    }
    why.push_str(", tagged");
    if let Some(d) = delivered {
        why.push_str(&format!(", pushed to GitLab with pipeline #{} passing", d["pipeline"]["id"]));
    }
    if let Some(d) = deployed {
        let at = d["addresses"][0].as_str().map(|a| format!(" at {a}")).unwrap_or_default();
        why.push_str(&format!(", deployed to {}{at}", d["environment"].as_str().unwrap_or("dev")));
    }
    (RunState::Succeeded, why)
}

/// Why a step skipped because there was nothing for it to do: its dependents go on.
const NOT_NEEDED: &str = "not needed: ";

/// Why a step cannot run, if it cannot.
fn blocked(cx: &Ctx<'_>, def: &StepDef) -> Option<String> {
    for d in &def.deps {
        let dep = cx.state_of(d);
        match dep.map(|s| s.state) {
            Some(StepState::Succeeded) => {}
            Some(StepState::Skipped)
                if dep.and_then(|s| s.error.as_deref()).is_some_and(|e| e.starts_with(NOT_NEEDED)) => {}
            Some(other) => return Some(format!("it needs {d}, which {other}")),
            None => return Some(format!("it needs {d}, which is not in the plan")),
        }
    }
    // The plan's two conditional steps: a release is tagged only when the
    // checks pass, and the fix loop runs only when they do not.
    match &def.action {
        Action::Tag { .. } if !cx.checks().0 => Some(
            if cx.result_of("pipeline").is_some_and(|r| r["passed"] == false) {
                "the project's CI pipeline did not pass, so there is no release to tag"
            } else {
                "lint or tests did not pass, so there is no release to tag"
            }
            .into(),
        ),
        Action::Fix { .. } if cx.checks().0 => Some(format!("{NOT_NEEDED}lint and tests already pass")),
        // Only a service that answers its health check has a page to show.
        Action::Screenshot { environment } if !deployed_healthy(cx, environment) => {
            Some(format!("{NOT_NEEDED}the {environment} deployment is not healthy"))
        }
        _ => None,
    }
}

/// Whether the deployment to `environment` recorded a healthy service.
fn deployed_healthy(cx: &Ctx<'_>, environment: &str) -> bool {
    cx.steps
        .iter()
        .find(|s| matches!(&s.def.action, Action::Deploy { environment: e } if e == environment))
        .and_then(|s| cx.result_of(&s.def.key))
        .is_some_and(|r| r["passed"] == true)
}

/// Skip a step, saying why; a stop (budget, cancellation) also records its kind.
async fn skip(cx: &mut Ctx<'_>, i: usize, why: &str, kind: Option<ErrorKind>) -> Result<(), RunError> {
    let run_id = cx.run.id.clone();
    cx.p.store.finish_step(&run_id, cx.steps[i].idx, StepState::Skipped, None, Some(why), kind).await?;
    cx.steps[i].state = StepState::Skipped;
    cx.steps[i].error = Some(why.to_owned());
    cx.steps[i].error_kind = kind;
    Ok(())
}

/// Run one step to its end: attempts with backoff while the failure is
/// retryable, each checkpointed; cancellation interrupts.
async fn attempt(cx: &mut Ctx<'_>, i: usize) -> Result<Result<Value, StepError>, RunError> {
    let def = cx.steps[i].def.clone();
    let idx = cx.steps[i].idx;
    let run_id = cx.run.id.clone();
    let mut tries = 0;
    loop {
        tries += 1;
        let n = cx.p.store.begin_attempt(&run_id, idx).await?;
        cx.steps[i].state = StepState::Running;
        cx.steps[i].attempts = n;
        cx.run.steps_used += 1;
        let span = tracing::info_span!(
            "step",
            otel.name = %format!("step {}", def.key),
            plan.step = %def.key,
            plan.attempt = n,
            gen_ai.conversation.id = %cx.run.request.request_id,
        );
        let timeout = Duration::from_secs(def.timeout_secs.max(1));
        let cancel = cancel_watch(cx.p, &run_id);
        let r = tokio::select! {
            r = tokio::time::timeout(timeout, crate::actions::run(cx, &def)).instrument(span) => match r {
                Ok(r) => r,
                Err(_) => Err(StepError::of(
                    ErrorKind::TimedOut,
                    format!("{} timed out after {} s", def.title, timeout.as_secs()),
                )),
            },
            () = cancel, if def.action != Action::Report => Err(StepError::of(ErrorKind::Cancelled, "cancelled on request")),
        };
        // The attempt's span has ended: export it now, so a planner killed later keeps its trace so far.
        mcp_core::trace::flush_spans(Duration::from_secs(2)).await;
        match r {
            Ok(v) => {
                cx.p.store.finish_step(&run_id, idx, StepState::Succeeded, Some(&v), None, None).await?;
                cx.steps[i].state = StepState::Succeeded;
                cx.steps[i].result = Some(v.clone());
                cx.steps[i].error = None;
                info!(step = %def.key, attempt = n, "step succeeded");
                return Ok(Ok(v));
            }
            Err(e) if e.retryable() && tries < def.retry.max_attempts && cx.budget_left().is_ok() => {
                let wait = mcp_core::client::Backoff::new(
                    Duration::from_millis(def.retry.base_ms),
                    Duration::from_millis(def.retry.max_ms.max(def.retry.base_ms)),
                )
                .delay(tries);
                warn!(step = %def.key, attempt = n, error = %e, wait_ms = wait.as_millis() as u64, "step failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                warn!(step = %def.key, attempt = n, error = %e, "step failed");
                cx.p.store.finish_step(&run_id, idx, StepState::Failed, None, Some(&e.message), Some(e.kind)).await?;
                cx.steps[i].state = StepState::Failed;
                cx.steps[i].error = Some(e.message.clone());
                cx.steps[i].error_kind = Some(e.kind);
                return Ok(Err(e));
            }
        }
    }
}

/// Resolves when cancellation of the run is requested.
async fn cancel_watch(p: &Planner, run_id: &str) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if p.store.cancel_requested(run_id).await.unwrap_or(false) {
            return;
        }
    }
}

/// Best-effort task record in the log server (monitoring, not state).
async fn task(p: &Planner, run: &Run, tool: &str, mut args: Value) {
    let Some(log) = &p.peers.log else { return };
    args["id"] = json!(format!("plan:{}", run.id));
    if tool == "task_start" {
        args["trace_id"] = json!(run.trace_id);
    }
    if let Err(e) = log.call(tool, args).await {
        tracing::debug!(tool, error = %e, "task record not written");
    }
}
