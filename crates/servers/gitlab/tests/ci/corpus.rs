//! The parser, rules and planner against a corpus of pipeline files:
//! anchors and merge keys, multi-level `extends`, `!reference`, local
//! includes (and escapes refused), `rules` (if, changes, exists),
//! `only`/`except`, `needs` errors, refused and ignored keywords, variable
//! expansion and precedence, `parallel`, `workflow`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mcp_server_gitlab::ci::model::Pipeline;
use mcp_server_gitlab::ci::parse::{self, ParseError};
use mcp_server_gitlab::ci::plan::{self, Context, Disposition, Plan};

fn parse(text: &str) -> Pipeline {
    parse::parse_str(text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn parse_err(text: &str) -> ParseError {
    match parse::parse_str(text) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e,
    }
}

fn ctx(ref_name: &str, files: &[&str]) -> Context {
    Context {
        ref_name: ref_name.to_owned(),
        is_tag: false,
        sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        source: "push".to_owned(),
        default_branch: "main".to_owned(),
        project_name: "demo".to_owned(),
        project_dir: "/builds/demo".to_owned(),
        variables: Vec::new(),
        files: files.iter().map(|f| (*f).to_owned()).collect(),
        changed: None,
        compare: Box::new(|b| Err(format!("no compare in tests ({b})"))),
        selected: None,
        default_image: "img:default".to_owned(),
        default_timeout: Duration::from_secs(3600),
        max_timeout: Duration::from_secs(3600),
    }
}

fn plan_of(text: &str, c: &Context) -> Plan {
    plan::plan(&parse(text), c).unwrap_or_else(|e| panic!("{e}"))
}

fn job<'a>(p: &'a Plan, name: &str) -> &'a plan::PlannedJob {
    p.jobs.iter().find(|j| j.name == name).unwrap_or_else(|| panic!("no job {name} in {:?}", names(p)))
}

fn names(p: &Plan) -> Vec<String> {
    p.jobs.iter().map(|j| j.name.clone()).collect()
}

fn running(p: &Plan) -> Vec<String> {
    p.jobs.iter().filter(|j| j.disposition == Disposition::Run).map(|j| j.name.clone()).collect()
}

#[test]
fn anchors_merge_keys_and_lists() {
    let p = parse(
        ".defaults: &defaults\n  image: alpine:3\n  before_script: [echo setup]\n  variables: {A: one}\n\
         .more: &more\n  <<: *defaults\n  stage: build\n\
         .steps: &steps\n  - echo one\n  - echo two\n\
         build:\n  <<: *more\n  script: [make]\n  variables: {B: two}\n\
         test:\n  <<: [*defaults]\n  image: other:1\n  script:\n    - *steps\n    - echo three\n",
    );
    let b = &p.jobs[0];
    assert_eq!(b.name, "build");
    assert_eq!(b.image.as_deref(), Some("alpine:3"));
    assert_eq!(b.stage, "build");
    assert_eq!(b.before_script, vec!["echo setup"]);
    // A merge key does not merge nested mappings: the job's own `variables` wins whole.
    assert_eq!(b.variables.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), vec!["B"]);
    let t = &p.jobs[1];
    assert_eq!(t.image.as_deref(), Some("other:1"));
    assert_eq!(t.script, vec!["echo one", "echo two", "echo three"]);
    assert_eq!(t.stage, "test");
    assert_eq!(p.jobs.len(), 2, "hidden jobs are not jobs");
}

#[test]
fn extends_multi_level_and_lists() {
    let p = parse(
        "stages: [build, test]\n\
         .base:\n  image: base:1\n  variables: {A: a, B: base}\n  script: [echo base]\n  artifacts: {paths: [out/]}\n\
         .middle:\n  extends: .base\n  variables: {B: middle}\n  artifacts: {exclude: ['*.log']}\n\
         .stage:\n  stage: build\n\
         job:\n  extends: [.middle, .stage]\n  variables: {C: c}\n",
    );
    let j = &p.jobs[0];
    assert_eq!(j.image.as_deref(), Some("base:1"));
    assert_eq!(j.stage, "build");
    assert_eq!(j.script, vec!["echo base"]);
    let vars: HashMap<&str, &str> = j.variables.iter().map(|(k, v)| (k.as_str(), v.value.as_str())).collect();
    assert_eq!(vars, HashMap::from([("A", "a"), ("B", "middle"), ("C", "c")]));
    let a = j.artifacts.as_ref().expect("artifacts");
    assert_eq!(a.paths, vec!["out/"]);
    assert_eq!(a.exclude, vec!["*.log"]);

    let e = parse_err("a:\n  extends: .nope\n  script: [x]\n");
    assert!(e.to_string().contains(".nope"), "{e}");
    let e = parse_err(".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: [x]\n");
    assert!(e.to_string().contains("cycle"), "{e}");
}

