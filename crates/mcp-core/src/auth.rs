//! Who is calling: a pluggable [`Authenticator`] turns a request's headers
//! into a [`Caller`] (subject, role, key id) or a refusal. The guard in front
//! of `/mcp`, `/ready`, `/metrics` and a program's own routes runs it on every
//! request but `/health`, and puts the caller into the request's extensions,
//! where tools ([`crate::Ctx::caller`]), the request span and log lines
//! (`enduser.id`, `enduser.role`) and the metrics (`role` of
//! `mcp_server_caller_requests_total`) see it.
//!
//! Every program but the gateway keeps the fleet token ([`FleetToken`], the
//! default: one bearer token, compared in constant time, whose holder is the
//! fleet itself with every right). The gateway brings its own: API keys and
//! JWTs with roles. Which one a program uses is fixed when it is built
//! ([`crate::ServerBuilder::authenticator`]), never changed by a request.

use std::sync::Arc;

/// The headers an authenticator reads (re-exported: implementors need no
/// `http` dependency of their own).
pub use http::HeaderMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::security::{Rejection, check_bearer};

/// What a caller may do, from least to most. Tools' annotations decide which
/// role a tool needs where a program enforces roles (the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read-only tools.
    Viewer,
    /// Tools that are not destructive.
    Operator,
    /// Everything.
    Admin,
}

impl Role {
    /// The one text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Caller {
    /// Who: a key's owner, a token's `sub`, `fleet` for the fleet token.
    pub subject: String,
    /// What they may do.
    pub role: Role,
    /// The credential used, when it has an id (an API key's), for the audit
    /// and revocation; never the secret itself.
    pub key_id: Option<String>,
}

impl Caller {
    /// The holder of the fleet token: the fleet's own programs.
    pub fn fleet() -> Self {
        Self { subject: "fleet".into(), role: Role::Admin, key_id: None }
    }

    /// Anyone, on a program started without a token (local development
    /// only; `run` warns about it).
    pub fn anonymous() -> Self {
        Self { subject: "anonymous".into(), role: Role::Admin, key_id: None }
    }
}

/// Why a request was refused (the guard answers 401 with the matching
/// `WWW-Authenticate` for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credential was presented.
    Missing,
    /// A credential was presented and is not valid (unknown, revoked,
    /// expired, forged).
    Invalid,
}

impl From<Refusal> for Rejection {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Missing => Rejection::MissingToken,
            Refusal::Invalid => Rejection::WrongToken,
        }
    }
}

/// A caller over its request budget: the guard answers 429 with
/// `Retry-After` and the `RateLimit` headers (a JSON-RPC error body on
/// `/mcp`), before the request reaches a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When the next request will be admitted.
    pub retry_after: std::time::Duration,
    /// Requests allowed per window (the `RateLimit-Limit` header).
    pub limit: u32,
    /// The window in seconds (the `RateLimit-Policy` header's `w`).
    pub window_secs: u32,
}

/// Turns a request's headers into a caller. Runs on every guarded request,
/// so it must be quick and must not block (a key store behind it keeps its
/// keys in memory).
pub trait Authenticator: Send + Sync + 'static {
    /// The caller, or why not.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal>;

    /// Whether this authenticated caller may make a request now (per-caller
    /// rate limits at the edge). Admits everyone by default.
    fn admit(&self, _caller: &Caller) -> Result<(), Throttled> {
        Ok(())
    }
}

/// The fleet's one bearer token (`MCP_AUTH_TOKEN`); none configured means
/// every request is [`Caller::anonymous`].
pub struct FleetToken(Option<Arc<str>>);

impl FleetToken {
    /// With this token, or open when `None`.
    pub fn new(token: Option<&str>) -> Self {
        Self(token.map(Arc::from))
    }
}

impl Authenticator for FleetToken {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        let Some(token) = &self.0 else { return Ok(Caller::anonymous()) };
        match check_bearer(headers, token) {
            Ok(()) => Ok(Caller::fleet()),
            Err(Rejection::MissingToken) => Err(Refusal::Missing),
            Err(_) => Err(Refusal::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(http::header::AUTHORIZATION, a.parse().unwrap_or_else(|_| http::HeaderValue::from_static("")));
        }
        h
    }

    #[test]
    fn the_fleet_token_names_the_fleet_and_refuses_the_rest() {
        let a = FleetToken::new(Some("s3cret-token"));
        assert_eq!(a.authenticate(&headers(Some("Bearer s3cret-token"))), Ok(Caller::fleet()));
        assert_eq!(a.authenticate(&headers(None)), Err(Refusal::Missing));
        assert_eq!(a.authenticate(&headers(Some("Bearer s3cret-tokeN"))), Err(Refusal::Invalid));
        assert_eq!(a.authenticate(&headers(Some("Basic s3cret-token"))), Err(Refusal::Invalid));
        let open = FleetToken::new(None);
        assert_eq!(open.authenticate(&headers(None)), Ok(Caller::anonymous()));
    }

    #[test]
    fn roles_are_ordered_and_have_one_text_form() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        for r in [Role::Viewer, Role::Operator, Role::Admin] {
            assert_eq!(serde_json::to_value(r).ok(), Some(serde_json::Value::String(r.as_str().into())));
        }
    }
}
