//! The web UI under `/ui`: server-rendered pages (askama templates in
//! `templates/`, compiled into the binary), one small stylesheet and script
//! under `/static/`, nothing loaded from elsewhere.
//!
//! Every page reads and writes through the REST module's functions
//! (`crate::api::*`), with the same caller and the same role checks; the
//! UI adds only HTML, forms and redirects.
//!
//! **Sessions.** `/ui/login` takes an API key or token, checks it with the
//! gateway's own authenticator and puts it into the `mcpf_session` cookie
//! (HttpOnly, SameSite=Strict, Path=/), which the authenticator then reads
//! on every request like a bearer header. Signing out clears the cookie.
//! Failed sign-ins are limited (`crate::limits::SignInFailures`: 429 with
//! `Retry-After` once the budget is spent); a successful one does not count.
//!
//! **CSRF.** Every form that changes something carries a token, the
//! HMAC-SHA-256 of the session credential under the key secret
//! (`GATEWAY_KEY_SECRET`), and every UI POST is refused (403) unless the
//! token matches in constant time and the request looks same-origin: a
//! `Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` whose
//! host is not the `Host` asked, is refused. The sign-in form, which has no
//! session yet, uses a double-submit cookie (`mcpf_login_csrf`) instead.
//! SameSite=Strict alone would stop most of this; the token also covers
//! browsers and proxies that do not honour it.

mod assets;
mod views;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hmac::{KeyInit, Mac};
use mcp_core::auth::{Authenticator, Caller, Role};
use mcp_core::{ErrorKind, Problem};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::api::tools::ServerView;
use crate::api::{self, Shared, Who, need};
use crate::authn::SESSION_COOKIE;
use crate::store::AuditEntry;
use views::{ApprovalRow, LogRow, RequestFacts, RequestRow, SpanRow, StepRow};

/// The sign-in page: public (served without a caller).
pub const LOGIN_PATH: &str = "/ui/login";
/// The static files: public.
pub const STATIC_PREFIX: &str = "/static/";
/// The sign-in form's double-submit cookie.
const LOGIN_CSRF_COOKIE: &str = "mcpf_login_csrf";
/// How long a sign-in lasts in the browser (the key's own expiry still applies).
const SESSION_SECS: u32 = 12 * 3600;
/// The largest form accepted (a request's text is the biggest field).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The UI's routes.
pub fn routes(s: Shared) -> Router {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/requests") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/requests") }))
        .route(LOGIN_PATH, get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/requests", get(requests_page).post(requests_submit))
        .route("/ui/requests/{id}", get(request_page))
        .route("/ui/requests/{id}/live", get(request_live))
        .route("/ui/requests/{id}/cancel", post(request_cancel))
        .route("/ui/requests/{id}/retry", post(request_retry))
        .route("/ui/approvals", get(approvals_page))
        .route("/ui/approvals/{id}/{decision}", post(approval_decide))
        .route("/ui/traces/{trace_id}", get(trace_page))
        .route("/ui/fleet", get(fleet_page))
        .route("/ui/audit", get(audit_page))
        .route("/ui/keys", get(keys_page).post(keys_create))
        .route("/ui/keys/{id}/revoke", post(keys_revoke))
        .route("/static/{version}/{file}", get(assets::serve))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::map_response(security_headers))
        .with_state(s)
}

/// Headers every UI answer carries: scripts and styles only from here, no
/// framing, no caching of pages that show private data.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let mut set = |k: header::HeaderName, v: &'static str| {
        if !h.contains_key(&k) {
            h.insert(k, HeaderValue::from_static(v));
        }
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::CACHE_CONTROL, "no-store");
    r
}

// ---------------------------------------------------------------- sessions

