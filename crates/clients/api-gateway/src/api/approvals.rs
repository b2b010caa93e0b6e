//! `/api/v1/approvals`: the planner's steps that wait for a person. People
//! decide them here; the planner records who (`decided_by` is always the
//! caller's subject, never something the body says) and why.

use axum::extract::{Path, State};
use axum::response::Response;
use mcp_core::auth::{Caller, Role};
use mcp_core::error::ApiQuery;
use mcp_core::{ErrorKind, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::requests::answer;
use super::{ApiState, Body, ProblemDoc, Shared, Who, check_id, limit, need, route};

/// The states an approval can be in.
pub const STATES: &[&str] = &["pending", "approved", "denied", "expired"];

/// Filters of the approvals list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only approvals in this state: `pending`, `approved`, `denied`, `expired`.
    pub state: Option<String>,
    /// At most this many, latest first (1..=200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Approvals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalList {
    /// Latest first: `id`, `run_id`, `request_id`, `step`, `action`, `summary`, `state`, `requested_at`,
    /// `expires_at`, `decided_at`, `decided_by`, `reason`, `trace_id`.
    #[schema(value_type = Vec<Object>)]
    pub approvals: Vec<Value>,
}

/// Approve, optionally saying why.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Why (kept with the decision).
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Deny, saying why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyBody {
    /// Why (required: the run's report says it).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Approvals (viewer).
pub async fn list(s: &ApiState, caller: &Caller, q: ListQuery) -> Result<ApprovalList, Problem> {
    need(caller, Role::Viewer)?;
    let n = limit(q.limit, 50, 200)?;
    let state = q.state.filter(|st| !st.is_empty());
    if let Some(st) = &state
        && !STATES.contains(&st.as_str())
    {
        return Err(Problem::new(
            ErrorKind::InvalidInput,
            format!("state={:?}: expected one of {}", super::excerpt(st, 40), STATES.join(", ")),
        ));
    }
    let out = route(s, caller, "planner__approvals_list", json!({"state": state, "limit": n})).await?;
    Ok(ApprovalList { approvals: out.get("approvals").and_then(Value::as_array).cloned().unwrap_or_default() })
}

/// One approval (viewer).
pub async fn get(s: &ApiState, caller: &Caller, id: &str) -> Result<Value, Problem> {
    need(caller, Role::Viewer)?;
    let id = check_id("approval", id)?;
    let v = route(s, caller, "planner__approval_get", json!({"id": id})).await?;
    // The tool may answer `{approval: {...}}` or the approval itself.
    Ok(v.get("approval").cloned().unwrap_or(v))
}

/// Decide an approval (operator): `approve` or `deny`, by the caller.
pub async fn decide(
    s: &ApiState,
    caller: &Caller,
    id: &str,
    approve: bool,
    reason: Option<String>,
) -> Result<Value, Problem> {
    need(caller, Role::Operator)?;
    let id = check_id("approval", id)?;
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(Problem::new(ErrorKind::InvalidInput, "a denial needs a reason"));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(Problem::new(ErrorKind::InvalidInput, "reason must be at most 2000 characters"));
    }
    let args = json!({
        "id": id,
        "decision": if approve { "approve" } else { "deny" },
        "decided_by": caller.subject,
        "reason": reason,
    });
    let v = route(s, caller, "planner__approval_decide", args).await?;
    Ok(v.get("approval").cloned().unwrap_or(v))
}

/// Approvals, latest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", params(ListQuery),
    responses(
        (status = 200, description = "Approvals", body = ApprovalList),
        (status = 400, description = "Invalid filter", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_h(State(s): State<Shared>, Who(c): Who, ApiQuery(q): ApiQuery<ListQuery>) -> Response {
    answer(list(&s, &c, q).await)
}

/// One approval.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals",
    params(("id" = String, Path, description = "Approval id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "The approval", body = Object),
        (status = 400, description = "Not an id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such approval", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn get_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>) -> Response {
    answer(get(&s, &c, &id).await)
}

/// Approve a pending step (operator).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", tag = "approvals", request_body = ApproveBody,
    params(("id" = String, Path, description = "Approval id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "Decided", body = Object),
        (status = 400, description = "Invalid input", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the operator role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such approval", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn approve_h(
    State(s): State<Shared>,
    Who(c): Who,
    Path(id): Path<String>,
    Body(b): Body<ApproveBody>,
) -> Response {
    answer(decide(&s, &c, &id, true, b.reason).await)
}

/// Deny a pending step, saying why (operator).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/deny", tag = "approvals", request_body = DenyBody,
    params(("id" = String, Path, description = "Approval id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "Decided", body = Object),
        (status = 400, description = "Invalid input (a reason is required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the operator role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such approval", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn deny_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>, Body(b): Body<DenyBody>) -> Response {
    answer(decide(&s, &c, &id, false, Some(b.reason)).await)
}