#[test]
fn references() {
    let p = parse(
        ".setup:\n  script: [echo s1, echo s2]\n  variables:\n    URL: \"http://x\"\n\
         .rules:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n\
         job:\n  script:\n    - !reference [.setup, script]\n    - echo main\n\
         \x20 variables:\n    URL: !reference [.setup, variables, URL]\n\
         \x20 rules:\n    - !reference [.rules, rules]\n    - when: manual\n",
    );
    let j = &p.jobs[0];
    assert_eq!(j.script, vec!["echo s1", "echo s2", "echo main"]);
    assert_eq!(j.variables[0].1.value, "http://x");
    assert_eq!(j.rules.as_ref().map(Vec::len), Some(2));
    let e = parse_err("job:\n  script: [!reference [.missing, script]]\n");
    assert!(e.to_string().contains("points to nothing"), "{e}");
    let e = parse_err("job:\n  script: [!sometag x]\n");
    assert!(e.to_string().contains("!sometag"), "{e}");
}

#[test]
fn defaults_and_inherit() {
    let p = parse(
        "default:\n  image: d:1\n  before_script: [echo d]\n  timeout: 10m\n\
         variables: {G: g, H: h}\n\
         a:\n  script: [x]\n\
         b:\n  image: own:1\n  inherit:\n    default: [timeout]\n    variables: [H]\n  script: [x]\n",
    );
    let (a, b) = (&p.jobs[0], &p.jobs[1]);
    assert_eq!(a.image.as_deref(), Some("d:1"));
    assert_eq!(a.before_script, vec!["echo d"]);
    assert_eq!(a.timeout, Some(Duration::from_secs(600)));
    assert_eq!(b.image.as_deref(), Some("own:1"));
    assert!(b.before_script.is_empty());
    assert_eq!(b.timeout, Some(Duration::from_secs(600)));
    let pl = plan::plan(&p, &ctx("main", &[])).expect("plan");
    assert!(job(&pl, "a").variables.contains_key("G"));
    let bv = &job(&pl, "b").variables;
    assert!(bv.contains_key("H") && !bv.contains_key("G"), "{bv:?}");
}

#[test]
fn stages() {
    let p = parse("a:\n  script: [x]\nb:\n  stage: .pre\n  script: [x]\nc:\n  stage: deploy\n  script: [x]\n");
    assert_eq!(p.stages, vec![".pre", "build", "test", "deploy", ".post"]);
    let pl = plan::plan(&p, &ctx("main", &[])).expect("plan");
    assert_eq!(names(&pl), vec!["b", "a", "c"]);
    assert_eq!(pl.stages, vec![".pre", "test", "deploy"]);
    let e = parse_err("stages: [one]\na:\n  stage: two\n  script: [x]\n");
    assert!(e.to_string().contains("two"), "{e}");
    let e = parse_err("a:\n  stage: test\n");
    assert!(e.to_string().contains("script"), "{e}");
    let e = parse_err(".only_hidden:\n  script: [x]\n");
    assert!(e.to_string().contains("no visible jobs"), "{e}");
}

