//! Bearer JWTs end to end: tokens signed here, checked by the gateway
//! against a JWKS it fetches over HTTP.
//!
//! There is no identity provider in the test environment, so the test
//! publishes the JWKS itself from a tiny axum route on loopback. That route
//! is not a stand-in for any code of ours: a JWKS is an IdP's public
//! document in the format of RFC 7517 (`{"keys": [...]}`), and the gateway
//! fetches and parses it exactly as it would Keycloak's or Entra's. The
//! signing keys are generated per run with `openssl genpkey` (RSA 2048 and
//! EC P-256) and turned into JWKs by jsonwebtoken itself.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use mcp_test::raw::ok;
use serde_json::{Value, json};

use crate::Gw;

pub const ISSUER: &str = "https://idp.test.invalid/realms/fleet";
pub const AUDIENCE: &str = "mcp-fleet-gateway";

/// A signing key: its private half for signing, its public JWK for the set.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
    /// The public key as PEM (for the HS256 confusion attack).
    pub public_pem: Vec<u8>,
}

fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write as _;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl SigningKey {
    /// A new RSA-2048 key for RS256. `with_alg`: whether its JWK names the
    /// algorithm (Entra and others leave `alg` out of their JWKS).
    pub fn rsa(kid: &str, with_alg: bool) -> Self {
        let pem = openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], None);
        Self::from_pem(kid, Algorithm::RS256, EncodingKey::from_rsa_pem(&pem).unwrap(), &pem, with_alg)
    }

    /// A new P-256 key for ES256.
    pub fn ec(kid: &str) -> Self {
        let pem = openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], None);
        Self::from_pem(kid, Algorithm::ES256, EncodingKey::from_ec_pem(&pem).unwrap(), &pem, true)
    }

    fn from_pem(kid: &str, alg: Algorithm, encoding: EncodingKey, pem: &[u8], with_alg: bool) -> Self {
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).unwrap();
        jwk.common.key_id = Some(kid.into());
        if !with_alg {
            jwk.common.key_algorithm = None;
        }
        let public_pem = openssl(&["pkey", "-pubout"], Some(pem));
        Self { kid: kid.into(), alg, encoding, jwk, public_pem }
    }

    /// A token with these claims, signed by this key under its kid.
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        encode(&h, claims, &self.encoding).unwrap()
    }
}

pub fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims the gateway accepts, plus `extra` (a `null` value removes a claim).
pub fn claims(sub: &str, extra: Value) -> Value {
    let mut c = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now_s(), "exp": now_s() + 300});
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// The JWKS endpoint: serves whatever set the test puts in it.
pub struct Jwks {
    pub addr: SocketAddr,
    set: Arc<Mutex<Value>>,
    task: tokio::task::JoinHandle<()>,
}

