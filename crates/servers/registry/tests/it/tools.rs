//! Each tool against the double: ordering, yanks, pre-releases, metadata,
//! vulnerabilities with their source, tags and releases, tokens.

use serde_json::json;

use crate::Fx;

fn versions(v: &serde_json::Value) -> Vec<String> {
    v["versions"].as_array().unwrap().iter().map(|x| x["version"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pypi_versions_are_pep440_sorted_with_yanks_flagged() {
    let f = Fx::new().await;
    let v = f.ok("package_versions", json!({"ecosystem": "pypi", "name": "Demo"})).await;
    // The Simple API sent text order (0.9.10 before 0.9.9); PEP 440 puts 0.9.10 after.
    assert_eq!(versions(&v), ["1.2", "1.1", "1.0", "0.9.10", "0.9.9"]);
    assert_eq!(v["latest"], "1.1", "1.2 is yanked");
    let y = &v["versions"][0];
    assert_eq!(y["yanked"], true);
    assert_eq!(y["note"], "broken metadata");
    assert_eq!(v["freshness"]["from_cache"], false);
    let v =
        f.ok("package_versions", json!({"ecosystem": "pypi", "name": "demo", "prereleases": true, "limit": 2})).await;
    assert_eq!(versions(&v), ["2.0rc1", "1.2"]);
    assert_eq!(v["total"], 6);
    assert_eq!(v["versions"][0]["prerelease"], true);
    let v = f.ok("package_versions", json!({"ecosystem": "pypi", "name": "demo", "include_yanked": false})).await;
    assert!(!versions(&v).contains(&"1.2".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crates_versions_are_semver_sorted() {
    let f = Fx::new().await;
    let v = f.ok("package_versions", json!({"ecosystem": "crates", "name": "demo-crate", "prereleases": true})).await;
    assert_eq!(versions(&v), ["1.2.0-beta.1", "1.1.0", "1.0.0", "0.10.0", "0.9.0"]);
    assert_eq!(v["latest"], "1.0.0", "1.1.0 is yanked, 1.2.0-beta.1 a pre-release");
    assert_eq!(v["versions"][1]["yanked"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_version_honours_constraints() {
    let f = Fx::new().await;
    let l = |eco: &str, name: &str, c: &str| json!({"ecosystem": eco, "name": name, "constraint": c});
    let v = f.ok("latest_version", l("pypi", "demo", "<1.1")).await;
    assert_eq!(v["version"]["version"], "1.0");
    let v = f.ok("latest_version", l("pypi", "demo", ">=1.2")).await;
    assert!(v["version"].is_null(), "only a yanked and a pre-release satisfy: {v}");
    assert!(v["note"].as_str().unwrap().contains("no non-yanked"));
    let v = f.ok("latest_version", l("pypi", "demo", ">=2.0rc1")).await;
    assert_eq!(v["version"]["version"], "2.0rc1", "a constraint naming a pre-release allows it");
    let v = f.ok("latest_version", l("crates", "demo-crate", "0.9")).await;
    assert_eq!(v["version"]["version"], "0.9.0");
    let v = f.ok("latest_version", l("npm", "left-pad", "^1.0.0")).await;
    assert_eq!(v["version"]["version"], "1.3.0");
    assert_eq!(v["version"]["note"], "deprecated: use String.prototype.padStart()");
    let (kind, msg) = f.fail("latest_version", l("pypi", "demo", ">=>=1")).await;
    assert_eq!(kind, "invalid_input", "{msg}");
    let (kind, _) = f.fail("latest_version", l("pypi", "no-such-project", "")).await;
    assert_eq!(kind, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_info_reads_each_registrys_metadata() {
    let f = Fx::new().await;
    let v = f.ok("package_info", json!({"ecosystem": "pypi", "name": "demo"})).await;
    assert_eq!(v["metadata"]["summary"], "The demo project");
    assert_eq!(v["metadata"]["license"], "MIT");
    assert_eq!(v["metadata"]["repository"], "https://github.com/example/demo");
    assert_eq!(v["yanked"], 1);
    let v = f.ok("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    assert_eq!(v["metadata"]["summary"], "A demo crate");
    assert_eq!(v["metadata"]["license"], "MIT OR Apache-2.0");
    assert_eq!(v["metadata"]["described_version"], "1.0.0");
    assert_eq!(v["metadata"]["metadata_source"], "Cargo.toml in the .crate");
    // The .crate's manifest is cached: asked once.
    f.ok("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    assert_eq!(f.double.hits("/crates/demo-crate/demo-crate-1.0.0.crate"), 1);
    let v = f.ok("package_info", json!({"ecosystem": "npm", "name": "left-pad"})).await;
    assert_eq!(v["latest"], "1.3.0");
    assert_eq!(v["metadata"]["repository"], "git+https://github.com/example/left-pad.git");
    let v = f.ok("package_versions", json!({"ecosystem": "npm", "name": "@scope/pkg"})).await;
    assert_eq!(v["unparsable"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerabilities_say_who_answered_and_never_claim_none_unchecked() {
    let f = Fx::new().await;
    let q = |name: &str, v: &str| json!({"ecosystem": "pypi", "name": name, "version": v});
    let v = f.ok("vulnerabilities", q("demo", "1.1")).await;
    assert_eq!(v["checked"], true);
    assert_eq!(v["source"], "osv");
    assert_eq!(v["vulnerabilities"][0]["id"], "GHSA-demo-0001");
    assert_eq!(v["vulnerabilities"][0]["severity"], "HIGH");
    let v = f.ok("vulnerabilities", q("demo", "1.0")).await;
    assert_eq!(v["checked"], true);
    assert_eq!(v["vulnerabilities"], json!([]));

    // OSV down: PyPI's own list answers for the latest release only.
    f.double.set_osv_down(true);
    let f2 = Fx::with(&[]).await;
    f2.double.set_osv_down(true);
    let v = f2.ok("vulnerabilities", q("demo", "1.1")).await;
    assert_eq!(v["checked"], true, "{v}");
    assert_eq!(v["source"], "pypi");
    assert_eq!(v["vulnerabilities"][0]["id"], "PYSEC-2099-1");
    let v = f2.ok("vulnerabilities", q("demo", "0.9.9")).await;
    assert_eq!(v["checked"], false, "{v}");
    assert!(v.get("source").is_none());
    assert!(v["note"].as_str().unwrap().starts_with("not checked"), "{v}");
    let v = f2.ok("vulnerabilities", json!({"ecosystem": "crates", "name": "serde", "version": "1.0.200"})).await;
    assert_eq!(v["checked"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_tags_filter_and_limit() {
    let f = Fx::new().await;
    let v = f.ok("image_tags", json!({"image": "python:3.12", "filter": "*-slim"})).await;
    assert_eq!(v["image"], "library/python");
    let names: Vec<_> = v["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["3.13-slim", "3.12-slim"]);
    assert_eq!(v["tags"][0]["platforms"], json!(["linux/amd64", "linux/arm64/v8"]));
    assert_eq!(v["count"], 5);
    let v = f.ok("image_tags", json!({"image": "python", "limit": 2})).await;
    assert_eq!(v["tags"].as_array().unwrap().len(), 2);
    assert_eq!(v["truncated"], true);
    let (kind, _) = f.fail("image_tags", json!({"image": "nobody/nothing"})).await;
    assert_eq!(kind, "not_found");
    let (kind, _) = f.fail("image_tags", json!({"image": "ghcr.io/a/b"})).await;
    assert_eq!(kind, "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_release_from_github_and_gitlab() {
    let token_dir = tempfile::tempdir().unwrap();
    let tok = token_dir.path().join("gh");
    std::fs::write(&tok, "ghp_secret_token_value\n").unwrap();
    let tok = tok.display().to_string();
    let f = Fx::with(&[("REGISTRY_GITHUB_TOKEN_FILE", tok.as_str())]).await;
    let r = f.call("latest_release", json!({"provider": "github", "repo": "octo/app"})).await;
    assert!(!r.text.contains("ghp_secret"), "a token leaked into a result");
    let v = crate::ok(&r);
    assert_eq!(v["release"]["tag"], "v2.1.0");
    assert_eq!(v["release"]["kind"], "release");
    // No releases: the highest stable version tag.
    let v = f.ok("latest_release", json!({"provider": "github", "repo": "octo/notags"})).await;
    assert_eq!(v["release"]["tag"], "v1.10.0");
    assert_eq!(v["release"]["kind"], "tag");
    let v = f.ok("latest_release", json!({"provider": "gitlab", "repo": "group/proj"})).await;
    assert_eq!(v["release"]["tag"], "v2.0.0", "the upcoming release is skipped");
    // The token went under GitHub's base URL only (every double shares one
    // host, so this checks the prefix rule, not just the host rule).
    f.ok("package_versions", json!({"ecosystem": "pypi", "name": "demo"})).await;
    let seen = f.double.auth_seen();
    assert!(seen.iter().any(|(p, v)| p.starts_with("/gh/") && v == "Bearer ghp_secret_token_value"), "{seen:?}");
    assert!(seen.iter().all(|(p, _)| p.starts_with("/gh/")), "{seen:?}");
    let status = f.call("registry_status", json!({})).await;
    assert!(!status.text.contains("ghp_secret"));
    let v = crate::ok(&status);
    assert!(v["endpoints"].as_array().unwrap().iter().any(|e| e["source"] == "github" && e["token"] == true));
    let (kind, _) = f.fail("latest_release", json!({"provider": "github", "repo": "../etc"})).await;
    assert_eq!(kind, "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_packages_are_listed_with_filters_encoded() {
    let f = Fx::new().await;
    let v = f
        .ok(
            "gitlab_packages",
            json!({"project": "group/proj", "package_name": "demo&x=1", "package_type": "pypi", "limit": 5}),
        )
        .await;
    assert_eq!(v["packages"][0]["version"], "1.1.0");
    assert_eq!(v["packages"].as_array().unwrap().len(), 2);
    // The name went as one encoded query value, not as extra parameters.
    assert_eq!(
        f.double.hits("/gl/api/v4/projects/group%2Fproj/packages?order_by=created_at&sort=desc&per_page=5&package_name=demo%26x%3D1&package_type=pypi"),
        1
    );
    let (kind, _) = f.fail("gitlab_packages", json!({"project": "group/proj", "package_type": "rubygems"})).await;
    assert_eq!(kind, "invalid_input");
    let (kind, _) = f.fail("gitlab_packages", json!({"project": "a/../b"})).await;
    assert_eq!(kind, "invalid_input");
    let g = Fx::with(&[("REGISTRY_GITLAB_URL", "")]).await;
    let (kind, msg) = g.fail("gitlab_packages", json!({"project": "group/proj"})).await;
    assert_eq!(kind, "unavailable", "{msg}");
}
