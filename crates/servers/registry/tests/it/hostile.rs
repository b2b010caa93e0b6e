//! Hostile input: names and versions that must never become a request path,
//! and registry answers that are oversized, malformed, of the wrong types or
//! redirect elsewhere. Nothing may panic; every failure has its kind.

use serde_json::json;

use crate::Fx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_versions_are_refused_before_any_request() {
    let f = Fx::new().await;
    let huge = "a".repeat(100_000);
    let names = [
        "",
        " ",
        "../etc/passwd",
        "..",
        "foo?x=1",
        "foo#frag",
        "%2e%2e",
        "%2e%2e%2fadmin",
        "a/../../b",
        "naïve",
        "пакет",
        "a\u{0}b",
        "a\nb",
        "a\rb",
        "a\u{1b}[31m",
        "foo bar",
        "@/x",
        "@scope/",
        "\u{202e}evil",
        &huge,
    ];
    for eco in ["pypi", "crates", "npm"] {
        for n in names {
            for tool in ["package_versions", "latest_version", "package_info"] {
                let (kind, msg) = f.fail(tool, json!({"ecosystem": eco, "name": n})).await;
                assert_eq!(kind, "invalid_input", "{tool} {eco} {n:?}: {msg}");
                assert!(msg.len() < 400, "the message echoes the whole input: {}", msg.len());
            }
        }
    }
    for v in ["", "../1.0", "1.0?x=", "%2e%2e", &"9".repeat(10_000), "1.\u{0}0"] {
        let (kind, _) = f.fail("vulnerabilities", json!({"ecosystem": "pypi", "name": "demo", "version": v})).await;
        assert_eq!(kind, "invalid_input", "{v:?}");
    }
    for c in ["\u{0}", &">=".repeat(5000), "1.0 ; rm -rf /"] {
        let (kind, _) =
            f.fail("latest_version", json!({"ecosystem": "crates", "name": "serde", "constraint": c})).await;
        assert_eq!(kind, "invalid_input", "{c:?}");
    }
    for img in ["", "../x", "a/b/c/d", "UPPER/case", "x?y=1", "evil.com/x/y"] {
        let (kind, _) = f.fail("image_tags", json!({"image": img})).await;
        assert_eq!(kind, "invalid_input", "{img:?}");
    }
    assert_eq!(f.double.total_hits(), 0, "a hostile name reached the registry");
    // Unknown ecosystems and extra arguments are refused by the schema.
    let r = f.call("package_versions", json!({"ecosystem": "maven", "name": "x"})).await;
    assert!(r.result()["isError"] == true || !r.error().is_null(), "{}", r.text);
    let r = f.call("package_versions", json!({"ecosystem": "pypi", "name": "demo", "url": "http://evil"})).await;
    assert!(r.result()["isError"] == true || !r.error().is_null(), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_answers_fail_cleanly() {
    let f = Fx::with(&[("REGISTRY_MAX_BODY_BYTES", "1M")]).await;
    let q = |n: &str| json!({"ecosystem": "pypi", "name": n});
    f.double.can("/simple/huge/", 200, &[("content-type", "application/json")], vec![b' '; 2 << 20]);
    let (kind, msg) = f.fail("package_versions", q("huge")).await;
    assert_eq!(kind, "failed", "{msg}");
    assert!(msg.contains("larger than"), "{msg}");
    f.double.can("/simple/badjson/", 200, &[], "{\"versions\": [\"1.0\"");
    let (kind, msg) = f.fail("package_versions", q("badjson")).await;
    assert_eq!(kind, "failed", "{msg}");
    assert!(msg.contains("malformed"), "{msg}");
    f.double.can("/simple/wrongtypes/", 200, &[], "{\"versions\": 5, \"files\": {\"a\": 1}}");
    let (kind, _) = f.fail("package_versions", q("wrongtypes")).await;
    assert_eq!(kind, "failed");
    f.double.can("/simple/notutf8/", 200, &[], vec![0xff, 0xfe, 0x00]);
    let (kind, _) = f.fail("package_versions", q("notutf8")).await;
    assert_eq!(kind, "failed");
    // Hostile versions inside an answer are skipped, not trusted.
    f.double.can(
        "/simple/oddversions/",
        200,
        &[],
        json!({"versions": ["1.0", "../../x", "1.0?x=", "", "\u{0}", "9".repeat(1000)], "files": []}).to_string(),
    );
    let v = f.ok("package_versions", q("oddversions")).await;
    assert_eq!(v["versions"].as_array().unwrap().len(), 1);
    assert_eq!(v["unparsable"], 5);
    // A JSON API answer of the wrong shape.
    f.double.can("/pypi/demo/json", 200, &[], "[1, 2, 3]");
    let (kind, _) = f.fail("package_info", q("demo")).await;
    assert_eq!(kind, "failed");
    // OSV answering garbage: not checked, never "no vulnerabilities".
    f.double.can("/osv/v1/query", 200, &[], "{\"vulns\": \"lots\"}");
    let v = f.ok("vulnerabilities", json!({"ecosystem": "crates", "name": "serde", "version": "1.0.200"})).await;
    assert_eq!(v["checked"], false);
    // A .crate that is not a gzip.
    f.double.can("/crates/demo-crate/demo-crate-1.0.0.crate", 200, &[], "not a tarball");
    let (kind, _) = f.fail("package_info", json!({"ecosystem": "crates", "name": "demo-crate"})).await;
    assert_eq!(kind, "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_index_line_is_skipped() {
    let f = Fx::new().await;
    let v = f.ok("package_versions", json!({"ecosystem": "crates", "name": "hugeline"})).await;
    assert_eq!(v["versions"][0]["version"], "1.0.0");
    assert_eq!(v["unparsable"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_other_hosts_are_refused_same_host_followed() {
    let f = Fx::new().await;
    f.double.can("/simple/elsewhere/", 302, &[("location", "http://evil.example/simple/demo/")], "");
    let (kind, msg) = f.fail("package_versions", json!({"ecosystem": "pypi", "name": "elsewhere"})).await;
    assert_eq!(kind, "forbidden", "{msg}");
    assert!(msg.contains("evil.example"), "{msg}");
    f.double.can("/simple/moved/", 301, &[("location", "/simple/demo/")], "");
    let v = f.ok("package_versions", json!({"ecosystem": "pypi", "name": "moved"})).await;
    assert_eq!(v["latest"], "1.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_manifests_do_not_panic() {
    let f = Fx::new().await;
    let cases = [
        ("requirements.txt", "\u{0}\n".to_owned()),
        ("requirements.txt", "a".repeat(2 << 20)),
        ("requirements.txt", "x[\n".to_owned()),
        ("requirements.txt", "a/../b==1\n".to_owned()),
        ("pyproject.toml", "[project]\ndependencies = \"no\"\n".to_owned()),
        ("pyproject.toml", "[project]\ndependencies = [1, 2]\n".to_owned()),
        ("pyproject.toml", "[project]\ndependencies = [\"%2e%2e\"]\n".to_owned()),
        ("Cargo.toml", "[dependencies]\nserde = { features = [] }\n".to_owned()),
        ("Cargo.toml", "[dependencies]\n\"../x\" = \"1\"\n".to_owned()),
        ("Cargo.toml", "[dependencies]\nserde = \"not a req\"\n".to_owned()),
        ("pyproject.toml", "[project]\ndependencies = [\"ünïcode>=1\"]\n".to_owned()),
        ("Cargo.toml", "[dependencies]\n\"ü\" = \"1\"\n".to_owned()),
        ("Cargo.toml", "[dependencies]\nserde = \"1\"\nserde = \"2\"\n".to_owned()),
    ];
    for (kind, content) in cases {
        let (k, msg) = f.fail("pin_dependencies", json!({"manifest": kind, "content": content})).await;
        assert_eq!(k, "invalid_input", "{kind} {:?}: {msg}", content.chars().take(40).collect::<String>());
    }
    assert_eq!(f.double.total_hits(), 0);
}