/// The header nav's facts and the page's CSRF token.
pub struct Page {
    subject: String,
    role: &'static str,
    admin: bool,
    nav: &'static str,
    csrf: String,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The credential this request was authenticated with, as the
/// authenticator reads it: the bearer header first, else the cookie.
fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, rest)) = v.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return Some(rest.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// The CSRF token of a session: HMAC-SHA-256(key secret, purpose ‖ credential), hex.
pub fn csrf_token(secret: &str, credential: &str) -> String {
    match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(b"mcpf-ui-csrf\0");
            mac.update(credential.as_bytes());
            mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
        }
        // HMAC takes keys of any length; an empty token matches nothing.
        Err(_) => String::new(),
    }
}

fn forbidden(detail: &str) -> Problem {
    Problem::new(ErrorKind::Forbidden, detail)
}

/// A browser's POST must come from this site: `Sec-Fetch-Site` (when
/// sent) says so, and `Origin` (when sent) names the host asked.
fn same_origin(headers: &HeaderMap) -> Result<(), Problem> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(forbidden("cross-site form submissions are refused"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, h)| h).unwrap_or_default();
        if host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(forbidden("the form was not sent from this site (Origin)"));
        }
    }
    Ok(())
}

/// Refuse a UI POST without the session's CSRF token or from another site.
fn check_post(s: &Shared, headers: &HeaderMap, token: &str) -> Result<(), Problem> {
    same_origin(headers)?;
    let want = credential(headers).map(|c| csrf_token(&s.gw.config.key_secret, &c)).unwrap_or_default();
    if want.is_empty() || !bool::from(want.as_bytes().ct_eq(token.as_bytes())) {
        return Err(forbidden("missing or wrong CSRF token: reload the page and try again"));
    }
    Ok(())
}

