//! The cache: TTLs, `ETag`/`If-None-Match` revalidation, `Retry-After`,
//! the offline mode and stale answers when a registry is down.

use serde_json::json;

use crate::{Fx, start};

const SIMPLE_DEMO: &str = "/simple/demo/";

fn demo() -> serde_json::Value {
    json!({"ecosystem": "pypi", "name": "demo"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_answers_come_from_the_cache() {
    let f = Fx::new().await;
    let a = f.ok("package_versions", demo()).await;
    assert_eq!(a["freshness"]["from_cache"], false);
    let b = f.ok("package_versions", demo()).await;
    assert_eq!(b["freshness"]["from_cache"], true);
    assert_eq!(b["freshness"]["offline"], false);
    assert_eq!(f.double.hits(SIMPLE_DEMO), 1, "the second answer must not ask the registry");
    assert_eq!(a["versions"], b["versions"]);
    let s = f.ok("registry_status", json!({})).await;
    assert_eq!(s["stats"]["cache_hits"], 1);
    assert_eq!(s["cache"][0]["source"], "pypi");
    assert_eq!(s["cache"][0]["entries"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_answers_are_revalidated_with_the_etag() {
    // TTL 0: every call revalidates.
    let f = Fx::with(&[("REGISTRY_TTLS", "pypi=0")]).await;
    f.ok("package_versions", demo()).await;
    assert_eq!(f.double.not_modified(), 0);
    let b = f.ok("package_versions", demo()).await;
    assert_eq!(f.double.hits(SIMPLE_DEMO), 2);
    assert_eq!(f.double.not_modified(), 1, "the second request carried If-None-Match and got 304");
    assert_eq!(b["latest"], "1.1", "the cached body answered after the 304");
    assert_eq!(b["freshness"]["age_secs"], 0, "a 304 refreshes the answer's time");
    let s = f.ok("registry_status", json!({})).await;
    assert_eq!(s["stats"]["revalidated"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_retry_after_is_waited_once() {
    let f = Fx::new().await;
    f.double.limit(SIMPLE_DEMO, 1, "1", 429);
    let t = std::time::Instant::now();
    let v = f.ok("package_versions", demo()).await;
    assert!(t.elapsed() >= std::time::Duration::from_millis(900), "Retry-After: 1 was not waited");
    assert_eq!(v["latest"], "1.1");
    assert_eq!(f.double.hits(SIMPLE_DEMO), 2);
    // 503 with Retry-After is treated the same way.
    f.double.limit("/simple/pytest/", 1, "0", 503);
    f.ok("package_versions", json!({"ecosystem": "pypi", "name": "pytest"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_is_rate_limited_saying_when() {
    let f = Fx::new().await;
    f.double.limit(SIMPLE_DEMO, 5, "3600", 429);
    let (kind, msg) = f.fail("package_versions", demo()).await;
    assert_eq!(kind, "rate_limited", "{msg}");
    assert!(msg.contains("3600"), "{msg}");
    assert_eq!(f.double.hits(SIMPLE_DEMO), 1, "no retry when the wait is longer than the bound");
    // A second 429 after the one retry is rate_limited too.
    f.double.limit("/simple/flake8/", 5, "1", 429);
    let (kind, msg) = f.fail("package_versions", json!({"ecosystem": "pypi", "name": "flake8"})).await;
    assert_eq!(kind, "rate_limited", "{msg}");
    assert_eq!(f.double.hits("/simple/flake8/"), 2);
    let s = f.ok("registry_status", json!({})).await;
    assert_eq!(s["last_errors"][0]["kind"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_mode_answers_from_the_cache_and_says_how_old() {
    let f = Fx::new().await;
    f.ok("package_versions", demo()).await;
    f.ok("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    let before = f.double.total_hits();
    // A second server on the same cache, offline.
    let off = start(&f.double, &f.dir, &[("REGISTRY_OFFLINE", "true")]).await;
    let r = off.raw().call("package_versions", demo()).await;
    let v = crate::ok(&r);
    assert_eq!(v["freshness"]["offline"], true);
    assert_eq!(v["freshness"]["from_cache"], true);
    assert!(v["freshness"]["fetched_at"].as_str().unwrap().ends_with('Z'));
    assert!(v["freshness"]["age_secs"].is_u64());
    assert_eq!(v["latest"], "1.1");
    let r = off.raw().call("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    assert_eq!(crate::ok(&r)["metadata"]["summary"], "A demo crate");
    // A miss is unavailable, and nothing touched the network.
    let r = off.raw().call("package_versions", json!({"ecosystem": "pypi", "name": "pytest"})).await;
    assert_eq!(crate::kind(&r), "unavailable");
    assert!(crate::err(&r).contains("offline"));
    // pin_dependencies offline: rows say unavailable, the summary says offline.
    let r = off.raw().call("pin_dependencies", json!({"manifest": "requirements.txt", "content": "flake8>=6\n"})).await;
    let v = crate::ok(&r);
    assert_eq!(v["offline"], true);
    assert_eq!(v["dependencies"][0]["status"], "unavailable");
    assert_eq!(v["changed"], false);
    assert_eq!(f.double.total_hits(), before, "offline mode asked a registry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_answer_is_used_when_the_registry_is_down() {
    let f = Fx::with(&[("REGISTRY_TTLS", "pypi=0")]).await;
    f.ok("package_versions", demo()).await;
    f.double.set_down(true);
    let v = f.ok("package_versions", demo()).await;
    assert_eq!(v["freshness"]["stale"], true);
    assert_eq!(v["latest"], "1.1");
    // Without a cached answer the outage is an error.
    let (kind, _) = f.fail("package_versions", json!({"ecosystem": "pypi", "name": "pytest"})).await;
    assert_eq!(kind, "unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_works_on_sqlite_and_postgresql() {
    let double = mcp_test::registry::Double::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(dir.path(), "registry") {
        let s = start(&double, &dir, &[("REGISTRY_DATABASE_URL", url.as_str()), ("REGISTRY_TTLS", "pypi=0")]).await;
        let before = double.not_modified();
        let a = crate::ok(&s.raw().call("package_versions", demo()).await).clone();
        let b = crate::ok(&s.raw().call("package_versions", demo()).await).clone();
        assert_eq!(a["versions"], b["versions"], "{label}");
        assert_eq!(double.not_modified(), before + 1, "{label}: no 304 revalidation");
        let c =
            crate::ok(&s.raw().call("package_versions", json!({"ecosystem": "crates", "name": "serde"})).await).clone();
        let d =
            crate::ok(&s.raw().call("package_versions", json!({"ecosystem": "crates", "name": "serde"})).await).clone();
        assert_eq!(c["freshness"]["from_cache"], false, "{label}");
        assert_eq!(d["freshness"]["from_cache"], true, "{label}");
        let st = crate::ok(&s.raw().call("registry_status", json!({})).await).clone();
        let sources: Vec<_> = st["cache"].as_array().unwrap().iter().map(|c| c["source"].as_str().unwrap()).collect();
        assert_eq!(sources, ["crates", "pypi"], "{label}");
        assert_eq!(st["cache"][1]["entries"], 1, "{label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_older_than_the_max_age_are_pruned_at_start_but_never_offline() {
    let f = Fx::new().await;
    f.ok("package_versions", demo()).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Offline: nothing is pruned, the old answer still answers.
    let off = start(&f.double, &f.dir, &[("REGISTRY_OFFLINE", "true"), ("REGISTRY_CACHE_MAX_AGE_SECS", "0.001")]).await;
    crate::ok(&off.raw().call("package_versions", demo()).await);
    let pruning = start(&f.double, &f.dir, &[("REGISTRY_CACHE_MAX_AGE_SECS", "0.001")]).await;
    let st = crate::ok(&pruning.raw().call("registry_status", json!({})).await).clone();
    assert_eq!(st["stats"]["pruned"], 1, "{st}");
    assert_eq!(st["cache"], json!([]));
}
