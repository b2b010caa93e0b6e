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
//! JWTs are checked against the configured JWKS only, and the algorithm is
//! the key's: the JWK's `alg` when it names a signature algorithm, else the
//! one its type and curve allow (RSA: RS*/PS*; EC: by curve; OKP: EdDSA).
//! Symmetric (`oct`) and encryption keys are never used, so neither
//! `alg: none`, nor an HS256 token "signed" with the public key, nor an HMAC
//! key published by mistake in the (public) JWKS can make a caller. Without a
//! key set (the JWKS could not be fetched yet) every JWT is refused;
//! [`GatewayAuth::jwks_status`] says why in `/ready`.
//!
//! [`GatewayAuth::admit`] is the edge rate limit: a keyed GCRA per caller
//! (governor), answered by mcp-core's guard with 429 and `Retry-After`.

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role, Throttled};
use subtle::ConstantTimeEq;

use crate::config::Jwt;
use crate::keys::{Keys, PREFIX, parse_role};

/// The web UI's session cookie (its value is the credential itself).
pub const SESSION_COOKIE: &str = "mcpf_session";

/// The JWKS as last fetched, and how the last fetch went.
#[derive(Default)]
struct JwksSlot {
    /// The key set, kept when a later fetch fails (an IdP blip must not
    /// lock out every JWT caller).
    set: Option<JwkSet>,
    /// When `set` was fetched, Unix ms.
    fetched_ms: Option<i64>,
    /// Why the latest fetch failed, if it did.
    error: Option<String>,
}

/// Longest accepted `sub` (it becomes the audit subject and a log field).
const MAX_SUBJECT: usize = 256;

/// The gateway's authenticator.
pub struct GatewayAuth {
    fleet_token: Option<Arc<str>>,
    keys: Arc<Keys>,
    jwt: Option<Jwt>,
    jwks: RwLock<JwksSlot>,
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
        Self { fleet_token: fleet_token.map(Arc::from), keys, jwt, jwks: RwLock::default(), limiter }
    }

    /// A freshly fetched key set, replacing the previous one.
    pub fn set_jwks(&self, set: JwkSet, now_ms: i64) {
        if let Ok(mut slot) = self.jwks.write() {
            *slot = JwksSlot { set: Some(set), fetched_ms: Some(now_ms), error: None };
        }
    }

    /// A failed fetch: the previous set (if any) stays in use. `true` when
    /// there is none, so no JWT can be accepted.
    pub fn jwks_failed(&self, error: String) -> bool {
        match self.jwks.write() {
            Ok(mut slot) => {
                slot.error = Some(error);
                slot.set.is_none()
            }
            Err(_) => true,
        }
    }

    /// The readiness of JWT authentication, for `/ready`: `Err` while no key
    /// set has been fetched (every JWT is refused; the fleet token and API
    /// keys still work), `Ok` with the key count and any stale-set warning
    /// otherwise, and `Ok` when JWTs are not configured.
    pub fn jwks_status(&self) -> Result<String, String> {
        let Some(jwt) = &self.jwt else { return Ok("JWTs not accepted (GATEWAY_JWKS_URL unset)".into()) };
        let slot = self.jwks.read().map_err(|_| "JWKS state unavailable".to_owned())?;
        match (&slot.set, &slot.error) {
            (None, e) => Err(format!(
                "no key set from {}: {}; every JWT is refused until a fetch succeeds (fleet token and API keys work)",
                jwt.jwks_url,
                e.as_deref().unwrap_or("not fetched yet")
            )),
            (Some(set), None) => Ok(format!("{} keys from {}", set.keys.len(), jwt.jwks_url)),
            (Some(set), Some(e)) => Ok(format!(
                "{} keys from {} fetched at {} ms; the latest fetch failed: {e}",
                set.keys.len(),
                jwt.jwks_url,
                slot.fetched_ms.unwrap_or_default()
            )),
        }
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
        // An unknown `alg` (`none` among them) fails here already.
        let header = decode_header(token).map_err(|_| Refusal::Invalid)?;
        let kid = header.kid.ok_or(Refusal::Invalid)?;
        let (key, alg) = {
            let slot = self.jwks.read().map_err(|_| Refusal::Invalid)?;
            let jwk = slot.set.as_ref().and_then(|s| s.find(&kid)).ok_or(Refusal::Invalid)?;
            let alg = key_alg(jwk, header.alg).ok_or(Refusal::Invalid)?;
            (DecodingKey::from_jwk(jwk).map_err(|_| Refusal::Invalid)?, alg)
        };
        let mut v = Validation::new(alg);
        v.set_issuer(&[&jwt.issuer]);
        v.set_audience(&[&jwt.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        // Clock skew between the IdP and us; short next to any token's life.
        v.leeway = 30;
        let data = decode::<serde_json::Value>(token, &key, &v).map_err(|_| Refusal::Invalid)?;
        let sub = data
            .claims
            .get("sub")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty() && s.len() <= MAX_SUBJECT && !s.chars().any(char::is_control))
            .ok_or(Refusal::Invalid)?;
        // No role claim: a viewer. A role claim we cannot read (an unknown
        // name, a list, a number) is refused rather than guessed at: the IdP
        // meant something, and the least privilege may not be it.
        let role = match data.claims.get(&jwt.role_claim) {
            None => Role::Viewer,
            Some(r) => r.as_str().and_then(parse_role).ok_or(Refusal::Invalid)?,
        };
        Ok(Caller { subject: format!("jwt:{sub}"), role, key_id: None })
    }
}

