//! A project's audit: its decisions and messages, fetched from
//! `mcp-server-sql` over MCP (`decision_list`, `message_list`), joined with the
//! spans of the traces they name and of the traces tagged with the project,
//! in one time-ordered timeline.
//!
//! The sql server being down does not make the audit fail: the spans are the
//! observer's own, so the answer still carries them, with a warning saying
//! what is missing and why.

use std::collections::{BTreeSet, HashMap};

use mcp_core::McpClient;
use mcp_core::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Observer;
use crate::store::{TraceSummary, rfc3339_ns};

/// Arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project (the request id the agent gave it).
    pub project: String,
    /// Most decisions and most messages, the latest ones (default 200, at most 1000).
    pub limit: Option<i64>,
    /// Most spans in the timeline, earliest traces first (default 500, at most 5000; 0 for none).
    pub max_spans: Option<i64>,
}

/// Most traces joined into one audit.
pub const MAX_TRACES: i64 = 50;

/// One line of the timeline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Entry {
    /// When, RFC 3339.
    pub at: String,
    /// When, Unix ms.
    pub ts_ms: i64,
    /// `decision`, `message` or `span`.
    pub kind: String,
    /// The trace it belongs to.
    pub trace_id: Option<String>,
    /// Who: the service of a span, the actor of a decision, the sender of a message.
    pub who: String,
    /// One line: the span name, the decision and its rationale, the message's subject.
    pub what: String,
    /// Span id (spans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Parent span id (spans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// Duration in ms (spans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Status (spans only): `UNSET`, `OK` or `ERROR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// Record id (decisions and messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// The audit of one project.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Audit {
    /// The project (request id).
    pub project: String,
    /// Decisions as the sql server records them, oldest first, each with a `trace` summary when its trace is stored.
    pub decisions: Vec<Value>,
    /// Messages as the sql server records them, oldest first, each with a `trace` summary when stored.
    pub messages: Vec<Value>,
    /// Every trace joined: named by a decision or message, or tagged with the project on its spans.
    pub traces: Vec<TraceSummary>,
    /// Decisions, messages and spans merged, oldest first.
    pub timeline: Vec<Entry>,
    /// True when the timeline was cut at `max_spans` spans.
    pub truncated: bool,
    /// What could not be included, and why (the sql server unreachable, say).
    pub warnings: Vec<String>,
}

