//! The REST API under `/api/v1`, its OpenAPI 3.1 document at
//! `/openapi.json` and Swagger UI at `/docs` (served from the binary).
//!
//! Every handler is a thin HTTP shell around a function of the same module
//! that takes the gateway's state and the [`Caller`] and returns a typed
//! answer or a [`Problem`]; the web UI (`crate::ui`) calls those same
//! functions, so a rule (a role check, a bound, an upstream call) lives in
//! one place whichever door a person comes through. Upstream calls go
//! through the gateway's own path: tools through `Gateway::call_tool`, the
//! routes' fixed tools through `Gateway::call_for_route` (`crate::route`),
//! with the same quota and audit as `/mcp`.
//!
//! Errors are RFC 9457 problems everywhere, including the extractors'
//! rejections ([`Body`], `ApiQuery`), path ids that do not look like ids,
//! and routes that do not exist under `/api/v1`.

pub mod admin;
pub mod approvals;
pub mod observe;
pub mod requests;
pub mod tools;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::routing::{delete, get, post};
use http::StatusCode;
use http::request::Parts;
use mcp_core::auth::{Caller, Role};
use mcp_core::{ErrorKind, Problem};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::Gateway;

/// The largest JSON body any route accepts. The biggest legitimate one is a
/// request's text (bounded at 32 KiB) or a tool call's arguments; anything
/// larger is refused with 413 before it is parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What every route and page shares: the gateway, whose one forwarding
/// path (`crate::source`, `crate::route`) is how they reach the upstreams.
pub struct ApiState {
    /// The gateway.
    pub gw: Arc<Gateway>,
    /// Failed sign-ins to the web UI (its one public form).
    pub sign_in: crate::limits::SignInFailures,
}

/// The shared state as handlers hold it.
pub type Shared = Arc<ApiState>;

impl ApiState {
    /// Over the gateway.
    pub fn new(gw: Arc<Gateway>) -> Shared {
        Arc::new(Self { gw, sign_in: crate::limits::SignInFailures::default() })
    }
}

/// Call a route's fixed upstream tool as `caller`, once the route has
/// checked the role it needs ([`Gateway::call_for_route`]: the route is the
/// policy; quota and audit as for any call).
pub async fn route(
    s: &ApiState,
    caller: &Caller,
    name: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, Problem> {
    s.gw.call_for_route(caller, name, args, crate::source::Via::Rest).await
}

/// The authenticated caller, put into the request by mcp-core's guard. A
/// request without one never gets here (the guard answers 401 first); the
/// rejection exists so a wiring mistake is a problem document, not a panic.
pub struct Who(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().map(Who).ok_or_else(|| {
            Problem::new(ErrorKind::Forbidden, "no authenticated caller").http_status(StatusCode::UNAUTHORIZED)
        })
    }
}

/// A JSON body whose every rejection is a problem with the status HTTP has
/// for it: 413 for a body over [`MAX_BODY_BYTES`], 415 without a JSON
/// content type, 400 for malformed JSON, 422 for JSON of the wrong shape
/// (unknown fields included, where the type refuses them). The kind stays
/// `invalid_input`: what a client acts on.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(v) = axum::Json::<serde_json::Value>::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the request body is larger than {MAX_BODY_BYTES} bytes")
            } else {
                e.body_text()
            };
            Problem::new(ErrorKind::InvalidInput, detail).http_status(status)
        })?;
        // serde reads a struct from a JSON array too (by position); every
        // body here is an object, and an array is a mistake to point out.
        if !v.is_object() {
            return Err(Problem::new(ErrorKind::InvalidInput, "the body must be a JSON object")
                .http_status(StatusCode::UNPROCESSABLE_ENTITY));
        }
        serde_json::from_value(v).map(Self).map_err(|e| {
            Problem::new(ErrorKind::InvalidInput, format!("the body does not match: {e}"))
                .http_status(StatusCode::UNPROCESSABLE_ENTITY)
        })
    }
}

/// Refuse a caller below `role` (403, `forbidden`).
pub fn need(caller: &Caller, role: Role) -> Result<(), Problem> {
    if caller.role >= role {
        return Ok(());
    }
    Err(Problem::new(
        ErrorKind::Forbidden,
        format!("this needs the {} role; {} has the {} role", role.as_str(), caller.subject, caller.role.as_str()),
    ))
}

/// A `limit` query parameter: absent means `default`, otherwise `1..=max`.
pub fn limit(v: Option<u32>, default: u32, max: u32) -> Result<u32, Problem> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(Problem::new(ErrorKind::InvalidInput, format!("limit={n}: expected 1..={max}"))),
    }
}

/// Check a path id (a request, run, approval or key id): 1–128 characters
/// of letters, digits and `-_.:`, so an id never carries a path, a query or
/// control characters into an upstream call or a log line.
pub fn check_id<'a>(what: &str, id: &'a str) -> Result<&'a str, Problem> {
    let ok = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(id)
    } else {
        Err(Problem::new(
            ErrorKind::InvalidInput,
            format!("{what} id {:?} is not an id (1-128 letters, digits, '-', '_', '.', ':')", excerpt(id, 40)),
        ))
    }
}

