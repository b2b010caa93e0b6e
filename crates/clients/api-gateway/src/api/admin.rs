//! `/api/v1/audit` and `/api/v1/keys` (admin only): who called what, and
//! the API keys. A key is shown once, in the answer that creates it; the
//! store and every listing hold only its HMAC and never return even that.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mcp_core::auth::{Caller, Role};
use mcp_core::error::ApiQuery;
use mcp_core::{ErrorKind, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::requests::answer;
use super::{ApiState, Body, ProblemDoc, Shared, Who, limit, need};
use crate::keys::parse_role;
use crate::store::{AuditEntry, AuditQuery, KeyRow};

/// The most globs a key may carry in each list.
pub const MAX_GLOBS: usize = 32;

/// Filters of the audit.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this caller.
    pub subject: Option<String>,
    /// Only this tool (qualified name).
    pub tool: Option<String>,
    /// Only this decision: `allowed`, `denied`, `rate_limited`, `awaiting_approval`.
    pub decision: Option<String>,
    /// Entries older than this id (the previous page's `next_before`).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// At most this many, newest first (1..=500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A page of the audit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// A key to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A name people recognise (`ci`, `alice-laptop`); the key's audit subject.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `viewer`, `operator` or `admin` (at most the creator's own).
    #[schema(pattern = "^(viewer|operator|admin)$")]
    pub role: String,
    /// Qualified-name globs the key is limited to (`git__*`); none: the role decides.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Qualified-name globs the key may never use (deny wins).
    #[serde(default)]
    pub deny: Vec<String>,
    /// Days until it expires (1..=3650); none: never.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// A created key: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedKey {
    /// Public id.
    pub id: String,
    /// The key itself: store it now, it is not shown again.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Expiry, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A key as listed (never its secret or hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    /// Public id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Allow globs.
    pub allow: Vec<String>,
    /// Deny globs.
    pub deny: Vec<String>,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// Last used, RFC 3339 (written in batches: up to a minute late).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// Expiry, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Revoked, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// The keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first, revoked ones included.
    pub keys: Vec<KeyView>,
}

impl From<&KeyRow> for KeyView {
    fn from(r: &KeyRow) -> Self {
        let at = |ms: Option<i64>| ms.map(mcp_core::clock::rfc3339_ms);
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            role: r.role.clone(),
            allow: r.allow.clone(),
            deny: r.deny.clone(),
            created_at: mcp_core::clock::rfc3339_ms(r.created_ms),
            created_by: r.created_by.clone(),
            last_used_at: at(r.last_used_ms),
            expires_at: at(r.expires_ms),
            revoked_at: at(r.revoked_ms),
        }
    }
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(ErrorKind::InvalidInput, detail)
}

/// A database failure: logged whole, answered without detail.
fn internal(e: impl std::fmt::Display) -> Problem {
    mcp_core::tracing::error!(error = %e, "gateway store failed");
    Problem::new(ErrorKind::Internal, "internal error; the details are in the server log")
}

fn filter(what: &str, v: Option<String>) -> Result<Option<String>, Problem> {
    match v.filter(|s| !s.is_empty()) {
        Some(s) if s.len() > 200 || s.chars().any(char::is_control) => {
            Err(invalid(format!("{what}: at most 200 characters on one line")))
        }
        other => Ok(other),
    }
}

/// A page of the audit (admin).
pub async fn audit(s: &ApiState, caller: &Caller, q: AuditParams) -> Result<AuditPage, Problem> {
    need(caller, Role::Admin)?;
    let n = limit(q.limit, 100, 500)?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(invalid("before must be a positive entry id"));
    }
    let decision = filter("decision", q.decision)?;
    if let Some(d) = &decision
        && !["allowed", "denied", "rate_limited", "awaiting_approval"].contains(&d.as_str())
    {
        return Err(invalid("decision: expected allowed, denied, rate_limited or awaiting_approval"));
    }
    let query = AuditQuery {
        subject: filter("subject", q.subject)?,
        tool: filter("tool", q.tool)?,
        decision,
        before: q.before,
        limit: i64::from(n),
    };
    let entries = s.gw.store.audit(&query).await.map_err(internal)?;
    let next_before = (entries.len() == n as usize).then(|| entries.last().map(|e| e.id)).flatten();
    Ok(AuditPage { entries, next_before })
}

