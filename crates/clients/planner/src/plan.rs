//! Plans: a DAG of steps, each an MCP tool call (or a few, for one purpose)
//! or an LLM step, with a retry policy, a timeout and an idempotency key.
//!
//! Steps are stored in execution order, which is a topological order of
//! their `deps`; the executor walks them in that order, one at a time (a
//! project's steps share one working tree, so running them in parallel
//! would only race). `deps` decide skipping: a step whose dependency failed
//! or was skipped is skipped too, except the report, which always runs so
//! the requester always hears back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::ProjectSpec;
use crate::templates::Template;

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Write `SPEC.md` and the template's files into `projects/<slug>` (fs).
    Scaffold,
    /// Check the project's dependencies against their registries and pin
    /// them to current, non-yanked versions without known vulnerabilities
    /// (the registry server's `pin_dependencies`, the manifest rewritten
    /// through fs). Never fails the run: a registry that cannot answer is
    /// recorded, and the report says the versions were not pinned.
    Pin,
    /// `git init` the project (git).
    GitInit,
    /// Stage everything and commit with this summary (git). The commit
    /// carries the idempotency key `<run>/<step key>`, so it happens once.
    Commit {
        /// The commit summary.
        summary: String,
    },
    /// Run a phase in the project: `install` and `build` are the template's
    /// argv lists through the shell server; `lint` and `test` are the lint
    /// and test servers' `lint_run` and `test_run`, which read the same
    /// template and answer with diagnostics and per-test results. For
    /// `lint` and `test` findings and failures are a result (the check
    /// failed), not a step failure.
    Command {
        /// `install`, `build`, `lint` or `test`.
        phase: String,
    },
    /// Implement the spec's features (an LLM step through the agent).
    Implement,
    /// While the tests fail: give the agent the output, let it fix the
    /// code, run lint and tests again; at most `rounds` times.
    Fix {
        /// Most rounds.
        rounds: u32,
    },
    /// Write `CHANGELOG.md` for `version` from the run's commits (the spec
    /// server's `spec_generate`, kind `changelog`) and commit it, before the
    /// pipeline and the tag, so the tagged release carries it.
    Changelog {
        /// The version released (without the `v`).
        version: String,
    },
    /// Run the project's `.gitlab-ci.yml` locally (the gitlab server's
    /// `ci_run_local`) and record its verdict; a failed pipeline blocks the
    /// tag as failed tests do.
    Pipeline,
    /// Create an annotated tag at HEAD when lint and tests passed (git).
    Tag {
        /// The tag name.
        name: String,
    },
    /// Build the service's image from the project's `Dockerfile` and deploy
    /// it behind its health check (the docker server's `app_deploy`); runs
    /// only after the tag. An unhealthy deployment is a result (the step's
    /// `passed` is false and the run fails), not a lost one.
    Deploy {
        /// `dev`, `staging` or `prod`.
        environment: String,
    },
    /// Deliver the tagged release to GitLab (`delivery: "gitlab"`): push
    /// the branch and its tags to the project's GitLab remote (git, remote
    /// `gitlab`), start a pipeline on the branch (the gitlab server's
    /// `pipeline_create`), wait for it and record its verdict, with the
    /// failed jobs' log excerpts when it fails; runs only after the tag. A
    /// failed pipeline is a result (the step's `passed` is false and the run
    /// fails), not a lost one.
    Deliver {
        /// The git remote's URL.
        remote: String,
        /// The GitLab project's path.
        project: String,
        /// The branch pushed, and the pipeline's ref.
        branch: String,
    },
    /// Open the deployed service in the browser server and take a
    /// screenshot of its page for the report (`browser_navigate`,
    /// `browser_screenshot`); runs after a healthy deployment. The PNG is
    /// kept in the project's `.fleet/` folder (ignored by git) and attached
    /// to the report.
    Screenshot {
        /// The environment deployed to.
        environment: String,
    },
    /// Tell the requester what was and was not done (email), and record
    /// the outcome in the decision log (sql).
    Report,
}

impl Action {
    /// The action's kind, as its `type` tag (`commit`, `command`, `tag`...):
    /// what `PLANNER_APPROVAL_STEPS` may name besides a step key.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Scaffold => "scaffold",
            Self::Pin => "pin",
            Self::GitInit => "git_init",
            Self::Commit { .. } => "commit",
            Self::Command { .. } => "command",
            Self::Implement => "implement",
            Self::Fix { .. } => "fix",
            Self::Changelog { .. } => "changelog",
            Self::Pipeline => "pipeline",
            Self::Tag { .. } => "tag",
            Self::Deploy { .. } => "deploy",
            Self::Deliver { .. } => "deliver",
            Self::Screenshot { .. } => "screenshot",
            Self::Report => "report",
        }
    }
}