#[test]
fn local_includes() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(d.path()).expect("canon");
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("ci/parts")).expect("mkdir");
    let w = |p: &str, t: &str| std::fs::write(repo.join(p), t).expect("write");
    w(
        ".gitlab-ci.yml",
        "include:\n  - local: ci/base.yml\n  - ci/parts/*.yml\nvariables: {WHO: main}\nbuild:\n  script: [echo main]\n",
    );
    w(
        "ci/base.yml",
        "include: /ci/nested.yml\nvariables: {WHO: base, BASE: true}\nbuild:\n  stage: build\n  script: [echo base]\n",
    );
    w("ci/nested.yml", ".tmpl:\n  image: nested:1\n");
    w("ci/parts/one.yml", "one:\n  extends: .tmpl\n  script: [echo one]\n");
    w("ci/parts/two.yaml", "two:\n  script: [echo two]\n");
    let p = parse::load(&repo, ".gitlab-ci.yml").expect("loads");
    assert_eq!(p.files, vec![".gitlab-ci.yml", "ci/base.yml", "ci/nested.yml", "ci/parts/one.yml"]);
    let build = p.jobs.iter().find(|j| j.name == "build").expect("build");
    // Deep merge: the including file wins key by key.
    assert_eq!(build.script, vec!["echo main"]);
    assert_eq!(build.stage, "build");
    let one = p.jobs.iter().find(|j| j.name == "one").expect("one");
    assert_eq!(one.image.as_deref(), Some("nested:1"));
    let vars: HashMap<&str, &str> = p.variables.iter().map(|(k, v)| (k.as_str(), v.value.as_str())).collect();
    assert_eq!(vars.get("WHO"), Some(&"main"));
    assert_eq!(vars.get("BASE"), Some(&"true"));

    // Escapes.
    std::fs::write(root.join("outside.yml"), "x:\n  script: [id]\n").expect("write");
    w(".a.yml", "include: ../outside.yml\nj:\n  script: [x]\n");
    let e = parse::load(&repo, ".a.yml").expect_err("dotdot");
    assert!(e.to_string().contains("inside the repository"), "{e}");
    std::os::unix::fs::symlink(root.join("outside.yml"), repo.join("ci/link.yml")).expect("symlink");
    w(".b.yml", "include: ci/link.yml\nj:\n  script: [x]\n");
    let e = parse::load(&repo, ".b.yml").expect_err("symlink out");
    assert!(e.to_string().contains("out of the repository"), "{e}");
    w(".c.yml", "include: ci/c2.yml\nj:\n  script: [x]\n");
    w("ci/c2.yml", "include: .c.yml\n");
    let e = parse::load(&repo, ".c.yml").expect_err("cycle");
    assert!(e.to_string().contains("cycle"), "{e}");
    let e = parse::load(&repo, "../outside.yml").expect_err("main file out");
    assert!(e.to_string().contains("inside the repository"), "{e}");
    assert!(parse::load(Path::new(&repo), "missing.yml").is_err());
}

#[test]
fn refused_and_ignored_keywords() {
    let refused = |text: &str, kw: &str| match parse::parse_str(text) {
        Err(ParseError::Refused { keyword, .. }) => {
            assert_eq!(keyword, kw, "{text}");
            let msg = parse::parse_str(text).expect_err("refused").to_string();
            assert!(msg.contains(&format!("`{kw}`")), "{msg}");
        }
        other => panic!("{text}: expected {kw} refused, got {other:?}"),
    };
    refused("include: https://example.com/ci.yml\nj:\n  script: [x]\n", "include:remote");
    refused("include:\n  - template: Auto-DevOps.gitlab-ci.yml\nj:\n  script: [x]\n", "include:template");
    refused("include:\n  project: g/p\n  file: ci.yml\nj:\n  script: [x]\n", "include:project");
    refused("include:\n  - component: gitlab.com/x/y@1\nj:\n  script: [x]\n", "include:component");
    refused("j:\n  script: [x]\n  services: [postgres:16]\n", "services");
    refused("j:\n  trigger: other/project\n  script: [x]\n", "trigger");
    refused("j:\n  script: [x]\n  secrets:\n    DB: {vault: a/b@c}\n", "secrets");
    refused("j:\n  script: [x]\n  image: {name: a:1, entrypoint: ['']}\n", "image:entrypoint");
    refused("j:\n  script: [x]\n  when: delayed\n  start_in: 5m\n", "when:delayed");
    refused("j:\n  script: [x]\n  rules:\n    - if: $A\n      needs: [b]\n", "rules:needs");
    refused("default:\n  services: [redis]\nj:\n  script: [x]\n", "services");
    refused("j:\n  script: [x]\n  needs: [{pipeline: $PARENT, job: a}]\n", "needs:pipeline");
    refused("j:\n  script: [x]\n  artifacts: {untracked: true}\n", "artifacts:untracked");

    let p = parse(
        "j:\n  script: [x]\n  cache: {paths: [.cache]}\n  environment: production\n  tags: [docker]\n  coverage: '/\\d+%/'\n  artifacts:\n    paths: [a]\n    reports: {junit: r.xml}\n",
    );
    for kw in ["cache", "environment", "tags", "coverage", "artifacts:reports"] {
        assert!(p.warnings.iter().any(|w| w.contains(&format!("`{kw}`"))), "{kw}: {:?}", p.warnings);
    }
    let e = parse_err("j:\n  script: [x]\n  scirpt: [y]\n");
    assert!(e.to_string().contains("scirpt"), "{e}");
}