fn check_globs(what: &str, globs: &[String]) -> Result<(), Problem> {
    if globs.len() > MAX_GLOBS {
        return Err(invalid(format!("{what}: at most {MAX_GLOBS} globs")));
    }
    for g in globs {
        if g.chars().any(char::is_control) {
            return Err(invalid(format!("{what}: a glob is one line")));
        }
    }
    crate::policy::check_globs(globs).map_err(|e| invalid(format!("{what}: {e}")))
}

/// Create a key (admin; no higher role than the creator's).
pub async fn create_key(s: &ApiState, caller: &Caller, k: NewKey) -> Result<CreatedKey, Problem> {
    need(caller, Role::Admin)?;
    let name = k.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(invalid("name must be 1-64 characters on one line"));
    }
    let role = parse_role(&k.role).ok_or_else(|| invalid("role must be viewer, operator or admin"))?;
    if role > caller.role {
        return Err(Problem::new(
            ErrorKind::Forbidden,
            format!("a {} may not create a key with the {} role", caller.role.as_str(), role.as_str()),
        ));
    }
    check_globs("allow", &k.allow)?;
    check_globs("deny", &k.deny)?;
    if k.expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(invalid("expires_in_days must be 1..=3650"));
    }
    let now = mcp_core::clock::now_ms();
    let expires_ms = k.expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    let (key, id, hash) = s.gw.keys.generate();
    let row = KeyRow {
        id: id.clone(),
        name: name.clone(),
        hash,
        role: role.as_str().to_owned(),
        allow: k.allow,
        deny: k.deny,
        created_ms: now,
        created_by: caller.subject.clone(),
        expires_ms,
        revoked_ms: None,
        last_used_ms: None,
    };
    s.gw.store.insert_key(&row).await.map_err(internal)?;
    s.gw.keys.put(row);
    mcp_core::tracing::info!(key_id = %id, role = role.as_str(), by = %caller.subject, "API key created");
    Ok(CreatedKey {
        id,
        key,
        name,
        role: role.as_str().to_owned(),
        created_at: mcp_core::clock::rfc3339_ms(now),
        expires_at: expires_ms.map(mcp_core::clock::rfc3339_ms),
    })
}

/// Every key (admin).
pub async fn list_keys(s: &ApiState, caller: &Caller) -> Result<KeyList, Problem> {
    need(caller, Role::Admin)?;
    let rows = s.gw.store.keys().await.map_err(internal)?;
    Ok(KeyList { keys: rows.iter().map(KeyView::from).collect() })
}

/// Revoke a key (admin), in the store and in memory at once: the next
/// request with it is refused.
pub async fn revoke_key(s: &ApiState, caller: &Caller, id: &str) -> Result<(), Problem> {
    need(caller, Role::Admin)?;
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(invalid(format!("{:?} is not a key id (12 lowercase hex digits)", super::excerpt(id, 40))));
    }
    let now = mcp_core::clock::now_ms();
    if !s.gw.store.revoke_key(id, now).await.map_err(internal)? {
        return Err(Problem::new(ErrorKind::NotFound, format!("no key {id}")));
    }
    s.gw.keys.revoke(id, now);
    mcp_core::tracing::info!(key_id = %id, by = %caller.subject, "API key revoked");
    Ok(())
}

/// The audit, newest first (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "Invalid filter", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn audit_h(State(s): State<Shared>, Who(c): Who, ApiQuery(q): ApiQuery<AuditParams>) -> Response {
    answer(audit(&s, &c, q).await)
}

/// Create an API key (admin). The key is in this answer only.
#[utoipa::path(post, path = "/api/v1/keys", tag = "admin", request_body = NewKey,
    responses(
        (status = 201, description = "Created", body = CreatedKey),
        (status = 400, description = "Invalid input", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role, or a role above the creator's", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn create_key_h(State(s): State<Shared>, Who(c): Who, Body(k): Body<NewKey>) -> Response {
    match create_key(&s, &c, k).await {
        Ok(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// Every API key (admin), never a secret.
#[utoipa::path(get, path = "/api/v1/keys", tag = "admin",
    responses(
        (status = 200, description = "Keys", body = KeyList),
        (status = 403, description = "Needs the admin role", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_keys_h(State(s): State<Shared>, Who(c): Who) -> Response {
    answer(list_keys(&s, &c).await)
}

/// Revoke an API key (admin); effective at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "admin",
    params(("id" = String, Path, description = "Key id", pattern = "^[0-9a-f]{12}$")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a key id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn revoke_key_h(State(s): State<Shared>, Who(c): Who, Path(id): Path<String>) -> Response {
    match revoke_key(&s, &c, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(p) => p.into_response(),
    }
}