fn page(s: &Shared, headers: &HeaderMap, c: &Caller, nav: &'static str) -> Page {
    Page {
        subject: c.subject.clone(),
        role: c.role.as_str(),
        admin: c.role >= Role::Admin,
        nav,
        csrf: credential(headers).map(|cr| csrf_token(&s.gw.config.key_secret, &cr)).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------- rendering

fn html<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            mcp_core::tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page failed to render; the details are in the server log")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Option<Page>,
    title: String,
    status: u16,
    detail: String,
    kind: &'static str,
}

/// A problem as a page, with the problem's status.
fn fail(page: Option<Page>, p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    html(status, &ErrorPage { page, title: p.title, status: p.status, detail: p.detail, kind: p.kind.as_str() })
}

fn see(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Option<Page>,
    signed_in: Option<String>,
    error: Option<String>,
    csrf: String,
}

fn random_token() -> String {
    let b: [u8; 16] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn secure(headers: &HeaderMap) -> &'static str {
    // Behind a TLS-terminating proxy the cookie must not travel over plain HTTP.
    let https =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if https { "; Secure" } else { "" }
}

fn login_form(s: &Shared, headers: &HeaderMap, status: StatusCode, error: Option<String>) -> Response {
    let signed_in = credential(headers).and_then(|c| {
        let mut h = HeaderMap::new();
        HeaderValue::from_str(&format!("Bearer {c}")).ok().map(|v| h.insert(header::AUTHORIZATION, v));
        s.gw.auth.authenticate(&h).ok().map(|c| c.subject)
    });
    let csrf = random_token();
    let mut r = html(status, &LoginPage { page: None, signed_in, error, csrf: csrf.clone() });
    let c = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; HttpOnly; SameSite=Strict; Path={LOGIN_PATH}; Max-Age=3600{}",
        secure(headers)
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_page(State(s): State<Shared>, headers: HeaderMap) -> Response {
    login_form(&s, &headers, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    credential: String,
    #[serde(default)]
    csrf: String,
}

/// A credential that can live in a cookie: visible ASCII without the
/// characters that end or quote a cookie value.
fn cookie_safe(c: &str) -> bool {
    (1..=8192).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_graphic() && !b";,\"\\".contains(&b))
}

async fn login(
    State(s): State<Shared>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(p) = same_origin(&headers) {
        return fail(None, p);
    }
    let Ok(Form(f)) = form else {
        return login_form(&s, &headers, StatusCode::BAD_REQUEST, Some("The form was incomplete; try again.".into()));
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(f.csrf.as_bytes())) {
        return login_form(&s, &headers, StatusCode::FORBIDDEN, Some("The sign-in form expired; try again.".into()));
    }
    // Only now is a credential looked at, so only now does the sign-in
    // limit apply (a stale form above costs nothing).
    if let Err(wait) = s.sign_in.admit() {
        return too_many_sign_ins(&s, &headers, wait);
    }
    let cred = f.credential.trim();
    let caller =
        cookie_safe(cred).then(|| HeaderValue::from_str(&format!("Bearer {cred}")).ok()).flatten().and_then(|v| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v);
            s.gw.auth.authenticate(&h).ok()
        });
    let Some(caller) = caller else {
        if let Err(wait) = s.sign_in.failed() {
            mcp_core::tracing::warn!(
                retry_after_secs = wait.as_secs(),
                "too many failed sign-ins to the web UI; the form is closed for a while"
            );
            return too_many_sign_ins(&s, &headers, wait);
        }
        return login_form(&s, &headers, StatusCode::UNAUTHORIZED, Some("That key or token is not valid.".into()));
    };
    mcp_core::tracing::info!(subject = %caller.subject, role = caller.role.as_str(), "signed in to the web UI");
    let mut r = see("/ui/requests");
    let session = format!(
        "{SESSION_COOKIE}={cred}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}{}",
        secure(&headers)
    );
    let clear = format!("{LOGIN_CSRF_COOKIE}=; HttpOnly; SameSite=Strict; Path={LOGIN_PATH}; Max-Age=0");
    for c in [session, clear] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The sign-in form again, 429 with `Retry-After`: too many failures
/// (`crate::limits::SignInFailures`).
fn too_many_sign_ins(s: &Shared, headers: &HeaderMap, wait: std::time::Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let error = format!("Too many failed sign-ins; try again in {secs} s.");
    let mut r = login_form(s, headers, StatusCode::TOO_MANY_REQUESTS, Some(error));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(s): State<Shared>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if let Err(p) = check_post(&s, &headers, &f.csrf) {
        return fail(None, p);
    }
    let mut r = see(LOGIN_PATH);
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---------------------------------------------------------------- requests

const REQUEST_STATES: &[&str] = &["new", "asking", "planned", "refused", "gave_up", "failed", "cancelled"];

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    page: Option<Page>,
    states: &'static [&'static str],
    state: String,
    rows: Vec<RequestRow>,
    error: Option<String>,
    can_submit: bool,
    default_requester: String,
    csrf: String,
}

#[derive(Deserialize)]
struct StateQuery {
    #[serde(default)]
    state: String,
}

async fn requests_page(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Query(q): Query<StateQuery>,
) -> Response {
    let state = q.state;
    let p = page(&s, &headers, &c, "requests");
    let q = api::requests::ListQuery { state: Some(state.clone()).filter(|s| !s.is_empty()), limit: Some(100) };
    let now = mcp_core::clock::now_ms();
    let (rows, error) = match api::requests::list(&s, &c, q).await {
        Ok(l) => (l.requests.iter().map(|r| RequestRow::new(r, now)).collect(), None),
        Err(e) => (Vec::new(), Some(e.detail)),
    };
    let default_requester = if api::requests::looks_like_email(&c.subject) { c.subject.clone() } else { String::new() };
    let csrf = p.csrf.clone();
    html(
        StatusCode::OK,
        &RequestsPage {
            page: Some(p),
            states: REQUEST_STATES,
            state,
            rows,
            error,
            can_submit: c.role >= Role::Operator,
            default_requester,
            csrf,
        },
    )
}

#[derive(Deserialize)]
struct SubmitForm {
    requester: String,
    subject: String,
    text: String,
    #[serde(default)]
    csrf: String,
}

