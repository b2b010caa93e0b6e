//! `pin_dependencies` and `check_dependencies` on the planner's manifests.

use serde_json::{Value, json};

use crate::Fx;

/// The pyproject.toml the planner generates for Python projects.
const PYPROJECT: &str = r#"[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "generated"
version = "0.1.0"
dependencies = []

[project.optional-dependencies]
dev = ["pytest>=7", "flake8>=6"]
"#;

fn row<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["dependencies"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planners_pyproject_is_pinned_and_build_system_left_alone() {
    let f = Fx::new().await;
    let v = f
        .ok("pin_dependencies", json!({"manifest": "pyproject.toml", "content": PYPROJECT, "include_dev": true}))
        .await;
    assert_eq!(v["changed"], true);
    assert_eq!(
        v["content"],
        PYPROJECT.replace("\"pytest>=7\"", "\"pytest==8.1.0\"").replace("\"flake8>=6\"", "\"flake8==7.0.0\"")
    );
    let p = row(&v, "pytest");
    assert_eq!(p["status"], "pinned");
    assert_eq!(p["pinned"], "8.1.0", "8.2.0rc1 is a pre-release");
    assert_eq!(p["requested"], ">=7");
    assert_eq!(p["section"], "project.optional-dependencies.dev");
    assert_eq!(p["vulnerabilities_checked"], true);
    assert_eq!(p["vulnerability_source"], "osv");
    assert_eq!(v["dependencies"].as_array().unwrap().len(), 2, "setuptools is not a project dependency");
    assert_eq!(v["offline"], false);
    // Without dev dependencies there is nothing to pin.
    let v = f
        .ok("pin_dependencies", json!({"manifest": "pyproject.toml", "content": PYPROJECT, "include_dev": false}))
        .await;
    assert_eq!(v["changed"], false);
    assert_eq!(v["dependencies"], json!([]));
    assert_eq!(v["content"], PYPROJECT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_respect_the_projects_requires_python() {
    let f = Fx::new().await;
    let content = PYPROJECT.replace("version = \"0.1.0\"\n", "version = \"0.1.0\"\nrequires-python = \">=3.9\"\n");
    let v = f.ok("pin_dependencies", json!({"manifest": "pyproject.toml", "content": content})).await;
    let p = row(&v, "pytest");
    assert_eq!(p["pinned"], "7.0.0", "pytest 8.1.0 requires Python >=3.10: {p}");
    assert!(p["note"].as_str().unwrap().contains("8.1.0 (requires Python >=3.10)"), "{p}");
    assert!(v["content"].as_str().unwrap().contains("\"pytest==7.0.0\""));
    let v = f.ok("package_versions", json!({"ecosystem": "pypi", "name": "pytest"})).await;
    assert_eq!(v["versions"][0]["requires_python"], ">=3.10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_skip_yanked_and_vulnerable_versions() {
    let f = Fx::new().await;
    let content = "demo>=1.0  # the newest, 1.1, is vulnerable; 1.2 is yanked\nonlybad\nnosuch>=1\n./local\n";
    let v = f.ok("pin_dependencies", json!({"manifest": "requirements.txt", "content": content})).await;
    let d = row(&v, "demo");
    assert_eq!(d["pinned"], "1.0");
    assert_eq!(d["latest"], "1.1");
    assert!(d["note"].as_str().unwrap().contains("GHSA-demo-0001"), "{d}");
    let o = row(&v, "onlybad");
    assert_eq!(o["status"], "vulnerable");
    assert!(o["pinned"].is_null());
    assert_eq!(row(&v, "nosuch")["status"], "not_found");
    assert_eq!(row(&v, "./local")["status"], "unchanged");
    assert_eq!(
        v["content"],
        "demo==1.0  # the newest, 1.1, is vulnerable; 1.2 is yanked\nonlybad\nnosuch>=1\n./local\n"
    );
    // An exact pin on a yanked version is left, and says so.
    let v = f.ok("pin_dependencies", json!({"manifest": "requirements.txt", "content": "demo==1.2\n"})).await;
    assert_eq!(row(&v, "demo")["status"], "yanked");
    assert_eq!(v["changed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_manifests_keep_their_form() {
    let f = Fx::new().await;
    let content = "[package]\nname = \"gen\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n# serialisation\nserde = { version = \"1\", features = [\"derive\"] }\nanyhow = \"1.0\"\nlocal = { path = \"../local\" }\n\n[dev-dependencies]\ndemo-crate = \"0.9\"\n";
    let v = f.ok("pin_dependencies", json!({"manifest": "Cargo.toml", "content": content})).await;
    // serde 1.0.200 is vulnerable in the double: 1.0.100 is chosen.
    let expected = content
        .replace("version = \"1\"", "version = \"1.0.100\"")
        .replace("anyhow = \"1.0\"", "anyhow = \"1.0.99\"")
        .replace("demo-crate = \"0.9\"", "demo-crate = \"0.9.0\"");
    assert_eq!(v["content"], expected);
    assert!(row(&v, "serde")["note"].as_str().unwrap().contains("RUSTSEC-2099-0001"));
    assert_eq!(row(&v, "local")["status"], "unchanged");
    assert_eq!(row(&v, "demo-crate")["section"], "dev-dependencies");
    // An empty [dependencies] is an empty list, not an error.
    let v = f
        .ok(
            "pin_dependencies",
            json!({"manifest": "Cargo.toml", "content": "[package]\nname = \"x\"\n\n[dependencies]\n"}),
        )
        .await;
    assert_eq!(v["dependencies"], json!([]));
    assert_eq!(v["changed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_outdated_yanked_and_vulnerable_pins() {
    let f = Fx::new().await;
    let content = "demo==1.0\npytest==8.1.0\nflake8==1.2.3\n";
    let v = f.ok("check_dependencies", json!({"manifest": "requirements.txt", "content": content})).await;
    let d = row(&v, "demo");
    assert_eq!(d["status"], "outdated", "{d}");
    assert_eq!(d["latest"], "1.1");
    assert_eq!(row(&v, "pytest")["status"], "pinned");
    assert_eq!(row(&v, "flake8")["status"], "not_found");
    assert_eq!(v["problems"], 2);
    let v = f
        .ok(
            "check_dependencies",
            json!({"manifest": "requirements.txt", "content": "demo==1.2\ndemo2==1\n".replace("demo2==1\n", "")}),
        )
        .await;
    let d = row(&v, "demo");
    assert_eq!(d["status"], "yanked");
    assert_eq!(d["yanked"], true);
    let v = f.ok("check_dependencies", json!({"manifest": "requirements.txt", "content": "demo==1.1\n"})).await;
    let d = row(&v, "demo");
    assert_eq!(d["status"], "vulnerable");
    assert_eq!(d["vulnerabilities"], json!(["GHSA-demo-0001"]));
    // OSV unreachable: "not checked", never "no vulnerabilities".
    let g = Fx::new().await;
    g.double.set_osv_down(true);
    let v = g
        .ok("check_dependencies", json!({"manifest": "requirements.txt", "content": "pytest==8.1.0\nflake8==6.0.0\n"}))
        .await;
    // flake8 6.0.0 is not PyPI's latest: nobody could answer for it.
    let d = row(&v, "flake8");
    assert_eq!(d["vulnerabilities_checked"], false, "{d}");
    assert_eq!(d["vulnerabilities"], json!([]));
    assert_ne!(d["vulnerability_source"], "osv");
    assert!(d["note"].as_str().unwrap().contains("not checked"), "{d}");
    // pytest 8.1.0 is PyPI's latest: its JSON API's list answers.
    let d = row(&v, "pytest");
    assert_eq!(d["vulnerabilities_checked"], true, "{d}");
    assert_eq!(d["vulnerability_source"], "pypi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_manifests_are_invalid_input_naming_the_line() {
    let f = Fx::new().await;
    let (kind, msg) =
        f.fail("pin_dependencies", json!({"manifest": "requirements.txt", "content": "ok>=1\n$$$\n"})).await;
    assert_eq!(kind, "invalid_input");
    assert!(msg.contains("line 2"), "{msg}");
    let (kind, msg) =
        f.fail("check_dependencies", json!({"manifest": "Cargo.toml", "content": "[dependencies\n"})).await;
    assert_eq!(kind, "invalid_input");
    assert!(msg.contains("line 1"), "{msg}");
    let (kind, msg) =
        f.fail("pin_dependencies", json!({"manifest": "requirements.txt", "content": "demo>=>=1\n"})).await;
    assert_eq!(kind, "invalid_input");
    assert!(msg.contains("line 1"), "{msg}");
    // An unknown manifest kind is refused by the argument schema.
    let r = f.call("pin_dependencies", json!({"manifest": "setup.py", "content": ""})).await;
    assert!(r.result()["isError"] == true || !r.error().is_null(), "{}", r.text);
}
