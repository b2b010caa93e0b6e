//! The REST client under `mcp-fleet`: URLs under `/api/v1`, the bearer
//! credential, and every way a call can fail, each with its exit code.
//!
//! Answers stay `serde_json::Value`: the CLI prints the server's JSON as it
//! came (`--json`) and renders it defensively otherwise, so a field the
//! gateway adds later neither breaks the CLI nor gets lost.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::args::ApiKey;

/// The exit codes of `mcp-fleet`.
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// The server reported a failure, or the run failed.
    pub const FAILURE: u8 = 1;
    /// The command line was wrong (clap's code too).
    pub const USAGE: u8 = 2;
    /// The gateway could not be reached.
    pub const CONNECT: u8 = 3;
    /// The gateway refused the credential (401/403).
    pub const AUTH: u8 = 4;
    /// Rate limited (429).
    pub const RATE_LIMITED: u8 = 5;
}

/// The most of a non-problem error body shown to the user.
const BODY_EXCERPT: usize = 300;

/// An RFC 9457 problem as the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The problem's title (the status's reason phrase when the body was no problem).
    pub title: String,
    /// What happened.
    pub detail: String,
    /// The error kind (`not_found`, `forbidden`, ...), when the body said.
    pub kind: Option<String>,
    /// Seconds to wait, from `Retry-After` or the body's `retry_after`.
    pub retry_after: Option<u64>,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line or its inputs (files, JSON arguments) were wrong.
    #[error("{0}")]
    Usage(String),
    /// No connection, or no answer in time.
    #[error("cannot reach the gateway at {url}: {reason}")]
    Connect {
        /// The gateway's base URL.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{}", problem_line(.0))]
    Problem(Problem),
    /// The answer was not what the API promises.
    #[error("unexpected answer from the gateway: {0}")]
    Protocol(String),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => exit::USAGE,
            Self::Connect { .. } => exit::CONNECT,
            Self::Problem(p) => match p.status {
                401 | 403 => exit::AUTH,
                429 => exit::RATE_LIMITED,
                _ => exit::FAILURE,
            },
            Self::Protocol(_) | Self::Output(_) => exit::FAILURE,
        }
    }
}

fn problem_line(p: &Problem) -> String {
    let mut line = format!("{} ({})", p.title, p.status);
    if !p.detail.is_empty() && p.detail != p.title {
        line.push_str(": ");
        line.push_str(&p.detail);
    }
    if let Some(s) = p.retry_after {
        line.push_str(&format!("; retry after {s} s"));
    }
    line
}

/// Read an error answer: a problem document when it is one, otherwise the
/// status's reason and the start of the body.
pub fn problem_from(status: u16, retry_after: Option<&str>, body: &str) -> Problem {
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error").to_owned();
    // `Retry-After` may also be an HTTP date; the gateway sends seconds, and
    // a date is left to the body's `retry_after`, if any.
    let header_wait = retry_after.and_then(|v| v.trim().parse::<u64>().ok());
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(o)) if o.contains_key("title") || o.contains_key("detail") => {
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            Problem {
                status,
                title: text("title").unwrap_or(reason),
                detail: text("detail").unwrap_or_default(),
                kind: text("kind"),
                retry_after: header_wait.or_else(|| o.get("retry_after").and_then(Value::as_u64)),
            }
        }
        _ => Problem {
            status,
            title: reason,
            detail: excerpt(body.trim(), BODY_EXCERPT),
            kind: None,
            retry_after: header_wait,
        },
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The URL of an API path: `base` + `/api/v1` + `segments` (each escaped) +
/// the query pairs that have a value. A base already ending in `/api/v1` is
/// taken as is, so both forms of `--url` work.
pub fn api_url(base: &Url, segments: &[&str], query: &[(&str, Option<String>)]) -> Url {
    let mut url = base.clone();
    let has_prefix = {
        let parts: Vec<&str> = base.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
        parts.ends_with(&["api", "v1"])
    };
    // `path_segments_mut` fails only for URLs that cannot be a base, which
    // `--url`'s parser already refuses.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        if !has_prefix {
            path.extend(["api", "v1"]);
        }
        path.extend(segments);
    }
    let pairs: Vec<(&str, &str)> = query.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))).collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    url
}