impl Jwks {
    /// Serve `keys` (as a JWKS) on `addr` (a fresh port when `None`).
    pub async fn serve(addr: Option<SocketAddr>, keys: Vec<Value>) -> Self {
        let set = Arc::new(Mutex::new(json!({"keys": keys})));
        let listener =
            tokio::net::TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = set.clone();
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let set = shared.lock().unwrap().clone();
                async move { axum::Json(set) }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, set, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// Publish another set (an IdP rotating its keys).
    pub fn publish(&self, keys: Vec<Value>) {
        *self.set.lock().unwrap() = json!({"keys": keys});
    }
}

impl Drop for Jwks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn jwk_json(k: &SigningKey) -> Value {
    serde_json::to_value(&k.jwk).unwrap()
}

/// A gateway accepting JWTs from `url`.
pub async fn gateway(url: &str, extra: &[(&str, &str)]) -> Gw {
    let mut vars = vec![("GATEWAY_JWKS_URL", url), ("GATEWAY_JWT_ISSUER", ISSUER), ("GATEWAY_JWT_AUDIENCE", AUDIENCE)];
    vars.extend_from_slice(extra);
    Gw::start(&[("log", "http://127.0.0.1:9/mcp".into())], &vars).await
}

/// `gateway__whoami` as `token`: `Ok(structured output)` or `Err(status)`.
pub async fn whoami(gw: &Gw, token: &str) -> Result<Value, u16> {
    let r = gw.as_key(token).call("gateway__whoami", json!({})).await;
    if r.status == 200 { Ok(ok(&r).clone()) } else { Err(r.status) }
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_are_checked_against_the_jwks() {
    let rsa = SigningKey::rsa("rsa-1", true);
    let bare = SigningKey::rsa("rsa-no-alg", false);
    let ec = SigningKey::ec("ec-1");
    // A symmetric key published by mistake: public, so worthless as proof.
    let oct_secret = b"an-hmac-secret-anyone-can-read-in-the-jwks";
    let mut oct = Jwk::from_encoding_key(&EncodingKey::from_secret(oct_secret).unwrap(), Algorithm::HS256).unwrap();
    oct.common.key_id = Some("oct-1".into());
    let jwks =
        Jwks::serve(None, vec![jwk_json(&rsa), jwk_json(&bare), jwk_json(&ec), serde_json::to_value(&oct).unwrap()])
            .await;
    let gw = gateway(&jwks.url(), &[]).await;

    // Valid, with a role: the caller is jwt:<sub> with that role.
    let w = whoami(&gw, &rsa.sign(&claims("alice", json!({"role": "operator"})))).await.unwrap();
    assert_eq!((w["subject"].as_str(), w["role"].as_str()), (Some("jwt:alice"), Some("operator")), "{w}");
    assert!(w["key_id"].is_null(), "{w}");
    // No role claim: a viewer, who sees fewer tools than the fleet.
    let v = whoami(&gw, &rsa.sign(&claims("bob", json!({})))).await.unwrap();
    assert_eq!((v["subject"].as_str(), v["role"].as_str()), (Some("jwt:bob"), Some("viewer")), "{v}");
    // ES256 from the EC key, and RS256 from a JWK without `alg`.
    let e = whoami(&gw, &ec.sign(&claims("carol", json!({"role": "admin"})))).await.unwrap();
    assert_eq!((e["subject"].as_str(), e["role"].as_str()), (Some("jwt:carol"), Some("admin")), "{e}");
    let b = whoami(&gw, &bare.sign(&claims("dave", json!({})))).await.unwrap();
    assert_eq!(b["subject"], "jwt:dave");
    // Expired within the leeway still passes; beyond it not.
    assert!(whoami(&gw, &rsa.sign(&claims("eve", json!({"exp": now_s() - 5})))).await.is_ok());

    let forged = SigningKey::rsa("rsa-1", true);
    let hs_with_public = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("rsa-1".into());
        encode(&h, &claims("mallory", json!({"role": "admin"})), &EncodingKey::from_secret(&rsa.public_pem).unwrap())
            .unwrap()
    };
    let hs_with_bare_public = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("rsa-no-alg".into());
        encode(&h, &claims("mallory", json!({"role": "admin"})), &EncodingKey::from_secret(&bare.public_pem).unwrap())
            .unwrap()
    };
    let hs_with_oct = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("oct-1".into());
        encode(&h, &claims("mallory", json!({"role": "admin"})), &EncodingKey::from_secret(oct_secret).unwrap())
            .unwrap()
    };
    let alg_none = |kid: &str| {
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
            b64(&claims("mallory", json!({"role": "admin"})))
        )
    };
    // RS256 header on the EC key, and a PS256 token from a key whose JWK says RS256.
    let wrong_family = {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("ec-1".into());
        encode(&h, &claims("mallory", json!({})), &rsa.encoding).unwrap()
    };
    let ps_on_rs_key = {
        let mut h = Header::new(Algorithm::PS256);
        h.kid = Some("rsa-1".into());
        encode(&h, &claims("mallory", json!({})), &rsa.encoding).unwrap()
    };
    let no_kid = encode(&Header::new(Algorithm::RS256), &claims("mallory", json!({})), &rsa.encoding).unwrap();
    let refused: Vec<(&str, String)> = vec![
        ("unknown role", rsa.sign(&claims("x", json!({"role": "superuser"})))),
        ("role not a string", rsa.sign(&claims("x", json!({"role": ["admin"]})))),
        ("expired beyond leeway", rsa.sign(&claims("x", json!({"exp": now_s() - 120})))),
        ("not yet valid", rsa.sign(&claims("x", json!({"nbf": now_s() + 600})))),
        ("wrong issuer", rsa.sign(&claims("x", json!({"iss": "https://evil.test.invalid"})))),
        ("wrong audience", rsa.sign(&claims("x", json!({"aud": "another-service"})))),
        ("no audience", rsa.sign(&claims("x", json!({"aud": null})))),
        ("no exp", rsa.sign(&claims("x", json!({"exp": null})))),
        ("no sub", rsa.sign(&claims("x", json!({"sub": null})))),
        ("empty sub", rsa.sign(&claims("", json!({})))),
        ("forged: another key, same kid", forged.sign(&claims("x", json!({"role": "admin"})))),
        ("alg none", alg_none("rsa-1")),
        ("alg none, kid without alg", alg_none("rsa-no-alg")),
        ("HS256 with the RSA public key", hs_with_public),
        ("HS256 with the public key of a JWK without alg", hs_with_bare_public),
        ("HS256 with an oct key from the JWKS", hs_with_oct),
        ("RS256 header on an EC key", wrong_family),
        ("PS256 on an RS256 key", ps_on_rs_key),
        ("no kid", no_kid),
        ("unknown kid", SigningKey::rsa("rsa-2", true).sign(&claims("x", json!({})))),
        ("tampered payload", {
            let t = rsa.sign(&claims("x", json!({"role": "viewer"})));
            let parts: Vec<&str> = t.split('.').collect();
            format!("{}.{}.{}", parts[0], b64(&claims("x", json!({"role": "admin"}))), parts[2])
        }),
    ];
    // Every case is tried before failing, so one run names all the holes.
    let mut accepted = Vec::new();
    for (case, token) in &refused {
        if let Ok(w) = whoami(&gw, token).await {
            accepted.push(format!("{case}: {w}"));
        }
        // The REST side uses the same authenticator.
        let rest = gw.as_key(token).get("/api/v1/servers").await.status;
        if rest != 401 {
            accepted.push(format!("{case} (REST): {rest}"));
        }
    }
    assert!(accepted.is_empty(), "accepted tokens that must be refused: {accepted:#?}");
    // The fleet token still works next to JWTs.
    assert_eq!(whoami(&gw, mcp_test::TEST_TOKEN).await.unwrap()["subject"], "fleet");
    let ready = gw.raw().get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert!(ready.text.contains("4 keys from"), "{}", ready.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_accepted_after_the_next_refresh() {
    let old = SigningKey::rsa("2024-01", true);
    let new = SigningKey::ec("2024-02");
    let jwks = Jwks::serve(None, vec![jwk_json(&old)]).await;
    let gw = gateway(&jwks.url(), &[]).await;
    let token = new.sign(&claims("rotated", json!({"role": "operator"})));
    assert_eq!(whoami(&gw, &token).await.map(|_| ()), Err(401), "a kid the JWKS does not have");
    // The IdP publishes the new key next to the old one; the gateway sees it
    // on its next refresh (the background loop calls this every period).
    jwks.publish(vec![jwk_json(&old), jwk_json(&new)]);
    assert_eq!(whoami(&gw, &token).await.map(|_| ()), Err(401), "not before the refresh");
    gw.state.refresh_jwks().await;
    assert_eq!(whoami(&gw, &token).await.unwrap()["role"], "operator");
    // The old key is withdrawn: its tokens stop working after the next refresh.
    let old_token = old.sign(&claims("legacy", json!({})));
    assert!(whoami(&gw, &old_token).await.is_ok());
    jwks.publish(vec![jwk_json(&new)]);
    gw.state.refresh_jwks().await;
    assert_eq!(whoami(&gw, &old_token).await.map(|_| ()), Err(401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_loop_refreshes_the_jwks() {
    let old = SigningKey::rsa("loop-1", true);
    let new = SigningKey::rsa("loop-2", true);
    let jwks = Jwks::serve(None, vec![jwk_json(&old)]).await;
    let gw = gateway(&jwks.url(), &[("GATEWAY_REFRESH_SECS", "1")]).await;
    let token = new.sign(&claims("looped", json!({})));
    assert_eq!(whoami(&gw, &token).await.map(|_| ()), Err(401));
    jwks.publish(vec![jwk_json(&old), jwk_json(&new)]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while whoami(&gw, &token).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the loop never picked up the new key");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_that_cannot_be_fetched_refuses_jwts_and_says_so() {
    let key = SigningKey::rsa("late-1", true);
    // Nothing listens there yet.
    let addr = crate::free_addr();
    let url = format!("http://{addr}/.well-known/jwks.json");
    let gw = gateway(&url, &[]).await;
    let token = key.sign(&claims("early", json!({"role": "admin"})));
    assert_eq!(whoami(&gw, &token).await.map(|_| ()), Err(401), "no keys: no JWT");
    // The fleet token and API keys keep working.
    assert_eq!(whoami(&gw, mcp_test::TEST_TOKEN).await.unwrap()["subject"], "fleet");
    let k = gw.key("during-outage", "viewer", &[], &[]).await;
    assert_eq!(whoami(&gw, &k).await.unwrap()["subject"], "during-outage");
    // /ready fails its jwks check and says why; the log says it loudly.
    let ready = gw.raw().get("/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    let check = ready.body["checks"].as_array().unwrap().iter().find(|c| c["name"] == "jwks").unwrap().clone();
    assert_eq!(check["ok"], false, "{check}");
    let detail = check["detail"].as_str().unwrap();
    assert!(detail.contains(&url) && detail.contains("every JWT is refused"), "{detail}");
    assert!(
        mcp_test::telemetry::logs()
            .iter()
            .any(|l| l.contains("\"ERROR\"") && l.contains(&addr.to_string()) && l.contains("every JWT is refused")),
        "no error logged for the failed JWKS fetch"
    );

    // The IdP comes up: the next refresh fetches the keys and JWTs work.
    let jwks = Jwks::serve(Some(addr), vec![jwk_json(&key)]).await;
    gw.state.refresh_jwks().await;
    assert_eq!(whoami(&gw, &token).await.unwrap()["subject"], "jwt:early");
    assert_eq!(gw.raw().get("/ready").await.status, 200);

    // It goes away again: the held set stays in use, /ready stays up and
    // says the latest fetch failed.
    drop(jwks);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    gw.state.refresh_jwks().await;
    assert!(whoami(&gw, &token).await.is_ok());
    let ready = gw.raw().get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert!(ready.text.contains("the latest fetch failed"), "{}", ready.text);
}

#[test]
fn jwk_algorithms_come_from_the_key() {
    // Guard the fixture: the JWKs built here carry the fields a real IdP's do.
    let k = SigningKey::ec("x");
    assert_eq!(k.jwk.common.key_algorithm, Some(KeyAlgorithm::ES256));
    let set: JwkSet = serde_json::from_value(json!({"keys": [jwk_json(&k)]})).unwrap();
    assert!(set.find("x").is_some());
}
