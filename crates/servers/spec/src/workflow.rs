//! The spec workflow in the database: specs, their three documents
//! (requirements → design → tasks) with a state each, and the events that
//! moved them (who wrote, submitted, decided, with what comment).
//!
//! The rules, each enforced inside one write transaction with a conditional
//! update (so two callers racing cannot both win, on SQLite's single writer
//! or PostgreSQL alike):
//! - a document may be written only when the one before it is `approved`,
//!   and only while it is new, `draft`, `changes_requested` or `rejected`
//!   (every write is a new revision in `draft`);
//! - `spec_submit` moves `draft` → `pending_approval`; the text cannot change
//!   while it waits;
//! - a decision moves `pending_approval` → `approved`, `changes_requested` or
//!   `rejected`; deciding the same way again returns the document as it is,
//!   another decision on a decided document is a conflict.
//!
//! Tables carry the `spec_` prefix: in compose every service shares one
//! PostgreSQL database.

use mcp_core::ToolError;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Db, Migration};
use mcp_types::documents::{DocumentState, SpecDecision, WorkflowDocument};
use schemars::JsonSchema;
use serde::Serialize;

const V1: &str = r#"
CREATE TABLE spec_specs (
  name TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE spec_documents (
  spec TEXT NOT NULL,
  document TEXT NOT NULL,
  state TEXT NOT NULL,
  revision BIGINT NOT NULL,
  content TEXT NOT NULL,
  source TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_ms BIGINT NOT NULL,
  decided_by TEXT,
  comment TEXT,
  decided_at TEXT,
  PRIMARY KEY (spec, document)
);
CREATE INDEX spec_documents_state ON spec_documents (state, updated_ms);
CREATE TABLE spec_events (
  spec TEXT NOT NULL,
  document TEXT NOT NULL,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  revision BIGINT NOT NULL,
  actor TEXT NOT NULL,
  comment TEXT,
  at TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX spec_events_spec ON spec_events (spec, at_ms);
"#;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] =
    &[Migration { version: 1, name: "specs, documents, events", sqlite: V1, postgres: V1 }];

/// Longest spec name.
const MAX_SPEC: usize = 64;

/// Whether `name` is a spec name (`[a-z0-9][a-z0-9_-]*`, at most 64).
pub fn check_spec_name(name: &str) -> Result<(), ToolError> {
    if crate::engine::valid_name(name) && name.len() <= MAX_SPEC {
        Ok(())
    } else {
        Err(ToolError::invalid("spec must be a name like `user-login` ([a-z0-9][a-z0-9_-]*, at most 64)"))
    }
}

fn db_err(e: sqlx::Error) -> ToolError {
    ToolError::internal(e)
}

/// A document as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocRow {
    /// requirements, design or tasks.
    pub document: WorkflowDocument,
    /// Its state.
    pub state: DocumentState,
    /// Revision (1 for the first text; each write adds one).
    pub revision: u64,
    /// What made the text: `template:<name> (builtin|user)`, `caller` or `model:<name>`.
    pub source: String,
    /// Who wrote the current revision.
    pub updated_by: String,
    /// When (RFC 3339).
    pub updated_at: String,
    /// Who decided last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The decision's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The text (left out of listings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// A spec as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SpecRow {
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// One event.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Event {
    /// The document.
    pub document: String,
    /// `write`, `submit`, `approve`, `request_changes`, `reject`, `task`.
    pub action: String,
    /// The state after it.
    pub state: String,
    /// The revision it concerned.
    pub revision: u64,
    /// Who.
    pub actor: String,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When.
    pub at: String,
}

const DOC_COLUMNS: &str =
    "document, state, revision, source, updated_by, updated_at, decided_by, comment, decided_at, content";

fn doc_row(r: &sqlx::any::AnyRow, with_content: bool) -> Result<DocRow, ToolError> {
    let document: String = r.get(0);
    let state: String = r.get(1);
    Ok(DocRow {
        document: WorkflowDocument::parse(&document)
            .ok_or_else(|| ToolError::internal(format!("stored document {document:?}")))?,
        state: DocumentState::parse(&state).ok_or_else(|| ToolError::internal(format!("stored state {state:?}")))?,
        revision: r.get::<i64, _>(2).max(0) as u64,
        source: r.get(3),
        updated_by: r.get(4),
        updated_at: r.get(5),
        decided_by: r.get(6),
        comment: r.get(7),
        decided_at: r.get(8),
        content: with_content.then(|| r.get(9)),
    })
}

/// The spec, if it exists.
pub async fn spec(db: &Db, name: &str) -> Result<Option<SpecRow>, ToolError> {
    let row = db
        .query("SELECT name, title, created_by, created_at FROM spec_specs WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(db.reader())
        .await
        .map_err(db_err)?;
    Ok(row.map(|r| SpecRow { name: r.get(0), title: r.get(1), created_by: r.get(2), created_at: r.get(3) }))
}

/// The spec or the error saying it does not exist.
pub async fn need_spec(db: &Db, name: &str) -> Result<SpecRow, ToolError> {
    check_spec_name(name)?;
    spec(db, name)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("no spec named {name}: create it with spec_create")))
}

