//! `monitoring/prometheus`: promtool checks the configuration, the rules and
//! the rules' unit tests; then a real Prometheus, started from the real
//! configuration (only the token path, the scrape interval and the addresses
//! of the programs running here rewritten), scrapes running servers, loads
//! the alert rules, and answers every PromQL expression of the dashboards.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mcp_core::CoreConfig;
use mcp_test::TEST_TOKEN;
use serde_json::{Value, json};

use crate::cross::free_port;
use crate::dashboards::{dashboards, prom_queries};
use crate::otlp::{PROTOBUF, S, now_ns, protobuf, trace_id};
use crate::{Obs, Running, eventually, need, ok, workspace};

fn dir() -> PathBuf {
    workspace().join("monitoring/prometheus")
}

fn promtool(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(need("promtool", "prometheus")).args(args).current_dir(cwd).output().unwrap()
}

fn assert_ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The real configuration with the token file, the interval and some
/// programs' addresses replaced, next to a copy of the rules.
fn config_copy(into: &Path, token_file: &Path, addresses: &[(&str, String)], fast: bool) -> PathBuf {
    let mut text = std::fs::read_to_string(dir().join("prometheus.yml")).unwrap();
    assert!(text.contains("credentials_file: /run/secrets/mcp_token"));
    text = text.replace("/run/secrets/mcp_token", &token_file.display().to_string());
    for (from, to) in addresses {
        let quoted = format!("\"{from}\"");
        assert!(text.contains(&quoted), "{from} is not a target of prometheus.yml");
        text = text.replace(&quoted, &format!("\"{to}\""));
    }
    if fast {
        text = text
            .replace("scrape_interval: 15s", "scrape_interval: 1s")
            .replace("scrape_timeout: 10s", "scrape_timeout: 1s")
            .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
    }
    let cfg = into.join("prometheus.yml");
    std::fs::write(&cfg, text).unwrap();
    std::fs::copy(dir().join("alerts.yml"), into.join("alerts.yml")).unwrap();
    cfg
}

#[test]
fn promtool_passes() {
    let d = dir();
    assert_ok(
        &promtool(&["check", "config", "--syntax-only", "prometheus.yml"], &d),
        "promtool check config --syntax-only",
    );
    assert_ok(&promtool(&["check", "rules", "alerts.yml"], &d), "promtool check rules");
    assert_ok(&promtool(&["test", "rules", "alerts_test.yml"], &d), "promtool test rules");
    // The full check (rule files and the token file must exist) on a copy
    // whose token path points at a real file.
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("mcp_token");
    std::fs::write(&token, TEST_TOKEN).unwrap();
    let cfg = config_copy(tmp.path(), &token, &[], false);
    assert_ok(&promtool(&["check", "config", cfg.to_str().unwrap()], tmp.path()), "promtool check config");
}

#[test]
fn every_program_of_the_fleet_is_scraped_by_its_compose_name() {
    let text = std::fs::read_to_string(dir().join("prometheus.yml")).unwrap();
    // The programs that exist are the crate folders (fleet.toml has one entry
    // per folder, and `cargo xtask codegen` writes the targets from it).
    let mut programs = vec![];
    for (folder, prefix) in [("servers", "mcp-server-"), ("clients", "mcp-client-")] {
        for e in std::fs::read_dir(workspace().join("crates").join(folder)).unwrap().flatten() {
            if e.path().join("Cargo.toml").exists() {
                programs.push(format!("{prefix}{}", e.file_name().to_string_lossy()));
            }
        }
    }
    assert!(programs.len() >= 9, "{programs:?}");
    for p in &programs {
        assert!(text.contains(&format!("- targets: [\"{p}:8080\"]")), "{p} is not scraped");
        assert!(text.contains(&format!("program: {p}\n")), "{p} has no program label");
    }
    // Nothing else: a program that is not built would be down for good and
    // keep McpServiceDown firing.
    let scraped = text.matches("- targets: [\"mcp-").count();
    assert_eq!(scraped, programs.len(), "prometheus.yml scrapes programs that do not exist");
    assert!(text.contains("job_name: prometheus"));
    let rules = std::fs::read_to_string(dir().join("alerts.yml")).unwrap();
    for alert in [
        "McpServiceDown",
        "McpToolHighErrorRate",
        "McpToolSlowCalls",
        "McpTasksStalled",
        "ObserverIngestFailing",
        "ObserverIngestRefusing",
        "ObserverIngestStalled",
    ] {
        assert!(rules.contains(&format!("alert: {alert}\n")), "{alert} missing");
    }
    assert!(rules.contains("mcp_tasks_stalled") && rules.contains("observer_ingest_failures_total"));
}