/// The algorithm a token verified with `jwk` must use, given the one its
/// header names; `None` when the key may not verify that token at all.
fn key_alg(jwk: &Jwk, header_alg: Algorithm) -> Option<Algorithm> {
    use Algorithm::*;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))) {
        return None;
    }
    // What the key's type allows. A JWKS is public: a symmetric key in it is
    // known to everyone, so it never verifies anything.
    let family: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => &[ES256],
            EllipticCurve::P384 => &[ES384],
            _ => &[],
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => &[EdDSA],
        _ => &[],
    };
    // The JWK's own `alg` narrows that to one; an encryption or unknown
    // `alg` means the key is not for signatures.
    let alg = match jwk.common.key_algorithm {
        None => header_alg,
        Some(a) => signature_alg(a)?,
    };
    (alg == header_alg && family.contains(&alg)).then_some(alg)
}

fn signature_alg(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(jwk: serde_json::Value, header: Algorithm, want: Option<Algorithm>) {
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        assert_eq!(key_alg(&jwk, header), want, "{:?} with header {header:?}", jwk.common);
    }

    #[test]
    fn the_algorithm_is_the_keys() {
        let rsa = serde_json::json!({"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"});
        let with = |k: &str, v: &str| {
            let mut j = rsa.clone();
            j[k] = v.into();
            j
        };
        check(rsa.clone(), Algorithm::RS256, Some(Algorithm::RS256));
        check(rsa.clone(), Algorithm::PS384, Some(Algorithm::PS384));
        check(rsa.clone(), Algorithm::HS256, None);
        check(rsa.clone(), Algorithm::ES256, None);
        check(with("alg", "RS256"), Algorithm::PS256, None);
        check(with("alg", "RSA-OAEP"), Algorithm::RS256, None);
        check(with("alg", "XX999"), Algorithm::RS256, None);
        check(with("use", "enc"), Algorithm::RS256, None);
        check(with("use", "sig"), Algorithm::RS256, Some(Algorithm::RS256));
        let ec = serde_json::json!({"kty": "EC", "kid": "e", "crv": "P-384", "x": "AA", "y": "AA"});
        check(ec.clone(), Algorithm::ES384, Some(Algorithm::ES384));
        check(ec, Algorithm::ES256, None);
        let oct = serde_json::json!({"kty": "oct", "kid": "o", "k": "c2VjcmV0", "alg": "HS256"});
        check(oct, Algorithm::HS256, None);
    }
}
