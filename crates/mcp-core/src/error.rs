//! Error kinds as data: one closed list of *why* something failed, shared by
//! every program and every transport.
//!
//! A tool failure is an `isError` result whose `_meta` carries its kind under
//! [`ErrorKind::META_KEY`]; [`crate::CallResult::error_kind`] reads it back on
//! the calling side, so a client decides whether to retry from data, never by
//! matching message text. The REST sides (the log server's and the
//! observer's HTTP APIs, the gateway) answer with the same kinds as RFC 9457
//! `application/problem+json` through one [`Problem`] type, so an HTTP status
//! is derived from a kind in exactly one place.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Why an operation failed. The text form (`snake_case`) is what travels in
/// `_meta`, in problem documents and in span attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The arguments or the request are wrong; the message says what to change.
    InvalidInput,
    /// The thing named does not exist.
    NotFound,
    /// The current state does not allow it (exists already, moved on, key reused).
    Conflict,
    /// A policy forbids it; asking again will not help.
    Forbidden,
    /// A dependency is down or restarting; the same call may work later.
    Unavailable,
    /// It ran out of time; it may or may not have taken effect.
    TimedOut,
    /// Too many calls; wait and call again.
    RateLimited,
    /// A budget (steps, wall time, tokens) is spent.
    BudgetExhausted,
    /// The caller cancelled it.
    Cancelled,
    /// It ran and failed (a command exited non-zero, a test did not build).
    Failed,
    /// A bug or an unexpected system error; details are in the server's log.
    Internal,
}

impl ErrorKind {
    /// The `_meta` key of a tool error result that holds its kind. Namespaced
    /// with a reverse-DNS style prefix, as MCP asks of custom `_meta` keys.
    pub const META_KEY: &'static str = "dev.mcp-fleet/errorKind";

    /// Every kind, for tests and documentation.
    pub const ALL: [ErrorKind; 11] = [
        Self::InvalidInput,
        Self::NotFound,
        Self::Conflict,
        Self::Forbidden,
        Self::Unavailable,
        Self::TimedOut,
        Self::RateLimited,
        Self::BudgetExhausted,
        Self::Cancelled,
        Self::Failed,
        Self::Internal,
    ];

    /// The one text form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
            Self::TimedOut => "timed_out",
            Self::RateLimited => "rate_limited",
            Self::BudgetExhausted => "budget_exhausted",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Internal => "internal",
        }
    }

    /// The kind named by `s` (its text form), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Worth calling again later, unchanged: a dependency was away, time ran
    /// out, or the caller went too fast. Everything else gets the same answer
    /// when asked the same way.
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::Unavailable | Self::TimedOut | Self::RateLimited)
    }

    /// The HTTP status a REST API answers with for this kind.
    pub const fn http_status(self) -> StatusCode {
        match self {
            Self::InvalidInput => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            // The request was understood but cannot be carried out now.
            Self::BudgetExhausted | Self::Failed => StatusCode::UNPROCESSABLE_ENTITY,
            // nginx's "client closed request": there is no standard code.
            Self::Cancelled => StatusCode::BAD_REQUEST,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short human title (the problem document's `title`).
    pub const fn title(self) -> &'static str {
        match self {
            Self::InvalidInput => "Invalid input",
            Self::NotFound => "Not found",
            Self::Conflict => "Conflict",
            Self::Forbidden => "Forbidden",
            Self::Unavailable => "Unavailable",
            Self::TimedOut => "Timed out",
            Self::RateLimited => "Too many requests",
            Self::BudgetExhausted => "Budget exhausted",
            Self::Cancelled => "Cancelled",
            Self::Failed => "Failed",
            Self::Internal => "Internal error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 9457 problem document, the one error shape of every REST API in
/// the fleet. `type` is a URN naming the kind (there is no page to point
/// at), `status` follows from the kind, `detail` says what to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:mcp-fleet:problem:<kind>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The kind's title.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened and what to change.
    pub detail: String,
    /// The kind as data (an extension member), so clients need not parse `type`.
    pub kind: ErrorKind,
    /// Seconds to wait before retrying, for `rate_limited` and `unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Further members (an extension object, e.g. the refused lines of a batch).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty", default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The media type of [`Problem`].
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    /// A problem of `kind` with `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:mcp-fleet:problem:{kind}"),
            title: kind.title().to_owned(),
            status: kind.http_status().as_u16(),
            detail: detail.into(),
            kind,
            retry_after: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Ask the client to wait `secs` before retrying (`Retry-After`).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// A more precise HTTP status than the kind's own, for what only HTTP
    /// can say (413 for a body too large, 415 for a media type): the kind
    /// stays what a client acts on.
    pub fn http_status(mut self, status: StatusCode) -> Self {
        self.status = status.as_u16();
        self
    }

    /// Add an extension member.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }
}

impl From<&crate::ToolError> for Problem {
    /// A tool error as a problem. Internal errors keep their detail in the
    /// log, as they do in tool results.
    fn from(e: &crate::ToolError) -> Self {
        match e {
            crate::ToolError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed with an internal error");
                Problem::new(ErrorKind::Internal, "internal error; the details are in the server log")
            }
            other => Problem::new(other.kind(), other.to_string()),
        }
    }
}

impl From<crate::ToolError> for Problem {
    fn from(e: crate::ToolError) -> Self {
        Problem::from(&e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// `axum::extract::Query` whose rejection is a [`Problem`], so a malformed
/// query string answers in the API's error format like everything else.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| Problem::new(ErrorKind::InvalidInput, e.body_text()))
    }
}

/// `axum::Json` whose rejection is a [`Problem`]: malformed JSON, a wrong
/// content type or a body of the wrong shape answers as problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| Self(j.0))
            .map_err(|e| Problem::new(ErrorKind::InvalidInput, e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_text_and_serde() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
            let v = serde_json::to_value(k).expect("serialise");
            assert_eq!(v, serde_json::Value::String(k.as_str().into()));
            assert_eq!(serde_json::from_value::<ErrorKind>(v).expect("deserialise"), k);
        }
        assert_eq!(ErrorKind::parse("unavailable: the text is not the kind"), None);
    }

    #[test]
    fn only_waiting_can_help_the_transient_kinds() {
        let transient: Vec<_> = ErrorKind::ALL.into_iter().filter(|k| k.is_transient()).collect();
        assert_eq!(transient, [ErrorKind::Unavailable, ErrorKind::TimedOut, ErrorKind::RateLimited]);
    }

    #[test]
    fn a_problem_is_problem_json_with_the_status_of_its_kind() {
        let resp = Problem::new(ErrorKind::RateLimited, "slow down").retry_after(3).into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
        let p = Problem::new(ErrorKind::NotFound, "no such trace").with("trace_id", "ab".into());
        let v = serde_json::to_value(&p).expect("json");
        assert_eq!(v["type"], "urn:mcp-fleet:problem:not_found");
        assert_eq!(v["status"], 404);
        assert_eq!(v["kind"], "not_found");
        assert_eq!(v["trace_id"], "ab");
        assert!(v.get("retry_after").is_none());
    }
}
