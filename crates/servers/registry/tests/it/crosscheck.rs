//! The double checked against independent clients written for the real
//! registries: pip reads the double's Simple API (PEP 691 JSON) and must
//! see the versions the server reports, in the same (PEP 440) order, with
//! the yanked one left out — so the double speaks the documented API, and
//! the server's ordering agrees with pip's own. cargo reads the double's
//! sparse index and `.crate` (`cargo info`) and must find the metadata the
//! server reports.

use serde_json::json;

use crate::Fx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pip_reads_the_double_as_the_server_does() {
    let f = Fx::new().await;
    let index = format!("{}/simple/", f.double.url());
    let out = tokio::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "index",
            "versions",
            "demo",
            "--index-url",
            &index,
            "--disable-pip-version-check",
            "--no-cache-dir",
        ])
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_INPUT", "1")
        .output()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            println!("SKIP: pip is not available here: {e}");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "pip failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let line = text.lines().find_map(|l| l.strip_prefix("Available versions: ")).expect("pip's version line");
    let pip: Vec<&str> = line.split(", ").map(str::trim).collect();
    let v = f.ok("package_versions", json!({"ecosystem": "pypi", "name": "demo", "include_yanked": false})).await;
    let ours: Vec<&str> = v["versions"].as_array().unwrap().iter().map(|x| x["version"].as_str().unwrap()).collect();
    assert_eq!(ours, pip, "pip and the server disagree on the double's versions");
    assert!(!pip.contains(&"1.2"), "pip must not offer the yanked version");
    assert!(f.double.hits("/simple/demo/") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_reads_the_double_as_the_server_does() {
    let f = Fx::new().await;
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("cargo")
        .args(["info", "demo-crate@1.0.0", "--registry", "double"])
        .current_dir(home.path())
        .env("CARGO_HOME", home.path())
        .env("CARGO_REGISTRIES_DOUBLE_INDEX", format!("sparse+{}/index/", f.double.url()))
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            println!("SKIP: cargo is not available here: {e}");
            return;
        }
    };
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cargo info failed: {text}");
    let v = f.ok("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    // The server describes 1.0.0 (1.1.0 is yanked, 1.2.0-beta.1 a pre-release); cargo was asked for it.
    assert_eq!(v["metadata"]["described_version"], "1.0.0");
    assert!(text.contains("version: 1.0.0"), "{text}");
    for field in ["summary", "license", "repository"] {
        let ours = v["metadata"][field].as_str().unwrap();
        assert!(text.contains(ours), "cargo does not show {field} {ours:?}: {text}");
    }
}
