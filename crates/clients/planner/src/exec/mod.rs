//! The executor: claims runs, walks their steps in order, checkpoints every
//! attempt, retries what is worth retrying, enforces budgets, honours
//! cancellation, and always ends with the report.
//!
//! Idempotency, step by step, for a planner killed at any instant and
//! restarted (the interrupted step runs again):
//! - scaffold: files are written whole (atomic writes); an existing project
//!   folder is only reused when its `SPEC.md` names this request;
//! - git init: a no-op on an existing repository;
//! - commits: a commit with the step's summary already in the history is
//!   the step's result, so no step commits twice;
//! - commands: install, build, lint and test are repeatable by nature;
//! - tag: an existing tag of that name is the result;
//! - report: the email goes out with the idempotency key `<run>/report`, so
//!   the mail server sends it once; the decision is recorded only if the
//!   decision log does not have it yet.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_core::ErrorKind;
use mcp_core::tracing::{self, Instrument, info, warn};
use serde_json::{Value, json};

use crate::Planner;
use crate::peers::StepError;
use crate::plan::{Action, StepDef};
use crate::spec::one_line;
use crate::store::{Run, RunState, Step, StepState};
use crate::templates::render;

/// How long a claim on a run lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(30);

/// A change worth telling `plan_wait` about.
#[derive(Debug, Clone)]
pub struct Event {
    /// Run.
    pub run_id: String,
    /// Steps finished so far.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
    /// What happened.
    pub message: String,
    /// The run is over.
    pub finished: bool,
}

/// Claim and run work until cancelled.
pub async fn run_loop(p: Arc<Planner>) {
    loop {
        if let Err(e) = claim_some(&p).await {
            warn!(error = %e, "claiming runs failed");
        }
        tokio::select! {
            () = p.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn claim_some(p: &Arc<Planner>) -> Result<(), crate::store::StoreError> {
    let free = p.config.concurrency.saturating_sub(p.active_count());
    if free == 0 {
        return Ok(());
    }
    let now = mcp_core::clock::now_ms();
    for id in p.store.claimable(&p.config.instance, now, free as i64 * 2).await? {
        if p.active_count() >= p.config.concurrency || p.is_active(&id) {
            continue;
        }
        if p.store.claim(&id, &p.config.instance, now, now + LEASE.as_millis() as i64).await? {
            p.set_active(&id, true);
            let p2 = p.clone();
            tokio::spawn(async move {
                let id2 = id.clone();
                if let Err(e) = run_one(&p2, &id).await {
                    warn!(run_id = %id2, error = %e, "run stopped on an error; it resumes on the next claim");
                }
                p2.set_active(&id2, false);
                p2.wake.notify_one();
            });
        }
    }
    Ok(())
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The checkpoint store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Another planner took the run over.
    #[error("lost the lease on the run")]
    LostLease,
}

async fn run_one(p: &Arc<Planner>, id: &str) -> Result<(), RunError> {
    let Some(run) = p.store.run(id).await? else { return Ok(()) };
    let span = tracing::info_span!(
        "plan",
        otel.name = %format!("plan {}", run.slug),
        otel.kind = "internal",
        gen_ai.operation.name = "plan",
        gen_ai.conversation.id = %run.request.request_id,
        plan.run_id = %run.id,
        project = %run.slug,
    );
    mcp_core::trace::resume(&span, run.traceparent.as_deref());
    // Renew the lease while the run works; losing it stops the run.
    let lost = tokio_util::sync::CancellationToken::new();
    let renew = {
        let (p, id, lost) = (p.clone(), id.to_owned(), lost.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE / 3).await;
                let now = mcp_core::clock::now_ms();
                match p.store.claim(&id, &p.config.instance, now, now + LEASE.as_millis() as i64).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.cancel();
                        return;
                    }
                    Err(e) => warn!(run_id = %id, error = %e, "lease renewal failed"),
                }
            }
        })
    };
    let r = tokio::select! {
        r = execute(p, run).instrument(span) => r,
        () = lost.cancelled() => Err(RunError::LostLease),
    };
    renew.abort();
    r
}

/// What the run has done so far, for conditions, budgets and the report.
struct Ctx<'a> {
    p: &'a Planner,
    run: Run,
    steps: Vec<Step>,
    started: Instant,
}

