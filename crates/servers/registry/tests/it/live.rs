//! Live tests against the real PyPI (JSON and Simple APIs) and the
//! crates.io sparse index and downloads, which the project's machines can
//! reach. They assert shapes, not versions, and skip with `SKIP: <reason>`
//! when the registry cannot be reached (an outage must not fail CI).

use std::time::Duration;

use mcp_server_registry::{Config, server};
use mcp_test::TestServer;
use serde_json::json;

/// Whether `url` answers at all; the reason when not.
pub async fn reachable(url: &str) -> Result<(), String> {
    mcp_core::install_crypto_provider();
    let c = reqwest::Client::builder().timeout(Duration::from_secs(8)).build().map_err(|e| e.to_string())?;
    match c.get(url).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("{url} answered {}", r.status())),
        Err(e) => Err(format!("{url} cannot be reached: {e}")),
    }
}

/// A server on the real registries with its cache in `dir`.
pub async fn live_server(dir: &tempfile::TempDir) -> TestServer {
    let db = format!("sqlite:{}", dir.path().join("live.db").display());
    TestServer::start(server(Config::from_pairs(&[("REGISTRY_DATABASE_URL", &db)])).await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_pypi_json_and_simple() {
    if let Err(why) = reachable("https://pypi.org/simple/requests/").await {
        println!("SKIP: live PyPI test: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = live_server(&dir).await;
    let r = s.raw().call("package_versions", json!({"ecosystem": "pypi", "name": "requests", "limit": 500})).await;
    let v = crate::ok(&r);
    let vs: Vec<&str> = v["versions"].as_array().unwrap().iter().map(|x| x["version"].as_str().unwrap()).collect();
    assert!(vs.len() > 100, "{}", vs.len());
    // Newest first in PEP 440 order (the Simple API sends text order).
    let parsed: Vec<_> = vs
        .iter()
        .map(|x| mcp_server_registry::versions::Ver::parse(mcp_types::registry::Ecosystem::Pypi, x).unwrap())
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] > w[1]), "not sorted newest first");
    assert!(v["latest"].is_string());
    // requests 2.32.0 was yanked (a CVE mitigation conflict).
    assert!(v["versions"].as_array().unwrap().iter().any(|x| x["version"] == "2.32.0" && x["yanked"] == true));
    let r = s.raw().call("package_info", json!({"ecosystem": "pypi", "name": "requests"})).await;
    let v = crate::ok(&r);
    assert!(!v["metadata"]["summary"].as_str().unwrap().is_empty());
    assert_eq!(v["metadata"]["metadata_source"], "PyPI JSON API");
    // The planner's pyproject, pinned live. OSV is unreachable here: rows
    // must say whether vulnerabilities were checked, and by whom.
    let content = "[project]\nname = \"x\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n[project.optional-dependencies]\ndev = [\"pytest>=7\", \"flake8>=6\"]\n";
    let r = s.raw().call("pin_dependencies", json!({"manifest": "pyproject.toml", "content": content})).await;
    let v = crate::ok(&r);
    assert_eq!(v["changed"], true);
    for d in v["dependencies"].as_array().unwrap() {
        println!("LIVE pin: {d}");
        assert_eq!(d["status"], "pinned", "{d}");
        let pinned = d["pinned"].as_str().unwrap();
        assert!(v["content"].as_str().unwrap().contains(&format!("{}=={pinned}", d["name"].as_str().unwrap())));
        if d["vulnerabilities_checked"] == true {
            assert!(d["vulnerability_source"] == "osv" || d["vulnerability_source"] == "pypi", "{d}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_crates_index_and_crate_manifest() {
    if let Err(why) = reachable("https://index.crates.io/se/rd/serde").await {
        println!("SKIP: live crates.io test: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = live_server(&dir).await;
    let r = s.raw().call("package_versions", json!({"ecosystem": "crates", "name": "serde", "limit": 500})).await;
    let v = crate::ok(&r);
    let latest = v["latest"].as_str().unwrap();
    assert!(latest.starts_with("1."), "{latest}");
    assert!(v["versions"].as_array().unwrap().len() > 100);
    assert!(v["versions"][0]["published"].is_string() || v["versions"][0]["published"].is_null());
    let r = s.raw().call("package_info", json!({"ecosystem": "crates", "name": "serde"})).await;
    let v = crate::ok(&r);
    assert!(v["metadata"]["license"].as_str().unwrap().contains("MIT"), "{v}");
    assert!(v["metadata"]["repository"].as_str().unwrap().contains("serde"), "{v}");
    let r = s.raw().call("latest_version", json!({"ecosystem": "crates", "name": "semver", "constraint": "1"})).await;
    assert!(crate::ok(&r)["version"]["version"].as_str().unwrap().starts_with("1."));
}