/// When to retry a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff, milliseconds; doubles per attempt, with full jitter.
    pub base_ms: u64,
    /// Largest backoff, milliseconds.
    pub max_ms: u64,
}

impl Retry {
    /// One attempt.
    pub const ONCE: Self = Self { max_attempts: 1, base_ms: 0, max_ms: 0 };
    /// For calls whose failures are transient (a peer restarting).
    pub const TRANSIENT: Self = Self { max_attempts: 4, base_ms: 500, max_ms: 8000 };
}

/// A step as planned and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepDef {
    /// Unique key within the plan (`scaffold`, `test`); with the run id, the
    /// step's idempotency key.
    pub key: String,
    /// What a person reads.
    pub title: String,
    /// What it does.
    pub action: Action,
    /// Keys of the steps it needs.
    pub deps: Vec<String>,
    /// Retries. Only failures marked retryable (a peer unreachable or
    /// timing out) are retried; a failed build is not.
    pub retry: Retry,
    /// Timeout of one attempt, seconds.
    pub timeout_secs: u64,
}

/// Options that shape the default plan.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The agent offers LLM steps.
    pub llm: bool,
    /// Fix rounds.
    pub fix_rounds: u32,
    /// Timeout of a command phase, seconds.
    pub command_secs: u64,
    /// Run the project's `.gitlab-ci.yml` before the tag (when the template has one).
    pub pipeline: bool,
    /// Deploy after the tag (when the template says how).
    pub deploy: bool,
    /// Where a `delivery: "gitlab"` project goes (`None`: this planner does not deliver to GitLab).
    pub gitlab: Option<GitlabShape>,
    /// Pin the dependencies after the scaffold (a registry server is configured).
    pub pin: bool,
    /// Write and commit a CHANGELOG before the tag (a spec server is configured).
    pub changelog: bool,
    /// Shoot a deployed service (a browser server is configured).
    pub screenshot: bool,
}

impl Shape {
    /// Only the steps every planner has: no pipeline, deployment, delivery, pins, changelog or screenshot.
    pub fn basic(llm: bool, fix_rounds: u32, command_secs: u64) -> Self {
        Self {
            llm,
            fix_rounds,
            command_secs,
            pipeline: false,
            deploy: false,
            gitlab: None,
            pin: false,
            changelog: false,
            screenshot: false,
        }
    }
}

/// Where a project delivered to GitLab goes, from the settings: templates with `{slug}`, which
/// [`default_plan`] replaces with the project's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlabShape {
    /// The git remote's URL template (`PLANNER_GITLAB_REMOTE`).
    pub remote: String,
    /// The GitLab project's path template (`PLANNER_GITLAB_PROJECT`).
    pub project: String,
    /// The longest wait for its pipeline, seconds.
    pub wait_secs: u64,
}

fn step(key: &str, title: String, action: Action, deps: &[&str], retry: Retry, timeout_secs: u64) -> StepDef {
    StepDef {
        key: key.into(),
        title,
        action,
        deps: deps.iter().map(|d| (*d).to_owned()).collect(),
        retry,
        timeout_secs,
    }
}