impl Ctx<'_> {
    fn state_of(&self, key: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.def.key == key)
    }

    fn result_of(&self, key: &str) -> Option<&Value> {
        self.state_of(key).filter(|s| s.state == StepState::Succeeded).and_then(|s| s.result.as_ref())
    }

    /// Whether lint and tests passed, and a line for each.
    fn checks(&self) -> (bool, Vec<String>) {
        // The fix loop's last round wins over the first lint and test.
        let fixed = self.result_of("fix");
        let mut all = true;
        let mut lines = Vec::new();
        for phase in ["lint", "test"] {
            let r = fixed.and_then(|f| f.get(phase)).or_else(|| self.result_of(phase));
            match r {
                Some(r) => {
                    let passed = r["passed"].as_bool().unwrap_or(false);
                    all &= passed;
                    let summary = r["summary"].as_str().unwrap_or("");
                    lines.push(format!("- {phase}: {} {summary}", if passed { "passed" } else { "FAILED" }));
                }
                None => {
                    all = false;
                    lines.push(format!("- {phase}: not run"));
                }
            }
        }
        (all, lines)
    }

    fn budget_left(&self) -> Result<(), String> {
        let b = self.run.budget;
        if self.run.steps_used >= i64::from(b.max_steps) {
            return Err(format!("the step budget ({} attempts) is used up", b.max_steps));
        }
        let wall = (mcp_core::clock::now_ms() - self.run.created_ms).max(0) as u64 / 1000;
        if wall >= b.max_wall_secs {
            return Err(format!("the time budget ({} s) is used up", b.max_wall_secs));
        }
        if self.run.tokens_used >= b.max_tokens as i64 {
            return Err(format!("the LLM token budget ({}) is used up", b.max_tokens));
        }
        Ok(())
    }
}

async fn execute(p: &Arc<Planner>, run: Run) -> Result<(), RunError> {
    let steps = p.store.steps(&run.id).await?;
    let total = steps.len();
    info!(run_id = %run.id, steps = total, state = %run.state, "run claimed");
    task(p, &run, "task_start", json!({"name": "plan", "project": run.slug, "detail": "started"})).await;
    let mut cx = Ctx { p, run, steps, started: Instant::now() };
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
    (RunState::Succeeded, "built, lint clean, tests passing, tagged".into())
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
    match &def.action {
        Action::Tag { .. } if !cx.checks().0 => {
            Some("lint or tests did not pass, so there is no release to tag".into())
        }
        Action::Fix { .. } if cx.checks().0 => Some(format!("{NOT_NEEDED}lint and tests already pass")),
        _ => None,
    }
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
            r = tokio::time::timeout(timeout, do_step(cx, &def)).instrument(span) => match r {
                Ok(r) => r,
                Err(_) => Err(StepError::of(
                    ErrorKind::TimedOut,
                    format!("{} timed out after {} s", def.title, timeout.as_secs()),
                )),
            },
            () = cancel, if def.action != Action::Report => Err(StepError::of(ErrorKind::Cancelled, "cancelled on request")),
        };
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

async fn do_step(cx: &mut Ctx<'_>, def: &StepDef) -> Result<Value, StepError> {
    match &def.action {
        Action::Scaffold => scaffold(cx).await,
        Action::GitInit => {
            Ok(cx.p.peers.git.call("git_init", json!({"repo": cx.run.slug, "initial_branch": "main"})).await?)
        }
        Action::Commit { summary } => commit(cx, &def.key, summary).await,
        Action::Command { phase } => command(cx, phase).await,
        Action::Implement => llm(cx, "llm_implement", json!({})).await,
        Action::Fix { rounds } => fix(cx, *rounds).await,
        Action::Tag { name } => tag(cx, name).await,
        Action::Report => report(cx).await,
    }
}

