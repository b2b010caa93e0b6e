//! Every document kind through `spec_generate`, held against golden text
//! (`golden/<kind>.*`, refreshed with `UPDATE_EXPECT=1`), plus the rules
//! around it: strict undefined values, user templates, the changelog's
//! grouping and merge, and the OpenAPI skeleton checked by
//! `openapi-spec-validator`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::Env;

async fn generate(env: &Env, kind: &str, data: Value) -> Value {
    env.ok("spec_generate", json!({"kind": kind, "data": data})).await
}

pub fn spec_data() -> Value {
    json!({
        "name": "Word Counter",
        "summary": "Counts the words of a text file.",
        "language": "python",
        "kind": "cli",
        "template": "python-cli",
        "delivery": "local",
        "request_id": "req-123",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "status": "**A scaffold, not the finished program.**",
        "features": ["count words", "count | pipes\nand lines"],
        "acceptance": ["`wc` agrees"],
        "requester": "ada@example.com",
        "requested_at": "2026-12-06T10:00:00Z",
        "dependencies": [{"name": "click", "version": "8.1", "note": "the CLI"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_and_readme() {
    let env = Env::start().await;
    let out = generate(&env, "spec", spec_data()).await;
    assert_eq!(out["suggested_path"], "SPEC.md");
    assert_eq!(out["template_source"], "builtin");
    assert_eq!(out["source"], "template:spec (builtin)");
    let content = out["content"].as_str().unwrap();
    assert_eq!(out["bytes"], content.len());
    // The row the planner recognises its projects by.
    assert!(content.contains("| Request | req-123 |"), "{content}");
    expect_test::expect_file!["golden/spec.md"].assert_eq(content);

    // The optional fields left out: defaults, not errors.
    let mut minimal = spec_data();
    for k in ["trace_id", "requester", "requested_at", "dependencies", "features", "acceptance"] {
        minimal.as_object_mut().unwrap().remove(k);
    }
    let out = generate(&env, "spec", minimal).await;
    let c = out["content"].as_str().unwrap();
    assert!(
        c.contains("| Trace | - |") && c.contains("- The generated tests pass.") && c.contains("unknown, on"),
        "{c}"
    );
    assert!(!c.contains("## Dependencies"), "{c}");

    let out = generate(
        &env,
        "readme",
        json!({
            "name": "Word Counter", "summary": "Counts words.", "language": "python", "kind": "cli",
            "install": ["python3 -m venv .venv", ".venv/bin/pip install -e ."],
            "usage": ["wordcount README.md", "echo '```' | wordcount -"],
            "test": [".venv/bin/python -m pytest"],
            "features": ["count words"]
        }),
    )
    .await;
    assert_eq!(out["suggested_path"], "README.md");
    expect_test::expect_file!["golden/readme.md"].assert_eq(out["content"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changelog_groups_commits_and_merges() {
    let env = Env::start().await;
    let commits = json!([
        {"sha": "a1b2c3d4e5f6", "subject": "feat(cli): add --json output"},
        {"sha": "b2c3d4e", "subject": "fix: crash on empty input"},
        {"sha": "c3d4e5f", "subject": "refactor!: rename the config file", "body": "It is .wc.toml now."},
        {"sha": "d4e5f6a", "subject": "feat: stream large files", "body": "Body.\n\nBREAKING CHANGE: needs Python 3.11"},
        {"sha": "e5f6a7b", "subject": "Merge branch 'main' into dev"},
        {"sha": "f6a7b8c", "subject": "Update the docs"},
        {"sha": "0a1b2c3", "subject": "docs: explain {{ 7*7 }} in templates"}
    ]);
    let out = generate(
        &env,
        "changelog",
        json!({"version": "1.1.0", "date": "2026-12-06", "commits": commits,
               "changes": [{"kind": "security", "text": "pin the parser"}]}),
    )
    .await;
    assert_eq!(out["suggested_path"], "CHANGELOG.md");
    let fresh = out["content"].as_str().unwrap().to_owned();
    expect_test::expect_file!["golden/changelog.md"].assert_eq(&fresh);
    assert!(!fresh.contains("Merge branch"), "merge commits are left out");
    assert!(fresh.contains("{{ 7*7 }}"), "commit text is data");

    // Merged below [Unreleased], above the newest released version.
    let existing =
        "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n- wip\n\n## [1.0.0] - 2026-01-01\n\n### Added\n\n- first\n";
    let out = generate(
        &env,
        "changelog",
        json!({"version": "1.1.0", "date": "2026-12-06", "commits": [{"sha": "abcdef0", "subject": "fix: x"}],
               "existing": existing}),
    )
    .await;
    expect_test::expect![[r#"
        # Changelog

        Intro.

        ## [Unreleased]

        - wip

        ## [1.1.0] - 2026-12-06

        ### Fixed

        - x (abcdef0)

        ## [1.0.0] - 2026-01-01

        ### Added

        - first
    "#]]
    .assert_eq(out["content"].as_str().unwrap());

    // The same version twice is a conflict; no changes at all is invalid.
    let merged = out["content"].as_str().unwrap();
    let (k, m) = env
        .fail(
            "spec_generate",
            json!({"kind": "changelog", "data": {"version": "1.1.0", "date": "2026-12-06",
                   "commits": [{"sha": "1", "subject": "fix: y"}], "existing": merged}}),
        )
        .await;
    assert_eq!(k, "conflict", "{m}");
    let (k, m) = env
        .fail("spec_generate", json!({"kind": "changelog", "data": {"version": "1.2.0", "date": "2026-12-06"}}))
        .await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("commits or changes"), "{m}");
    let (k, _) = env
        .fail(
            "spec_generate",
            json!({"kind": "changelog", "data": {"version": "1.2.0", "date": "6.12.2026", "changes": [{"kind": "added", "text": "x"}]}}),
        )
        .await;
    assert_eq!(k, "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adr_architecture_and_workflow_kinds() {
    let env = Env::start().await;
    let out = generate(
        &env,
        "adr",
        json!({"number": 7, "title": "Use PostgreSQL for the workflow store", "status": "accepted",
               "date": "2026-12-06", "context": "Specs need a shared store.",
               "options": ["SQLite", "PostgreSQL"], "decision": "PostgreSQL in compose, SQLite locally.",
               "consequences": ["One more role", "Backups are shared"], "deciders": ["ada", "lin"]}),
    )
    .await;
    assert_eq!(out["suggested_path"], "docs/adr/0007-use-postgresql-for-the-workflow-store.md");
    expect_test::expect_file!["golden/adr.md"].assert_eq(out["content"].as_str().unwrap());
    let (k, _) = env
        .fail(
            "spec_generate",
            json!({"kind": "adr", "data": {"number": 1, "title": "t", "status": "maybe", "date": "2026-12-06",
                   "context": "c", "decision": "d"}}),
        )
        .await;
    assert_eq!(k, "invalid_input");

    let arch = json!({
        "title": "Word Counter",
        "components": [
            {"id": "user", "label": "User", "kind": "user"},
            {"id": "api", "label": "API \"v1\" <b>", "kind": "service"},
            {"id": "db", "label": "Postgres #1", "kind": "database"},
            {"id": "end", "kind": "queue"},
            {"id": "a-b"}, {"id": "a_b", "label": "`tick`", "kind": "external"}
        ],
        "edges": [
            {"from": "user", "to": "api", "label": "HTTPS | JSON"},
            {"from": "api", "to": "db"},
            {"from": "api", "to": "end", "label": "jobs"},
            {"from": "a-b", "to": "a_b"}
        ]
    });
    let out = generate(&env, "architecture", arch.clone()).await;
    assert_eq!(out["suggested_path"], "docs/architecture.md");
    expect_test::expect_file!["golden/architecture.md"].assert_eq(out["content"].as_str().unwrap());
    let d = env
        .ok(
            "architecture_diagram",
            json!({"components": arch["components"], "edges": arch["edges"], "direction": "TB"}),
        )
        .await;
    expect_test::expect![[r##"
        flowchart TB
            c_user(("User"))
            c_api("API #quot;v1#quot; #lt;b#gt;")
            c_db[("Postgres #35;1")]
            c_end[/"end"/]
            c_a_b["a-b"]
            c_a_b_2{{"#96;tick#96;"}}
            c_user -->|"HTTPS #124; JSON"| c_api
            c_api --> c_db
            c_api -->|"jobs"| c_end
            c_a_b --> c_a_b_2
    "##]]
    .assert_eq(d["mermaid"].as_str().unwrap());
    assert!(d["markdown"].as_str().unwrap().starts_with("```mermaid\nflowchart TB\n"));
    let (k, m) = env
        .fail("architecture_diagram", json!({"components": [{"id": "a"}], "edges": [{"from": "a", "to": "ghost"}]}))
        .await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("unknown component \"ghost\""), "{m}");
    let (k, _) = env.fail("architecture_diagram", json!({"components": [{"id": "a"}, {"id": "a"}]})).await;
    assert_eq!(k, "invalid_input");
    let (k, _) = env.fail("architecture_diagram", json!({"components": [{"id": "a", "kind": "cloud"}]})).await;
    assert_eq!(k, "invalid_input");

    let out = generate(
        &env,
        "requirements",
        json!({"name": "Login", "summary": "People sign in.", "requirements": [
            {"title": "Sign in", "story": "As a user, I want to sign in, so that I see my data.",
             "acceptance": ["WHEN the password is right THEN the system SHALL open a session"]},
            {"title": "Sign out", "acceptance": []}
        ]}),
    )
    .await;
    assert_eq!(out["suggested_path"], "docs/specs/login/requirements.md");
    expect_test::expect_file!["golden/requirements.md"].assert_eq(out["content"].as_str().unwrap());
    let out = generate(
        &env,
        "design",
        json!({"name": "Login", "overview": "A session cookie.",
               "components": [{"name": "auth", "responsibility": "checks passwords"}],
               "decisions": ["argon2 for hashes"],
               "diagram": {"components": [{"id": "web"}, {"id": "auth"}], "edges": [{"from": "web", "to": "auth"}]}}),
    )
    .await;
    expect_test::expect_file!["golden/design.md"].assert_eq(out["content"].as_str().unwrap());
    let out = generate(
        &env,
        "tasks",
        json!({"name": "Login", "tasks": [
            {"title": "Hash passwords", "requirements": ["1"], "files": ["auth.py"]},
            {"title": "Session cookie", "state": "in_progress"},
            {"title": "Sign-out route", "state": "done", "requirements": ["2"]}
        ]}),
    )
    .await;
    expect_test::expect_file!["golden/tasks.md"].assert_eq(out["content"].as_str().unwrap());
}

/// The venv's Python with `openapi-spec-validator`, or a failure saying how to get it.
fn validator() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let py = home.join(".cache/mcp-fleet/venv/bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} with openapi-spec-validator is missing: `cargo xtask test` provisions it (tests/python/requirements.txt)",
        py.display()
    );
    py
}

fn validate(py: &PathBuf, yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = std::process::Command::new(py).args(["-m", "openapi_spec_validator"]).arg(&file).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_validates() {
    let py = validator();
    let env = Env::start().await;
    let out = generate(
        &env,
        "openapi",
        json!({"title": "Word \"Counter\": API <v1> & {{ x }}", "version": "1.0.0",
        "description": "Counts words.\nSecond line: with # and 'quotes'.",
        "resources": [
            {"name": "texts", "fields": [{"name": "body", "type": "string", "required": true},
                                         {"name": "words", "type": "integer"}]},
            {"name": "line-items"}
        ]}),
    )
    .await;
    assert_eq!(out["suggested_path"], "openapi.yaml");
    let yaml = out["content"].as_str().unwrap();
    expect_test::expect_file!["golden/openapi.yaml"].assert_eq(yaml);
    let (valid, report) = validate(&py, yaml);
    assert!(valid, "openapi-spec-validator refused the skeleton:\n{report}\n{yaml}");
    // No resources: still a valid document (the health path only).
    let out = generate(&env, "openapi", json!({"title": "Empty", "version": "0.1.0", "health_path": "/healthz"})).await;
    let (valid, report) = validate(&py, out["content"].as_str().unwrap());
    assert!(valid, "{report}");
    // The oracle can fail: a broken document is refused.
    let (valid, _) = validate(&py, "openapi: 3.1.0\ninfo:\n  title: x\npaths:\n  /a:\n    get:\n      responses: 7\n");
    assert!(!valid, "the validator must refuse a broken document");
    for bad in [
        json!({"title": "t", "version": "1", "resources": [{"name": "Bad Name"}]}),
        json!({"title": "t", "version": "1", "resources": [{"name": "a", "fields": [{"name": "x: y", "type": "string"}]}]}),
        json!({"title": "t", "version": "1", "resources": [{"name": "a", "fields": [{"name": "x", "type": "object"}]}]}),
        json!({"title": "t", "version": "1", "resources": [{"name": "a"}, {"name": "a"}]}),
        json!({"title": "t", "version": "1", "health_path": "health\n  x: 1"}),
    ] {
        let (k, m) = env.fail("spec_generate", json!({"kind": "openapi", "data": bad})).await;
        assert_eq!(k, "invalid_input", "{m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_undefined_and_shapes() {
    let env = Env::start().await;
    // A built-in template with a field missing: named.
    let (k, m) = env.fail("spec_render", json!({"template": "readme", "data": {"name": "x"}})).await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("missing value `summary`"), "{m}");
    // Typed data: the missing field is named by the shape.
    let (k, m) = env.fail("spec_generate", json!({"kind": "spec", "data": {"name": "x"}})).await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("missing field `summary`"), "{m}");
    // Unknown fields are refused.
    let mut d = spec_data();
    d["colour"] = json!("red");
    let (k, m) = env.fail("spec_generate", json!({"kind": "spec", "data": d})).await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("colour"), "{m}");
    // Wrong types, wrong kinds, non-objects.
    let (k, _) = env.fail("spec_generate", json!({"kind": "spec", "data": [1, 2]})).await;
    assert_eq!(k, "invalid_input");
    let r = env.call("spec_generate", json!({"kind": "poem", "data": {}})).await;
    assert!(r.body["error"]["code"] == -32602 || r.result()["isError"] == true, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_templates_override_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("readme.md.j2"), "# {{ name }} (house style)\n{% include \"footer\" %}\n").unwrap();
    std::fs::write(tpl.join("footer.j2"), "-- {{ owner }} --").unwrap();
    std::fs::write(tpl.join("notes.j2"), "{% for n in notes %}* {{ n }}\n{% endfor %}").unwrap();
    let env = Env::with(|c| c.templates_dir = Some(tpl.clone())).await;
    let list = env.ok("spec_templates_list", json!({})).await;
    let readme = list["templates"].as_array().unwrap().iter().find(|t| t["name"] == "readme").unwrap().clone();
    assert_eq!(readme["source"], "user");
    assert_eq!(readme["overrides_builtin"], true);
    assert_eq!(readme["file"], "readme.md.j2");

    let data = json!({"name": "X", "summary": "s", "language": "rust", "kind": "cli"});
    // The footer needs `owner`, which a readme's typed data cannot carry: strict undefined says so.
    let (k, m) = env.fail("spec_generate", json!({"kind": "readme", "data": data})).await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("`owner`") && m.contains("footer"), "{m}");
    let out = env.ok("spec_render", json!({"template": "readme", "data": {"name": "X", "owner": "ops"}})).await;
    assert_eq!(out["content"], "# X (house style)\n-- ops --", "trim_blocks eats the newline after a block tag");
    assert_eq!(out["template_source"], "user");
    assert_eq!(out["source"], "template:readme (user)");
    let out = env.ok("spec_render", json!({"template": "notes", "data": {"notes": ["a", "b"]}})).await;
    assert_eq!(out["content"], "* a\n* b\n");
    // Built-ins not overridden still come from the binary.
    let out = env.ok("spec_generate", json!({"kind": "spec", "data": spec_data()})).await;
    assert_eq!(out["template_source"], "builtin");
    // A user template may change on disk: the next render sees it.
    std::fs::write(tpl.join("notes.j2"), "{{ notes | length }} notes, changed\n").unwrap();
    let out = env.ok("spec_render", json!({"template": "notes", "data": {"notes": ["a", "b"]}})).await;
    assert_eq!(out["content"], "2 notes, changed\n");
    // A user file added after the built-in was used wins from the next render on; removed, the built-in is back.
    let before = env.ok("spec_generate", json!({"kind": "tasks", "data": {"name": "n", "tasks": []}})).await;
    assert_eq!(before["template_source"], "builtin");
    std::fs::write(tpl.join("tasks.md.j2"), "custom tasks for {{ name }}\n").unwrap();
    let after = env.ok("spec_generate", json!({"kind": "tasks", "data": {"name": "n", "tasks": []}})).await;
    assert_eq!(after["template_source"], "user");
    assert_eq!(after["content"], "custom tasks for n\n");
    std::fs::remove_file(tpl.join("tasks.md.j2")).unwrap();
    let back = env.ok("spec_generate", json!({"kind": "tasks", "data": {"name": "n", "tasks": []}})).await;
    assert_eq!(back["template_source"], "builtin");
    assert!(back["content"].as_str().unwrap().starts_with("# Tasks: n"));
}
