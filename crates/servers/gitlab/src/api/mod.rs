//! The GitLab REST v4 client: plain reqwest (rustls on ring, the fleet's one
//! TLS provider), the token in `PRIVATE-TOKEN` to the configured instance
//! only, redirects followed only to allowed hosts, `page`/`per_page`
//! pagination read from GitLab's `X-Page`, `X-Next-Page`, `X-Total` and
//! `X-Total-Pages` headers, `429 Too Many Requests` retried after the
//! `Retry-After` delay a bounded number of times, and every HTTP failure
//! mapped to an error kind whose message says what to do. GitLab's own
//! error text is cut and masked before it reaches a message: it can echo
//! request content.

pub mod types;

use std::time::Duration;

use mcp_core::ToolError;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{Config, GITLAB_ALLOWED_HOSTS, GITLAB_MAX_RETRIES, GITLAB_TOKEN_FILE, Remote, Token, host_allowed};
use crate::redact::Redactor;

/// Largest `per_page` GitLab accepts.
pub const MAX_PER_PAGE: u32 = 100;
/// Characters of GitLab's own error text kept in a message.
const MAX_REMOTE_MESSAGE: usize = 300;

/// One page of a list, with where the next one is.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// This page's number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// The next page's number, absent on the last page.
    pub next_page: Option<u32>,
    /// All items, when GitLab counts them (it stops counting above 10,000).
    pub total: Option<u64>,
    /// All pages, when GitLab counts them.
    pub total_pages: Option<u64>,
}