/// Template values, made safe for every file type (see `templates/README.md`).
fn vars(cx: &Ctx<'_>) -> Result<BTreeMap<&'static str, String>, StepError> {
    let s = &cx.run.spec;
    let list = |items: &[String], empty: &str| {
        if items.is_empty() {
            format!("- {empty}")
        } else {
            items.iter().map(|f| format!("- {}", one_line(f, 300))).collect::<Vec<_>>().join("\n")
        }
    };
    let module = s.module().map_err(|e| StepError::fatal(e.to_string()))?;
    Ok(BTreeMap::from([
        ("name", one_line(&s.name, 100)),
        ("slug", cx.run.slug.clone()),
        ("module", module),
        ("summary", one_line(&s.summary, 300)),
        ("language", s.language.clone()),
        ("kind", s.kind.clone()),
        ("template", cx.run.template.clone()),
        ("delivery", s.delivery.clone()),
        ("request_id", cx.run.request.request_id.clone()),
        ("trace_id", cx.run.trace_id.clone().unwrap_or_else(|| "-".into())),
        ("features", list(&s.features, "(as summarised above)")),
        ("acceptance", list(&s.acceptance, "The generated tests pass.")),
        ("requester", one_line(cx.run.request.requester.as_deref().unwrap_or("unknown"), 200)),
        ("requested_at", cx.run.request.received_at.clone().unwrap_or_else(mcp_core::clock::now_rfc3339)),
    ]))
}

async fn scaffold(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let slug = cx.run.slug.clone();
    let fs = &cx.p.peers.fs;
    let marker = format!("| Request | {} |", cx.run.request.request_id);
    if fs.call("stat", json!({"path": slug})).await.is_ok() {
        // Resuming (or a name clash): the folder is ours only if its
        // SPEC.md names this request.
        let spec = fs.call("read_file", json!({"path": format!("{slug}/SPEC.md")})).await.ok();
        let ours = spec.as_ref().and_then(|v| v["content"].as_str()).is_some_and(|c| c.contains(&marker));
        if !ours {
            return Err(StepError::fatal(format!(
                "projects/{slug} already exists and belongs to another request; ask for another project name"
            )));
        }
    }
    let template =
        cx.p.templates
            .projects
            .get(&cx.run.template)
            .ok_or_else(|| StepError::fatal(format!("template {} is gone", cx.run.template)))?;
    let vars = vars(cx)?;
    let spec_md = render(&cx.p.templates.spec, &vars).map_err(|e| StepError::fatal(format!("SPEC.md.tmpl: {e}")))?;
    fs.call("write_file", json!({"path": format!("{slug}/SPEC.md"), "content": spec_md, "create_parents": true}))
        .await?;
    let mut written = vec!["SPEC.md".to_owned()];
    for (rel, content) in &template.files {
        let path = rel.replace("__module__", &vars["module"]);
        let body = render(content, &vars).map_err(|e| StepError::fatal(format!("{}/{rel}: {e}", template.name)))?;
        fs.call("write_file", json!({"path": format!("{slug}/{path}"), "content": body, "create_parents": true}))
            .await?;
        written.push(path);
    }
    Ok(json!({"template": template.name, "files": written}))
}

async fn commit(cx: &mut Ctx<'_>, key: &str, summary: &str) -> Result<Value, StepError> {
    let repo = cx.run.slug.clone();
    let git = &cx.p.peers.git;
    let status = git.call("git_status", json!({"repo": repo, "include_untracked": true})).await?;
    if status["head"].is_string() {
        let log = git.call("git_log", json!({"repo": repo, "max_count": 200})).await?;
        if let Some(c) = log["commits"].as_array().into_iter().flatten().find(|c| c["summary"] == summary) {
            return Ok(json!({"commit": c["id"], "short_id": c["short_id"], "already": true}));
        }
        if status["clean"] == true {
            return Ok(json!({"commit": null, "short_id": status["head"], "nothing_to_commit": true}));
        }
    }
    git.call("git_add", json!({"repo": repo, "all": true})).await?;
    let message = format!(
        "{summary}\n\nPlan-Step: {}/{key}\nRequest: {}\nTrace: {}",
        cx.run.id,
        cx.run.request.request_id,
        cx.run.trace_id.as_deref().unwrap_or("-")
    );
    let c = git.call("git_commit", json!({"repo": repo, "message": message})).await?;
    Ok(json!({"commit": c["commit"]["id"], "short_id": c["commit"]["short_id"], "files_changed": c["files_changed"]}))
}

/// Last non-empty line of a command's output: pytest's and cargo's summaries.
fn summary_line(out: &str) -> String {
    out.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| one_line(l, 160)).unwrap_or_default()
}

fn tail(s: &str, n: usize) -> String {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    s[i..].to_owned()
}

/// Run a phase's commands; for checks the result says whether they passed.
async fn run_phase(cx: &Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    let template =
        cx.p.templates
            .projects
            .get(&cx.run.template)
            .ok_or_else(|| StepError::fatal(format!("template {} is gone", cx.run.template)))?;
    let check = matches!(phase, "lint" | "test");
    let mut passed = true;
    let mut results = Vec::new();
    let mut last_summary = String::new();
    let timeout = cx.p.config.command_timeout.as_secs();
    for argv in template.manifest.commands.get(phase).into_iter().flatten() {
        let r =
            cx.p.peers.shell.call("run", json!({"argv": argv, "cwd": cx.run.slug, "timeout_secs": timeout})).await?;
        let ok = r["success"] == true;
        let out = format!("{}{}", r["stdout"].as_str().unwrap_or(""), r["stderr"].as_str().unwrap_or(""));
        last_summary = summary_line(r["stdout"].as_str().filter(|s| !s.trim().is_empty()).unwrap_or(&out));
        results.push(json!({
            "argv": argv, "exit_code": r["exit_code"], "status": r["status"], "duration_ms": r["duration_ms"],
            "summary": last_summary, "output_tail": tail(&out, 4000),
        }));
        if !ok {
            passed = false;
            if !check {
                return Err(StepError::fatal(format!(
                    "{phase}: `{}` failed ({}): {}",
                    argv.join(" "),
                    r["reason"].as_str().map_or_else(|| format!("exit code {}", r["exit_code"]), str::to_owned),
                    tail(&out, 1500)
                )));
            }
            break;
        }
    }
    Ok(json!({"phase": phase, "passed": passed, "summary": last_summary, "commands": results}))
}

