//! The executor: claims runs with a lease, hands each to the step engine
//! (`engine`: attempts, retries, timeouts, budgets, cancellation, the
//! outcome, the approval gate in `gate`) and tells `plan_wait` what
//! happened ([`Event`]). What a step
//! *does* is not here but in `actions/`, one module per action.
//!
//! A planner killed at any instant leaves every step settled, pending, or
//! marked running; whoever claims the run next runs a running step again.
//! That is safe because every action is idempotent (each action's module
//! says how), so no file, commit, tag, email or decision happens twice.

mod ctx;
mod engine;
mod gate;

use std::sync::Arc;
use std::time::Duration;

use mcp_core::tracing::{self, Instrument, warn};

pub(crate) use ctx::Ctx;

use crate::Planner;

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
        r = engine::execute(p, run).instrument(span) => r,
        () = lost.cancelled() => Err(RunError::LostLease),
    };
    renew.abort();
    r
}