/// Percent-encode one path segment (a project path becomes `group%2Fname`).
pub fn enc(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The client.
pub struct Api {
    http: reqwest::Client,
    base: String,
    host: String,
    token: Option<Token>,
    max_retries: u32,
    max_retry_wait: Duration,
    redactor: Redactor,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Api {
    /// A client for `remote` with `config`'s limits.
    pub fn new(remote: &Remote, config: &Config, redactor: Redactor) -> Result<Self, String> {
        mcp_core::install_crypto_provider();
        let allowed = remote.allowed_hosts.clone();
        // The token travels in a header reqwest does not know is sensitive,
        // so a redirect is followed only to a host the operator allowed.
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if host_allowed(attempt.url(), &allowed) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(policy)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mcp-server-gitlab/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let host =
            reqwest::Url::parse(&remote.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        Ok(Self {
            http,
            base: format!("{}/api/v4", remote.url),
            host,
            token: remote.token.clone(),
            max_retries: config.max_retries,
            max_retry_wait: config.max_retry_wait,
            redactor,
        })
    }

    /// The instance's host, for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Send one request, retrying after 429s; the response is a success
    /// (2xx) or the mapped error. `what` names the resource for messages.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<reqwest::Response, ToolError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| ToolError::invalid(format!("not a usable GitLab path: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut attempt = 0;
        loop {
            let mut rb = self.http.request(method.clone(), url.clone());
            if let Some(t) = &self.token {
                rb = rb.header("PRIVATE-TOKEN", t.expose());
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let resp = rb.send().await.map_err(|e| self.transport(e))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = retry_after(resp.headers());
                if attempt < self.max_retries && wait <= self.max_retry_wait {
                    attempt += 1;
                    mcp_core::tracing::info!(
                        path,
                        wait_ms = wait.as_millis() as u64,
                        attempt,
                        "GitLab rate limit; waiting"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let why = if wait > self.max_retry_wait {
                    format!("GitLab asks to wait {} s, longer than this server waits", wait.as_secs())
                } else {
                    format!("still limited after {attempt} retries ({GITLAB_MAX_RETRIES})")
                };
                return Err(ToolError::RateLimited(format!(
                    "GitLab at {} is rate limiting this server (429): {why}; call again after about {} s",
                    self.host,
                    wait.as_secs().max(1)
                )));
            }
            if status.is_redirection() {
                let to = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| reqwest::Url::parse(l).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "another host".into());
                return Err(ToolError::denied(format!(
                    "GitLab redirected {what} to {to}, which is not in {GITLAB_ALLOWED_HOSTS}; the request was not \
                     followed (an operator may add the host)"
                )));
            }
            let text = resp.text().await.unwrap_or_default();
            return Err(self.status_error(status, &text, what));
        }
    }

    fn transport(&self, e: reqwest::Error) -> ToolError {
        let e = e.without_url();
        if e.is_timeout() {
            ToolError::timeout(format!("GitLab at {} did not answer in time", self.host))
        } else {
            ToolError::unavailable(format!("GitLab at {} cannot be reached: {e}", self.host))
        }
    }

    /// GitLab's own message from an error body, cut and masked.
    fn remote_message(&self, body: &str) -> String {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let m = match v.get("message").or_else(|| v.get("error")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => body.trim().to_owned(),
        };
        let mut m: String = m.chars().filter(|c| !c.is_control()).take(MAX_REMOTE_MESSAGE).collect();
        if m.is_empty() {
            return String::new();
        }
        m = self.redactor.line(&m).0;
        format!(" (GitLab says: {m})")
    }

    fn status_error(&self, status: StatusCode, body: &str, what: &str) -> ToolError {
        let said = self.remote_message(body);
        match status.as_u16() {
            401 => ToolError::denied(format!(
                "GitLab at {} rejected this server's access token (401 Unauthorized): it is missing, expired or \
                 revoked; an operator must replace it ({GITLAB_TOKEN_FILE})",
                self.host
            )),
            403 => ToolError::denied(format!(
                "GitLab refused access to {what} (403 Forbidden): the token lacks the role or scope for this{said}"
            )),
            404 => ToolError::not_found(format!(
                "GitLab has no {what} (404), or the token may not see it; check the project and ids{said}"
            )),
            409 => ToolError::conflict(format!("GitLab refused: {what} is in a conflicting state (409){said}")),
            400 | 422 => ToolError::invalid(format!("GitLab refused the request for {what} ({status}){said}")),
            s if s >= 500 => {
                ToolError::unavailable(format!("GitLab at {} failed ({status}) for {what}; try again later", self.host))
            }
            _ => ToolError::failed(format!("GitLab answered {status} for {what}{said}")),
        }
    }

    /// GET a JSON resource.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, ToolError> {
        let resp = self.send(Method::GET, path, query, None, what).await?;
        decode(resp, what).await
    }

    /// POST (or another method) with a JSON body, decoding the answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, ToolError> {
        let resp = self.send(method, path, &[], body, what).await?;
        decode(resp, what).await
    }

    /// One page of a list.
    pub async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        page: u32,
        per_page: u32,
        what: &str,
    ) -> Result<Page<T>, ToolError> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let mut q = query.to_vec();
        q.push(("page", page.to_string()));
        q.push(("per_page", per_page.to_string()));
        let resp = self.send(Method::GET, path, &q, None, what).await?;
        let h = resp.headers().clone();
        let num = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let items: Vec<T> = decode(resp, what).await?;
        let next_page = num("x-next-page").map(|n| n as u32);
        Ok(Page {
            next_page,
            page: num("x-page").map_or(page, |n| n as u32),
            per_page: num("x-per-page").map_or(per_page, |n| n as u32),
            total: num("x-total"),
            total_pages: num("x-total-pages"),
            items,
        })
    }

    /// Every item of a list up to `max` (following `X-Next-Page`), and
    /// whether more were left.
    pub async fn all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        max: usize,
        what: &str,
    ) -> Result<(Vec<T>, bool), ToolError> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p: Page<T> = self.page(path, query, page, MAX_PER_PAGE, what).await?;
            out.extend(p.items);
            match p.next_page {
                Some(n) if out.len() < max && n > page => page = n,
                Some(_) => {
                    out.truncate(max);
                    return Ok((out, true));
                }
                None => {
                    let more = out.len() > max;
                    out.truncate(max);
                    return Ok((out, more));
                }
            }
        }
    }

    /// GET raw bytes, at most `cap`: `(bytes, total_bytes_seen, truncated)`.
    /// With `keep_tail`, a longer body keeps its last `cap` bytes (a log's
    /// failure is at its end), else its first.
    pub async fn bytes(
        &self,
        path: &str,
        cap: usize,
        keep_tail: bool,
        what: &str,
    ) -> Result<(Vec<u8>, u64, bool), ToolError> {
        let mut resp = self.send(Method::GET, path, &[], None, what).await?;
        let mut buf: Vec<u8> = Vec::new();
        let mut seen: u64 = 0;
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            seen += chunk.len() as u64;
            buf.extend_from_slice(&chunk);
            if buf.len() > cap {
                truncated = true;
                if keep_tail {
                    let drop = buf.len() - cap;
                    buf.drain(..drop);
                } else {
                    buf.truncate(cap);
                    break;
                }
            }
        }
        Ok((buf, seen, truncated))
    }
}

async fn decode<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T, ToolError> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ToolError::unavailable(format!("GitLab's answer for {what} was cut off: {}", e.without_url())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ToolError::failed(format!("GitLab's answer for {what} is not the JSON expected: {e}")))
}

/// The delay a 429 asks for: `Retry-After` in seconds, else the
/// `RateLimit-Reset` epoch, else one second.
fn retry_after(h: &reqwest::header::HeaderMap) -> Duration {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(s) = get("retry-after").and_then(|v| v.parse::<f64>().ok())
        && s.is_finite()
        && s >= 0.0
    {
        return Duration::from_secs_f64(s.min(1e6));
    }
    if let Some(reset) = get("ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        if reset > now {
            return Duration::from_secs(reset - now);
        }
    }
    Duration::from_secs(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_project_paths() {
        assert_eq!(enc("group/sub/app"), "group%2Fsub%2Fapp");
        assert_eq!(enc("42"), "42");
        assert_eq!(enc("a b"), "a%20b");
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(2));
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), Duration::from_secs(1));
    }
}