async fn requests_submit(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Form(f): Form<SubmitForm>,
) -> Response {
    let p = page(&s, &headers, &c, "requests");
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    let r = api::requests::NewRequest { requester: f.requester, subject: f.subject, text: f.text };
    match api::requests::submit(&s, &c, r, None).await {
        Ok(out) => match out.request_id {
            Some(id) => see(&format!("/ui/requests/{}?submitted={}", urlencode(&id), urlencode(&out.decision))),
            None => see("/ui/requests"),
        },
        Err(e) => fail(Some(p), e),
    }
}

/// Percent-encode a path segment or query value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "request_live.html")]
struct LiveFragment {
    v: RequestFacts,
    steps: Vec<StepRow>,
    report: String,
    approvals: Vec<ApprovalRow>,
    can_operate: bool,
    can_cancel: bool,
    can_retry: bool,
    final_state: bool,
    csrf: String,
    back: String,
    /// The step running now (or waiting), for the log tail's heading.
    current_step: String,
    /// The last lines the run's trace logged, oldest first.
    log_tail: Vec<LogRow>,
}

/// How many of a run's latest log lines its page shows.
const LOG_TAIL: u32 = 15;

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    page: Option<Page>,
    id: String,
    submitted: Option<String>,
    live: String,
}

/// The live part of a request's page, as HTML.
async fn live(s: &Shared, c: &Caller, csrf: String, id: &str) -> Result<String, Problem> {
    let view = api::requests::get(s, c, id).await?;
    let now = mcp_core::clock::now_ms();
    let facts = RequestFacts::new(&view.request, view.run.as_ref(), now);
    let (steps, report) = views::steps(view.run.as_ref(), now);
    // Pending approvals of this run; a planner without approvals shows none.
    let approvals = if facts.run_id.is_empty() {
        Vec::new()
    } else {
        let args = json!({"state": "pending", "run_id": facts.run_id, "limit": 20});
        api::route(s, c, "planner__approvals_list", args)
            .await
            .ok()
            .and_then(|v| {
                v.get("approvals").and_then(Value::as_array).map(|a| a.iter().map(ApprovalRow::new).collect())
            })
            .unwrap_or_default()
    };
    let final_state = view.is_final();
    let can_retry = matches!(facts.run_state.as_str(), "failed" | "budget_exhausted") || facts.state == "failed";
    // The current step's log tail: the newest lines of the request's trace
    // (every program logs under it), shown while something happens and
    // after; a log server that is away leaves the section out.
    let current_step = steps
        .iter()
        .find(|st| matches!(st.state.as_str(), "running" | "awaiting_approval" | "retrying"))
        .map(|st| st.title.clone())
        .unwrap_or_default();
    let log_tail = if facts.trace_id.is_empty() {
        Vec::new()
    } else {
        let q = api::observe::LogQuery {
            trace_id: Some(facts.trace_id.clone()),
            limit: Some(LOG_TAIL),
            ..Default::default()
        };
        match api::observe::logs(s, c, q).await {
            // Newest first from the log server; shown oldest first.
            Ok(l) => l.lines.iter().rev().map(LogRow::new).collect(),
            Err(_) => Vec::new(),
        }
    };
    let frag = LiveFragment {
        back: format!("/ui/requests/{}", urlencode(id)),
        v: facts,
        steps,
        report,
        approvals,
        can_operate: c.role >= Role::Operator,
        can_cancel: !final_state,
        can_retry,
        final_state,
        csrf,
        current_step,
        log_tail,
    };
    frag.render().map_err(|e| {
        mcp_core::tracing::error!(error = %e, "a fragment failed to render");
        Problem::new(ErrorKind::Internal, "the page failed to render; the details are in the server log")
    })
}

#[derive(Deserialize)]
struct SubmittedQuery {
    #[serde(default)]
    submitted: String,
}