/// A trace id: 32 lowercase hex digits, not all zero (W3C trace context).
pub fn check_trace_id(id: &str) -> Result<&str, Problem> {
    if id.len() == 32
        && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && id.bytes().any(|b| b != b'0')
    {
        Ok(id)
    } else {
        Err(Problem::new(
            ErrorKind::InvalidInput,
            format!("{:?} is not a trace id (32 lowercase hex digits)", excerpt(id, 40)),
        ))
    }
}

/// `s` cut to `max` characters, for messages that echo input.
pub fn excerpt(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The problem document as the OpenAPI description shows it (the type
/// itself lives in mcp-core, which does not depend on utoipa).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// `urn:mcp-fleet:problem:<kind>`.
    #[serde(rename = "type")]
    type_uri: String,
    /// The kind's title.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What happened and what to change.
    detail: String,
    /// Why, as data: `invalid_input`, `not_found`, `conflict`, `forbidden`,
    /// `unavailable`, `timed_out`, `rate_limited`, `budget_exhausted`,
    /// `cancelled`, `failed`, `internal`.
    kind: String,
    /// Seconds to wait before retrying.
    retry_after: Option<u64>,
}

/// Adds the bearer security scheme (an API key, the fleet token or a JWT).
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`mcpf_<id>_<secret>`), the fleet token, or a JWT from the configured issuer. \
                         The web UI's `mcpf_session` cookie carries the same credential.",
                    ))
                    .build(),
            ),
        );
        // What the guard in front of every route may answer before a handler
        // runs: no or a bad credential, and the per-caller rate limit.
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.delete].into_iter().flatten() {
                op.responses.responses.entry("401".into()).or_insert_with(|| {
                    ResponseBuilder::new()
                        .description("No credential, or one that is not valid (revoked, expired)")
                        .into()
                });
                op.responses.responses.entry("429".into()).or_insert_with(|| {
                    ResponseBuilder::new()
                        .description("Over the caller's rate limit; see Retry-After")
                        .content("application/problem+json", Content::new(Some(Ref::from_schema_name("ProblemDoc"))))
                        .into()
                });
            }
        }
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "mcp-fleet gateway",
        description = "The fleet's REST API: requests (the same path as an email), approvals, tools, servers, traces, \
                       logs, the audit and API keys. Errors are RFC 9457 problems (`application/problem+json`) whose \
                       `kind` says why, as data. Roles: viewer reads; operator submits, cancels, retries, decides \
                       approvals and calls tools within its policy; admin reads the audit and manages keys."
    ),
    paths(
        requests::submit_h, requests::list_h, requests::get_h, requests::cancel_h, requests::retry_h, requests::events_h,
        approvals::list_h, approvals::get_h, approvals::approve_h, approvals::deny_h,
        tools::list_h, tools::call_h, tools::servers_h,
        observe::trace_h, observe::traces_h, observe::logs_h,
        admin::audit_h, admin::create_key_h, admin::list_keys_h, admin::revoke_key_h,
    ),
    components(schemas(ProblemDoc)),
    modifiers(&Bearer),
    security(("bearer" = [])),
    tags(
        (name = "requests", description = "Work asked of the fleet, and its run"),
        (name = "approvals", description = "Steps waiting for a person"),
        (name = "tools", description = "The upstreams' tools, as this caller may use them"),
        (name = "observe", description = "Traces and logs"),
        (name = "admin", description = "Audit and API keys (admin only)"),
    )
)]
pub struct ApiDoc;

/// The routes: `/api/v1/...`, `/openapi.json`, `/docs`.
pub fn routes(state: Shared) -> Router {
    let api = Router::new()
        .route("/requests", post(requests::submit_h).get(requests::list_h))
        .route("/requests/{id}", get(requests::get_h))
        .route("/requests/{id}/cancel", post(requests::cancel_h))
        .route("/requests/{id}/retry", post(requests::retry_h))
        .route("/requests/{id}/events", get(requests::events_h))
        .route("/approvals", get(approvals::list_h))
        .route("/approvals/{id}", get(approvals::get_h))
        .route("/approvals/{id}/approve", post(approvals::approve_h))
        .route("/approvals/{id}/deny", post(approvals::deny_h))
        .route("/tools", get(tools::list_h))
        .route("/tools/{name}/call", post(tools::call_h))
        .route("/servers", get(tools::servers_h))
        .route("/traces", get(observe::traces_h))
        .route("/traces/{trace_id}", get(observe::trace_h))
        .route("/logs", get(observe::logs_h))
        .route("/audit", get(admin::audit_h))
        .route("/keys", post(admin::create_key_h).get(admin::list_keys_h))
        .route("/keys/{id}", delete(admin::revoke_key_h))
        .fallback(|| async { Problem::new(ErrorKind::NotFound, "no such route under /api/v1; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            Problem::new(ErrorKind::InvalidInput, "this route does not take that method; see /openapi.json")
                .http_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    Router::new().nest("/api/v1", api).merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
