//! The approval gate: a step named in `PLANNER_APPROVAL_STEPS` (by key or
//! action kind) waits for a person before its first attempt.
//!
//! The gate creates the step's approval (one per run and step, so a planner
//! restarted mid-wait finds the same one and waits on), records the request
//! in the decision log and mails the approvers — both under idempotency keys
//! the servers keep, so a repeat after a crash sends nothing twice — marks
//! the step `awaiting_approval`, and then polls the store once a second:
//! no thread is held, the run's lease is renewed by the executor meanwhile,
//! cancellation and the budgets are checked on every poll. Approved: the
//! step runs. Denied or expired: the step is skipped as *stopped* (kind
//! `forbidden`, not a failure) and the run ends, its report saying by whom
//! and why. The waiting itself does not count against the wall-time budget
//! (`Ctx::waited_ms`): that budget bounds the planner's work, and
//! `PLANNER_APPROVAL_TIMEOUT` bounds the wait.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mcp_core::ErrorKind;
use mcp_core::tracing::{info, warn};
use mcp_types::approval::ApprovalState;
use mcp_types::peer::DecisionRecord;
use mcp_types::request::Lang;
use serde_json::json;

use super::{Ctx, Event, RunError};
use crate::spec::one_line;
use crate::store::{ApprovalRow, NewApproval, RunState, StepState};

/// How often the gate looks at the approval.
const POLL: Duration = Duration::from_secs(1);
/// How often a notification that failed transiently (email or sql away) is tried again while waiting.
const RENOTIFY: Duration = Duration::from_secs(30);

/// What the gate decided.
pub(super) enum Gate {
    /// Approved: run the step.
    Go,
    /// The step does not run and the run ends.
    Stop {
        /// The run's final state.
        state: RunState,
        /// Why the run ended (the report's reason).
        run_why: String,
        /// Why the step did not run (its record).
        step_why: String,
        /// The step's error kind.
        kind: ErrorKind,
    },
}

/// Why a stopped step did not run, from its approval.
fn refused_because(a: &ApprovalRow) -> String {
    let reason = a.reason.as_deref().map(|r| one_line(r, 300));
    match a.state {
        ApprovalState::Denied => match reason {
            Some(r) => format!("denied by {}: {r}", a.decided_by.as_deref().unwrap_or("someone")),
            None => format!("denied by {} (no reason given)", a.decided_by.as_deref().unwrap_or("someone")),
        },
        _ => format!(
            "not approved in time (the approval expired at {} without a decision)",
            mcp_core::clock::rfc3339_ms(a.expires_ms)
        ),
    }
}

/// The run's reason when a step was not approved: the same words before
/// and after a restart, where `engine::outcome` rebuilds it from the step.
pub(super) fn run_reason(title: &str, step_why: &str) -> String {
    format!("the step \"{title}\" needed approval and was {step_why}")
}

