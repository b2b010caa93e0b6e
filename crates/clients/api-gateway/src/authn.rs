//! Who is calling the gateway: the fleet token, an API key, or a JWT.
//!
//! The credential comes as `Authorization: Bearer <credential>`, or for the
//! web UI in the `mcpf_session` cookie (HttpOnly, SameSite=Strict, set by the
//! sign-in form). Which kind it is follows from its shape: `mcpf_...` is an
//! API key, three dot-separated base64url parts a JWT (only when a JWKS is
//! configured), anything else must be the fleet token. Every refusal looks
//! the same to the caller ("invalid bearer token"): telling a revoked key
//! from an unknown one would help whoever holds a stolen one.
//!
//! [`GatewayAuth::admit`] is the edge rate limit: a keyed GCRA per caller
//! (governor), answered by mcp-core's guard with 429 and `Retry-After`.

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role, Throttled};
use subtle::ConstantTimeEq;

use crate::config::Jwt;
use crate::keys::{Keys, PREFIX, parse_role};

/// The web UI's session cookie (its value is the credential itself).
pub const SESSION_COOKIE: &str = "mcpf_session";

/// The gateway's authenticator.
pub struct GatewayAuth {
    fleet_token: Option<Arc<str>>,
    keys: Arc<Keys>,
    jwt: Option<Jwt>,
    jwks: Arc<RwLock<Option<JwkSet>>>,
    limiter: Option<(DefaultKeyedRateLimiter<String>, u32)>,
}

impl GatewayAuth {
    /// With the fleet token, the keys, optional JWT settings (their key set
    /// is filled by [`GatewayAuth::jwks`]'s holder) and the per-caller rate
    /// (requests per minute, 0 for none).
    pub fn new(fleet_token: Option<&str>, keys: Arc<Keys>, jwt: Option<Jwt>, per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|n| {
            // Burst: a tenth of the minute's budget, at least one, so a
            // client may send a short flurry without waiting between calls.
            let burst = NonZeroU32::new((per_minute / 10).max(1)).unwrap_or(NonZeroU32::MIN);
            (RateLimiter::keyed(Quota::per_minute(n).allow_burst(burst)), per_minute)
        });
        Self { fleet_token: fleet_token.map(Arc::from), keys, jwt, jwks: Arc::default(), limiter }
    }

    /// The JWKS slot the background refresher fills.
    pub fn jwks(&self) -> Arc<RwLock<Option<JwkSet>>> {
        self.jwks.clone()
    }

    /// Forget rate-limit state of callers idle for a while (called by the
    /// refresher so the table does not grow with every key ever seen).
    pub fn shrink(&self) {
        if let Some((l, _)) = &self.limiter {
            l.retain_recent();
        }
    }

    fn credential(headers: &HeaderMap) -> Option<String> {
        if let Some(v) = headers.get(http::header::AUTHORIZATION) {
            let v = v.to_str().ok()?;
            let (scheme, rest) = v.split_once(' ')?;
            return scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned());
        }
        for v in headers.get_all(http::header::COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            for part in v.split(';') {
                if let Some((k, val)) = part.trim().split_once('=')
                    && k == SESSION_COOKIE
                    && !val.is_empty()
                {
                    return Some(val.to_owned());
                }
            }
        }
        None
    }

    fn jwt_caller(&self, token: &str) -> Result<Caller, Refusal> {
        let jwt = self.jwt.as_ref().ok_or(Refusal::Invalid)?;
        let header = decode_header(token).map_err(|_| Refusal::Invalid)?;
        let kid = header.kid.ok_or(Refusal::Invalid)?;
        let guard = self.jwks.read().map_err(|_| Refusal::Invalid)?;
        let set = guard.as_ref().ok_or(Refusal::Invalid)?;
        let jwk = set.find(&kid).ok_or(Refusal::Invalid)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal::Invalid)?;
        // The algorithm comes from the key, never from the token's header
        // (an `alg: none` or HS256-with-the-public-key token is refused).
        let alg = jwk.common.key_algorithm.and_then(|a| a.to_string().parse().ok()).unwrap_or(header.alg);
        if header.alg != alg {
            return Err(Refusal::Invalid);
        }
        let mut v = Validation::new(alg);
        v.set_issuer(&[&jwt.issuer]);
        v.set_audience(&[&jwt.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 30;
        let data = decode::<serde_json::Value>(token, &key, &v).map_err(|_| Refusal::Invalid)?;
        let sub = data.claims.get("sub").and_then(|s| s.as_str()).filter(|s| !s.is_empty()).ok_or(Refusal::Invalid)?;
        let role = data
            .claims
            .get(&jwt.role_claim)
            .and_then(|r| r.as_str())
            .map(|r| parse_role(r).ok_or(Refusal::Invalid))
            .transpose()?
            .unwrap_or(Role::Viewer);
        Ok(Caller { subject: format!("jwt:{sub}"), role, key_id: None })
    }
}

impl Authenticator for GatewayAuth {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        // No anonymous callers, even on a gateway started without a fleet
        // token: it holds keys and approvals.
        let Some(cred) = Self::credential(headers) else { return Err(Refusal::Missing) };
        if cred.starts_with(PREFIX) {
            let k = self.keys.check(&cred, mcp_core::clock::now_ms()).map_err(|_| Refusal::Invalid)?;
            return Ok(Caller { subject: k.row.name.clone(), role: k.role, key_id: Some(k.row.id.clone()) });
        }
        if cred.split('.').count() == 3 && self.jwt.is_some() {
            return self.jwt_caller(&cred);
        }
        match &self.fleet_token {
            Some(t) if bool::from(t.as_bytes().ct_eq(cred.as_bytes())) => Ok(Caller::fleet()),
            _ => Err(Refusal::Invalid),
        }
    }

    fn admit(&self, caller: &Caller) -> Result<(), Throttled> {
        let Some((limiter, per_minute)) = &self.limiter else { return Ok(()) };
        // The fleet's own programs are not limited: the planner's calls
        // through the gateway are the fleet working.
        if caller.subject == "fleet" && caller.key_id.is_none() {
            return Ok(());
        }
        let key = caller.key_id.clone().unwrap_or_else(|| caller.subject.clone());
        limiter.check_key(&key).map_err(|not_until| Throttled {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_millis(1)),
            limit: *per_minute,
            window_secs: 60,
        })
    }
}