/// The default plan for a complete spec and its template.
pub fn default_plan(spec: &ProjectSpec, slug: &str, template: &Template, shape: &Shape) -> Vec<StepDef> {
    let c = shape.command_secs;
    let mut plan = vec![step(
        "scaffold",
        format!("Create projects/{slug} from the {} template and write SPEC.md", template.name),
        Action::Scaffold,
        &[],
        Retry::TRANSIENT,
        120,
    )];
    let mut init_after = "scaffold";
    if shape.pin {
        plan.push(step(
            "pin",
            "Pin the dependencies to current, safe versions".into(),
            Action::Pin,
            &["scaffold"],
            Retry::TRANSIENT,
            180,
        ));
        init_after = "pin";
    }
    plan.extend([
        step("git_init", "Initialise the git repository".into(), Action::GitInit, &[init_after], Retry::TRANSIENT, 60),
        step(
            "commit_scaffold",
            "Commit the scaffold".into(),
            Action::Commit { summary: format!("Scaffold {slug} from the {} template", template.name) },
            &["git_init"],
            Retry::TRANSIENT,
            60,
        ),
        step(
            "install",
            "Install dependencies".into(),
            Action::Command { phase: "install".into() },
            &["commit_scaffold"],
            Retry { max_attempts: 2, base_ms: 2000, max_ms: 10_000 },
            c,
        ),
        step("build", "Build".into(), Action::Command { phase: "build".into() }, &["install"], Retry::TRANSIENT, c),
    ]);
    let mut checks_after = "build";
    if shape.llm {
        plan.push(step(
            "implement",
            format!("Implement the requested features ({})", spec.features.len()),
            Action::Implement,
            &["build"],
            Retry::TRANSIENT,
            1800,
        ));
        checks_after = "implement";
    }
    plan.push(step(
        "lint",
        "Lint".into(),
        Action::Command { phase: "lint".into() },
        &[checks_after],
        Retry::TRANSIENT,
        c,
    ));
    plan.push(step(
        "test",
        "Run the tests".into(),
        Action::Command { phase: "test".into() },
        &["lint"],
        Retry::TRANSIENT,
        c,
    ));
    let mut commit_after = "test";
    if shape.llm && shape.fix_rounds > 0 {
        plan.push(step(
            "fix",
            format!("Fix failing checks (at most {} rounds)", shape.fix_rounds),
            Action::Fix { rounds: shape.fix_rounds },
            &["test"],
            Retry::TRANSIENT,
            3600,
        ));
        commit_after = "fix";
    }
    plan.push(step(
        "commit_work",
        "Commit the work".into(),
        Action::Commit { summary: format!("Build {slug}: {}", crate::spec::one_line(&spec.name, 60)) },
        &[commit_after],
        Retry::TRANSIENT,
        60,
    ));
    let mut tag_after = "commit_work";
    if shape.changelog {
        plan.push(step(
            "changelog",
            "Write and commit the CHANGELOG for 0.1.0".into(),
            Action::Changelog { version: "0.1.0".into() },
            &["commit_work"],
            Retry::TRANSIENT,
            120,
        ));
        tag_after = "changelog";
    }
    if shape.pipeline && template.files.iter().any(|(rel, _)| rel == ".gitlab-ci.yml") {
        plan.push(step(
            "pipeline",
            "Run the project's CI pipeline locally".into(),
            Action::Pipeline,
            &[tag_after],
            Retry::TRANSIENT,
            // Each job installs and runs one phase, one after another.
            c * 4 + 60,
        ));
        tag_after = "pipeline";
    }
    plan.push(step(
        "tag",
        "Tag v0.1.0 when lint and tests pass".into(),
        Action::Tag { name: "v0.1.0".into() },
        &[tag_after],
        Retry::TRANSIENT,
        60,
    ));
    if let Some(g) = shape.gitlab.as_ref().filter(|_| spec.delivery == "gitlab") {
        let project = crate::config::Runtime::for_slug(&g.project, slug);
        plan.push(step(
            "deliver",
            format!("Push to GitLab ({project}) and run its pipeline"),
            Action::Deliver {
                remote: crate::config::Runtime::for_slug(&g.remote, slug),
                project,
                branch: "main".into(),
            },
            &["tag"],
            Retry::TRANSIENT,
            // The push, the pipeline's wait, and its failures' logs.
            g.wait_secs + 180,
        ));
    }
    if shape.deploy && template.manifest.deploy.is_some() {
        plan.push(step(
            "deploy",
            "Deploy the tagged service to dev".into(),
            Action::Deploy { environment: "dev".into() },
            &["tag"],
            Retry::TRANSIENT,
            // An image build and the health check's start period.
            c + 120,
        ));
        if shape.screenshot {
            plan.push(step(
                "screenshot",
                "Open the deployed service and take a screenshot".into(),
                Action::Screenshot { environment: "dev".into() },
                &["deploy"],
                Retry::TRANSIENT,
                180,
            ));
        }
    }
    plan.push(step("report", "Report to the requester".into(), Action::Report, &[], Retry::TRANSIENT, 120));
    plan
}

