//! The background loop: the stall watch (gauge and a warning per newly
//! stalled task) every few seconds, and retention (by age, then by count,
//! in bounded batches so ingest is never blocked for long) every minute.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_core::db::sqlx::{self, Row};
use mcp_core::tracing::{info, warn};

use crate::Log;
use crate::tools::tasks;

/// Rows deleted per statement.
const BATCH: i64 = 10_000;
/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

/// Run until cancelled.
pub async fn run(s: Arc<Log>) {
    // Half the threshold, so a stall is noticed at most 1.5x the threshold
    // after the last heartbeat, within 250 ms..5 s.
    let tick = (s.config.stall / 2).clamp(Duration::from_millis(250), Duration::from_secs(5));
    let mut known: HashSet<String> = HashSet::new();
    let mut last_prune: Option<Instant> = None;
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = watch_stalls(&s, &mut known).await {
            warn!(error = %e, "stall watch failed");
        }
        if last_prune.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
            last_prune = Some(Instant::now());
            match prune(&s).await {
                Ok(0) => {}
                Ok(n) => info!(lines = n, "retention removed old log lines"),
                Err(e) => warn!(error = %e, "retention failed"),
            }
        }
    }
}

/// Update the gauge and warn once about each task that has newly stalled.
pub async fn watch_stalls(s: &Log, known: &mut HashSet<String>) -> Result<(), sqlx::Error> {
    let n = tasks::count_stalled(s).await?;
    s.metrics.stalled.set(n);
    let cutoff = mcp_core::clock::now_ms() - s.config.stall.as_millis() as i64;
    let rows =
        s.db.query(
            "SELECT id, name, project, trace_id, heartbeat_ms FROM tasks \
             WHERE state = 'running' AND heartbeat_ms < $1 ORDER BY heartbeat_ms LIMIT 1000",
        )
        .bind(cutoff)
        .fetch_all(s.db.reader())
        .await?;
    let mut now_stalled = HashSet::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.get(0);
        if !known.contains(&id) {
            let name: String = r.get(1);
            let project: Option<String> = r.get(2);
            let trace: Option<String> = r.get(3);
            let heartbeat: i64 = r.get(4);
            warn!(
                task_id = %id, task = %name, project = project.as_deref().unwrap_or(""),
                task_trace_id = trace.as_deref().unwrap_or(""),
                silent_secs = (mcp_core::clock::now_ms() - heartbeat) / 1000,
                "task stalled: no heartbeat within the threshold"
            );
        }
        now_stalled.insert(id);
    }
    *known = now_stalled;
    Ok(())
}

/// Remove lines past the age limit, then the oldest beyond the row limit,
/// then finished tasks past the age limit. Returns lines removed.
pub async fn prune(s: &Log) -> Result<u64, sqlx::Error> {
    let db = &s.db;
    let cutoff = mcp_core::clock::now_ms() - s.config.retention.as_millis() as i64;
    let mut removed = 0;
    loop {
        let n = db
            .query(
                "DELETE FROM log_lines WHERE id IN (SELECT id FROM log_lines WHERE ts_ms < $1 ORDER BY ts_ms LIMIT $2)",
            )
            .bind(cutoff)
            .bind(BATCH)
            .execute(db.writer())
            .await?
            .rows_affected();
        removed += n;
        if n < BATCH as u64 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let keep_from: Option<i64> = db
        .query("SELECT id FROM log_lines ORDER BY id DESC LIMIT 1 OFFSET $1")
        .bind(s.config.max_rows.max(1) - 1)
        .fetch_optional(db.reader())
        .await?
        .map(|r| r.get(0));
    if let Some(first_kept) = keep_from {
        loop {
            let n = db
                .query(
                    "DELETE FROM log_lines WHERE id IN (SELECT id FROM log_lines WHERE id < $1 ORDER BY id LIMIT $2)",
                )
                .bind(first_kept)
                .bind(BATCH)
                .execute(db.writer())
                .await?
                .rows_affected();
            removed += n;
            if n < BATCH as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    db.query("DELETE FROM tasks WHERE state <> 'running' AND finished_ms < $1")
        .bind(cutoff)
        .execute(db.writer())
        .await?;
    s.metrics.pruned.inc_by(removed);
    Ok(removed)
}
