//! `/api/v1/requests`: work asked of the fleet. A request submitted here
//! enters the same path as an email (the agent's `submit_request`, channel
//! `mcp`); its run is the planner's. `GET /requests/{id}` joins the two, and
//! `/events` streams that joined snapshot as it changes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use mcp_core::auth::{Caller, Role};
use mcp_core::error::ApiQuery;
use mcp_core::{ErrorKind, Problem};
use mcp_types::request::RequestState;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::{ApiState, Body, ProblemDoc, Shared, Who, check_id, limit, need, route};
use crate::source::{Accounting, Via};

/// The most of a request's text accepted (an email body is bounded alike).
pub const MAX_TEXT_BYTES: usize = 32 * 1024;
/// The most of a subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// How often the event stream asks the agent and the planner.
const POLL: Duration = Duration::from_secs(1);
/// Failed polls in a row after which the stream gives up (with an `error` event).
const MAX_POLL_FAILURES: u32 = 30;
/// Run states after which nothing changes.
const RUN_FINAL: &[&str] = &["succeeded", "failed", "cancelled", "budget_exhausted"];
/// Request states after which no run will come.
const REQUEST_FINAL: &[&str] = &["refused", "gave_up", "failed", "cancelled"];

/// A new request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Who asks: an email address (answers and questions go there).
    #[schema(example = "dev@example.com", max_length = 254)]
    pub requester: String,
    /// A subject line, like an email's.
    #[schema(example = "A CLI that counts words", min_length = 1, max_length = 200)]
    pub subject: String,
    /// What is asked, in the requester's words.
    #[schema(min_length = 1, max_length = 32768)]
    pub text: String,
}

/// What the agent made of a new request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// The request (absent when the agent ignored the message).
    pub request_id: Option<String>,
    /// Where the request is now (`new`, `asking`, `planned`, `refused`, ...).
    pub state: String,
    /// What the agent decided (`asked`, `proceeded`, `refused`, ...).
    pub decision: String,
    /// The planner's run, when it proceeded.
    pub run_id: Option<String>,
    /// The trace of the whole request.
    pub trace_id: Option<String>,
    /// Questions the agent asks, when it asked.
    pub questions: Vec<String>,
    /// The agent's answer in words.
    pub reply: Option<String>,
    /// Why, when it refused or failed.
    pub reason: Option<String>,
    /// The same submission (its `Idempotency-Key`) was seen before; this is the first answer.
    pub duplicate: bool,
}

/// Filters of the request list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only requests in this state: `new`, `asking`, `planned`, `refused`, `gave_up`, `failed`, `cancelled`.
    pub state: Option<String>,
    /// At most this many, latest first (1..=200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Recent requests.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestList {
    /// Latest first, as the agent stores them (`id`, `requester`, `subject`, `state`, `run_id`, `trace_id`, `created_ms`, `updated_ms`, ...).
    #[schema(value_type = Vec<Object>)]
    pub requests: Vec<Value>,
}

/// A request and its run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RequestView {
    /// The agent's record (`id`, `state`, `requester`, `subject`, `run_id`, `run_state`, `trace_id`, ...).
    #[schema(value_type = Object)]
    pub request: Value,
    /// The planner's run with its steps, once there is one.
    #[schema(value_type = Option<Object>)]
    pub run: Option<Value>,
}

impl RequestView {
    /// Nothing more will change: the run ended, or the request ended without one.
    pub fn is_final(&self) -> bool {
        let state = |v: &Value| v.get("state").and_then(Value::as_str).map(str::to_owned);
        match self.run.as_ref().and_then(state) {
            Some(s) => RUN_FINAL.contains(&s.as_str()),
            None => state(&self.request).is_some_and(|s| REQUEST_FINAL.contains(&s.as_str())),
        }
    }
}

/// One event of `GET /requests/{id}/events` as a reader of the stream sees
/// it (OpenAPI 3.1 describes an event stream by one event's schema).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestEvent {
    /// `state` (the request changed), `done` (the final snapshot) or `problem` (the stream gave up).
    #[schema(pattern = "^(state|done|problem)$")]
    pub event: String,
    /// The event's JSON: a `RequestView` for `state` and `done`, a problem document for `problem`.
    pub data: String,
}

/// Why a request is cancelled.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Said to the requester and kept with the request.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// An id-shaped, control-character-free email address: `local@domain.tld`.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c))
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(ErrorKind::InvalidInput, detail)
}