async fn request_page(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<SubmittedQuery>,
) -> Response {
    let p = page(&s, &headers, &c, "requests");
    match live(&s, &c, p.csrf.clone(), &id).await {
        Ok(live) => {
            let submitted = Some(q.submitted)
                .filter(|d| !d.is_empty())
                .map(|d| format!("Submitted: the agent {}.", api::excerpt(&d, 40)));
            html(StatusCode::OK, &RequestPage { page: Some(p), id, submitted, live })
        }
        Err(e) => fail(Some(p), e),
    }
}

async fn request_live(State(s): State<Shared>, Who(c): Who, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let p = page(&s, &headers, &c, "requests");
    match live(&s, &c, p.csrf, &id).await {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Html(format!("<p class=\"flash error\">{}</p>", escape(&e.detail)))).into_response()
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

async fn request_cancel(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let p = page(&s, &headers, &c, "requests");
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    match api::requests::cancel_request(&s, &c, &id, Some(f.reason)).await {
        Ok(_) => see(&format!("/ui/requests/{}", urlencode(&id))),
        Err(e) => fail(Some(p), e),
    }
}

async fn request_retry(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let p = page(&s, &headers, &c, "requests");
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    match api::requests::retry_request(&s, &c, &id).await {
        Ok(_) => see(&format!("/ui/requests/{}", urlencode(&id))),
        Err(e) => fail(Some(p), e),
    }
}

// ---------------------------------------------------------------- approvals

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    page: Option<Page>,
    states: &'static [&'static str],
    state: String,
    rows: Vec<ApprovalRow>,
    error: Option<String>,
    can_operate: bool,
    csrf: String,
}

async fn approvals_page(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Query(q): Query<StateQuery>,
) -> Response {
    let state = Some(q.state).filter(|s| !s.is_empty()).unwrap_or_else(|| "pending".into());
    let p = page(&s, &headers, &c, "approvals");
    let q = api::approvals::ListQuery { state: Some(state.clone()), limit: Some(100) };
    let (rows, error) = match api::approvals::list(&s, &c, q).await {
        Ok(l) => (l.approvals.iter().map(ApprovalRow::new).collect(), None),
        Err(e) => (Vec::new(), Some(e.detail)),
    };
    let csrf = p.csrf.clone();
    html(
        StatusCode::OK,
        &ApprovalsPage {
            page: Some(p),
            states: api::approvals::STATES,
            state,
            rows,
            error,
            can_operate: c.role >= Role::Operator,
            csrf,
        },
    )
}

/// Where to go after a decision: a UI path named by the form, or the queue.
fn back_to(back: &str) -> &str {
    let ok =
        back.starts_with("/ui/") && !back.contains("//") && !back.contains('\\') && !back.chars().any(char::is_control);
    if ok { back } else { "/ui/approvals" }
}

async fn approval_decide(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let p = page(&s, &headers, &c, "approvals");
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return fail(Some(p), Problem::new(ErrorKind::NotFound, "no such page")),
    };
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    match api::approvals::decide(&s, &c, &id, approve, Some(f.reason)).await {
        Ok(_) => see(back_to(&f.back)),
        Err(e) => fail(Some(p), e),
    }
}

// ---------------------------------------------------------------- traces

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    page: Option<Page>,
    trace_id: String,
    spans: Vec<SpanRow>,
    services: String,
    duration: String,
    errors: u64,
    warnings: Vec<String>,
    logs: Vec<LogRow>,
    logs_error: Option<String>,
}

