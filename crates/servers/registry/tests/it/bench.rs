//! Answer time, cold (nothing cached) and cached, against the double and,
//! when reachable, the live PyPI. Figures are printed (`--nocapture`); the
//! assertions check that the cached runs really came from the cache.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::Fx;
use crate::live::{live_server, reachable};

fn summary(label: &str, mut t: Vec<Duration>) {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = t.iter().map(|d| ms(*d)).sum::<f64>() / t.len() as f64;
    println!(
        "BENCH {label}: n={} mean={mean:.2} ms p50={:.2} ms p90={:.2} ms max={:.2} ms",
        t.len(),
        ms(t[t.len() / 2]),
        ms(t[t.len() * 9 / 10]),
        ms(t[t.len() - 1])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_cold_and_cached_against_the_double() {
    let f = Fx::new().await;
    let n = 30;
    let mut cold = Vec::new();
    let mut cached = Vec::new();
    for i in 0..n {
        let args = json!({"ecosystem": "pypi", "name": format!("bench-{i}")});
        let t = Instant::now();
        let v = f.ok("package_versions", args.clone()).await;
        cold.push(t.elapsed());
        assert_eq!(v["freshness"]["from_cache"], false);
        let t = Instant::now();
        let v = f.ok("package_versions", args).await;
        cached.push(t.elapsed());
        assert_eq!(v["freshness"]["from_cache"], true);
    }
    summary("double package_versions cold (200 versions)", cold);
    summary("double package_versions cached", cached);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_cold_and_cached_against_live_pypi() {
    if let Err(why) = reachable("https://pypi.org/simple/pip/").await {
        println!("SKIP: live benchmark: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = live_server(&dir).await;
    let mut cold = Vec::new();
    let mut cached = Vec::new();
    for name in ["pip", "setuptools", "wheel", "flake8", "pytest"] {
        let args = json!({"ecosystem": "pypi", "name": name});
        let t = Instant::now();
        let r = s.raw().call("package_versions", args.clone()).await;
        cold.push(t.elapsed());
        crate::ok(&r);
        let t = Instant::now();
        let r = s.raw().call("package_versions", args).await;
        cached.push(t.elapsed());
        assert_eq!(crate::ok(&r)["freshness"]["from_cache"], true);
    }
    summary("live PyPI package_versions cold", cold);
    summary("live PyPI package_versions cached", cached);
}
