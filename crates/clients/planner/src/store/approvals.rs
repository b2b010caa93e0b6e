//! The approvals table: one approval per run and step, created idempotently
//! on that pair, decided at most once by a conditional UPDATE (two deciders
//! racing cannot both win), and expired lazily — every read first expires
//! what is due, so a list never shows as pending an approval whose time has
//! passed, even while no planner runs the gate that waits on it.

use mcp_core::db::sqlx::Row;
use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::{decode, encode};
use mcp_types::approval::{Approval, ApprovalDecision, ApprovalDetail, ApprovalState};

use super::{Store, StoreError, state};

/// An approval as stored (times in Unix ms; the contract's [`Approval`] has them as RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    /// `ap-` and 12 hex digits.
    pub id: String,
    /// Run.
    pub run_id: String,
    /// The run's request id.
    pub request_id: String,
    /// Step key.
    pub step: String,
    /// Action kind.
    pub action: String,
    /// What the step will do.
    pub summary: String,
    /// Who may answer by email.
    pub approvers: Vec<String>,
    /// Where it is.
    pub state: ApprovalState,
    /// Asked, Unix ms.
    pub requested_ms: i64,
    /// Expires, Unix ms.
    pub expires_ms: i64,
    /// Decided or expired, Unix ms.
    pub decided_ms: Option<i64>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The run's trace.
    pub trace_id: Option<String>,
}

impl ApprovalRow {
    /// The contract type.
    pub fn contract(&self) -> Approval {
        Approval {
            id: self.id.clone(),
            run_id: self.run_id.clone(),
            request_id: self.request_id.clone(),
            step: self.step.clone(),
            action: self.action.clone(),
            summary: self.summary.clone(),
            state: self.state,
            requested_at: mcp_core::clock::rfc3339_ms(self.requested_ms),
            expires_at: mcp_core::clock::rfc3339_ms(self.expires_ms),
            decided_at: self.decided_ms.map(mcp_core::clock::rfc3339_ms),
            decided_by: self.decided_by.clone(),
            reason: self.reason.clone(),
            trace_id: self.trace_id.clone(),
        }
    }

    /// The contract type with its approvers (`approval_get`).
    pub fn detail(&self) -> ApprovalDetail {
        ApprovalDetail { approval: self.contract(), approvers: self.approvers.clone() }
    }
}

/// An approval to create.
pub struct NewApproval<'a> {
    /// Run.
    pub run_id: &'a str,
    /// The run's request id.
    pub request_id: &'a str,
    /// Step key.
    pub step: &'a str,
    /// Action kind.
    pub action: &'a str,
    /// What the step will do.
    pub summary: &'a str,
    /// Who may answer by email.
    pub approvers: &'a [String],
    /// How long it waits, ms.
    pub timeout_ms: i64,
    /// The run's trace.
    pub trace_id: Option<&'a str>,
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Decided now.
    Now(ApprovalRow),
    /// It already had this decision: the approval as it stands (a repeat is not an error).
    Already(ApprovalRow),
    /// It was decided otherwise, or expired: the approval as it stands.
    Conflict(ApprovalRow),
    /// No such approval.
    NotFound,
}

const COLUMNS: &str = "id, run_id, request_id, step, action, summary, approvers, state, requested_ms, expires_ms, \
                       decided_ms, decided_by, reason, trace_id";

fn row(r: &AnyRow) -> Result<ApprovalRow, StoreError> {
    Ok(ApprovalRow {
        id: r.get(0),
        run_id: r.get(1),
        request_id: r.get(2),
        step: r.get(3),
        action: r.get(4),
        summary: r.get(5),
        approvers: decode("approvers", &r.get::<String, _>(6))?,
        state: state("approval state", &r.get::<String, _>(7))?,
        requested_ms: r.get(8),
        expires_ms: r.get(9),
        decided_ms: r.get(10),
        decided_by: r.get(11),
        reason: r.get(12),
        trace_id: r.get(13),
    })
}