#[test]
fn rules_if_changes_exists() {
    let text = "\
a:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n\
b:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH =~ /^feature\\//\n      when: manual\n    - when: never\n\
c:\n  script: [x]\n  rules:\n    - changes: [src/**/*.rs]\n\
d:\n  script: [x]\n  rules:\n    - exists: [Cargo.toml]\n      allow_failure: true\n\
e:\n  script: [x]\n  rules:\n    - changes:\n        paths: [docs/*]\n      when: on_failure\n    - if: $FORCE\n";
    let files = ["src/lib.rs", "src/deep/x.rs", "docs/a.md"];
    let main = plan_of(text, &ctx("main", &files));
    assert_eq!(running(&main), vec!["a", "c", "e"]);
    assert_eq!(job(&main, "b").disposition, Disposition::Excluded);
    assert_eq!(job(&main, "b").reason.as_deref(), Some("rule 2 matches"));
    assert_eq!(job(&main, "d").reason.as_deref(), Some("no rule matches"));
    assert_eq!(job(&main, "e").when, "on_failure");

    let mut feat = ctx("feature/x", &["Cargo.toml", "README"]);
    feat.changed = Some(vec!["README".into()]);
    let p = plan_of(text, &feat);
    assert_eq!(running(&p), vec!["d"]);
    assert!(job(&p, "d").allow_failure);
    assert_eq!(job(&p, "b").disposition, Disposition::Manual);
    assert_eq!(job(&p, "c").disposition, Disposition::Excluded);
    assert_eq!(job(&p, "e").disposition, Disposition::Excluded);

    feat.variables = vec![("FORCE".into(), "1".into())];
    let p = plan_of(text, &feat);
    assert_eq!(running(&p), vec!["d", "e"]);

    let bad = parse("a:\n  script: [x]\n  rules:\n    - if: $A ==\n");
    let e = plan::plan(&bad, &ctx("main", &[])).expect_err("bad expression");
    assert!(e.contains("job a"), "{e}");
}

#[test]
fn only_and_except() {
    let text = "\
plain:\n  script: [x]\n\
tags_only:\n  script: [x]\n  only: [tags]\n\
not_main:\n  script: [x]\n  except: [main]\n\
release:\n  script: [x]\n  only: ['/^release-.*$/']\n\
vars:\n  script: [x]\n  only:\n    refs: [branches]\n    variables: [$DEPLOY == \"yes\"]\n\
web:\n  script: [x]\n  only: [web, schedules]\n";
    let p = plan_of(text, &ctx("main", &[]));
    assert_eq!(running(&p), vec!["plain"]);
    let mut c = ctx("release-1.2", &[]);
    c.variables = vec![("DEPLOY".into(), "yes".into())];
    assert_eq!(running(&plan_of(text, &c)), vec!["plain", "not_main", "release", "vars"]);
    let mut t = ctx("v1.0", &[]);
    t.is_tag = true;
    t.source = "web".into();
    let p = plan_of(text, &t);
    assert_eq!(running(&p), vec!["plain", "tags_only", "not_main", "web"]);
    assert!(p.jobs.iter().any(|j| j.variables.is_empty() && j.name == "plain"));
    let e = parse_err("a:\n  script: [x]\n  only: [main]\n  rules:\n    - when: always\n");
    assert!(e.to_string().contains("cannot be used"), "{e}");
}