/// Create a spec; `false` when it already existed (with the same title: the call is repeated).
pub async fn create(db: &Db, name: &str, title: &str, by: &str) -> Result<bool, ToolError> {
    let (at, ms) = mcp_core::clock::now_pair();
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let existing = db
        .query("SELECT title FROM spec_specs WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    if let Some(r) = existing {
        let t: String = r.get(0);
        if t == title {
            return Ok(false);
        }
        return Err(ToolError::conflict(format!("spec {name} already exists with another title ({t:?})")));
    }
    db.query("INSERT INTO spec_specs (name, title, created_by, created_at, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(name.to_owned())
        .bind(title.to_owned())
        .bind(by.to_owned())
        .bind(at)
        .bind(ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// The spec's documents in workflow order (with their text when asked).
pub async fn documents(db: &Db, spec: &str, with_content: bool) -> Result<Vec<DocRow>, ToolError> {
    let sql = format!("SELECT {DOC_COLUMNS} FROM spec_documents WHERE spec = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(db.sql(&sql).into_owned()))
        .bind(spec.to_owned())
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    let mut docs = rows.iter().map(|r| doc_row(r, with_content)).collect::<Result<Vec<_>, _>>()?;
    docs.sort_by_key(|d| d.document);
    Ok(docs)
}

/// One document.
pub async fn document(db: &Db, spec: &str, doc: WorkflowDocument) -> Result<Option<DocRow>, ToolError> {
    Ok(documents(db, spec, true).await?.into_iter().find(|d| d.document == doc))
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
async fn event(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    spec: &str,
    doc: WorkflowDocument,
    action: &str,
    state: DocumentState,
    revision: u64,
    actor: &str,
    comment: Option<&str>,
) -> Result<(), ToolError> {
    let (at, ms) = mcp_core::clock::now_pair();
    db.query(
        "INSERT INTO spec_events (spec, document, action, state, revision, actor, comment, at, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(spec.to_owned())
    .bind(doc.as_str())
    .bind(action.to_owned())
    .bind(state.as_str())
    .bind(revision as i64)
    .bind(actor.to_owned())
    .bind(comment.map(str::to_owned))
    .bind(at)
    .bind(ms)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn state_of(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    spec: &str,
    doc: WorkflowDocument,
) -> Result<Option<(DocumentState, u64)>, ToolError> {
    let row = db
        .query("SELECT state, revision FROM spec_documents WHERE spec = $1 AND document = $2")
        .bind(spec.to_owned())
        .bind(doc.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    row.map(|r| {
        let s: String = r.get(0);
        DocumentState::parse(&s)
            .map(|st| (st, r.get::<i64, _>(1).max(0) as u64))
            .ok_or_else(|| ToolError::internal(format!("stored state {s:?}")))
    })
    .transpose()
}

fn raced() -> ToolError {
    ToolError::conflict("the document changed while this call ran; read it again and retry")
}

/// Write a new revision of `doc` (state `draft`).
pub async fn write(
    db: &Db,
    spec: &str,
    doc: WorkflowDocument,
    content: &str,
    source: &str,
    by: &str,
) -> Result<DocRow, ToolError> {
    let (at, ms) = mcp_core::clock::now_pair();
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    if let Some(prev) = doc.previous() {
        let st = state_of(db, &mut tx, spec, prev).await?;
        if st.map(|s| s.0) != Some(DocumentState::Approved) {
            return Err(ToolError::conflict(format!(
                "{doc} can be drafted only after {prev} is approved ({prev} is {}); finish {prev} first",
                st.map(|s| s.0.as_str()).unwrap_or("not written")
            )));
        }
    }
    let current = state_of(db, &mut tx, spec, doc).await?;
    let revision = match current {
        None => {
            db.query(
                "INSERT INTO spec_documents (spec, document, state, revision, content, source, updated_by, updated_at, \
                 updated_ms) VALUES ($1, $2, 'draft', 1, $3, $4, $5, $6, $7)",
            )
            .bind(spec.to_owned())
            .bind(doc.as_str())
            .bind(content.to_owned())
            .bind(source.to_owned())
            .bind(by.to_owned())
            .bind(at)
            .bind(ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            1
        }
        Some((state @ (DocumentState::PendingApproval | DocumentState::Approved), _)) => {
            return Err(ToolError::conflict(format!(
                "{doc} is {state}: {}",
                if state == DocumentState::Approved {
                    "approved documents are frozen"
                } else {
                    "it waits for a decision and cannot change meanwhile"
                }
            )));
        }
        Some((state, rev)) => {
            let n = db
                .query(
                    "UPDATE spec_documents SET state = 'draft', revision = $1, content = $2, source = $3, updated_by = $4, \
                     updated_at = $5, updated_ms = $6 WHERE spec = $7 AND document = $8 AND state = $9 AND revision = $10",
                )
                .bind((rev + 1) as i64)
                .bind(content.to_owned())
                .bind(source.to_owned())
                .bind(by.to_owned())
                .bind(at)
                .bind(ms)
                .bind(spec.to_owned())
                .bind(doc.as_str())
                .bind(state.as_str())
                .bind(rev as i64)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if n != 1 {
                return Err(raced());
            }
            rev + 1
        }
    };
    event(db, &mut tx, spec, doc, "write", DocumentState::Draft, revision, by, None).await?;
    tx.commit().await.map_err(db_err)?;
    document(db, spec, doc).await?.ok_or_else(|| ToolError::internal("written document vanished"))
}

/// `draft` → `pending_approval` (already pending: returned as is).
pub async fn submit(db: &Db, spec: &str, doc: WorkflowDocument, by: &str) -> Result<(DocRow, bool), ToolError> {
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let Some((state, rev)) = state_of(db, &mut tx, spec, doc).await? else {
        return Err(ToolError::not_found(format!(
            "{doc} of {spec} is not written yet: write it with spec_document_write"
        )));
    };
    match state {
        DocumentState::PendingApproval => {
            drop(tx);
            let d = document(db, spec, doc).await?.ok_or_else(|| ToolError::internal("document vanished"))?;
            return Ok((d, false));
        }
        DocumentState::Draft => {}
        other => {
            return Err(ToolError::conflict(format!(
                "{doc} is {other}; only a draft can be submitted{}",
                if other == DocumentState::Approved { "" } else { " (write a new revision first)" }
            )));
        }
    }
    let n = db
        .query(
            "UPDATE spec_documents SET state = 'pending_approval' WHERE spec = $1 AND document = $2 AND state = 'draft' \
             AND revision = $3",
        )
        .bind(spec.to_owned())
        .bind(doc.as_str())
        .bind(rev as i64)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n != 1 {
        return Err(raced());
    }
    event(db, &mut tx, spec, doc, "submit", DocumentState::PendingApproval, rev, by, None).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((document(db, spec, doc).await?.ok_or_else(|| ToolError::internal("document vanished"))?, true))
}

/// The state a decision leads to.
pub fn decided_state(d: SpecDecision) -> DocumentState {
    match d {
        SpecDecision::Approve => DocumentState::Approved,
        SpecDecision::RequestChanges => DocumentState::ChangesRequested,
        SpecDecision::Reject => DocumentState::Rejected,
    }
}

/// `pending_approval` → the decision's state. `Ok((row, false))` when the
/// same decision was already made on this revision.
pub async fn decide(
    db: &Db,
    spec: &str,
    doc: WorkflowDocument,
    decision: SpecDecision,
    comment: Option<&str>,
    by: &str,
    revision: Option<u64>,
) -> Result<(DocRow, bool), ToolError> {
    let target = decided_state(decision);
    let at = mcp_core::clock::now_rfc3339();
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let Some((state, rev)) = state_of(db, &mut tx, spec, doc).await? else {
        return Err(ToolError::not_found(format!("{doc} of {spec} is not written yet")));
    };
    if let Some(r) = revision
        && r != rev
    {
        return Err(ToolError::conflict(format!(
            "{doc} of {spec} is at revision {rev}, not {r}: read the current text before deciding"
        )));
    }
    if state != DocumentState::PendingApproval {
        drop(tx);
        if state == target {
            let d = document(db, spec, doc).await?.ok_or_else(|| ToolError::internal("document vanished"))?;
            return Ok((d, false));
        }
        return Err(ToolError::conflict(format!(
            "{doc} of {spec} is {state}, not pending_approval: only a submitted document can be decided, and the first \
             decision stands"
        )));
    }
    let n = db
        .query(
            "UPDATE spec_documents SET state = $1, decided_by = $2, comment = $3, decided_at = $4 WHERE spec = $5 AND \
             document = $6 AND state = 'pending_approval' AND revision = $7",
        )
        .bind(target.as_str())
        .bind(by.to_owned())
        .bind(comment.map(str::to_owned))
        .bind(at)
        .bind(spec.to_owned())
        .bind(doc.as_str())
        .bind(rev as i64)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n != 1 {
        return Err(raced());
    }
    event(db, &mut tx, spec, doc, decision.as_str(), target, rev, by, comment).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((document(db, spec, doc).await?.ok_or_else(|| ToolError::internal("document vanished"))?, true))
}

/// Replace the text of an approved tasks document whose only change is
/// checkboxes (the caller checked that), keeping its approval.
pub async fn set_tasks_text(
    db: &Db,
    spec: &str,
    content: &str,
    old: &str,
    by: &str,
    note: &str,
) -> Result<(), ToolError> {
    let (at, ms) = mcp_core::clock::now_pair();
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let n = db
        .query(
            "UPDATE spec_documents SET content = $1, updated_by = $2, updated_at = $3, updated_ms = $4 WHERE spec = $5 AND \
             document = 'tasks' AND state = 'approved' AND content = $6",
        )
        .bind(content.to_owned())
        .bind(by.to_owned())
        .bind(at)
        .bind(ms)
        .bind(spec.to_owned())
        .bind(old.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n != 1 {
        return Err(raced());
    }
    let rev = state_of(db, &mut tx, spec, WorkflowDocument::Tasks).await?.map(|s| s.1).unwrap_or(0);
    event(db, &mut tx, spec, WorkflowDocument::Tasks, "task", DocumentState::Approved, rev, by, Some(note)).await?;
    tx.commit().await.map_err(db_err)
}

/// The latest `limit` events of a spec, newest first.
pub async fn events(db: &Db, spec: &str, limit: i64) -> Result<Vec<Event>, ToolError> {
    let rows = db
        .query(
            "SELECT document, action, state, revision, actor, comment, at FROM spec_events WHERE spec = $1 \
             ORDER BY at_ms DESC LIMIT $2",
        )
        .bind(spec.to_owned())
        .bind(limit)
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| Event {
            document: r.get(0),
            action: r.get(1),
            state: r.get(2),
            revision: r.get::<i64, _>(3).max(0) as u64,
            actor: r.get(4),
            comment: r.get(5),
            at: r.get(6),
        })
        .collect())
}

/// Specs, newest first, with their documents (no text); only those with a
/// document in `state` when given.
pub async fn list(db: &Db, state: Option<DocumentState>, limit: i64) -> Result<Vec<(SpecRow, Vec<DocRow>)>, ToolError> {
    let rows = match state {
        None => db
            .query("SELECT name, title, created_by, created_at FROM spec_specs ORDER BY created_ms DESC LIMIT $1")
            .bind(limit),
        Some(s) => db
            .query(
                "SELECT name, title, created_by, created_at FROM spec_specs WHERE name IN \
                 (SELECT spec FROM spec_documents WHERE state = $1) ORDER BY created_ms DESC LIMIT $2",
            )
            .bind(s.as_str())
            .bind(limit),
    }
    .fetch_all(db.reader())
    .await
    .map_err(db_err)?;
    let mut out = Vec::new();
    for r in &rows {
        let s = SpecRow { name: r.get(0), title: r.get(1), created_by: r.get(2), created_at: r.get(3) };
        let docs = documents(db, &s.name, false).await?;
        out.push((s, docs));
    }
    Ok(out)
}

/// Task counts of a tasks document: `[ ]`, `[-]`, `[x]` checkboxes of list items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TaskCounts {
    /// All tasks.
    pub total: u64,
    /// `[ ]`.
    pub pending: u64,
    /// `[-]`.
    pub in_progress: u64,
    /// `[x]`.
    pub done: u64,
}

/// The checkbox of a list-item line: its byte offset and mark.
pub fn checkbox(line: &str) -> Option<(usize, char)> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let rest2 = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("* "))?;
    let b = rest2.as_bytes();
    if b.len() >= 3 && b[0] == b'[' && b[2] == b']' && (b.len() == 3 || b[3] == b' ') {
        let mark = b[1] as char;
        if matches!(mark, ' ' | '-' | 'x' | 'X') {
            return Some((indent + 2 + 1, mark));
        }
    }
    None
}

/// Count the tasks of `text`. Only top-level items count: nested
/// checkboxes are a task's details.
pub fn count_tasks(text: &str) -> TaskCounts {
    let mut c = TaskCounts::default();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        if let Some((_, mark)) = checkbox(line) {
            c.total += 1;
            match mark {
                ' ' => c.pending += 1,
                '-' => c.in_progress += 1,
                _ => c.done += 1,
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let t = "# T\n- [ ] 1. a\n  - [x] nested\n- [-] 2. b\n* [x] 3. c\n- [X] 4. d\n-[ ] no\n```\n- [ ] code\n```\n";
        assert_eq!(count_tasks(t), TaskCounts { total: 4, pending: 1, in_progress: 1, done: 2 });
    }
}