/// A Prometheus process, stopped on drop.
struct Prometheus {
    child: std::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    async fn start(config: &Path, data: &Path) -> Self {
        let port = free_port();
        let child = Command::new(need("prometheus", "prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let p = Self { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
        eventually(60, "Prometheus to be ready", || {
            let (http, base) = (p.http.clone(), p.base.clone());
            async move {
                let r = http.get(format!("{base}/-/ready")).send().await.ok()?;
                r.status().is_success().then_some(())
            }
        })
        .await;
        p
    }

    /// `/api/v1/query`: the whole answer.
    async fn query(&self, q: &str) -> Value {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/query", self.base)).unwrap();
        url.query_pairs_mut().append_pair("query", q);
        let r = self.http.get(url).send().await.unwrap();
        r.json().await.unwrap()
    }

    /// The result vector of a query that must succeed.
    async fn vector(&self, q: &str) -> Vec<Value> {
        let v = self.query(q).await;
        assert_eq!(v["status"], "success", "{q}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_fleet_and_answers_every_dashboard_query() {
    let tmp = tempfile::tempdir().unwrap();
    // Two real programs: the observer (with spans ingested, so its own series
    // move) and the log server (for mcp_tasks_stalled).
    let obs = Obs::start(&mcp_test::services::sqlite_url(tmp.path(), "obs"), "http://127.0.0.1:9/mcp").await;
    let tr = trace_id();
    let (s, _) = obs.post(protobuf(&[S::new(&tr, "mcp-server-fs", "x", now_ns(), 0.0, 1.0)]), PROTOBUF).await;
    assert_eq!(s, 200);
    ok(&obs.raw().call("traces_search", json!({})).await);
    let mut core = CoreConfig::defaults(mcp_server_log::NAME);
    core.auth_token = Some(TEST_TOKEN.into());
    core.peer_token = core.auth_token.clone();
    let log_cfg = mcp_server_log::Config::for_url(&mcp_test::services::sqlite_url(tmp.path(), "log"));
    let log = Running::start(mcp_server_log::start(log_cfg, core.clone()).await.unwrap(), mcp_server_log::NAME).await;

    let token = tmp.path().join("mcp_token");
    std::fs::write(&token, format!("{TEST_TOKEN}\n")).unwrap();
    let cfg = config_copy(
        tmp.path(),
        &token,
        &[("mcp-client-observer:8080", obs.running.addr.to_string()), ("mcp-server-log:8080", log.addr.to_string())],
        true,
    );
    let prom = Prometheus::start(&cfg, &tmp.path().join("data")).await;

    // The running programs are up, with the token from the file; the ones
    // not running here (compose names that do not resolve) are down.
    eventually(60, "the observer and the log server scraped", || {
        let p = &prom;
        async move {
            let up = p.vector(r#"up{job="mcp", program=~"mcp-client-observer|mcp-server-log"} == 1"#).await;
            (up.len() == 2).then_some(())
        }
    })
    .await;
    let build = prom.vector(r#"mcp_build_info{program="mcp-client-observer"}"#).await;
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0]["metric"]["service"], "mcp-client-observer");
    assert_eq!(build[0]["metric"]["kind"], "client");
    let ingested = prom.vector(r#"observer_spans_ingested_total{program="mcp-client-observer"}"#).await;
    assert_eq!(ingested[0]["value"][1], "1", "{ingested:?}");
    eventually(30, "a program not running recorded as down", || {
        let p = &prom;
        async move { (!p.vector(r#"up{job="mcp", program="mcp-server-email"} == 0"#).await.is_empty()).then_some(()) }
    })
    .await;
    // The rules are loaded: the down programs are pending McpServiceDown.
    eventually(30, "McpServiceDown pending for a program not running", || {
        let p = &prom;
        async move {
            let a = p.vector(r#"ALERTS{alertname="McpServiceDown", program="mcp-server-email"}"#).await;
            (!a.is_empty()).then_some(())
        }
    })
    .await;

    // Activity while Prometheus watches: tool calls, a refused request, a
    // refused export; then enough samples for rate() and increase().
    for _ in 0..3 {
        ok(&obs.raw().call("traces_search", json!({})).await);
    }
    let no_token = crate::get_json(&reqwest::Client::new(), &obs.base(), None, "/api/traces").await;
    assert_eq!(no_token.0, 401);
    assert_eq!(obs.post(b"garbage".to_vec(), "text/plain").await.0, 415);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut checked = 0;
    let mut with_data = std::collections::BTreeSet::new();
    let mut empty = Vec::new();
    for (file, d) in dashboards() {
        for (panel, expr) in prom_queries(&d) {
            let v = prom.query(&expr).await;
            assert_eq!(v["status"], "success", "{file} / {panel}: {expr}\n{v}");
            if v["data"]["result"].as_array().is_none_or(Vec::is_empty) {
                empty.push(format!("{file} / {panel}: {expr}"));
            } else {
                with_data.insert(format!("{file} / {panel}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} PromQL expressions found");
    // With this activity every panel shows data, so none is silently broken
    // (a wrong metric or label name answers success with an empty result).
    for must in ["fleet.json / variable program", "fleet.json / variable tool", "agent.json / Stalled tasks"] {
        assert!(with_data.contains(must), "{must} returned no data");
    }
    assert!(empty.is_empty(), "expressions without data: {empty:#?}");
    eprintln!("PromQL: {checked} dashboard expressions ran; empty with this data: {empty:?}");
    drop(prom);
    log.stop().await;
}