#[test]
fn needs_errors_and_dag() {
    let e = plan::plan(
        &parse("a:\n  stage: build\n  script: [x]\n  needs: [b]\nb:\n  stage: build\n  script: [x]\n  needs: [a]\n"),
        &ctx("main", &[]),
    )
    .expect_err("cycle");
    assert!(e.contains("cycle") && e.contains("a -> b -> a"), "{e}");
    let p = parse("a:\n  script: [x]\n  needs: [ghost]\n");
    let e = plan::plan(&p, &ctx("main", &[])).expect_err("unknown");
    assert!(e.contains("unknown job \"ghost\""), "{e}");
    assert_eq!(plan::check_needs(&p).len(), 1);
    let e = plan::plan(
        &parse("a:\n  stage: build\n  script: [x]\n  needs: [b]\nb:\n  stage: deploy\n  script: [x]\n"),
        &ctx("main", &[]),
    )
    .expect_err("later stage");
    assert!(e.contains("later stage deploy"), "{e}");
    // A need on a job the rules leave out.
    let text = "a:\n  stage: build\n  script: [x]\n  rules: [{if: $NOPE}]\nb:\n  script: [x]\n  needs: [a]\n";
    let e = plan::plan(&parse(text), &ctx("main", &[])).expect_err("excluded need");
    assert!(e.contains("not in this pipeline"), "{e}");
    let ok = text.replace("needs: [a]", "needs: [{job: a, optional: true}]");
    let p = plan_of(&ok, &ctx("main", &[]));
    assert_eq!(job(&p, "b").needs.as_deref(), Some(&[][..]));
    // needs with artifacts: false; dependencies; stage order.
    let p = plan_of(
        "a:\n  stage: build\n  script: [x]\nb:\n  stage: build\n  script: [x]\n\
         c:\n  stage: test\n  script: [x]\n  needs: [a, {job: b, artifacts: false}]\n\
         d:\n  stage: deploy\n  script: [x]\n\
         e:\n  stage: deploy\n  script: [x]\n  dependencies: [b]\n\
         f:\n  stage: test\n  script: [x]\n  needs: []\n",
        &ctx("main", &[]),
    );
    assert_eq!(job(&p, "c").needs.as_deref(), Some(&["a".to_owned(), "b".to_owned()][..]));
    assert_eq!(job(&p, "c").artifacts_from, vec!["a"]);
    assert_eq!(job(&p, "d").needs, None);
    let mut from = job(&p, "d").artifacts_from.clone();
    from.sort();
    assert_eq!(from, vec!["a", "b", "c", "f"]);
    assert_eq!(job(&p, "e").artifacts_from, vec!["b"]);
    assert!(job(&p, "f").artifacts_from.is_empty());
}