/// Call a list tool of the sql server and return its `items`.
pub async fn list(client: &McpClient, tool: &str, args: Value) -> Result<Vec<Value>, String> {
    let r = client.call(tool, args).await.map_err(|e| format!("{tool} on {}: {e}", client.url()))?;
    if r.is_error() {
        return Err(format!("{tool} on {} failed: {}", client.url(), r.text));
    }
    match r.structured.as_ref().and_then(|s| s.get("items")).and_then(Value::as_array) {
        Some(items) => Ok(items.clone()),
        None => Err(format!("{tool} on {} answered without structured items", client.url())),
    }
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Build the audit of `a.project`.
pub async fn audit(obs: &Observer, a: &Args) -> Result<Audit, ToolError> {
    let project = a.project.trim();
    if project.is_empty() || project.len() > 256 {
        return Err(ToolError::invalid("project must be a non-empty id of at most 256 bytes (the request id)"));
    }
    let limit = a.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ToolError::invalid(format!("limit {limit} is outside 1..=1000")));
    }
    let max_spans = a.max_spans.unwrap_or(500);
    if !(0..=5000).contains(&max_spans) {
        return Err(ToolError::invalid(format!("max_spans {max_spans} is outside 0..=5000")));
    }
    let mut warnings = Vec::new();
    let args = json!({"project": project, "limit": limit});
    let (decisions, messages) =
        tokio::join!(list(&obs.sql, "decision_list", args.clone()), list(&obs.sql, "message_list", args.clone()));
    let mut decisions = decisions.unwrap_or_else(|e| {
        warnings.push(format!("decisions not included: {e}"));
        Vec::new()
    });
    let mut messages = messages.unwrap_or_else(|e| {
        warnings.push(format!("messages not included: {e}"));
        Vec::new()
    });

    // Traces: those the records name, then those whose spans carry the project.
    let mut ids: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for v in decisions.iter().chain(messages.iter()) {
        if let Ok(t) = crate::trace_id(text(v, "trace_id"))
            && seen.insert(t.clone())
        {
            ids.push(t);
        }
    }
    for t in obs.store.project_traces(project, MAX_TRACES).await.map_err(ToolError::internal)? {
        if seen.insert(t.clone()) {
            ids.push(t);
        }
    }
    if ids.len() > MAX_TRACES as usize {
        warnings.push(format!("only the first {MAX_TRACES} of {} traces are joined", ids.len()));
        ids.truncate(MAX_TRACES as usize);
    }
    let mut traces = obs.store.summaries(&ids).await.map_err(ToolError::internal)?;
    traces.sort_by_key(|t| t.start_ms);
    let by_id: HashMap<&str, &TraceSummary> = traces.iter().map(|t| (t.trace_id.as_str(), t)).collect();

    let mut timeline = Vec::new();
    for d in &mut decisions {
        let trace = by_id.get(text(d, "trace_id")).map(|t| json!(t));
        timeline.push(Entry {
            at: text(d, "created_at").to_owned(),
            ts_ms: d.get("created_ms").and_then(Value::as_i64).unwrap_or(0),
            kind: "decision".into(),
            trace_id: Some(text(d, "trace_id").to_owned()).filter(|s| !s.is_empty()),
            who: text(d, "actor").to_owned(),
            what: match text(d, "rationale") {
                "" => text(d, "decision").to_owned(),
                r => format!("{}: {r}", text(d, "decision")),
            },
            span_id: None,
            parent_span_id: None,
            duration_ms: None,
            status_code: None,
            id: d.get("id").and_then(Value::as_i64),
        });
        if let (Some(obj), Some(t)) = (d.as_object_mut(), trace) {
            obj.insert("trace".into(), t);
        }
    }
    for m in &mut messages {
        let trace = by_id.get(text(m, "trace_id")).map(|t| json!(t));
        timeline.push(Entry {
            at: text(m, "created_at").to_owned(),
            ts_ms: m.get("created_ms").and_then(Value::as_i64).unwrap_or(0),
            kind: "message".into(),
            trace_id: Some(text(m, "trace_id").to_owned()).filter(|s| !s.is_empty()),
            who: text(m, "from_addr").to_owned(),
            what: format!("{} {} {}", text(m, "direction"), text(m, "channel"), text(m, "subject")),
            span_id: None,
            parent_span_id: None,
            duration_ms: None,
            status_code: None,
            id: m.get("id").and_then(Value::as_i64),
        });
        if let (Some(obj), Some(t)) = (m.as_object_mut(), trace) {
            obj.insert("trace".into(), t);
        }
    }
    // Spans, earliest traces first, until the budget is spent.
    let mut budget = max_spans as usize;
    let mut truncated = false;
    for t in &traces {
        if budget == 0 {
            truncated = true;
            break;
        }
        let (spans, more) = obs.store.trace(&t.trace_id, budget).await.map_err(ToolError::internal)?;
        truncated |= more;
        budget -= spans.len();
        for s in spans {
            timeline.push(Entry {
                at: rfc3339_ns(s.start_unix_nano),
                ts_ms: s.start_ms,
                kind: "span".into(),
                trace_id: Some(s.trace_id),
                who: s.service,
                what: s.name,
                span_id: Some(s.span_id),
                parent_span_id: s.parent_span_id,
                duration_ms: Some(s.duration_ms),
                status_code: Some(s.status_code),
                id: None,
            });
        }
    }
    timeline.sort_by_key(|e| e.ts_ms);
    Ok(Audit { project: project.to_owned(), decisions, messages, traces, timeline, truncated, warnings })
}

/// The audit as text, one timeline line each.
pub fn render(a: &Audit) -> String {
    let mut out = format!(
        "project {}: {} decision(s), {} message(s), {} trace(s){}\n",
        a.project,
        a.decisions.len(),
        a.messages.len(),
        a.traces.len(),
        if a.truncated { ", timeline cut at max_spans" } else { "" }
    );
    for w in &a.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for e in &a.timeline {
        let extra = match (e.duration_ms, e.status_code.as_deref()) {
            (Some(d), Some("ERROR")) => format!(" {d:.3}ms ERROR"),
            (Some(d), _) => format!(" {d:.3}ms"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{} {:8} {} {}{} trace={}\n",
            if e.at.is_empty() { rfc3339_ns(e.ts_ms * 1_000_000) } else { e.at.clone() },
            e.kind,
            e.who,
            e.what,
            extra,
            e.trace_id.as_deref().unwrap_or("-")
        ));
    }
    out
}