/// Check that `plan` is well formed: unique keys, every dependency earlier
/// in the list (so the order is topological and there are no cycles).
pub fn check(plan: &[StepDef]) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for s in plan {
        if seen.contains(&s.key.as_str()) {
            return Err(format!("step key {} appears twice", s.key));
        }
        for d in &s.deps {
            if !seen.contains(&d.as_str()) {
                return Err(format!("step {} depends on {d}, which does not come before it", s.key));
            }
        }
        if s.retry.max_attempts == 0 {
            return Err(format!("step {} has no attempts", s.key));
        }
        seen.push(&s.key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Templates;

    fn spec() -> ProjectSpec {
        ProjectSpec {
            name: "Word Counter".into(),
            slug: None,
            summary: "Counts words".into(),
            language: "python".into(),
            kind: "cli".into(),
            features: vec!["count words".into()],
            acceptance: vec![],
            delivery: "local".into(),
        }
    }

    #[test]
    fn default_plans_are_well_formed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates");
        let t = Templates::load(&dir).unwrap();
        let tpl = t.find("python", "cli").unwrap();
        for llm in [false, true] {
            let shape = Shape::basic(llm, 3, 600);
            let p = default_plan(&spec(), "word-counter", tpl, &shape);
            check(&p).unwrap();
            assert_eq!(p.iter().any(|s| s.action == Action::Implement), llm);
            assert_eq!(p.last().unwrap().action, Action::Report);
            // The kind is the serde tag, which is what a person reads in plan_status.
            for s in &p {
                assert_eq!(serde_json::to_value(&s.action).unwrap()["type"], s.action.kind());
            }
        }
        let shape = Shape::basic(false, 0, 1);
        let mut bad = default_plan(&spec(), "x", tpl, &shape);
        bad.swap(0, 1);
        assert!(check(&bad).unwrap_err().contains("does not come before"));
    }

    #[test]
    fn pipelines_come_before_the_tag_and_deployments_after_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates");
        let t = Templates::load(&dir).unwrap();
        let keys = |tpl: &Template, pipeline, deploy| {
            let shape = Shape { pipeline, deploy, ..Shape::basic(false, 0, 600) };
            let p = default_plan(&spec(), "x", tpl, &shape);
            check(&p).unwrap();
            p.iter().map(|s| s.key.clone()).collect::<Vec<_>>().join(",")
        };
        let service = t.find("python", "service").unwrap();
        let cli = t.find("python", "cli").unwrap();
        let tail = |k: String| k.split_once("commit_work,").map(|(_, t)| t.to_owned()).unwrap();
        assert_eq!(tail(keys(service, false, false)), "tag,report");
        assert_eq!(tail(keys(service, true, true)), "pipeline,tag,deploy,report");
        // A template without a deploy section is not deployed.
        assert_eq!(tail(keys(cli, true, true)), "pipeline,tag,report");
        let rust = t.find("rust", "service").unwrap();
        assert_eq!(tail(keys(rust, false, true)), "tag,deploy,report");
    }

    #[test]
    fn pins_follow_the_scaffold_the_changelog_precedes_the_pipeline_and_screenshots_follow_deployments() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates");
        let t = Templates::load(&dir).unwrap();
        let all = Shape {
            pipeline: true,
            deploy: true,
            pin: true,
            changelog: true,
            screenshot: true,
            ..Shape::basic(false, 0, 600)
        };
        let keys = |tpl: &Template| {
            let p = default_plan(&spec(), "x", tpl, &all);
            check(&p).unwrap();
            p.iter().map(|s| s.key.clone()).collect::<Vec<_>>().join(",")
        };
        assert_eq!(
            keys(t.find("python", "service").unwrap()),
            "scaffold,pin,git_init,commit_scaffold,install,build,lint,test,commit_work,changelog,pipeline,tag,deploy,\
             screenshot,report"
        );
        // Nothing deployed, nothing to shoot.
        assert!(keys(t.find("python", "cli").unwrap()).ends_with("changelog,pipeline,tag,report"));
        // The screenshot needs the deployment: without it, no screenshot step.
        let p = default_plan(&spec(), "x", t.find("python", "service").unwrap(), &Shape { deploy: false, ..all });
        assert!(p.iter().all(|s| s.key != "screenshot"));
    }

    #[test]
    fn gitlab_delivery_comes_after_the_tag_for_gitlab_specs_only() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates");
        let t = Templates::load(&dir).unwrap();
        let service = t.find("python", "service").unwrap();
        let gitlab = GitlabShape {
            remote: "https://gitlab.example.com/fleet/{slug}.git".into(),
            project: "fleet/{slug}".into(),
            wait_secs: 900,
        };
        let shape = Shape { pipeline: true, deploy: true, gitlab: Some(gitlab), ..Shape::basic(false, 0, 600) };
        let gitlab_spec = ProjectSpec { delivery: "gitlab".into(), ..spec() };
        let p = default_plan(&gitlab_spec, "hello", service, &shape);
        check(&p).unwrap();
        let keys: Vec<&str> = p.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys[keys.len() - 5..], ["pipeline", "tag", "deliver", "deploy", "report"]);
        let deliver = p.iter().find(|s| s.key == "deliver").unwrap();
        assert_eq!(
            deliver.action,
            Action::Deliver {
                remote: "https://gitlab.example.com/fleet/hello.git".into(),
                project: "fleet/hello".into(),
                branch: "main".into()
            }
        );
        assert_eq!((deliver.deps.as_slice(), deliver.timeout_secs), (["tag".to_owned()].as_slice(), 1080));
        // A local spec is not delivered, whatever the settings.
        assert!(default_plan(&spec(), "hello", service, &shape).iter().all(|s| s.key != "deliver"));
    }
}
