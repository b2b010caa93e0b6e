//! `decision_record`: add a decision to the decision log.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{bounded, now, required};
use crate::Sql;
use crate::idempotency::{self, Key};

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
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
    /// Makes the call safe to retry: the first call with a key records the decision; a call with the same key and
    /// the same arguments returns that first record (`duplicate: true`) and records nothing; the same key with
    /// different arguments is refused as a conflict. Use one key per decision meant, e.g. "<request>/<decision>".
    /// At most 200 characters.
    pub idempotency_key: Option<String>,
}

/// The record.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    /// Record id.
    pub id: i64,
    /// The trace id stored with it.
    pub trace_id: Option<String>,
    /// True when this is the record of an earlier call with the same idempotency key: nothing was written this time.
    #[serde(default)]
    pub duplicate: bool,
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
    let inputs = a.inputs.as_ref().map(Value::to_string);
    let outputs = a.outputs.as_ref().map(Value::to_string);
    bounded("inputs", inputs.as_deref().unwrap_or(""), 256 << 10)?;
    bounded("outputs", outputs.as_deref().unwrap_or(""), 256 << 10)?;
    let key = Key::new("decision_record", a.idempotency_key.as_deref(), &a)?;
    let trace_id = a.trace_id.clone().or_else(|| ctx.trace_id().map(str::to_owned));
    let (at, ms) = now();
    let (out, duplicate) = idempotency::write(&s.db, key.as_ref(), async |tx| {
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
            .fetch_one(tx)
            .await?;
        let id: i64 = row.get(0);
        Ok((id, Output { id, trace_id: trace_id.clone(), duplicate: false }))
    })
    .await?;
    let text = idempotency::result_text(duplicate, "decision", out.id, || {
        format!("recorded decision {}: {} {}", out.id, a.actor, a.decision)
    });
    Ok(Out::new(Output { duplicate, ..out }).text(text))
}