/// The gateway's REST API, as one caller.
pub struct Api {
    http: reqwest::Client,
    base: Url,
    auth: Option<HeaderValue>,
    timeout: Duration,
}

impl Api {
    /// A client of the gateway at `base`, sending `key` on every call.
    pub fn new(base: Url, key: Option<&ApiKey>, timeout: Duration) -> Result<Self, CliError> {
        mcp_core::install_crypto_provider();
        let auth = match key {
            Some(k) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", k.expose()))
                    // The message must not echo the value: it holds the key.
                    .map_err(|_| CliError::Usage("the key cannot be sent in a header".to_owned()))?;
                // Sensitive values are left out of the HTTP client's debug output.
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            // Between two reads of one answer; bounds `request watch` too,
            // whose stream has no end but carries keep-alive comments.
            .read_timeout(timeout.max(Duration::from_secs(60)))
            .user_agent(concat!("mcp-fleet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Usage(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, base, auth, timeout })
    }

    /// `GET` a JSON answer.
    pub async fn get(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> Result<Value, CliError> {
        self.call(Method::GET, api_url(&self.base, segments, query), None).await
    }

    /// `POST` a JSON body, read a JSON answer.
    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, CliError> {
        self.call(Method::POST, api_url(&self.base, segments, &[]), Some(body)).await
    }

    /// `DELETE`; an empty answer (204) reads as `null`.
    pub async fn delete(&self, segments: &[&str]) -> Result<Value, CliError> {
        self.call(Method::DELETE, api_url(&self.base, segments, &[]), None).await
    }

    /// Open an event stream: the answer with its status checked, body unread.
    pub async fn stream(&self, segments: &[&str]) -> Result<reqwest::Response, CliError> {
        let url = api_url(&self.base, segments, &[]);
        // No total timeout: the stream lasts as long as the run. The read
        // timeout set on the client still ends a silent connection.
        let req = self.authorized(self.http.get(url)).header(ACCEPT, "text/event-stream");
        let resp = req.send().await.map_err(|e| self.transport(&e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(self.failure(resp).await)
    }

    async fn call(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Value, CliError> {
        let mut req =
            self.authorized(self.http.request(method, url)).timeout(self.timeout).header(ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.transport(&e))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp).await);
        }
        let text = resp.text().await.map_err(|e| self.transport(&e))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| CliError::Protocol(format!("not JSON ({e}): {}", excerpt(text.trim(), 120))))
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some(v) => req.header(AUTHORIZATION, v.clone()),
            None => req,
        }
    }

    async fn failure(&self, resp: reqwest::Response) -> CliError {
        let status = resp.status().as_u16();
        let retry = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // An unreadable error body still leaves the status to report.
        let body = resp.text().await.unwrap_or_default();
        CliError::Problem(problem_from(status, retry.as_deref(), &body))
    }

    /// A transport failure: no connection or no answer in time is "cannot
    /// reach" (exit 3); anything else broke mid-answer (exit 1).
    pub fn transport(&self, e: &reqwest::Error) -> CliError {
        let url = self.base.to_string();
        if e.is_timeout() {
            CliError::Connect { url, reason: format!("no answer within {} s", self.timeout.as_secs()) }
        } else if e.is_connect() || e.is_request() {
            // The innermost cause ("Connection refused", a DNS failure) is
            // the useful part; the outer layers only repeat the URL.
            CliError::Connect { url, reason: root_cause(e) }
        } else {
            CliError::Protocol(error_chain(e))
        }
    }
}

/// The innermost source of an error.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

/// An error and its sources on one line; reqwest's own message alone is
/// often just "error sending request".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn urls_get_the_prefix_once_and_escape_segments() {
        let q = [("state", Some("running".to_owned())), ("limit", None)];
        assert_eq!(
            api_url(&base("http://h:8203"), &["requests"], &q).as_str(),
            "http://h:8203/api/v1/requests?state=running"
        );
        assert_eq!(
            api_url(&base("http://h:8203/api/v1/"), &["requests", "r 1/x"], &[]).as_str(),
            "http://h:8203/api/v1/requests/r%201%2Fx"
        );
        assert_eq!(
            api_url(&base("https://proxy/fleet/"), &["tools", "fs.read", "call"], &[]).as_str(),
            "https://proxy/fleet/api/v1/tools/fs.read/call"
        );
        let q = [("query", Some("a&b=c".to_owned()))];
        assert_eq!(api_url(&base("http://h"), &["logs"], &q).as_str(), "http://h/api/v1/logs?query=a%26b%3Dc");
    }