async fn command(cx: &mut Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    run_phase(cx, phase).await
}

/// Call an LLM step on the agent and count its tokens.
async fn llm(cx: &mut Ctx<'_>, tool: &str, extra: Value) -> Result<Value, StepError> {
    let agent = cx.p.peers.agent.as_ref().ok_or_else(|| StepError::fatal("no llm-agent is configured"))?;
    let left = (cx.run.budget.max_tokens as i64 - cx.run.tokens_used).max(0);
    if left == 0 {
        return Err(StepError::of(
            ErrorKind::BudgetExhausted,
            format!("the LLM token budget ({}) is used up", cx.run.budget.max_tokens),
        ));
    }
    let mut args = json!({
        "project": cx.run.slug, "spec": cx.run.spec, "request_id": cx.run.request.request_id, "max_tokens": left,
    });
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            a.insert(k.clone(), v.clone());
        }
    }
    let r = agent.call(tool, args).await?;
    let used = r["usage"]["input_tokens"].as_i64().unwrap_or(0) + r["usage"]["output_tokens"].as_i64().unwrap_or(0);
    if used > 0 {
        cx.p.store.add_tokens(&cx.run.id, used).await.map_err(|e| StepError::transient(e.to_string()))?;
        cx.run.tokens_used += used;
    }
    Ok(r)
}

