//! The hostile corpus: template injection through data, templates reaching
//! for the environment or files, path traversal in template names, symlinks
//! out of the template directory, unbounded loops and recursion, oversized
//! input and output, and malformed data. Every case must answer with a tool
//! error of the right kind (or render the attack as plain text), never
//! panic, never leak.

use serde_json::{Value, json};

use crate::Env;

/// Text that would do something if it were evaluated as a template.
const INJECTIONS: &[&str] = &[
    "{{ 7*7 }}",
    "{% for i in range(999999999) %}x{% endfor %}",
    "{% include \"/etc/passwd\" %}",
    "{{ debug() }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{#- comment -#}",
    "{{ self.__init__ }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{%- set x = namespace() %}{{ x }}",
];

/// A server whose template directory holds `files` (the directory lives as long as the returned guard).
async fn env_with_templates(
    files: &[(&str, &str)],
    f: impl FnOnce(&mut mcp_server_spec::Config),
) -> (Env, std::path::PathBuf, tempfile::TempDir) {
    let base = tempfile::tempdir().unwrap();
    let tpl = base.path().join("tpl");
    std::fs::create_dir_all(&tpl).unwrap();
    for (name, text) in files {
        std::fs::write(tpl.join(name), text).unwrap();
    }
    let t = tpl.clone();
    let env = Env::with(move |c| {
        c.templates_dir = Some(t);
        f(c);
    })
    .await;
    (env, tpl, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_is_never_evaluated() {
    let env = Env::start().await;
    for inj in INJECTIONS {
        let data = json!({
            "name": inj, "summary": inj, "language": "python", "kind": "cli",
            "install": [inj], "usage": [], "test": [], "features": [inj]
        });
        let out = env.ok("spec_generate", json!({"kind": "readme", "data": data})).await;
        let c = out["content"].as_str().unwrap();
        // Printed as given (one_line only folds whitespace).
        let folded = inj.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(c.contains(&folded), "{inj}: {c}");
        assert!(!c.contains("49") && !c.contains("root:"), "{inj}: {c}");
        // Free data through spec_render too, and through the changelog's commits.
        let out = env
            .ok(
                "spec_generate",
                json!({"kind": "changelog", "data": {"version": "1.0.0", "date": "2026-12-06",
                "commits": [{"sha": "abc", "subject": format!("feat: {inj}")}]}}),
            )
            .await;
        assert!(out["content"].as_str().unwrap().contains(&folded), "{inj}");
    }
    // Mermaid labels: quoted and escaped, never breaking out of the node.
    let d = env
        .ok(
            "architecture_diagram",
            json!({"components": [{"id": "a\"]; click a call alert(1) %%", "label": "x\"] --> y[\"z\nclick"}]}),
        )
        .await;
    let m = d["mermaid"].as_str().unwrap();
    assert_eq!(m.lines().count(), 2, "{m}");
    assert!(!m.contains("\"]; click"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_names_are_never_paths() {
    let (env, _, _keep) = env_with_templates(&[("ok.j2", "fine")], |_| {}).await;
    for name in [
        "../etc/passwd",
        "/etc/passwd",
        "..",
        "%2e%2e%2fetc%2fpasswd",
        "%2e%2e",
        "readme\u{0}",
        "readme/../spec",
        "README",
        "a\\b",
        "ok.j2",
        "",
        " spec",
        "spec\n",
        &"a".repeat(65),
        "ｓpec",
    ] {
        let (k, m) = env.fail("spec_render", json!({"template": name, "data": {}})).await;
        assert_eq!(k, "invalid_input", "{name:?}: {m}");
        assert!(m.contains("not allowed"), "{name:?}: {m}");
        let (k, _) = env
            .fail("spec_generate", json!({"kind": "readme", "template": name, "data": {"name": "x", "summary": "s", "language": "l", "kind": "k"}}))
            .await;
        assert_eq!(k, "invalid_input", "{name:?}");
    }
    let (k, _) = env.fail("spec_render", json!({"template": "nope", "data": {}})).await;
    assert_eq!(k, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_reach_no_files_or_environment() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.j2"), "SECRET-CONTENT").unwrap();
    let (env, tpl, _keep) = env_with_templates(
        &[
            ("inc-abs.j2", "{% include \"/etc/passwd\" %}"),
            ("inc-up.j2", "{% include \"../secret\" %}"),
            ("ext-up.j2", "{% extends \"../../secret\" %}"),
            ("imp.j2", "{% import \"%2e%2e/secret\" as s %}"),
            ("env.j2", "{{ env.HOME }}{{ environ }}"),
            ("dbg.j2", "{{ debug() }}"),
            ("broken.j2", "{% for x in %}"),
            ("inner.j2", "inner"),
            ("dup.j2", "a"),
            ("dup.md.j2", "b"),
        ],
        |_| {},
    )
    .await;
    std::os::unix::fs::symlink(outside.path().join("secret.j2"), tpl.join("evil.j2")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", tpl.join("passwd.j2")).unwrap();
    std::os::unix::fs::symlink(tpl.join("inner.j2"), tpl.join("alias.j2")).unwrap();
    std::fs::create_dir(tpl.join("dir.j2")).unwrap();
    for name in ["inc-abs", "inc-up", "ext-up", "imp", "env", "dbg", "evil", "passwd", "broken", "dup", "dir"] {
        let r = env.call("spec_render", json!({"template": name, "data": {}})).await;
        let m = crate::err(&r);
        assert!(!m.contains("SECRET-CONTENT") && !m.contains("root:"), "{name}: {m}");
        assert!(["invalid_input", "failed", "not_found"].contains(&crate::kind(&r).as_str()), "{name}: {m}");
    }
    let m = env.fail("spec_render", json!({"template": "evil", "data": {}})).await.1;
    assert!(m.contains("leads out of the template directory"), "{m}");
    let m = env.fail("spec_render", json!({"template": "dup", "data": {}})).await.1;
    assert!(m.contains("ambiguous"), "{m}");
    let m = env.fail("spec_render", json!({"template": "broken", "data": {}})).await.1;
    assert!(m.contains("broken"), "{m}");
    // A link that stays inside the directory is a template like any other.
    let out = env.ok("spec_render", json!({"template": "alias", "data": {}})).await;
    assert_eq!(out["content"], "inner");
    // The environment is not reachable even when the data names it.
    let m = env.fail("spec_render", json!({"template": "env", "data": {"x": 1}})).await.1;
    assert!(m.contains("`env.HOME`") || m.contains("`env`"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_recursion_and_sizes_are_bounded() {
    let (env, _, _keep) = env_with_templates(
        &[
            ("loop.j2", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
            ("rec.j2", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
            ("self.j2", "{% include \"self\" %}"),
            ("big.j2", "{% for i in range(30) %}{{ big }}{% endfor %}"),
            ("grow.j2", "{% set ns = namespace(s=\"x\") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}"),
        ],
        |c| c.max_output = 1 << 20,
    )
    .await;
    let t = std::time::Instant::now();
    for name in ["loop", "rec", "self", "grow"] {
        let (k, m) = env.fail("spec_render", json!({"template": name, "data": {}})).await;
        assert_eq!(k, "invalid_input", "{name}: {m}");
        assert!(m.contains("fuel") || m.contains("recurs") || m.contains("larger than"), "{name}: {m}");
    }
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "bounded templates must stop quickly");
    let big = "y".repeat(100_000);
    let (k, m) = env.fail("spec_render", json!({"template": "big", "data": {"big": big}})).await;
    assert_eq!(k, "invalid_input");
    assert!(m.contains("larger than 1048576 bytes"), "{m}");

    // Input over SPEC_MAX_INPUT_BYTES (512K by default).
    let huge = "z".repeat(600_000);
    for (tool, args) in [
        ("spec_render", json!({"template": "big", "data": {"big": huge}})),
        (
            "spec_generate",
            json!({"kind": "readme", "data": {"name": huge, "summary": "s", "language": "l", "kind": "k"}}),
        ),
        ("architecture_diagram", json!({"components": [{"id": "a", "label": huge}]})),
    ] {
        let (k, m) = env.fail(tool, args).await;
        assert_eq!(k, "invalid_input", "{tool}: {m}");
        assert!(m.contains("SPEC_MAX_INPUT_BYTES"), "{tool}: {m}");
    }
    // Too many components.
    let comps: Vec<Value> = (0..501).map(|i| json!({"id": format!("n{i}")})).collect();
    let (k, _) = env.fail("architecture_diagram", json!({"components": comps})).await;
    assert_eq!(k, "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_data() {
    let env = Env::start().await;
    let cases = [
        ("spec_generate", json!({"kind": "readme", "data": "text"})),
        ("spec_generate", json!({"kind": "readme", "data": null})),
        ("spec_generate", json!({"kind": "readme", "data": {"name": 1, "summary": "s", "language": "l", "kind": "k"}})),
        (
            "spec_generate",
            json!({"kind": "readme", "data": {"name": "n", "summary": "s", "language": "l", "kind": "k", "install": "x"}}),
        ),
        (
            "spec_generate",
            json!({"kind": "adr", "data": {"number": -1, "title": "t", "date": "d", "context": "c", "decision": "d"}}),
        ),
        (
            "spec_generate",
            json!({"kind": "adr", "data": {"number": 10000, "title": "t", "date": "d", "context": "c", "decision": "d"}}),
        ),
        ("spec_generate", json!({"kind": "tasks", "data": {"name": "n", "tasks": [{"title": "t", "state": "maybe"}]}})),
        (
            "spec_generate",
            json!({"kind": "changelog", "data": {"version": "1.0.0\n## [9]", "date": "2026-12-06", "changes": [{"kind": "added", "text": "x"}]}}),
        ),
        ("spec_generate", json!({"kind": "architecture", "data": {"components": []}})),
        ("spec_generate", json!({"kind": "architecture", "data": {"components": [{"id": "a"}], "direction": "UP"}})),
        ("spec_render", json!({"template": "spec", "data": [1]})),
        ("architecture_diagram", json!({"components": [{"id": "   "}]})),
    ];
    for (tool, args) in cases {
        let r = env.call(tool, args.clone()).await;
        let is_tool_error = r.result()["isError"] == true && crate::kind(&r) == "invalid_input";
        let is_param_error = r.body["error"]["code"] == -32602;
        assert!(is_tool_error || is_param_error, "{tool} {args}: {}", r.text);
    }
    // Odd but valid text renders: control characters, NUL, emoji, right-to-left marks.
    let weird = "a\u{0}b\u{7}c 🚀 \u{202e}txt";
    let out = env
        .ok(
            "spec_generate",
            json!({"kind": "adr", "data": {"number": 1, "title": weird, "date": "2026-12-06",
            "context": weird, "decision": weird}}),
        )
        .await;
    assert_eq!(out["suggested_path"], "docs/adr/0001-a-b-c-txt.md");
    // Deep nesting is refused by the JSON reader before it reaches a template.
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"spec_render","arguments":{{"template":"spec","data":{{"d":{deep}}}}}}}}}"#
    );
    let r = env
        .server
        .raw()
        .post_raw(body, &[("content-type", "application/json"), ("mcp-protocol-version", mcp_test::raw::STATELESS)])
        .await;
    assert!(r.status < 500, "{}", r.text);
}
