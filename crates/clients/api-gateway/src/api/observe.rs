//! `/api/v1/traces` and `/api/v1/logs`: the observer's traces and the log
//! server's lines, for people (the UI's waterfall) and scripts.

use axum::extract::{Path, State};
use axum::response::Response;
use mcp_core::auth::{Caller, Role};
use mcp_core::error::ApiQuery;
use mcp_core::{ErrorKind, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::requests::answer;
use super::{ApiState, ProblemDoc, Shared, Who, check_trace_id, limit, need, route};

/// Filters of a trace search.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceQuery {
    /// Only traces with a span of this service.
    pub service: Option<String>,
    /// Since: RFC 3339 or a span back from now (`15m`, `2h`, `1d`).
    pub since: Option<String>,
    /// Only traces with an error.
    pub errors_only: Option<bool>,
    /// At most this many (1..=200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Filters of a log search.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only lines of this trace.
    pub trace_id: Option<String>,
    /// Only lines of this service.
    pub service: Option<String>,
    /// Words the message must contain.
    pub query: Option<String>,
    /// Since: RFC 3339 or a span back from now (`15m`, `2h`, `1d`).
    pub since: Option<String>,
    /// At most this many, newest first (1..=1000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Trace summaries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceList {
    /// One per trace: `trace_id`, `root_name`, `root_service`, `services`, `start`, `duration_ms`, `span_count`, `error_count`.
    #[schema(value_type = Vec<Object>)]
    pub traces: Vec<Value>,
}

/// Log lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogLines {
    /// Newest first: `id`, `ts`, `level`, `service`, `message`, `trace_id`, `span_id`, `fields`.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<Value>,
    /// The limit cut the answer short.
    pub truncated: bool,
}

/// A short free-text filter: at most `max` characters, no control characters.
fn text(what: &str, v: Option<String>, max: usize) -> Result<Option<String>, Problem> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() <= max && !s.chars().any(char::is_control) => Ok(Some(s)),
        Some(_) => Err(Problem::new(ErrorKind::InvalidInput, format!("{what}: at most {max} characters on one line"))),
    }
}

/// A whole trace as a tree, with attributes (viewer).
pub async fn trace(s: &ApiState, caller: &Caller, trace_id: &str) -> Result<Value, Problem> {
    need(caller, Role::Viewer)?;
    let trace_id = check_trace_id(trace_id)?;
    route(s, caller, "observer__trace_get", json!({"trace_id": trace_id, "attributes": true})).await
}

/// Trace summaries (viewer).
pub async fn traces(s: &ApiState, caller: &Caller, q: TraceQuery) -> Result<TraceList, Problem> {
    need(caller, Role::Viewer)?;
    let n = limit(q.limit, 50, 200)?;
    let args = json!({
        "service": text("service", q.service, 128)?,
        "since": text("since", q.since, 64)?,
        "errors_only": q.errors_only,
        "limit": n,
    });
    let out = route(s, caller, "observer__traces_search", args).await?;
    Ok(TraceList { traces: out.get("traces").and_then(Value::as_array).cloned().unwrap_or_default() })
}

/// Log lines (viewer).
pub async fn logs(s: &ApiState, caller: &Caller, q: LogQuery) -> Result<LogLines, Problem> {
    need(caller, Role::Viewer)?;
    let n = limit(q.limit, 200, 1000)?;
    let trace_id = match q.trace_id.filter(|t| !t.is_empty()) {
        Some(t) => Some(check_trace_id(&t)?.to_owned()),
        None => None,
    };
    let args = json!({
        "trace_id": trace_id,
        "service": text("service", q.service, 128)?,
        "query": text("query", q.query, 500)?,
        "since": text("since", q.since, 64)?,
        "limit": n,
    });
    let out = route(s, caller, "log__logs_search", args).await?;
    Ok(LogLines {
        lines: out.get("lines").and_then(Value::as_array).cloned().unwrap_or_default(),
        truncated: out.get("truncated").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A whole trace as a tree (the observer's `trace_get`, with attributes).
#[utoipa::path(get, path = "/api/v1/traces/{trace_id}", tag = "observe",
    params(("trace_id" = String, Path, description = "W3C trace id", pattern = "^[0-9a-f]{32}$")),
    responses(
        (status = 200, description = "`{trace: {trace_id, roots: [span tree], services, duration_ms, error_count, ...}, warnings}`", body = Object),
        (status = 400, description = "Not a trace id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such trace", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The observer is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn trace_h(State(s): State<Shared>, Who(c): Who, Path(trace_id): Path<String>) -> Response {
    answer(trace(&s, &c, &trace_id).await)
}

/// Recent traces.
#[utoipa::path(get, path = "/api/v1/traces", tag = "observe", params(TraceQuery),
    responses(
        (status = 200, description = "Trace summaries", body = TraceList),
        (status = 400, description = "Invalid filter", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The observer is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn traces_h(State(s): State<Shared>, Who(c): Who, ApiQuery(q): ApiQuery<TraceQuery>) -> Response {
    answer(traces(&s, &c, q).await)
}

/// Log lines.
#[utoipa::path(get, path = "/api/v1/logs", tag = "observe", params(LogQuery),
    responses(
        (status = 200, description = "Lines", body = LogLines),
        (status = 400, description = "Invalid filter", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The log server is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn logs_h(State(s): State<Shared>, Who(c): Who, ApiQuery(q): ApiQuery<LogQuery>) -> Response {
    answer(logs(&s, &c, q).await)
}
