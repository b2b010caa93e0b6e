//! Checkpoints: runs and steps in the database. Every state change is
//! written before the planner acts on it, so a planner killed at any point
//! finds, on restart, each step either done (with its result), not started,
//! or marked running (interrupted: run again, and idempotent by design).
//! Approvals, which steps wait for, are in [`approvals`].

mod approvals;

pub use approvals::{ApprovalRow, Decided, NewApproval, approval_id};
use mcp_core::ErrorKind;
use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Db, decode, encode};
pub use mcp_types::plan::{RunState, StepState};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::config::Budget;
use crate::plan::StepDef;
use crate::schema::MIGRATIONS;
use crate::spec::{ProjectSpec, RequestRef};

/// Storage errors: the shared database error (connection, query, a stored document that does not parse).
pub use mcp_core::db::DbError as StoreError;

/// A run as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Run {
    /// Run id.
    pub id: String,
    /// The request it serves (one run per request).
    pub request_id: String,
    /// Project folder under projects/.
    pub slug: String,
    /// Template used.
    pub template: String,
    /// The spec.
    pub spec: ProjectSpec,
    /// The request.
    pub request: RequestRef,
    /// Its budget.
    pub budget: Budget,
    /// Where it is.
    pub state: RunState,
    /// Why it ended as it did.
    pub reason: Option<String>,
    /// The trace it runs under.
    pub trace_id: Option<String>,
    #[serde(skip)]
    /// The W3C traceparent of the call that started it.
    pub traceparent: Option<String>,
    /// Step attempts used.
    pub steps_used: i64,
    /// LLM tokens used.
    pub tokens_used: i64,
    /// Cancellation requested.
    pub cancel_requested: bool,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Last change, Unix ms.
    pub updated_ms: i64,
    /// Finished, Unix ms.
    pub finished_ms: Option<i64>,
}

/// A step as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Step {
    /// Position.
    pub idx: i64,
    /// Its definition.
    pub def: StepDef,
    /// Where it is.
    pub state: StepState,
    /// Attempts made.
    pub attempts: i64,
    /// Started (last attempt), Unix ms.
    pub started_ms: Option<i64>,
    /// Finished, Unix ms.
    pub finished_ms: Option<i64>,
    /// What it produced.
    pub result: Option<Value>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// Why it failed, as data.
    pub error_kind: Option<ErrorKind>,
    /// While it is `awaiting_approval`: the pending approval's id, for `approval_decide` (not stored; `plan_status`
    /// fills it in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// The store.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

const RUN_COLUMNS: &str = "id, request_id, slug, template, spec, request, budget, state, reason, trace_id, traceparent, \
                           steps_used, tokens_used, cancel_requested, created_ms, updated_ms, finished_ms";

fn run_from(r: &AnyRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: r.get(0),
        request_id: r.get(1),
        slug: r.get(2),
        template: r.get(3),
        spec: decode("spec", &r.get::<String, _>(4))?,
        request: decode("request", &r.get::<String, _>(5))?,
        budget: decode("budget", &r.get::<String, _>(6))?,
        state: state("run state", &r.get::<String, _>(7))?,
        reason: r.get(8),
        trace_id: r.get(9),
        traceparent: r.get(10),
        steps_used: r.get(11),
        tokens_used: r.get(12),
        cancel_requested: r.get::<i64, _>(13) != 0,
        created_ms: r.get(14),
        updated_ms: r.get(15),
        finished_ms: r.get(16),
    })
}

fn step_from(r: &AnyRow) -> Result<Step, StoreError> {
    let result: Option<String> = r.get(6);
    Ok(Step {
        idx: r.get(0),
        def: decode("step", &r.get::<String, _>(1))?,
        state: state("step state", &r.get::<String, _>(2))?,
        attempts: r.get(3),
        started_ms: r.get(4),
        finished_ms: r.get(5),
        result: result.map(|s| decode("step result", &s)).transpose()?,
        error: r.get(7),
        error_kind: r.get::<Option<String>, _>(8).as_deref().and_then(ErrorKind::parse),
        approval_id: None,
    })
}

/// A state column's text as its enum; anything else is a corrupt row.
fn state<T: std::str::FromStr<Err = mcp_types::UnknownValue>>(what: &'static str, s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|e: mcp_types::UnknownValue| StoreError::Corrupt(what, e.to_string()))
}

/// A run to create.
pub struct NewRun<'a> {
    /// Run id.
    pub id: &'a str,
    /// The spec, checked.
    pub spec: &'a ProjectSpec,
    /// The request.
    pub request: &'a RequestRef,
    /// Slug.
    pub slug: &'a str,
    /// Template name.
    pub template: &'a str,
    /// Budget.
    pub budget: Budget,
    /// Trace.
    pub trace_id: Option<&'a str>,
    /// Traceparent of the starting call.
    pub traceparent: Option<&'a str>,
    /// The plan.
    pub steps: &'a [StepDef],
}

