//! `decision_list`: the decision log, filtered.

use mcp_core::db::sqlx::Row;
use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::prelude::*;

use super::{db_err, limit};
use crate::Sql;

/// Arguments. At least one filter is required.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Decisions of this project: its folder name or its request id (records under either and under the traces
    /// they share are one project).
    pub project: Option<String>,
    /// Decisions of this trace.
    pub trace_id: Option<String>,
    /// Decisions by this actor.
    pub actor: Option<String>,
    /// Decisions of this kind ("asked", "completed", ...).
    pub decision: Option<String>,
    /// Most decisions, the latest ones (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// One decision.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Decision {
    /// Record id.
    pub id: i64,
    /// Project.
    pub project: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Who.
    pub actor: String,
    /// What.
    pub decision: String,
    /// Why.
    pub rationale: Option<String>,
    /// Inputs (JSON).
    pub inputs: Option<Value>,
    /// Outputs (JSON).
    pub outputs: Option<Value>,
    /// When, RFC 3339.
    pub created_at: String,
    /// When, Unix ms.
    pub created_ms: i64,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Decisions, oldest first.
    pub items: Vec<Decision>,
}

fn json(s: Option<String>) -> Option<Value> {
    s.map(|t| mcp_core::serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

/// A row of the columns selected below, in that order.
pub fn from_row(r: &AnyRow) -> Decision {
    Decision {
        id: r.get(0),
        project: r.get(1),
        trace_id: r.get(2),
        actor: r.get(3),
        decision: r.get(4),
        rationale: r.get(5),
        inputs: json(r.get(6)),
        outputs: json(r.get(7)),
        created_at: r.get(8),
        created_ms: r.get(9),
    }
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "decision_list",
        "List recorded decisions by project, trace, actor or kind, oldest first (the latest `limit` of them).",
        Annotations::read_only(),
        run,
    )
    .title("List decisions")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.project.is_none() && a.trace_id.is_none() && a.actor.is_none() && a.decision.is_none() {
        return Err(ToolError::invalid("give at least one of project, trace_id, actor, decision"));
    }
    let n = limit(a.limit, 100, 1000)?;
    let rows = s
        .db
        .query(concat!(
            "SELECT id, project, trace_id, actor, decision, rationale, inputs, outputs, created_at, created_ms FROM decisions \
             WHERE ($1 IS NULL OR ",
            crate::project_match!(),
            ") AND ($2 IS NULL OR trace_id = $2) AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR decision = $4) \
             ORDER BY created_ms DESC, id DESC LIMIT $5"
        ))
        .bind(a.project.as_deref())
        .bind(a.trace_id.as_deref())
        .bind(a.actor.as_deref())
        .bind(a.decision.as_deref())
        .bind(n)
        .fetch_all(s.db.reader())
        .await
        .map_err(db_err)?;
    let mut items: Vec<Decision> = rows.iter().map(from_row).collect();
    items.reverse();
    let text = if items.is_empty() {
        "no decisions".to_owned()
    } else {
        items
            .iter()
            .map(|d| format!("{} {} {}: {}", d.created_at, d.actor, d.decision, d.rationale.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { items }).text(text))
}