#[test]
fn variables_precedence_and_expansion() {
    let text = "\
variables:\n  WHO: global\n  GREETING: hello-$WHO\n  RAW: {value: '$WHO', expand: false}\n  DEPLOY_TOKEN: s3cr3t-value\n\
a:\n  script: [x]\n  image: registry/$IMG_NAME:${IMG_TAG}\n  variables:\n    WHO: job\n    IMG_NAME: tool\n    IMG_TAG: '1.2'\n    REF: on-$CI_COMMIT_REF_NAME\n  rules:\n    - if: $WHO == \"job\"\n      variables: {FROM_RULE: r}\n\
b:\n  script: [x]\n";
    let mut c = ctx("main", &[]);
    let p = plan_of(text, &c);
    let a = job(&p, "a");
    assert_eq!(a.image, "registry/tool:1.2");
    assert_eq!(a.spec.env["WHO"], "job");
    assert_eq!(a.spec.env["GREETING"], "hello-job");
    assert_eq!(a.spec.env["RAW"], "$WHO");
    assert_eq!(a.spec.env["REF"], "on-main");
    assert_eq!(a.spec.env["FROM_RULE"], "r");
    assert_eq!(a.variables["DEPLOY_TOKEN"], "[MASKED]");
    assert_eq!(a.spec.env["DEPLOY_TOKEN"], "s3cr3t-value");
    let b = job(&p, "b");
    assert_eq!(b.image, "img:default");
    assert_eq!(b.spec.env["WHO"], "global");
    for (k, v) in [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_SHORT_SHA", "01234567"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_PROJECT_DIR", "/builds/demo"),
        ("CI_PROJECT_NAME", "demo"),
        ("CI_JOB_NAME", "b"),
        ("CI_JOB_STAGE", "test"),
        ("CI_DEFAULT_BRANCH", "main"),
    ] {
        assert_eq!(b.spec.env.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(!b.spec.env.contains_key("CI_COMMIT_TAG"));
    // The caller's variables win over the file's and are visible to rules.
    c.variables = vec![("WHO".into(), "caller".into())];
    let p = plan_of(text, &c);
    assert_eq!(job(&p, "a").disposition, Disposition::Excluded);
    assert_eq!(job(&p, "b").spec.env["GREETING"], "hello-caller");
    // A tag.
    let mut t = ctx("v2", &[]);
    t.is_tag = true;
    let p = plan_of(text, &t);
    assert_eq!(job(&p, "b").spec.env.get("CI_COMMIT_TAG").map(String::as_str), Some("v2"));
    assert!(!job(&p, "b").spec.env.contains_key("CI_COMMIT_BRANCH"));
}

#[test]
fn when_manual_allow_failure_parallel_workflow_selection() {
    let text = "\
workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"nopipe\"\n      when: never\n    - when: always\n      variables: {WF: on}\n\
build:\n  stage: build\n  script: [x]\n  parallel: 2\n\
test:\n  script: [x]\n  parallel:\n    matrix:\n      - {OS: [linux, mac], ARCH: x64}\n  needs: [build]\n\
deploy:\n  stage: deploy\n  script: [x]\n  when: manual\n\
gated:\n  stage: deploy\n  script: [x]\n  rules:\n    - when: manual\n\
flaky:\n  script: [x]\n  allow_failure: {exit_codes: [3]}\n  retry: {max: 2, when: [script_failure]}\n  timeout: 2h\n";
    let p = plan_of(text, &ctx("main", &[]));
    assert!(p.created);
    assert_eq!(
        names(&p),
        vec!["build 1/2", "build 2/2", "test: [linux, x64]", "test: [mac, x64]", "flaky", "deploy", "gated"]
    );
    let t = job(&p, "test: [mac, x64]");
    assert_eq!(t.needs.as_deref(), Some(&["build 1/2".to_owned(), "build 2/2".to_owned()][..]));
    assert_eq!(t.spec.env["OS"], "mac");
    assert_eq!(t.spec.env["WF"], "on");
    assert_eq!(job(&p, "build 2/2").spec.env["CI_NODE_INDEX"], "2");
    let d = job(&p, "deploy");
    assert_eq!(d.disposition, Disposition::Manual);
    assert!(d.allow_failure, "a manual job outside rules may fail");
    assert!(!job(&p, "gated").allow_failure, "a manual job from rules blocks");
    let f = job(&p, "flaky");
    assert!(f.allow_failure);
    assert!(f.spec.allow_failure.allows(Some(3)) && !f.spec.allow_failure.allows(Some(1)));
    assert_eq!(f.timeout_secs, 3600, "capped at the maximum");
    assert_eq!(f.spec.retry.max, 2);

    let p = plan_of(text, &ctx("nopipe", &[]));
    assert!(!p.created);
    assert!(p.jobs.iter().all(|j| j.disposition == Disposition::Excluded));

    let mut c = ctx("main", &[]);
    c.selected = Some(vec!["test".into(), "deploy".into()]);
    let p = plan_of(text, &c);
    assert_eq!(running(&p), vec!["build 1/2", "build 2/2", "test: [linux, x64]", "test: [mac, x64]", "deploy"]);
    assert_eq!(job(&p, "flaky").disposition, Disposition::Skipped);
    assert!(job(&p, "deploy").spec.played);
    c.selected = Some(vec!["nothing".into()]);
    assert!(plan::plan(&parse(text), &c).is_err());
}
