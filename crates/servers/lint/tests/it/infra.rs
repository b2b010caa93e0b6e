//! Shell, Dockerfile and YAML: shellcheck, hadolint, yamllint and the
//! schema checks of a Compose file and a GitLab CI file.

use serde_json::json;

use crate::{Fixture, owned, require, rules_of, run_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_dockerfile_yaml_and_schemas() {
    require("shellcheck");
    require("yamllint");
    let with_hadolint = require("hadolint");
    let f = Fixture::new(&["infra"]).await;
    let d = crate::ok(&f.call("lint_detect", json!({"path": "infra"})).await).clone();
    let tools: Vec<&str> = d["tools"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["shellcheck", "hadolint", "yamllint", "compose-schema", "gitlab-ci-schema"], "{d}");

    let v = f.lint(json!({"path": "infra"})).await;
    assert_eq!(rules_of(&v, "shellcheck"), owned(&[("SC2086", "deploy.sh", 4)]));
    let sc = v["findings"].as_array().unwrap().iter().find(|d| d["rule"] == "SC2086").unwrap();
    assert_eq!(sc["help_uri"], "https://www.shellcheck.net/wiki/SC2086");
    if with_hadolint {
        let h = rules_of(&v, "hadolint");
        assert!(h.contains(&("DL3007".into(), "Dockerfile".into(), 1)), "{h:?}");
        assert_eq!(run_of(&v, "hadolint")["status"], "findings");
    }
    let y = rules_of(&v, "yamllint");
    assert!(y.contains(&("key-duplicates".into(), "config.yml".into(), 2)), "{y:?}");
    assert!(y.contains(&("hyphens".into(), "config.yml".into(), 5)), "{y:?}");
    // docker-compose.yml: `ports` must be a list, `restart` one of its values.
    let c = rules_of(&v, "compose-schema");
    assert!(c.contains(&("type".into(), "docker-compose.yml".into(), 4)), "{c:?}");
    assert!(c.iter().all(|x| x.1 == "docker-compose.yml"), "{c:?}");
    assert_eq!(run_of(&v, "compose-schema")["status"], "findings");
    let g = rules_of(&v, "gitlab-ci-schema");
    assert!(!g.is_empty(), "{v}");
    assert!(g.iter().all(|x| x.1 == ".gitlab-ci.yml" && x.2 >= 1), "{g:?}");
    assert_eq!(v["passed"], false);

    // A valid Compose file and CI file pass their schema checks.
    let root = f.root().join("infra");
    std::fs::write(root.join("docker-compose.yml"), "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n")
        .unwrap();
    std::fs::write(root.join(".gitlab-ci.yml"), "stages: [build]\nbuild-job:\n  stage: build\n  script: [echo hi]\n")
        .unwrap();
    let ok = f.lint(json!({"path": "infra", "tools": ["compose-schema", "gitlab-ci-schema"]})).await;
    assert_eq!(ok["passed"], true, "{ok}");
}
