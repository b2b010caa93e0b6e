//! API keys through their whole life, over HTTP: created over REST and
//! usable at once, expired, revoked here (refused at once) or by another
//! replica in the shared table (refused after the next reload), a right id
//! with a wrong secret, last-used times reaching the table, and the hash
//! never leaving the gateway. Also: no credential of any kind reaches the
//! gateway's log lines.

use std::time::{Duration, Instant};

use mcp_client_api_gateway::store::KeyRow;
use mcp_test::TEST_TOKEN;
use serde_json::{Value, json};

use crate::Gw;
use crate::jwt::{Jwks, SigningKey, claims, gateway, jwk_json, whoami};

/// A gateway without upstreams (keys do not need any).
async fn gw(extra: &[(&str, &str)]) -> Gw {
    Gw::start(&[("log", "http://127.0.0.1:9/mcp".into())], extra).await
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Create a key over REST as the fleet: `(key, id)`.
async fn create(gw: &Gw, body: Value) -> (String, String) {
    let r = http()
        .post(format!("{}/api/v1/keys", gw.server.base()))
        .bearer_auth(TEST_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{body}");
    let v: Value = r.json().await.unwrap();
    (v["key"].as_str().unwrap().to_owned(), v["id"].as_str().unwrap().to_owned())
}

/// A row as another replica would write it, with this gateway's hashing.
fn row(gw: &Gw, name: &str, expires_ms: Option<i64>) -> (String, KeyRow) {
    let (key, id, hash) = gw.state.keys.generate();
    let row = KeyRow {
        id,
        name: name.into(),
        hash,
        role: "viewer".into(),
        allow: vec![],
        deny: vec![],
        created_ms: mcp_core::clock::now_ms(),
        created_by: "test".into(),
        expires_ms,
        revoked_ms: None,
        last_used_ms: None,
    };
    (key, row)
}

async fn eventually(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_lives_expires_and_is_revoked() {
    let gw = gw(&[]).await;
    let (key, id) = create(&gw, json!({"name": "ci", "role": "operator"})).await;
    let w = whoami(&gw, &key).await.unwrap();
    assert_eq!(
        (w["subject"].as_str(), w["role"].as_str(), w["key_id"].as_str()),
        (Some("ci"), Some("operator"), Some(id.as_str()))
    );

    // The right id with another secret, and a truncated key.
    let other_secret = secret_of(&gw.state.keys.generate().0);
    let wrong = format!("mcpf_{id}_{other_secret}");
    assert_eq!(whoami(&gw, &wrong).await.map(|_| ()), Err(401));
    assert_eq!(whoami(&gw, &key[..key.len() - 1]).await.map(|_| ()), Err(401));

    // Expired: one stored with its expiry already past, one that expires
    // while we watch.
    let (past, r) = row(&gw, "expired", Some(mcp_core::clock::now_ms() - 1));
    gw.state.store.insert_key(&r).await.unwrap();
    gw.state.keys.put(r);
    assert_eq!(whoami(&gw, &past).await.map(|_| ()), Err(401));
    let (soon, r) = row(&gw, "short-lived", Some(mcp_core::clock::now_ms() + 1500));
    gw.state.store.insert_key(&r).await.unwrap();
    gw.state.keys.put(r);
    assert!(whoami(&gw, &soon).await.is_ok());
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(whoami(&gw, &soon).await.map(|_| ()), Err(401));

    // Revoked over REST: refused at the very next request.
    let r =
        http().delete(format!("{}/api/v1/keys/{id}", gw.server.base())).bearer_auth(TEST_TOKEN).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(whoami(&gw, &key).await.map(|_| ()), Err(401));
    assert_eq!(gw.as_key(&key).get("/api/v1/servers").await.status, 401);
    // Still refused after a reload from the table.
    gw.state.reload_keys().await;
    assert_eq!(whoami(&gw, &key).await.map(|_| ()), Err(401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replicas_changes_arrive_with_the_reload_loop() {
    // A one-second refresh: the loop reloads the keys every second.
    let gw = gw(&[("GATEWAY_REFRESH_SECS", "1")]).await;
    let (key, id) = create(&gw, json!({"name": "shared", "role": "viewer"})).await;
    assert!(whoami(&gw, &key).await.is_ok());
    // Another replica revokes it in the shared table (this one is not told).
    assert!(gw.state.store.revoke_key(&id, mcp_core::clock::now_ms()).await.unwrap());
    eventually("a key revoked in the table is refused", 10, async || whoami(&gw, &key).await == Err(401)).await;
    // Another replica creates one: usable here after the reload.
    let (created_elsewhere, r) = row(&gw, "from-replica-b", None);
    gw.state.store.insert_key(&r).await.unwrap();
    eventually("a key created in the table is accepted", 10, async || whoami(&gw, &created_elsewhere).await.is_ok())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_use_reaches_the_table_and_no_listing_shows_a_hash() {
    let gw = gw(&[]).await;
    let (key, id) = create(&gw, json!({"name": "used", "role": "admin", "expires_in_days": 30})).await;
    let stored = |rows: Vec<KeyRow>| rows.into_iter().find(|r| r.id == id).unwrap();
    assert_eq!(stored(gw.state.store.keys().await.unwrap()).last_used_ms, None);
    let before = mcp_core::clock::now_ms();
    assert!(whoami(&gw, &key).await.is_ok());
    // The background writer flushes every few seconds.
    eventually("last use written", 10, async || {
        stored(gw.state.store.keys().await.unwrap()).last_used_ms.is_some_and(|t| t >= before)
    })
    .await;
    // A direct flush with nothing new changes nothing, and fails no one.
    gw.state.flush_key_use().await;

    let hash = stored(gw.state.store.keys().await.unwrap()).hash;
    assert_eq!(hash.len(), 64);
    let secret = secret_of(&key);
    // Every place keys are listed: REST (as the fleet and as the key
    // itself, an admin), the web UI's page, and the MCP side.
    for (who, token) in [("fleet", TEST_TOKEN), ("key", key.as_str())] {
        let list = gw.as_key(token).get("/api/v1/keys").await;
        assert_eq!(list.status, 200, "{}", list.text);
        let listed = list.body["keys"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
        assert!(listed.get("hash").is_none(), "{who}: {listed}");
        assert!(listed["last_used_at"].is_string(), "{who}: {listed}");
        let page = gw.as_key(token).get("/ui/keys").await;
        assert_eq!(page.status, 200, "{who}");
        let tools = gw.as_key(token).list_tools().await;
        let servers = gw.as_key(token).call("gateway__servers", json!({})).await;
        let whoami = gw.as_key(token).call("gateway__whoami", json!({})).await;
        for (what, text) in [
            ("REST", &list.text),
            ("UI", &page.text),
            ("tools/list", &tools.text),
            ("servers", &servers.text),
            ("whoami", &whoami.text),
        ] {
            assert!(!text.contains(&hash), "{who}: the hash is in the {what} answer");
            assert!(!text.contains(&secret), "{who}: the secret is in the {what} answer");
        }
    }
}

/// A key's secret part: everything after `mcpf_<id>_` (base64url, which may
/// itself contain `_`, so not the text after the last one).
fn secret_of(key: &str) -> String {
    let secret = key.splitn(3, '_').nth(2).unwrap().to_owned();
    assert_eq!(secret.len(), 43, "{key}");
    secret
}

/// Log lines mentioning `needle`.
fn logged(needle: &str) -> Vec<String> {
    mcp_test::telemetry::logs().into_iter().filter(|l| l.contains(needle)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_reaches_the_log() {
    let signer = SigningKey::rsa("log-1", true);
    let jwks = Jwks::serve(None, vec![jwk_json(&signer)]).await;
    let gw = gateway(&jwks.url(), &[]).await;
    let (key, id) = create(&gw, json!({"name": "logged", "role": "operator"})).await;
    let secret = secret_of(&key);
    let token = signer.sign(&claims("log-subject", json!({"role": "operator"})));
    let bad_token = SigningKey::rsa("log-1", true).sign(&claims("log-forger", json!({})));
    let wrong_key = format!("mcpf_{id}_{}", secret_of(&gw.state.keys.generate().0));

    // Every credential over every door, accepted and refused ones.
    for cred in [key.as_str(), token.as_str(), TEST_TOKEN, bad_token.as_str(), wrong_key.as_str()] {
        let c = gw.as_key(cred);
        let _ = c.call("gateway__whoami", json!({})).await;
        let _ = c.call("log__logs_tail", json!({})).await;
        let _ = c.list_tools().await;
        let _ = c.get("/api/v1/servers").await;
        let _ = c.get("/ui").await;
        let _ = http()
            .get(format!("{}/ui/keys", gw.server.base()))
            .header("cookie", format!("mcpf_session={cred}"))
            .send()
            .await;
    }
    let r =
        http().delete(format!("{}/api/v1/keys/{id}", gw.server.base())).bearer_auth(TEST_TOKEN).send().await.unwrap();
    assert!(r.status().is_success());
    let _ = gw.as_key(&key).call("gateway__whoami", json!({})).await;
    gw.state.flush_key_use().await;
    // Let the audit writer and request logging finish.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The calls were logged (so the check below looks at real lines)...
    assert!(!logged(&id).is_empty(), "nothing logged about key {id}");
    // ...and none holds a credential, a JWT's signature or a key's secret.
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let hash = gw.state.store.keys().await.unwrap().into_iter().find(|r| r.id == id).unwrap().hash;
    for (what, needle) in [
        ("API key", key.as_str()),
        ("API key secret", secret.as_str()),
        ("API key hash", hash.as_str()),
        ("JWT", token.as_str()),
        ("JWT signature", signature.as_str()),
        ("forged JWT", bad_token.as_str()),
        ("wrong key", wrong_key.as_str()),
        ("fleet token", TEST_TOKEN),
        ("key secret", crate::KEY_SECRET),
    ] {
        let lines = logged(needle);
        assert!(lines.is_empty(), "the {what} is in the log: {lines:#?}");
    }
}
