//! `decision_record`: add a decision to the decision log.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{bounded, db_err, now, required};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project (request id) it concerns.
    pub project: Option<String>,
    /// Trace id (defaults to this call's trace).
    pub trace_id: Option<String>,
    /// Who decided ("llm-agent", "planner", ...).
    pub actor: String,
    /// What was decided, a short verb such as "asked", "proceeded", "refused", "completed".
    pub decision: String,
    /// Why.
    pub rationale: Option<String>,
    /// What it was based on (any JSON).
    pub inputs: Option<Value>,
    /// What came of it (any JSON).
    pub outputs: Option<Value>,
}

/// The record.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Record id.
    pub id: i64,
    /// The trace id stored with it.
    pub trace_id: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "decision_record",
        "Record a decision in the decision log: who decided what for which project, why, and on which inputs.",
        Annotations::additive(false),
        run,
    )
    .title("Record a decision")
}

async fn run(s: Arc<Sql>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    required("actor", &a.actor, 100)?;
    required("decision", &a.decision, 100)?;
    bounded("project", a.project.as_deref().unwrap_or(""), 200)?;
    bounded("trace_id", a.trace_id.as_deref().unwrap_or(""), 64)?;
    bounded("rationale", a.rationale.as_deref().unwrap_or(""), 64 << 10)?;
    let inputs = a.inputs.map(|v| v.to_string());
    let outputs = a.outputs.map(|v| v.to_string());
    bounded("inputs", inputs.as_deref().unwrap_or(""), 256 << 10)?;
    bounded("outputs", outputs.as_deref().unwrap_or(""), 256 << 10)?;
    let trace_id = a.trace_id.clone().or_else(|| ctx.trace_id().map(str::to_owned));
    let (at, ms) = now();
    let row = s
        .db
        .query(
            "INSERT INTO decisions (project, trace_id, actor, decision, rationale, inputs, outputs, created_at, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(a.project.as_deref())
        .bind(trace_id.as_deref())
        .bind(&a.actor)
        .bind(&a.decision)
        .bind(a.rationale.as_deref())
        .bind(inputs.as_deref())
        .bind(outputs.as_deref())
        .bind(&at)
        .bind(ms)
        .fetch_one(s.db.writer())
        .await
        .map_err(db_err)?;
    let id: i64 = row.get(0);
    Ok(Out::new(Output { id, trace_id }).text(format!("recorded decision {id}: {} {}", a.actor, a.decision)))
}