/// Wait at step `i` for its approval.
pub(super) async fn wait(cx: &mut Ctx<'_>, i: usize) -> Result<Gate, RunError> {
    let def = cx.steps[i].def.clone();
    let idx = cx.steps[i].idx;
    let run_id = cx.run.id.clone();
    let approvers: Vec<String> = if cx.p.config.approval.approvers.is_empty() {
        cx.run.request.requester.iter().map(|r| r.to_ascii_lowercase()).collect()
    } else {
        cx.p.config.approval.approvers.clone()
    };
    let summary = format!("{} (project {})", def.title, cx.run.slug);
    let a =
        cx.p.store
            .approval_create(NewApproval {
                run_id: &run_id,
                request_id: &cx.run.request.request_id,
                step: &def.key,
                action: def.action.kind(),
                summary: &summary,
                approvers: &approvers,
                timeout_ms: cx.p.config.approval.timeout.as_millis() as i64,
                trace_id: cx.run.trace_id.as_deref(),
            })
            .await?;
    if a.state == ApprovalState::Pending {
        cx.p.store.await_approval(&run_id, idx).await?;
        cx.steps[i].state = StepState::AwaitingApproval;
        info!(run_id = %run_id, step = %def.key, approval_id = %a.id, "step waits for approval");
        cx.p.emit(Event {
            run_id: run_id.clone(),
            done: cx.steps.iter().filter(|s| s.state.is_settled()).count(),
            total: cx.steps.len(),
            message: format!("{}: awaiting approval {}", def.key, a.id),
            finished: false,
        });
    }
    let (mut recorded, mut mailed) = (false, false);
    let mut last_try: Option<Instant> = None;
    // The run's waiting before this approval: what `Ctx::waited_ms` held, less this approval's share
    // (counted there when the run resumed mid-wait), so the loop below can add that share as it grows.
    let share = |a: &ApprovalRow| (a.decided_ms.unwrap_or_else(mcp_core::clock::now_ms) - a.requested_ms).max(0);
    let base_wait = (cx.waited_ms - share(&a)).max(0);
    loop {
        let Some(a) = cx.p.store.approval(&a.id).await? else {
            return Err(RunError::Store(crate::store::StoreError::Corrupt("approval", "vanished".into())));
        };
        cx.waited_ms = base_wait + share(&a);
        match a.state {
            ApprovalState::Approved => {
                record(cx, &a, "approved").await;
                info!(run_id = %run_id, step = %def.key, approval_id = %a.id, by = ?a.decided_by, "step approved");
                return Ok(Gate::Go);
            }
            ApprovalState::Denied | ApprovalState::Expired => {
                let name = if a.state == ApprovalState::Denied { "denied" } else { "approval_expired" };
                record(cx, &a, name).await;
                let step_why = refused_because(&a);
                info!(run_id = %run_id, step = %def.key, approval_id = %a.id, why = %step_why, "step not approved");
                return Ok(Gate::Stop {
                    state: RunState::Cancelled,
                    run_why: run_reason(&def.title, &step_why),
                    step_why,
                    kind: ErrorKind::Forbidden,
                });
            }
            ApprovalState::Pending => {}
        }
        // The request goes out once; a notification that failed for a reason that may pass is tried again.
        if !(recorded && mailed) && last_try.is_none_or(|t| t.elapsed() >= RENOTIFY) {
            last_try = Some(Instant::now());
            recorded = recorded || record(cx, &a, "approval_requested").await;
            mailed = mailed || mail(cx, &a).await;
        }
        if let Some(r) = cx.p.store.run(&run_id).await? {
            cx.run = r;
        }
        let stop = if cx.run.cancel_requested {
            Some((RunState::Cancelled, ErrorKind::Cancelled, "cancelled on request".to_owned()))
        } else {
            cx.budget_left().err().map(|why| (RunState::BudgetExhausted, ErrorKind::BudgetExhausted, why))
        };
        if let Some((state, kind, why)) = stop {
            // Nobody may decide it any more: the step will not run in this run.
            cx.p.store.approval_close(&a.id, &format!("the run stopped while it waited: {why}")).await?;
            return Ok(Gate::Stop { state, run_why: why.clone(), step_why: why, kind });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A decision-log entry about the approval (best effort: the approval
/// itself is in the planner's store and every tool shows it). True when it
/// is on record or retrying cannot help.
async fn record(cx: &Ctx<'_>, a: &ApprovalRow, decision: &str) -> bool {
    let Some(sql) = &cx.p.peers.sql else { return true };
    let by = a.decided_by.as_deref().unwrap_or("someone");
    let rationale = match a.state {
        ApprovalState::Pending => format!(
            "step {} needs a person's approval (PLANNER_APPROVAL_STEPS); asked {} until {}",
            a.step,
            if a.approvers.is_empty() { "through the gateway".to_owned() } else { a.approvers.join(", ") },
            mcp_core::clock::rfc3339_ms(a.expires_ms)
        ),
        ApprovalState::Approved => match a.reason.as_deref() {
            Some(r) => format!("approved by {by}: {}", one_line(r, 300)),
            None => format!("approved by {by}"),
        },
        ApprovalState::Denied | ApprovalState::Expired => refused_because(a),
    };
    let record = DecisionRecord {
        project: Some(cx.run.slug.clone()),
        trace_id: cx.run.trace_id.clone(),
        actor: crate::NAME.into(),
        decision: decision.into(),
        rationale: Some(rationale),
        inputs: Some(json!({"request_id": cx.run.request.request_id, "run_id": cx.run.id, "step": a.step,
                            "approval_id": a.id})),
        outputs: Some(json!({"state": a.state, "decided_by": a.decided_by, "approvers": a.approvers,
                             "expires_at": mcp_core::clock::rfc3339_ms(a.expires_ms)})),
        idempotency_key: Some(format!("{}/{}/decision/approval/{}/{decision}", crate::NAME, cx.run.id, a.step)),
    };
    match sql.call("decision_record", json!(record)).await {
        Ok(_) => true,
        Err(e) if e.kind == ErrorKind::Conflict => true,
        Err(e) => {
            warn!(error = %e, decision, approval_id = %a.id, "approval decision not recorded");
            !e.kind.is_transient()
        }
    }
}

/// The approval email to the approvers, in the request's language, with a
/// signed reply token for the approval's id (the email server makes the
/// Reply-To; the agent maps the answer back by it). True when it is sent,
/// or when retrying cannot help (no email server, nobody to ask, refused).
async fn mail(cx: &Ctx<'_>, a: &ApprovalRow) -> bool {
    let Some(email) = &cx.p.peers.email else { return true };
    if a.approvers.is_empty() {
        info!(approval_id = %a.id, "no email approvers (no requester, PLANNER_APPROVERS unset): decide through the gateway");
        return true;
    }
    let pl = cx.run.request.lang == Lang::Pl;
    let english = cx.state_of(&a.step).map_or_else(|| a.step.clone(), |s| s.def.title.clone());
    let title = if pl { crate::actions::polish_title(&a.step, &english) } else { english };
    let vars = BTreeMap::from([
        ("name", one_line(&cx.run.spec.name, 100)),
        ("slug", cx.run.slug.clone()),
        ("step", a.step.clone()),
        ("title", title.clone()),
        ("approval_id", a.id.clone()),
        ("expires_at", mcp_core::clock::rfc3339_ms(a.expires_ms)),
        ("requester", one_line(cx.run.request.requester.as_deref().unwrap_or("unknown"), 200)),
        ("request_id", cx.run.request.request_id.clone()),
        ("trace_id", cx.run.trace_id.clone().unwrap_or_else(|| "-".into())),
    ]);
    let which = if pl { "pl/approval" } else { "approval" };
    let text = match crate::templates::render(&cx.p.templates.email[which], &vars) {
        Ok(t) => t,
        Err(e) => {
            warn!(error = %e, "email/{which}.txt does not render; no approval email");
            return true;
        }
    };
    let subject = match pl {
        true => format!("Prośba o zatwierdzenie: {title} ({})", cx.run.slug),
        false => format!("Approval needed: {title} ({})", cx.run.slug),
    };
    let args = json!({"to": a.approvers, "subject": subject, "text": text, "request_id": a.id,
                      "idempotency_key": format!("{}/approval/{}", cx.run.id, a.step)});
    match email.call("send", args).await {
        Ok(s) => {
            info!(approval_id = %a.id, duplicate = %s["duplicate"], "approval email sent");
            true
        }
        // Sent before under the key: the first email stands.
        Err(e) if e.kind == ErrorKind::Conflict => true,
        Err(e) => {
            warn!(error = %e, approval_id = %a.id, "approval email not sent; the approval can be decided through the gateway");
            !e.kind.is_transient()
        }
    }
}