    fn check(status: u16, retry: Option<&str>, body: &str, code: u8, line: &str) {
        let e = CliError::Problem(problem_from(status, retry, body));
        assert_eq!(e.exit_code(), code, "{status} {body}");
        assert_eq!(e.to_string(), line);
    }

    #[test]
    fn statuses_map_to_exit_codes() {
        let problem = |status: u16, kind: &str, title: &str, detail: &str| {
            serde_json::json!({"type": format!("urn:mcp-fleet:problem:{kind}"), "title": title,
                "status": status, "detail": detail, "kind": kind})
            .to_string()
        };
        check(
            404,
            None,
            &problem(404, "not_found", "Not found", "no request r-9"),
            exit::FAILURE,
            "Not found (404): no request r-9",
        );
        check(
            401,
            None,
            &problem(401, "forbidden", "Unauthorized", "missing bearer token"),
            exit::AUTH,
            "Unauthorized (401): missing bearer token",
        );
        check(
            403,
            None,
            &problem(403, "forbidden", "Forbidden", "role viewer may not call shell.run"),
            exit::AUTH,
            "Forbidden (403): role viewer may not call shell.run",
        );
        check(
            429,
            Some("7"),
            &problem(429, "rate_limited", "Rate limited", "too many calls"),
            exit::RATE_LIMITED,
            "Rate limited (429): too many calls; retry after 7 s",
        );
        check(
            409,
            None,
            &problem(409, "conflict", "Conflict", "already final"),
            exit::FAILURE,
            "Conflict (409): already final",
        );
        // Not a problem document: the reason phrase and the body's start.
        check(502, None, "<html>bad gateway</html>", exit::FAILURE, "Bad Gateway (502): <html>bad gateway</html>");
        check(500, None, "", exit::FAILURE, "Internal Server Error (500)");
    }

    #[test]
    fn retry_after_falls_back_to_the_body() {
        let p = problem_from(429, Some("Wed, 21 Oct 2026 07:28:00 GMT"), r#"{"title":"Rate limited","retry_after":3}"#);
        assert_eq!(p.retry_after, Some(3));
        assert_eq!(p.detail, "");
        let p = problem_from(429, None, "slow down");
        assert_eq!((p.retry_after, p.detail.as_str()), (None, "slow down"));
    }

    #[test]
    fn other_errors_have_their_codes() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), exit::USAGE);
        assert_eq!(CliError::Connect { url: "u".into(), reason: "r".into() }.exit_code(), exit::CONNECT);
        assert_eq!(CliError::Protocol("p".into()).exit_code(), exit::FAILURE);
    }

    #[test]
    fn long_bodies_are_cut() {
        let p = problem_from(500, None, &"x".repeat(1000));
        assert_eq!(p.detail.chars().count(), BODY_EXCERPT);
        assert!(p.detail.ends_with('…'));
    }
}