async fn trace_page(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path(trace_id): Path<String>,
) -> Response {
    let p = page(&s, &headers, &c, "requests");
    let out = match api::observe::trace(&s, &c, &trace_id).await {
        Ok(v) => v,
        Err(e) => return fail(Some(p), e),
    };
    let trace = out.get("trace").cloned().unwrap_or(Value::Null);
    let q = api::observe::LogQuery { trace_id: Some(trace_id.clone()), limit: Some(500), ..Default::default() };
    let (logs, logs_error) = match api::observe::logs(&s, &c, q).await {
        Ok(l) => (l.lines.iter().rev().map(LogRow::new).collect(), None),
        Err(e) => (Vec::new(), Some(format!("Log lines are not available: {}", e.detail))),
    };
    let services = trace
        .get("services")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let duration = views::span(trace.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0).round() as i64);
    let warnings = out
        .get("warnings")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &TracePage {
            page: Some(p),
            spans: views::waterfall(&trace),
            errors: trace.get("error_count").and_then(Value::as_u64).unwrap_or(0),
            trace_id,
            services,
            duration,
            warnings,
            logs,
            logs_error,
        },
    )
}

// ---------------------------------------------------------------- fleet

struct ToolRow {
    name: String,
    role: String,
    hints: String,
    description: String,
}

#[derive(Template)]
#[template(path = "fleet.html")]
struct FleetPage {
    page: Option<Page>,
    servers: Vec<ServerView>,
    tools: Vec<ToolRow>,
}

async fn fleet_page(State(s): State<Shared>, Who(c): Who, headers: HeaderMap) -> Response {
    let p = page(&s, &headers, &c, "fleet");
    let (servers, tools) = futures::join!(api::tools::servers(&s, &c), api::tools::list(&s, &c));
    let servers = match servers {
        Ok(l) => l.servers,
        Err(e) => return fail(Some(p), e),
    };
    let tools = match tools {
        Ok(l) => l.tools,
        Err(e) => return fail(Some(p), e),
    };
    let tools = tools
        .into_iter()
        .map(|t| {
            let flag = |k: &str| t.annotations.get(k).and_then(Value::as_bool);
            let hints: Vec<&str> = [
                (flag("readOnlyHint") == Some(true)).then_some("read-only"),
                (flag("destructiveHint") == Some(true)).then_some("destructive"),
                (flag("idempotentHint") == Some(true)).then_some("idempotent"),
                (flag("openWorldHint") == Some(true)).then_some("open world"),
            ]
            .into_iter()
            .flatten()
            .collect();
            ToolRow { role: t.role, hints: hints.join(", "), name: t.name, description: t.description }
        })
        .collect();
    html(StatusCode::OK, &FleetPage { page: Some(p), servers, tools })
}

// ---------------------------------------------------------------- audit

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageT {
    page: Option<Page>,
    entries: Vec<AuditEntry>,
    next_before: Option<i64>,
    subject: String,
    tool: String,
    decision: String,
    decisions: &'static [&'static str],
}

#[derive(Deserialize, Default)]
struct AuditForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    decision: String,
    before: Option<i64>,
}

async fn audit_page(State(s): State<Shared>, Who(c): Who, headers: HeaderMap, Query(q): Query<AuditForm>) -> Response {
    let p = page(&s, &headers, &c, "audit");
    let params = api::admin::AuditParams {
        subject: Some(q.subject.clone()),
        tool: Some(q.tool.clone()),
        decision: Some(q.decision.clone()),
        before: q.before,
        limit: Some(100),
    };
    match api::admin::audit(&s, &c, params).await {
        Ok(a) => html(
            StatusCode::OK,
            &AuditPageT {
                page: Some(p),
                entries: a.entries,
                next_before: a.next_before,
                subject: q.subject,
                tool: q.tool,
                decision: q.decision,
                decisions: &["allowed", "denied", "rate_limited", "awaiting_approval"],
            },
        ),
        Err(e) => fail(Some(p), e),
    }
}

// ---------------------------------------------------------------- keys

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    page: Option<Page>,
    keys: Vec<api::admin::KeyView>,
    created: Option<api::admin::CreatedKey>,
    error: Option<String>,
    csrf: String,
}