/// The id of the approval of a run's step: derived from the pair, so the
/// same gate always names the same approval (and its email the same token).
/// Lowercase hex after `ap-`, so the email server's reply token carries it
/// literally and the reply address stays short.
pub fn approval_id(run_id: &str, step: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{run_id}\0{step}").as_bytes());
    format!("ap-{}", h.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

impl Store {
    /// The approval of a run's step, created pending if there is none yet.
    pub async fn approval_create(&self, n: NewApproval<'_>) -> Result<ApprovalRow, StoreError> {
        let now = mcp_core::clock::now_ms();
        let id = approval_id(n.run_id, n.step);
        self.db
            .query(
                "INSERT INTO planner_approvals (id, run_id, request_id, step, action, summary, approvers, state, \
                 requested_ms, expires_ms, trace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) \
                 ON CONFLICT (run_id, step) DO NOTHING",
            )
            .bind(id.clone())
            .bind(n.run_id.to_owned())
            .bind(n.request_id.to_owned())
            .bind(n.step.to_owned())
            .bind(n.action.to_owned())
            .bind(n.summary.to_owned())
            .bind(encode(&n.approvers))
            .bind(now)
            .bind(now + n.timeout_ms)
            .bind(n.trace_id.map(str::to_owned))
            .execute(self.db.writer())
            .await?;
        self.approval(&id).await?.ok_or(StoreError::Corrupt("approval", "vanished".into()))
    }

    /// An approval by id (expired first if due).
    pub async fn approval(&self, id: &str) -> Result<Option<ApprovalRow>, StoreError> {
        self.expire_due(mcp_core::clock::now_ms()).await?;
        let q = format!("SELECT {COLUMNS} FROM planner_approvals WHERE id = $1");
        let r = mcp_core::db::sqlx::query(mcp_core::db::sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(id.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// Approvals, newest first, optionally in one state and of one run.
    pub async fn approvals(
        &self,
        state: Option<ApprovalState>,
        run_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        self.expire_due(mcp_core::clock::now_ms()).await?;
        let q = format!(
            "SELECT {COLUMNS} FROM planner_approvals WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR run_id = $2) \
             ORDER BY requested_ms DESC, id LIMIT $3"
        );
        let rows = mcp_core::db::sqlx::query(mcp_core::db::sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(state.map(|s| s.as_str().to_owned()))
            .bind(run_id.map(str::to_owned))
            .bind(limit)
            .fetch_all(self.db.writer())
            .await?;
        rows.iter().map(row).collect()
    }

    /// Decide a pending approval. One conditional UPDATE, so of two
    /// deciders exactly one wins; the loser reads what stands.
    pub async fn approval_decide(
        &self,
        id: &str,
        decision: ApprovalDecision,
        by: &str,
        reason: Option<&str>,
    ) -> Result<Decided, StoreError> {
        let now = mcp_core::clock::now_ms();
        self.expire_due(now).await?;
        let n = self
            .db
            .query(
                "UPDATE planner_approvals SET state = $1, decided_ms = $2, decided_by = $3, reason = $4 \
                 WHERE id = $5 AND state = 'pending' AND expires_ms > $2",
            )
            .bind(decision.state().as_str().to_owned())
            .bind(now)
            .bind(by.to_owned())
            .bind(reason.map(str::to_owned))
            .bind(id.to_owned())
            .execute(self.db.writer())
            .await?
            .rows_affected();
        let Some(a) = self.approval(id).await? else { return Ok(Decided::NotFound) };
        Ok(if n == 1 {
            Decided::Now(a)
        } else if a.state == decision.state() {
            Decided::Already(a)
        } else {
            Decided::Conflict(a)
        })
    }

    /// Expire every pending approval whose time has passed; how many.
    pub async fn expire_due(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self
            .db
            .query(
                "UPDATE planner_approvals SET state = 'expired', decided_ms = expires_ms, \
                 reason = COALESCE(reason, 'nobody decided before it expired') \
                 WHERE state = 'pending' AND expires_ms <= $1",
            )
            .bind(now)
            .execute(self.db.writer())
            .await?
            .rows_affected())
    }

    /// Expire a run's pending approval of a step now, saying why (the run
    /// was cancelled or stopped while it waited): nobody can decide it any more.
    pub async fn approval_close(&self, id: &str, why: &str) -> Result<(), StoreError> {
        self.db
            .query(
                "UPDATE planner_approvals SET state = 'expired', decided_ms = $1, reason = $2 \
                 WHERE id = $3 AND state = 'pending'",
            )
            .bind(mcp_core::clock::now_ms())
            .bind(why.to_owned())
            .bind(id.to_owned())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Time a run has spent waiting for people, ms: the wall budget leaves it out.
    pub async fn approval_wait_ms(&self, run_id: &str, now: i64) -> Result<i64, StoreError> {
        let rows = self
            .db
            .query("SELECT requested_ms, decided_ms FROM planner_approvals WHERE run_id = $1")
            .bind(run_id.to_owned())
            .fetch_all(self.db.writer())
            .await?;
        Ok(rows.iter().map(|r| (r.get::<Option<i64>, _>(1).unwrap_or(now) - r.get::<i64, _>(0)).max(0)).sum())
    }
}