impl Store {
    /// Connect and migrate.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self { db: Db::connect(url, "planner", MIGRATIONS).await? })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Create a run with its steps, unless the request already has one:
    /// returns the request's run and whether it was created now.
    pub async fn create(&self, n: NewRun<'_>) -> Result<(Run, bool), StoreError> {
        let now = mcp_core::clock::now_ms();
        let mut tx = self.db.writer().begin().await?;
        let created = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(
            "INSERT INTO planner_runs (id, request_id, slug, template, spec, request, budget, state, trace_id, traceparent, \
             steps_used, tokens_used, cancel_requested, lease_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, 0, 0, 0, 0, $10, $10) ON CONFLICT (request_id) DO NOTHING",
        ).into_owned()))
        .bind(n.id.to_owned())
        .bind(n.request.request_id.clone())
        .bind(n.slug.to_owned())
        .bind(n.template.to_owned())
        .bind(encode(n.spec))
        .bind(encode(n.request))
        .bind(encode(&n.budget))
        .bind(n.trace_id.map(str::to_owned))
        .bind(n.traceparent.map(str::to_owned))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if created {
            for (i, s) in n.steps.iter().enumerate() {
                sqlx::query(sqlx::AssertSqlSafe(
                    self.db
                        .sql("INSERT INTO planner_steps (run_id, idx, key, def, state, attempts) VALUES ($1, $2, $3, $4, 'pending', 0)")
                        .into_owned(),
                ))
                .bind(n.id.to_owned())
                .bind(i as i64)
                .bind(s.key.clone())
                .bind(encode(s))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        let run = self.by_request(&n.request.request_id).await?.ok_or(StoreError::Corrupt("run", "vanished".into()))?;
        Ok((run, created))
    }

    /// Another request's run that uses this project folder, if any.
    pub async fn slug_taken(
        &self,
        slug: &str,
        request_id: &str,
        requester: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let rows = self
            .db
            .query("SELECT request_id, state, request FROM planner_runs WHERE slug = $1 AND request_id <> $2")
            .bind(slug.to_owned())
            .bind(request_id.to_owned())
            .fetch_all(self.db.writer())
            .await?;
        for r in rows {
            let other: String = r.get(0);
            let state: Option<RunState> = r.get::<String, _>(1).parse().ok();
            let theirs: Option<RequestRef> = serde_json::from_str(&r.get::<String, _>(2)).ok();
            // A project whose runs all ended without success may be built again by the same requester
            // ("please try again", or the same request sent again): a new run of the same project.
            let ended_badly = matches!(state, Some(RunState::Failed | RunState::Cancelled | RunState::BudgetExhausted));
            let same_requester = match (requester, theirs.as_ref().and_then(|t| t.requester.as_deref())) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            };
            if !(ended_badly && same_requester) {
                return Ok(Some(other));
            }
        }
        Ok(None)
    }

    /// Whether `request_id` has a run on `slug` (the folder's `SPEC.md`
    /// names the request that made it).
    pub async fn has_run_on(&self, request_id: &str, slug: &str) -> Result<bool, StoreError> {
        let row = self
            .db
            .query("SELECT id FROM planner_runs WHERE request_id = $1 AND slug = $2")
            .bind(request_id.to_owned())
            .bind(slug.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        Ok(row.is_some())
    }

    /// A run by id.
    pub async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        let q = format!("SELECT {RUN_COLUMNS} FROM planner_runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(id.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        row.as_ref().map(run_from).transpose()
    }

    /// The run of a request.
    pub async fn by_request(&self, request_id: &str) -> Result<Option<Run>, StoreError> {
        let q = format!("SELECT {RUN_COLUMNS} FROM planner_runs WHERE request_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(request_id.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        row.as_ref().map(run_from).transpose()
    }

    /// Runs, latest first, optionally in one state.
    pub async fn list(&self, state: Option<RunState>, limit: i64) -> Result<Vec<Run>, StoreError> {
        let q = format!(
            "SELECT {RUN_COLUMNS} FROM planner_runs WHERE ($1 IS NULL OR state = $1) ORDER BY created_ms DESC, id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(state.map(|s| s.as_str().to_owned()))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(run_from).collect()
    }

    /// A run's steps, in order.
    pub async fn steps(&self, run_id: &str) -> Result<Vec<Step>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT idx, def, state, attempts, started_ms, finished_ms, result, error, error_kind FROM planner_steps \
                 WHERE run_id = $1 ORDER BY idx",
            )
            .bind(run_id.to_owned())
            .fetch_all(self.db.writer())
            .await?;
        rows.iter().map(step_from).collect()
    }

    /// Runs this instance may take: unfinished, and unowned, ours, or with
    /// an expired lease. Oldest first.
    pub async fn claimable(&self, owner: &str, now: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id FROM planner_runs WHERE state IN ('queued', 'running') \
                 AND (owner IS NULL OR owner = $1 OR lease_ms < $2) ORDER BY created_ms LIMIT $3",
            )
            .bind(owner.to_owned())
            .bind(now)
            .bind(limit)
            .fetch_all(self.db.writer())
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Take (or renew) the lease on a run. False when another live owner holds it.
    /// One conditional UPDATE: two planners can never both win.
    pub async fn claim(&self, id: &str, owner: &str, now: i64, lease_until: i64) -> Result<bool, StoreError> {
        let n = self
            .db
            .query(
                "UPDATE planner_runs SET owner = $1, lease_ms = $2 WHERE id = $3 AND state IN ('queued', 'running') \
                 AND (owner IS NULL OR owner = $1 OR lease_ms < $4)",
            )
            .bind(owner.to_owned())
            .bind(lease_until)
            .bind(id.to_owned())
            .bind(now)
            .execute(self.db.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Set a run's state (and reason; final states set `finished_ms` and drop the lease).
    pub async fn set_state(&self, id: &str, state: RunState, reason: Option<&str>) -> Result<(), StoreError> {
        let now = mcp_core::clock::now_ms();
        let finished = state.is_final().then_some(now);
        self.db
            .query(
                "UPDATE planner_runs SET state = $1, reason = COALESCE($2, reason), updated_ms = $3, \
                 finished_ms = COALESCE($4, finished_ms), owner = CASE WHEN $4 IS NULL THEN owner ELSE NULL END \
                 WHERE id = $5",
            )
            .bind(state.as_str().to_owned())
            .bind(reason.map(str::to_owned))
            .bind(now)
            .bind(finished)
            .bind(id.to_owned())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Begin an attempt of a step: state running, attempts + 1, and one
    /// more step counted against the run's budget, in one transaction.
    pub async fn begin_attempt(&self, run_id: &str, idx: i64) -> Result<i64, StoreError> {
        let now = mcp_core::clock::now_ms();
        let mut tx = self.db.writer().begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(
            self.db
                .sql("UPDATE planner_steps SET state = 'running', attempts = attempts + 1, started_ms = $1 WHERE run_id = $2 AND idx = $3")
                .into_owned(),
        ))
        .bind(now)
        .bind(run_id.to_owned())
        .bind(idx)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(
            self.db
                .sql("UPDATE planner_runs SET steps_used = steps_used + 1, updated_ms = $1, state = 'running' WHERE id = $2")
                .into_owned(),
        ))
        .bind(now)
        .bind(run_id.to_owned())
        .execute(&mut *tx)
        .await?;
        let attempts: i64 = sqlx::query(sqlx::AssertSqlSafe(
            self.db.sql("SELECT attempts FROM planner_steps WHERE run_id = $1 AND idx = $2").into_owned(),
        ))
        .bind(run_id.to_owned())
        .bind(idx)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        tx.commit().await?;
        Ok(attempts)
    }

    /// Record a step's outcome.
    pub async fn finish_step(
        &self,
        run_id: &str,
        idx: i64,
        state: StepState,
        result: Option<&Value>,
        error: Option<&str>,
        error_kind: Option<ErrorKind>,
    ) -> Result<(), StoreError> {
        self.db
            .query(
                "UPDATE planner_steps SET state = $1, result = $2, error = $3, error_kind = $4, finished_ms = $5 \
                 WHERE run_id = $6 AND idx = $7",
            )
            .bind(state.as_str().to_owned())
            .bind(result.map(encode))
            .bind(error.map(str::to_owned))
            .bind(error_kind.map(|k| k.as_str().to_owned()))
            .bind(mcp_core::clock::now_ms())
            .bind(run_id.to_owned())
            .bind(idx)
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Record what a running step has done so far (the pipeline the deliver
    /// step created), in its result column, so that the next attempt — after
    /// a crash or a retryable failure — picks it up instead of doing it again.
    /// The step's outcome replaces it; a step that is not running keeps what
    /// it has.
    pub async fn note_step(&self, run_id: &str, idx: i64, note: &Value) -> Result<(), StoreError> {
        self.db
            .query("UPDATE planner_steps SET result = $1 WHERE run_id = $2 AND idx = $3 AND state = 'running'")
            .bind(Some(encode(note)))
            .bind(run_id.to_owned())
            .bind(idx)
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Mark a step as waiting for approval (before its first attempt; `begin_attempt` moves it on).
    pub async fn await_approval(&self, run_id: &str, idx: i64) -> Result<(), StoreError> {
        self.db
            .query("UPDATE planner_steps SET state = 'awaiting_approval' WHERE run_id = $1 AND idx = $2")
            .bind(run_id.to_owned())
            .bind(idx)
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Count LLM tokens against the run.
    pub async fn add_tokens(&self, run_id: &str, n: i64) -> Result<(), StoreError> {
        self.db
            .query("UPDATE planner_runs SET tokens_used = tokens_used + $1 WHERE id = $2")
            .bind(n)
            .bind(run_id.to_owned())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Ask a run to stop. False when it is already over.
    pub async fn request_cancel(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .db
            .query("UPDATE planner_runs SET cancel_requested = 1 WHERE id = $1 AND state IN ('queued', 'running')")
            .bind(id.to_owned())
            .execute(self.db.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Whether cancellation was requested.
    pub async fn cancel_requested(&self, id: &str) -> Result<bool, StoreError> {
        let v: i64 = self
            .db
            .query("SELECT cancel_requested FROM planner_runs WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(self.db.writer())
            .await?
            .get(0);
        Ok(v != 0)
    }
}