async fn fix(cx: &mut Ctx<'_>, rounds: u32) -> Result<Value, StepError> {
    let mut lint = cx.result_of("lint").cloned().unwrap_or(Value::Null);
    let mut test = cx.result_of("test").cloned().unwrap_or(Value::Null);
    let mut history = Vec::new();
    for round in 1..=rounds {
        let failing = if test["passed"] == false { &test } else { &lint };
        let output: String = failing["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["output_tail"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let phase = failing["phase"].as_str().unwrap_or("test").to_owned();
        let r = llm(cx, "llm_fix", json!({"failure": {"phase": phase, "output": output}})).await?;
        history.push(json!({"round": round, "phase": phase, "summary": r["summary"]}));
        lint = run_phase(cx, "lint").await?;
        test = run_phase(cx, "test").await?;
        if lint["passed"] == true && test["passed"] == true {
            return Ok(json!({"rounds": round, "passed": true, "lint": lint, "test": test, "history": history}));
        }
    }
    Ok(json!({"rounds": rounds, "passed": false, "lint": lint, "test": test, "history": history}))
}

async fn tag(cx: &mut Ctx<'_>, name: &str) -> Result<Value, StepError> {
    let repo = cx.run.slug.clone();
    let git = &cx.p.peers.git;
    let listed = git.call("git_tag", json!({"repo": repo, "action": "list", "pattern": name})).await?;
    if let Some(t) = listed["tags"].as_array().into_iter().flatten().find(|t| t["name"] == name) {
        return Ok(json!({"tag": name, "commit": t["commit"], "already": true}));
    }
    let message = format!("{name}: {}\n\nRequest: {}", one_line(&cx.run.spec.name, 100), cx.run.request.request_id);
    let r = git.call("git_tag", json!({"repo": repo, "action": "create", "name": name, "message": message})).await?;
    Ok(json!({"tag": name, "commit": r["tags"][0]["commit"]}))
}

async fn report(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let mut v = vars(cx)?;
    let state = cx.run.state;
    let reason = cx.run.reason.clone().unwrap_or_default();
    let location = cx
        .result_of("git_init")
        .and_then(|r| r["path"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("projects/{}", cx.run.slug));
    let commit = cx
        .result_of("commit_work")
        .and_then(|r| r["short_id"].as_str())
        .or_else(|| cx.result_of("commit_scaffold").and_then(|r| r["short_id"].as_str()))
        .unwrap_or("none")
        .to_owned();
    let commit_full = cx
        .result_of("commit_work")
        .and_then(|r| r["commit"].as_str())
        .or_else(|| cx.result_of("commit_scaffold").and_then(|r| r["commit"].as_str()))
        .map(str::to_owned);
    let tag = cx.result_of("tag").and_then(|r| r["tag"].as_str()).unwrap_or("not tagged").to_owned();
    let (_, checks) = cx.checks();
    let line = |s: &Step| {
        let mark = match s.state {
            StepState::Succeeded => "done",
            StepState::Failed => "FAILED",
            other => other.as_str(),
        };
        let why = s.error.as_deref().map(|e| format!(" ({})", one_line(e, 200))).unwrap_or_default();
        format!("- {}: {mark}{why}", s.def.title)
    };
    let others: Vec<&Step> = cx.steps.iter().filter(|s| s.def.action != Action::Report).collect();
    v.insert("location", location.clone());
    v.insert("commit", commit_full.clone().map_or(commit.clone(), |f| format!("{commit} ({f})")));
    v.insert("tag", tag.clone());
    v.insert("checks", checks.join("\n"));
    v.insert("steps", others.iter().map(|s| line(s)).collect::<Vec<_>>().join("\n"));
    v.insert("reason", one_line(&reason, 600));
    v.insert(
        "done",
        others.iter().filter(|s| s.state == StepState::Succeeded).map(|s| line(s)).collect::<Vec<_>>().join("\n"),
    );
    let not_done: Vec<String> = others.iter().filter(|s| s.state != StepState::Succeeded).map(|s| line(s)).collect();
    v.insert("not_done", if not_done.is_empty() { "- nothing".into() } else { not_done.join("\n") });
    v.insert(
        "location_line",
        if cx.result_of("scaffold").is_some() { format!("What exists is in {location}.") } else { String::new() },
    );
    let which = if state == RunState::Succeeded { "completed" } else { "failed" };
    let text =
        render(&cx.p.templates.email[which], &v).map_err(|e| StepError::fatal(format!("email/{which}.txt: {e}")))?;
    let subject = cx.run.request.subject.clone().unwrap_or_else(|| format!("Your project {}", cx.run.spec.name));
    let key = format!("{}/report", cx.run.id);
    let mut out = json!({"state": state, "reason": reason, "commit": commit_full, "tag": tag, "location": location});
    // The email, once.
    let sent = match (&cx.p.peers.email, &cx.run.request.reply_to, &cx.run.request.requester) {
        (Some(email), Some(id), _) => Some(
            email
                .call(
                    "reply",
                    json!({"id": id, "text": text, "request_id": cx.run.request.request_id, "idempotency_key": key}),
                )
                .await?,
        ),
        (Some(email), None, Some(to)) => Some(
            email
                .call(
                    "send",
                    json!({"to": [to], "subject": format!("Re: {subject}"), "text": text,
                           "request_id": cx.run.request.request_id, "idempotency_key": key}),
                )
                .await?,
        ),
        _ => None,
    };
    match &sent {
        Some(s) => {
            out["email"] = json!({"message_id": s["message_id"], "to": s["to"], "duplicate": s["duplicate"]});
            if s["duplicate"] != true
                && let Some(sql) = &cx.p.peers.sql
            {
                let _ = sql
                    .call(
                        "message_record",
                        json!({"direction": "out", "channel": "email", "project": cx.run.slug,
                               "thread_id": cx.run.request.request_id, "message_id": s["message_id"],
                               "to_addr": s["to"][0], "subject": s["subject"], "body": text,
                               "trace_id": cx.run.trace_id}),
                    )
                    .await
                    .map_err(|e| warn!(error = %e, "message not recorded"));
            }
        }
        None => out["email"] = json!({"sent": false, "why": "no email server or nobody to answer; see plan_status"}),
    }
    out["text"] = json!(text);
    // The decision, once.
    if let Some(sql) = &cx.p.peers.sql {
        let decision = match state {
            RunState::Succeeded => "completed",
            other => other.as_str(),
        };
        let existing = sql
            .call(
                "decision_list",
                json!({"project": cx.run.slug, "actor": crate::NAME, "decision": decision, "trace_id": cx.run.trace_id}),
            )
            .await?;
        if existing["items"].as_array().is_none_or(|a| a.is_empty()) {
            sql.call(
                "decision_record",
                json!({"project": cx.run.slug, "trace_id": cx.run.trace_id, "actor": crate::NAME, "decision": decision,
                       "rationale": reason, "inputs": {"request_id": cx.run.request.request_id, "run_id": cx.run.id},
                       "outputs": {"commit": commit_full, "tag": tag, "location": location, "checks": checks}}),
            )
            .await?;
        }
    }
    Ok(out)
}