async fn keys_view(
    s: &Shared,
    c: &Caller,
    p: Page,
    created: Option<api::admin::CreatedKey>,
    error: Option<String>,
) -> Response {
    match api::admin::list_keys(s, c).await {
        Ok(l) => {
            let csrf = p.csrf.clone();
            let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            html(status, &KeysPage { page: Some(p), keys: l.keys, created, error, csrf })
        }
        Err(e) => fail(Some(p), e),
    }
}

async fn keys_page(State(s): State<Shared>, Who(c): Who, headers: HeaderMap) -> Response {
    let p = page(&s, &headers, &c, "keys");
    if let Err(e) = need(&c, Role::Admin) {
        return fail(Some(p), e);
    }
    keys_view(&s, &c, p, None, None).await
}

#[derive(Deserialize)]
struct KeyForm {
    name: String,
    role: String,
    #[serde(default)]
    allow: String,
    #[serde(default)]
    deny: String,
    #[serde(default)]
    expires_in_days: String,
    #[serde(default)]
    csrf: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

async fn keys_create(State(s): State<Shared>, Who(c): Who, headers: HeaderMap, Form(f): Form<KeyForm>) -> Response {
    let p = page(&s, &headers, &c, "keys");
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    let expires_in_days = match f.expires_in_days.trim() {
        "" => None,
        d => match d.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => return keys_view(&s, &c, p, None, Some("expires in days must be a whole number".into())).await,
        },
    };
    let k = api::admin::NewKey {
        name: f.name,
        role: f.role,
        allow: lines(&f.allow),
        deny: lines(&f.deny),
        expires_in_days,
    };
    match api::admin::create_key(&s, &c, k).await {
        Ok(created) => keys_view(&s, &c, p, Some(created), None).await,
        Err(e) if e.kind == ErrorKind::InvalidInput => keys_view(&s, &c, p, None, Some(e.detail)).await,
        Err(e) => fail(Some(p), e),
    }
}

async fn keys_revoke(
    State(s): State<Shared>,
    Who(c): Who,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let p = page(&s, &headers, &c, "keys");
    if let Err(e) = check_post(&s, &headers, &f.csrf) {
        return fail(Some(p), e);
    }
    match api::admin::revoke_key(&s, &c, &id).await {
        Ok(()) => see("/ui/keys"),
        Err(e) => fail(Some(p), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")));
        }
        m
    }

    #[test]
    fn csrf_tokens_are_per_credential_and_secret() {
        let a = csrf_token("0123456789abcdef0123456789abcdef", "mcpf_a");
        assert_eq!(a.len(), 64);
        assert_ne!(a, csrf_token("0123456789abcdef0123456789abcdef", "mcpf_b"));
        assert_ne!(a, csrf_token("fedcba9876543210fedcba9876543210", "mcpf_a"));
    }

    #[test]
    fn only_same_origin_posts_pass() {
        assert!(same_origin(&h(&[("host", "gw:8080")])).is_ok());
        assert!(
            same_origin(&h(&[("host", "gw:8080"), ("origin", "http://gw:8080"), ("sec-fetch-site", "same-origin")]))
                .is_ok()
        );
        assert!(same_origin(&h(&[("host", "gw:8080"), ("origin", "http://evil.example")])).is_err());
        assert!(same_origin(&h(&[("host", "gw:8080"), ("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_origin(&h(&[("host", "gw:8080"), ("origin", "null")])).is_err());
    }

    #[test]
    fn redirects_stay_in_the_ui() {
        assert_eq!(back_to("/ui/requests/r-1"), "/ui/requests/r-1");
        for bad in ["https://evil.example/", "//evil.example/ui/", "/ui//x", "/api/v1/keys", "/ui/\\evil"] {
            assert_eq!(back_to(bad), "/ui/approvals", "{bad}");
        }
    }

    #[test]
    fn cookies_hold_only_safe_credentials() {
        assert!(cookie_safe("mcpf_0123456789ab_abc-DEF_123"));
        assert!(!cookie_safe("a;b"));
        assert!(!cookie_safe("a b"));
        assert!(!cookie_safe(""));
    }
}