/// Check a new request's fields.
pub fn check_new(r: &NewRequest) -> Result<(), Problem> {
    if !looks_like_email(r.requester.trim()) {
        return Err(invalid("requester must be an email address (name@example.com)"));
    }
    let subject = r.subject.trim();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS || subject.chars().any(char::is_control) {
        return Err(invalid(format!("subject must be 1-{MAX_SUBJECT_CHARS} characters on one line")));
    }
    if r.text.trim().is_empty() || r.text.len() > MAX_TEXT_BYTES {
        return Err(invalid(format!("text must be 1-{MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

/// Submit a request as `caller` (operator): the agent decides at once
/// whether to ask, proceed or refuse. `idempotency_key` makes a repeated
/// submission answer with the first one's outcome.
pub async fn submit(
    s: &ApiState,
    caller: &Caller,
    r: NewRequest,
    idempotency_key: Option<String>,
) -> Result<Submitted, Problem> {
    need(caller, Role::Operator)?;
    check_new(&r)?;
    let mut args = json!({"requester": r.requester.trim(), "subject": r.subject.trim(), "text": r.text});
    if let Some(k) = idempotency_key {
        if k.is_empty() || k.len() > 200 || k.chars().any(char::is_control) {
            return Err(invalid("Idempotency-Key must be 1-200 characters without control characters"));
        }
        args["message_id"] = Value::String(format!("rest:{}:{k}", caller.subject));
    }
    let out = route(s, caller, "llm_agent__submit_request", args).await?;
    let text = |k: &str| out.get(k).and_then(Value::as_str).map(str::to_owned);
    let decision = text("decision").unwrap_or_default();
    let request_id = text("request_id");
    // The request's own state, when the agent can say; else what the decision implies.
    let state = match &request_id {
        Some(id) => route(s, caller, "llm_agent__request_status", json!({"request_id": id}))
            .await
            .ok()
            .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_owned)),
        None => None,
    }
    .unwrap_or_else(|| state_after(&decision).to_owned());
    Ok(Submitted {
        request_id,
        state,
        run_id: text("run_id"),
        trace_id: text("trace_id"),
        questions: out
            .get("questions")
            .and_then(Value::as_array)
            .map(|q| q.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        reply: text("reply"),
        reason: text("reason"),
        duplicate: out.get("duplicate").and_then(Value::as_bool).unwrap_or(false),
        decision,
    })
}

/// The request state a decision leaves behind.
fn state_after(decision: &str) -> &'static str {
    match decision {
        "asked" => "asking",
        "proceeded" | "retried" => "planned",
        "refused" => "refused",
        "gave_up" => "gave_up",
        "failed" => "failed",
        "cancelled" => "cancelled",
        _ => "new",
    }
}

/// Recent requests (viewer).
pub async fn list(s: &ApiState, caller: &Caller, q: ListQuery) -> Result<RequestList, Problem> {
    need(caller, Role::Viewer)?;
    let n = limit(q.limit, 50, 200)?;
    let state = q.state.filter(|st| !st.is_empty());
    if let Some(st) = &state
        && RequestState::parse(st).is_none()
    {
        return Err(invalid(format!(
            "state={:?}: expected one of new, asking, planned, refused, gave_up, failed, cancelled",
            super::excerpt(st, 40)
        )));
    }
    let out = route(s, caller, "llm_agent__request_list", json!({"state": state, "limit": n})).await?;
    let requests = out.get("requests").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(RequestList { requests })
}

/// A request and its run (viewer).
pub async fn get(s: &ApiState, caller: &Caller, id: &str) -> Result<RequestView, Problem> {
    get_as(s, caller, id, Accounting::Counted).await
}

/// [`get`], counted (quota, audit rows) or as one of the event stream's
/// repeated polls (neither: [`Accounting::Repeat`]).
async fn get_as(s: &ApiState, caller: &Caller, id: &str, accounting: Accounting) -> Result<RequestView, Problem> {
    need(caller, Role::Viewer)?;
    let id = check_id("request", id)?;
    let call = |name: &'static str, args: Value| async move {
        match accounting {
            Accounting::Counted => route(s, caller, name, args).await,
            Accounting::Repeat => s.gw.poll_for_route(caller, name, args, Via::Rest).await,
        }
    };
    let request = call("llm_agent__request_status", json!({"request_id": id})).await?;
    let run_id = request.get("run_id").and_then(Value::as_str).filter(|r| !r.is_empty());
    let run = match run_id {
        None => None,
        Some(run_id) => match call("planner__plan_status", json!({"run_id": run_id})).await {
            Ok(v) => Some(v),
            Err(p) if p.kind == ErrorKind::NotFound => None,
            Err(p) => return Err(p),
        },
    };
    Ok(RequestView { request, run })
}

/// Cancel a request and its run (operator).
pub async fn cancel_request(s: &ApiState, caller: &Caller, id: &str, reason: Option<String>) -> Result<Value, Problem> {
    need(caller, Role::Operator)?;
    let id = check_id("request", id)?;
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(invalid("reason must be at most 2000 characters"));
    }
    route(s, caller, "llm_agent__request_cancel", json!({"request_id": id, "reason": reason})).await
}

/// Start a failed request's project again (operator).
pub async fn retry_request(s: &ApiState, caller: &Caller, id: &str) -> Result<Value, Problem> {
    need(caller, Role::Operator)?;
    let id = check_id("request", id)?;
    route(s, caller, "llm_agent__request_retry", json!({"request_id": id})).await
}

/// Submit a request.
///
/// The request enters the same path as an email: the agent asks questions
/// (answer them by email to the requester's address or submit again),
/// proceeds to a plan, or refuses. Send `Idempotency-Key` to make a retried
/// submission answer with the first outcome.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a repeated submission answer with the first outcome")),
    responses(
        (status = 202, description = "Accepted: what the agent decided", body = Submitted),
        (status = 400, description = "Invalid input", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the operator role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn submit_h(State(s): State<Shared>, Who(c): Who, headers: HeaderMap, Body(r): Body<NewRequest>) -> Response {
    let key = headers.get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
    let key = match key.transpose() {
        Ok(k) => k,
        Err(_) => return invalid("Idempotency-Key must be visible ASCII").into_response(),
    };
    match submit(&s, &c, r, key).await {
        Ok(v) => (StatusCode::ACCEPTED, axum::Json(v)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// Recent requests, latest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListQuery),
    responses(
        (status = 200, description = "Requests", body = RequestList),
        (status = 400, description = "Invalid filter", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_h(State(s): State<Shared>, Who(c): Who, ApiQuery(q): ApiQuery<ListQuery>) -> Response {
    answer(list(&s, &c, q).await)
}

/// A request and its run (with its steps).
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = String, Path, description = "Request id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "The request and its run", body = RequestView),
        (status = 400, description = "Not an id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent or planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn get_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>) -> Response {
    answer(get(&s, &c, &id).await)
}

/// Cancel a request (and its run, if it has one).
#[utoipa::path(post, path = "/api/v1/requests/{id}/cancel", tag = "requests", request_body(content = Option<CancelBody>),
    params(("id" = String, Path, description = "Request id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "Cancelled: the agent's answer", body = Object),
        (status = 400, description = "Invalid input", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the operator role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Already final", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn cancel_h(
    State(s): State<Shared>,
    Who(c): Who,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return invalid(e.body_text()).http_status(e.status()).into_response(),
    };
    // The body is optional: nothing, or `{"reason": ...}`.
    let b: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return invalid(format!("body: {e}")).into_response(),
        }
    };
    answer(cancel_request(&s, &c, &id, b.reason).await)
}

/// Start a failed request's project again, as a new run.
#[utoipa::path(post, path = "/api/v1/requests/{id}/retry", tag = "requests",
    params(("id" = String, Path, description = "Request id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "Retried: the agent's answer", body = Object),
        (status = 400, description = "Not an id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the operator role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Not failed", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn retry_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>) -> Response {
    answer(retry_request(&s, &c, &id).await)
}

/// The request as it changes (Server-Sent Events).
///
/// Event `state` carries the whole `GET /requests/{id}` answer each time it
/// changes (the first at once); `done` carries the final one when the run
/// ends (or the request ends without a run), and the stream closes. Comments
/// keep the connection alive. `problem` (a problem document) ends a stream
/// whose upstreams stopped answering.
#[utoipa::path(get, path = "/api/v1/requests/{id}/events", tag = "requests",
    params(("id" = String, Path, description = "Request id", pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses(
        (status = 200, description = "An event stream of `state` and `done` events", content_type = "text/event-stream", body = RequestEvent),
        (status = 400, description = "Not an id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The agent or planner is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn events_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>) -> Response {
    // The first snapshot is taken before the stream opens, so an unknown id
    // or a missing upstream is a problem with its status, not an event. It
    // is the one counted poll of the stream (quota, audit rows); the polls
    // after it are the gateway's own timer (`Accounting::Repeat`), so a
    // stream leaves one set of rows, however long it stays open.
    let first = match get(&s, &c, &id).await {
        Ok(v) => v,
        Err(p) => return p.into_response(),
    };
    let stream = snapshots(s, c, id, first).flat_map(futures::stream::iter).map(Ok::<_, Infallible>);
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("keep-alive"));
    // Proxies (nginx) must pass events through as they come.
    ([(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"))], sse).into_response()
}

struct Poll {
    s: Shared,
    c: Caller,
    id: String,
    last: Option<RequestView>,
    first: Option<RequestView>,
    failures: u32,
    over: bool,
}

/// Whether `caller`'s credential still holds: its key (if it is one) is
/// neither revoked nor expired. The fleet token cannot be revoked, and a
/// JWT's expiry is not known here (its claims are not kept); both hold.
fn still_valid(s: &ApiState, caller: &Caller) -> bool {
    key_valid(&s.gw.keys, caller, mcp_core::clock::now_ms())
}

fn key_valid(keys: &crate::keys::Keys, caller: &Caller, now_ms: i64) -> bool {
    let Some(id) = caller.key_id.as_deref() else { return true };
    keys.get(id).is_some_and(|k| k.row.revoked_ms.is_none() && k.row.expires_ms.is_none_or(|e| e > now_ms))
}

fn event(name: &str, v: &impl Serialize) -> Event {
    Event::default().event(name).json_data(v).unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

/// The events of one request: the snapshot when it changed, then `done`.
fn snapshots(s: Shared, c: Caller, id: String, first: RequestView) -> impl futures::Stream<Item = Vec<Event>> {
    let p = Poll { s, c, id, last: None, first: Some(first), failures: 0, over: false };
    futures::stream::unfold(p, |mut p| async move {
        if p.over {
            return None;
        }
        loop {
            let now = match p.first.take() {
                Some(v) => Ok(v),
                None => {
                    tokio::time::sleep(POLL).await;
                    // The caller was checked when the stream opened; a key
                    // revoked (or expired) since must not keep reading, so
                    // each poll looks again and the stream ends within one
                    // poll period.
                    if !still_valid(&p.s, &p.c) {
                        p.over = true;
                        let gone = Problem::new(ErrorKind::Forbidden, "this key was revoked or has expired")
                            .http_status(StatusCode::UNAUTHORIZED);
                        return Some((vec![event("problem", &gone)], p));
                    }
                    get_as(&p.s, &p.c, &p.id, Accounting::Repeat).await
                }
            };
            match now {
                Ok(v) => {
                    p.failures = 0;
                    let mut out = Vec::new();
                    if p.last.as_ref() != Some(&v) {
                        out.push(event("state", &v));
                    }
                    if v.is_final() {
                        out.push(event("done", &v));
                        p.over = true;
                    }
                    p.last = Some(v);
                    if !out.is_empty() {
                        return Some((out, p));
                    }
                }
                Err(e) => {
                    p.failures += 1;
                    if p.failures >= MAX_POLL_FAILURES
                        || e.kind == ErrorKind::NotFound
                        || e.kind == ErrorKind::Forbidden
                    {
                        p.over = true;
                        return Some((vec![event("problem", &e)], p));
                    }
                }
            }
        }
    })
}

/// A result as JSON (200) or its problem.
pub fn answer<T: Serialize>(r: Result<T, Problem>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(p) => p.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyRow;

    #[test]
    fn a_stream_stops_trusting_a_key_once_it_is_revoked_or_expired() {
        let row = |id: &str, expires_ms: Option<i64>| KeyRow {
            id: id.into(),
            name: id.into(),
            hash: String::new(),
            role: "viewer".into(),
            allow: Vec::new(),
            deny: Vec::new(),
            created_ms: 0,
            created_by: "test".into(),
            expires_ms,
            revoked_ms: None,
            last_used_ms: None,
        };
        let keys = crate::keys::Keys::new(
            "0123456789abcdef0123456789abcdef",
            vec![row("aaaaaaaaaaaa", None), row("bbbbbbbbbbbb", Some(1_000))],
        );
        let caller = |id: &str| Caller { subject: id.into(), role: Role::Viewer, key_id: Some(id.into()) };
        assert!(key_valid(&keys, &caller("aaaaaaaaaaaa"), 500));
        assert!(key_valid(&keys, &caller("bbbbbbbbbbbb"), 500));
        assert!(!key_valid(&keys, &caller("bbbbbbbbbbbb"), 1_000), "expired");
        keys.revoke("aaaaaaaaaaaa", 600);
        assert!(!key_valid(&keys, &caller("aaaaaaaaaaaa"), 700), "revoked");
        assert!(!key_valid(&keys, &caller("cccccccccccc"), 700), "a key no longer known");
        assert!(key_valid(&keys, &Caller::fleet(), 700), "the fleet token is not a key");
    }

    #[test]
    fn emails_are_checked_loosely_but_without_injection() {
        for ok in ["a@b.co", "dev+x@example.com", "first.last@sub.example.org"] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a b@c.de", "a@b.co\r\nBcc: x@y.z", "<a@b.co>", "a@b_c.de"] {
            assert!(!looks_like_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_view_is_final_when_its_run_or_its_request_ended() {
        let v = |req: &str, run: Option<&str>| RequestView {
            request: json!({"state": req}),
            run: run.map(|r| json!({"state": r})),
        };
        assert!(!v("planned", None).is_final());
        assert!(!v("planned", Some("running")).is_final());
        assert!(v("planned", Some("succeeded")).is_final());
        assert!(v("planned", Some("budget_exhausted")).is_final());
        assert!(v("refused", None).is_final());
        assert!(!v("asking", None).is_final());
    }
}
