//! Configuration of `mcp-client-planner`.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Database URL for plans and checkpoints: `sqlite:PATH` (default `sqlite:./.data/planner/planner.db`) or `postgres://...`.
pub const PLANNER_DATABASE_URL: &str = "PLANNER_DATABASE_URL";
/// The templates folder (default `./templates`): `projects/<template>/template.json`, `SPEC.md.tmpl`, `email/`.
pub const PLANNER_TEMPLATES_DIR: &str = "PLANNER_TEMPLATES_DIR";
/// Templates this deployment offers, by folder name (default: every template in the folder). Compose sets
/// it to what its toolchain image can build.
pub const PLANNER_TEMPLATES: &str = "PLANNER_TEMPLATES";
/// Name of this planner instance, owner of the runs it claims (default: the host name). A restarted
/// planner with the same name takes its runs back at once; others wait for the lease to expire.
pub const PLANNER_INSTANCE: &str = "PLANNER_INSTANCE";
/// Runs executed at the same time (default 2).
pub const PLANNER_CONCURRENCY: &str = "PLANNER_CONCURRENCY";
/// Budget: most step attempts per run, retries included (default 60).
pub const PLANNER_MAX_STEPS: &str = "PLANNER_MAX_STEPS";
/// Budget: longest wall time of a run, seconds (default 1800).
pub const PLANNER_MAX_WALL_SECS: &str = "PLANNER_MAX_WALL_SECS";
/// Budget: most LLM tokens per run (default 200000).
pub const PLANNER_MAX_TOKENS: &str = "PLANNER_MAX_TOKENS";
/// Rounds of "fix the failing tests" with an LLM provider (default 3).
pub const PLANNER_FIX_ROUNDS: &str = "PLANNER_FIX_ROUNDS";
/// Timeout of one build, lint or test command, seconds (default 600).
pub const PLANNER_COMMAND_TIMEOUT_SECS: &str = "PLANNER_COMMAND_TIMEOUT_SECS";
/// Plan steps that wait for a person's approval before they run: a comma list of step keys (`tag`,
/// `commit_work`) or action kinds (`tag`, `commit`, `command`) (default empty: no step waits). The approvers get
/// an email to answer "approve" or "deny <reason>"; the gateway's UI, REST API and CLI decide too. `report`
/// cannot wait: the requester always hears back.
pub const PLANNER_APPROVAL_STEPS: &str = "PLANNER_APPROVAL_STEPS";
/// How long an approval waits for a decision: `90s`, `30m`, `24h`, `7d` or plain seconds (default `24h`).
/// Past it the approval is `expired`, which counts as a denial. Time spent waiting does not count against
/// `PLANNER_MAX_WALL_SECS`, which bounds the planner's own work.
pub const PLANNER_APPROVAL_TIMEOUT: &str = "PLANNER_APPROVAL_TIMEOUT";
/// Who may approve by email: a comma list of addresses (default: the request's requester). Each must be on
/// the email server's recipient allow-list to get the approval email.
pub const PLANNER_APPROVERS: &str = "PLANNER_APPROVERS";
/// Where the install, build, lint and test phases run: `process` (the default: install and build through the
/// shell server, lint and test on the lint and test servers, each under its own confinement) or `container`
/// (each argv of the template's phase in a fresh container of `PLANNER_TOOLCHAIN_IMAGE` through the docker
/// server, the project folder mounted at `/work/<slug>`, as the folder's owner, with network only for
/// `install`). `container` needs `MCP_SERVER_DOCKER_URL`, and the docker server's first bind root must be the
/// projects folder (the fs server's first root), writable.
pub const PLANNER_ISOLATION: &str = "PLANNER_ISOLATION";
/// The image the phases run in with `PLANNER_ISOLATION=container`, and the base of a deployed service's image
/// (the `Dockerfile`'s `ARG BASE` default) and of a project's `.gitlab-ci.yml` (default
/// `mcp-fleet/toolchain:latest`, what `cargo xtask images` builds). It must be on the docker server's image
/// allow-list.
pub const PLANNER_TOOLCHAIN_IMAGE: &str = "PLANNER_TOOLCHAIN_IMAGE";
/// Memory of one phase container: bytes, or with a `K`, `M` or `G` suffix (default `2G`; capped by the docker
/// server's maximum).
pub const PLANNER_CONTAINER_MEMORY: &str = "PLANNER_CONTAINER_MEMORY";
/// CPUs of one phase container, fractions allowed (default 2; capped by the docker server's maximum).
pub const PLANNER_CONTAINER_CPUS: &str = "PLANNER_CONTAINER_CPUS";
/// Processes in one phase container (default 512; capped by the docker server's maximum).
pub const PLANNER_CONTAINER_PIDS: &str = "PLANNER_CONTAINER_PIDS";
/// `on` deploys a service project (a template with a `deploy` section) to `dev` through the docker server's
/// `app_deploy` once it is tagged, and the report says where it answers and what its health check said
/// (default `off`). Needs `MCP_SERVER_DOCKER_URL`.
pub const PLANNER_DEPLOY: &str = "PLANNER_DEPLOY";
/// `on` runs a project's `.gitlab-ci.yml` locally through the gitlab server's `ci_run_local` before the tag;
/// a failed pipeline blocks the tag as failed tests do (default `off`). Needs `MCP_SERVER_GITLAB_URL`.
pub const PLANNER_LOCAL_PIPELINE: &str = "PLANNER_LOCAL_PIPELINE";
/// The git remote a `delivery: "gitlab"` project is pushed to, with `{slug}` for its folder name:
/// `https://gitlab.example.com/fleet/{slug}.git`, or any URL the git server's remote policy accepts (its
/// `GIT_ALLOWED_REMOTE_SCHEMES` and hosts; a local path inside its roots with `file`). No credentials in it:
/// the git server authenticates (`GIT_HTTPS_TOKEN_FILE` or its SSH key). Unset, `plan_start` refuses
/// `delivery: "gitlab"`; set, it needs `MCP_SERVER_GITLAB_URL`.
pub const PLANNER_GITLAB_REMOTE: &str = "PLANNER_GITLAB_REMOTE";
/// The GitLab project of a delivered project, with `{slug}` (default `fleet/{slug}`): what its pipeline is
/// created in (the gitlab server's `pipeline_create`). The project must exist and be pushable, and be on the
/// gitlab server's `GITLAB_PROJECTS`; that server must run with `GITLAB_MODE=modify`.
pub const PLANNER_GITLAB_PROJECT: &str = "PLANNER_GITLAB_PROJECT";
/// Longest wait for a delivered project's GitLab pipeline, seconds (default: as a local pipeline's, four
/// times `PLANNER_COMMAND_TIMEOUT_SECS` plus a minute). A pipeline still running then is reported as not
/// passed, with its status and link; it is not canceled.
pub const PLANNER_GITLAB_WAIT_SECS: &str = "PLANNER_GITLAB_WAIT_SECS";
/// How the browser server reaches a deployed service for the report's screenshot: `published` (the default:
/// the address the docker server published it on, `127.0.0.1:<port>` — the browser runs on the same host, as
/// under `cargo xtask up`) or `alias` (its network alias and container port on the docker server's application
/// network, which the browser's container joins — compose). Used when `MCP_SERVER_BROWSER_URL` is set and a
/// service is deployed.
pub const PLANNER_BROWSE_ADDRESS: &str = "PLANNER_BROWSE_ADDRESS";
/// The GitLab project path template's default.
pub const DEFAULT_GITLAB_PROJECT: &str = "fleet/{slug}";
/// The toolchain image `cargo xtask images` builds.
pub const DEFAULT_TOOLCHAIN_IMAGE: &str = "mcp-fleet/toolchain:latest";

/// The planner's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// Templates folder.
    pub templates: PathBuf,
    /// Templates offered (empty: all).
    pub offered: Vec<String>,
    /// Instance name.
    pub instance: String,
    /// Runs at once.
    pub concurrency: usize,
    /// Default budgets.
    pub budget: Budget,
    /// Fix rounds.
    pub fix_rounds: u32,
    /// Command timeout.
    pub command_timeout: Duration,
    /// Human approval gates.
    pub approval: Approval,
    /// Peers.
    pub peers: Peers,
    /// Where the phases run, and the deploy and local pipeline steps.
    pub runtime: Runtime,
}

/// Where a project's phases run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// The shell, lint and test servers (each confines its own processes).
    Process,
    /// A fresh container per command through the docker server.
    Container,
}

/// Where the phases run and what may follow the checks: a deployment, a
/// local pipeline. The docker and gitlab servers are optional peers, needed
/// only by the settings that use them; they are here rather than in
/// [`Peers`] so that code building [`Peers`] by hand keeps compiling.
#[derive(Debug, Clone, PartialEq)]
pub struct Runtime {
    /// `PLANNER_ISOLATION`.
    pub isolation: Isolation,
    /// `PLANNER_TOOLCHAIN_IMAGE`.
    pub toolchain_image: String,
    /// Limits of a phase container.
    pub limits: mcp_types::docker::Limits,
    /// `PLANNER_DEPLOY`.
    pub deploy: bool,
    /// `PLANNER_LOCAL_PIPELINE`.
    pub local_pipeline: bool,
    /// `MCP_SERVER_DOCKER_URL`: container isolation and deployments (unset: neither).
    pub docker: Option<String>,
    /// `MCP_SERVER_GITLAB_URL`: local pipelines and delivery to GitLab (unset: neither).
    pub gitlab: Option<String>,
    /// `PLANNER_GITLAB_REMOTE`: the remote URL template, `{slug}` in it (unset: no delivery to GitLab).
    pub gitlab_remote: Option<String>,
    /// `PLANNER_GITLAB_PROJECT`: the GitLab project path template, `{slug}` in it.
    pub gitlab_project: String,
    /// `PLANNER_GITLAB_WAIT_SECS` (unset: [`crate::peers::pipeline_timeout`]).
    pub gitlab_wait: Option<Duration>,
    /// `MCP_SERVER_REGISTRY_URL`: the generated project's dependencies pinned after the scaffold (unset: not
    /// pinned, and the report says so).
    pub registry: Option<String>,
    /// `MCP_SERVER_SPEC_URL`: SPEC.md, README.md and CHANGELOG.md rendered by the spec server (unset: SPEC.md
    /// and README.md from the planner's own templates, no CHANGELOG, and the report says so).
    pub spec: Option<String>,
    /// `MCP_SERVER_BROWSER_URL`: a deployed service opened and shot for the report (unset: no screenshot).
    pub browser: Option<String>,
    /// `PLANNER_BROWSE_ADDRESS`.
    pub browse: Browse,
}

/// How the browser reaches a deployed service (`PLANNER_BROWSE_ADDRESS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browse {
    /// The published host address.
    Published,
    /// The network alias and container port.
    Alias,
}

impl Runtime {
    /// Today's behaviour: processes, no deployment, no local pipeline.
    pub fn process() -> Self {
        Self {
            isolation: Isolation::Process,
            toolchain_image: DEFAULT_TOOLCHAIN_IMAGE.into(),
            limits: default_limits(),
            deploy: false,
            local_pipeline: false,
            docker: None,
            gitlab: None,
            gitlab_remote: None,
            gitlab_project: DEFAULT_GITLAB_PROJECT.into(),
            gitlab_wait: None,
            registry: None,
            spec: None,
            browser: None,
            browse: Browse::Published,
        }
    }

    /// What `delivery: "gitlab"` needs and this planner lacks, as the variables to set (empty: it can deliver).
    pub fn gitlab_delivery_missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.gitlab.is_none() {
            missing.push(format!("{} (the gitlab server)", mcp_core::config::peer_var("mcp-server-gitlab")));
        }
        if self.gitlab_remote.is_none() {
            missing.push(format!("{PLANNER_GITLAB_REMOTE} (the git remote to push to)"));
        }
        missing
    }

    /// `template` with the project's slug in place of `{slug}`.
    pub fn for_slug(template: &str, slug: &str) -> String {
        template.replace("{slug}", slug)
    }

    fn read(r: &mut Reader<'_>) -> Self {
        let isolation = match r.raw(PLANNER_ISOLATION).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("process") => Isolation::Process,
            Some("container") => Isolation::Container,
            Some(other) => {
                r.error(format!("{PLANNER_ISOLATION}={other:?}: expected process or container"));
                Isolation::Process
            }
        };
        let toolchain_image = r.string(PLANNER_TOOLCHAIN_IMAGE, DEFAULT_TOOLCHAIN_IMAGE).trim().to_owned();
        if toolchain_image.is_empty() || toolchain_image.chars().any(|c| c.is_whitespace() || c.is_control()) {
            r.error(format!("{PLANNER_TOOLCHAIN_IMAGE}={toolchain_image:?}: expected an image reference"));
        }
        let d = default_limits();
        let memory = r.bytes(PLANNER_CONTAINER_MEMORY, d.memory_bytes.unwrap_or_default() as usize) as u64;
        if memory < 64 << 20 {
            r.error(format!("{PLANNER_CONTAINER_MEMORY}: at least 64M"));
        }
        let cpus: f64 = r.parse(PLANNER_CONTAINER_CPUS, d.cpus.unwrap_or(2.0));
        if !(cpus.is_finite() && cpus > 0.0 && cpus <= 256.0) {
            r.error(format!("{PLANNER_CONTAINER_CPUS}: expected a number of CPUs above 0"));
        }
        let pids: i64 = r.parse(PLANNER_CONTAINER_PIDS, d.pids.unwrap_or(512));
        if !(16..=1_000_000).contains(&pids) {
            r.error(format!("{PLANNER_CONTAINER_PIDS}: expected 16 or more"));
        }
        let deploy = r.bool(PLANNER_DEPLOY, false);
        let local_pipeline = r.bool(PLANNER_LOCAL_PIPELINE, false);
        let docker = r.optional_peer("mcp-server-docker");
        let gitlab = r.optional_peer("mcp-server-gitlab");
        let docker_var = mcp_core::config::peer_var("mcp-server-docker");
        if docker.is_none() && isolation == Isolation::Container {
            r.error(format!(
                "{PLANNER_ISOLATION}=container runs the phases through the docker server: set {docker_var}"
            ));
        }
        if docker.is_none() && deploy {
            r.error(format!("{PLANNER_DEPLOY}=on deploys through the docker server: set {docker_var}"));
        }
        if gitlab.is_none() && local_pipeline {
            r.error(format!(
                "{PLANNER_LOCAL_PIPELINE}=on runs pipelines through the gitlab server: set {}",
                mcp_core::config::peer_var("mcp-server-gitlab")
            ));
        }
        let gitlab_remote = r.optional(PLANNER_GITLAB_REMOTE).map(|v| v.trim().to_owned());
        let gitlab_project =
            r.string(PLANNER_GITLAB_PROJECT, DEFAULT_GITLAB_PROJECT).trim().trim_matches('/').to_owned();
        let bad = |v: &str| !v.contains("{slug}") || v.chars().any(|c| c.is_whitespace() || c.is_control());
        if let Some(remote) = &gitlab_remote {
            if bad(remote) {
                r.error(format!(
                    "{PLANNER_GITLAB_REMOTE}={remote:?}: expected a URL with {{slug}} in it and no spaces, such as \
                     https://gitlab.example.com/fleet/{{slug}}.git"
                ));
            }
            if gitlab.is_none() {
                r.error(format!(
                    "{PLANNER_GITLAB_REMOTE} delivers projects through the gitlab server: set {}",
                    mcp_core::config::peer_var("mcp-server-gitlab")
                ));
            }
        }
        if bad(&gitlab_project) || gitlab_project.starts_with('.') || gitlab_project.contains("..") {
            r.error(format!(
                "{PLANNER_GITLAB_PROJECT}={gitlab_project:?}: expected a project path with {{slug}} in it, such as \
                 fleet/{{slug}}"
            ));
        }
        let gitlab_wait = r.raw(PLANNER_GITLAB_WAIT_SECS).map(|_| r.secs(PLANNER_GITLAB_WAIT_SECS, Duration::ZERO));
        let browse = match r.raw(PLANNER_BROWSE_ADDRESS).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("published") => Browse::Published,
            Some("alias") => Browse::Alias,
            Some(other) => {
                r.error(format!("{PLANNER_BROWSE_ADDRESS}={other:?}: expected published or alias"));
                Browse::Published
            }
        };
        Self {
            isolation,
            toolchain_image,
            limits: mcp_types::docker::Limits { memory_bytes: Some(memory), cpus: Some(cpus), pids: Some(pids) },
            deploy,
            local_pipeline,
            docker,
            gitlab,
            gitlab_remote,
            gitlab_project,
            gitlab_wait,
            registry: r.optional_peer("mcp-server-registry"),
            spec: r.optional_peer("mcp-server-spec"),
            browser: r.optional_peer("mcp-server-browser"),
            browse,
        }
    }
}

/// 2 GiB, 2 CPUs, 512 processes: enough for cargo and pytest, small enough for a shared box.
fn default_limits() -> mcp_types::docker::Limits {
    mcp_types::docker::Limits { memory_bytes: Some(2 << 30), cpus: Some(2.0), pids: Some(512) }
}

/// Which steps wait for a person, how long, and who may answer by email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    /// Step keys or action kinds that wait (empty: none).
    pub steps: Vec<String>,
    /// How long an approval waits before it expires.
    pub timeout: Duration,
    /// Email approvers (empty: the request's requester).
    pub approvers: Vec<String>,
}

impl Approval {
    /// Nothing waits (the default).
    pub fn none() -> Self {
        Self { steps: Vec::new(), timeout: Duration::from_secs(24 * 3600), approvers: Vec::new() }
    }

    /// Whether a step with this key and action kind waits for approval.
    pub fn needed(&self, key: &str, kind: &str) -> bool {
        self.steps.iter().any(|s| s == key || s == kind)
    }

    fn read(r: &mut Reader<'_>) -> Self {
        let steps: Vec<String> = r.list(PLANNER_APPROVAL_STEPS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        for s in &steps {
            if s == "report" {
                r.error(format!(
                    "{PLANNER_APPROVAL_STEPS}: the report cannot wait for approval (the requester always hears back)"
                ));
            } else if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                r.error(format!(
                    "{PLANNER_APPROVAL_STEPS}: {s:?} is not a step key or action kind (letters, digits, _)"
                ));
            }
        }
        let timeout = match r.raw(PLANNER_APPROVAL_TIMEOUT) {
            None => Duration::from_secs(24 * 3600),
            Some(v) => match span(&v) {
                Some(d) => d,
                None => {
                    r.error(format!("{PLANNER_APPROVAL_TIMEOUT}={v:?}: expected a span such as 90s, 30m, 24h or 7d"));
                    Duration::from_secs(24 * 3600)
                }
            },
        };
        let approvers: Vec<String> = r.list(PLANNER_APPROVERS).into_iter().map(|a| a.to_ascii_lowercase()).collect();
        for a in &approvers {
            if a.len() > 254 || a.matches('@').count() != 1 || a.starts_with('@') || a.ends_with('@') {
                r.error(format!("{PLANNER_APPROVERS}: {a:?} is not an email address"));
            }
        }
        Self { steps, timeout, approvers }
    }
}

/// `90s`, `30m`, `24h`, `7d`, or plain seconds: at least a second, at most a year.
fn span(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let secs = n.checked_mul(match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    })?;
    (1..=366 * 86_400).contains(&secs).then(|| Duration::from_secs(secs))
}

/// Where the other programs are.
#[derive(Debug, Clone)]
pub struct Peers {
    /// `MCP_SERVER_FS_URL`: its first root is the projects folder.
    pub fs: String,
    /// `MCP_SERVER_GIT_URL`: its first root must be the same projects folder.
    pub git: String,
    /// `MCP_SERVER_SHELL_URL`: its first root must be the same projects folder.
    pub shell: String,
    /// `MCP_SERVER_LINT_URL`: the lint phase (its first root must be the same projects folder).
    pub lint: String,
    /// `MCP_SERVER_TEST_URL`: the test phase (its first root must be the same projects folder).
    pub test: String,
    /// `MCP_SERVER_EMAIL_URL`, for completion reports (unset: no email; results stay in `plan_status`).
    pub email: Option<String>,
    /// `MCP_SERVER_SQL_URL`, for the decision and communication logs (unset: decisions only in logs and spans).
    pub sql: Option<String>,
    /// `MCP_SERVER_LOG_URL`, for task monitoring of runs (unset: no task records).
    pub log: Option<String>,
    /// `MCP_CLIENT_LLM_AGENT_URL`, for LLM steps (unset, or an agent without them: plans have no LLM steps).
    pub agent: Option<String>,
}

/// Limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Budget {
    /// Step attempts, retries included.
    pub max_steps: u32,
    /// Wall time, seconds.
    pub max_wall_secs: u64,
    /// LLM tokens.
    pub max_tokens: u64,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let instance = r.optional(PLANNER_INSTANCE).unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "planner".into())
        });
        let concurrency: usize = r.parse(PLANNER_CONCURRENCY, 2);
        if !(1..=64).contains(&concurrency) {
            r.error(format!("{PLANNER_CONCURRENCY} must be 1..=64"));
        }
        let budget = Budget {
            max_steps: r.parse(PLANNER_MAX_STEPS, 60),
            max_wall_secs: r.parse(PLANNER_MAX_WALL_SECS, 1800),
            max_tokens: r.parse(PLANNER_MAX_TOKENS, 200_000),
        };
        let peers = Peers {
            fs: r.peer_url("mcp-server-fs"),
            git: r.peer_url("mcp-server-git"),
            shell: r.peer_url("mcp-server-shell"),
            lint: r.peer_url("mcp-server-lint"),
            test: r.peer_url("mcp-server-test"),
            email: r.optional_peer("mcp-server-email"),
            sql: r.optional_peer("mcp-server-sql"),
            log: r.optional_peer("mcp-server-log"),
            agent: r.optional_peer("mcp-client-llm-agent"),
        };
        Self {
            database_url: r.string(PLANNER_DATABASE_URL, "sqlite:./.data/planner/planner.db"),
            templates: PathBuf::from(r.string(PLANNER_TEMPLATES_DIR, "./templates")),
            offered: r.list(PLANNER_TEMPLATES),
            instance,
            concurrency: concurrency.clamp(1, 64),
            budget,
            fix_rounds: r.parse(PLANNER_FIX_ROUNDS, 3),
            command_timeout: r.secs(PLANNER_COMMAND_TIMEOUT_SECS, Duration::from_secs(600)),
            approval: Approval::read(r),
            peers,
            runtime: Runtime::read(r),
        }
    }

    /// Settings for tests: this database and templates folder, these peers.
    pub fn for_tests(database_url: &str, templates: PathBuf, peers: Peers) -> Self {
        Self {
            database_url: database_url.to_owned(),
            templates,
            offered: Vec::new(),
            instance: "test".into(),
            concurrency: 2,
            budget: Budget { max_steps: 60, max_wall_secs: 900, max_tokens: 200_000 },
            fix_rounds: 2,
            command_timeout: Duration::from_secs(300),
            approval: Approval::none(),
            peers,
            runtime: Runtime::process(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, String> {
        mcp_core::config::read_vars(vars, Config::read).map_err(|e| e.to_string())
    }

    #[test]
    fn approval_settings() {
        let c = read(&[]).unwrap();
        assert_eq!(c.approval, Approval::none());
        assert!(!c.approval.needed("tag", "tag"));
        let c = read(&[
            ("PLANNER_APPROVAL_STEPS", "tag, Command"),
            ("PLANNER_APPROVAL_TIMEOUT", "30m"),
            ("PLANNER_APPROVERS", "Ops@Example.test,bob@example.test"),
        ])
        .unwrap();
        assert!(c.approval.needed("tag", "tag") && c.approval.needed("lint", "command"));
        assert!(!c.approval.needed("commit_work", "commit"));
        assert_eq!(c.approval.timeout, Duration::from_secs(1800));
        assert_eq!(c.approval.approvers, ["ops@example.test", "bob@example.test"]);
        let e = read(&[
            ("PLANNER_APPROVAL_STEPS", "report,de ploy"),
            ("PLANNER_APPROVAL_TIMEOUT", "soon"),
            ("PLANNER_APPROVERS", "nobody"),
        ])
        .unwrap_err();
        for needle in ["report cannot wait", "\"de ploy\"", "soon", "\"nobody\""] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        assert_eq!(span("90"), Some(Duration::from_secs(90)));
        assert_eq!(span("0s"), None);
    }

    #[test]
    fn isolation_deploy_and_pipeline_settings() {
        let c = read(&[]).unwrap();
        assert_eq!(c.runtime, Runtime::process());
        assert_eq!(c.runtime.toolchain_image, "mcp-fleet/toolchain:latest");
        let c = read(&[
            ("PLANNER_ISOLATION", "Container"),
            ("PLANNER_DEPLOY", "on"),
            ("PLANNER_LOCAL_PIPELINE", "on"),
            ("PLANNER_TOOLCHAIN_IMAGE", "example/toolchain:2"),
            ("PLANNER_CONTAINER_MEMORY", "1G"),
            ("PLANNER_CONTAINER_CPUS", "1.5"),
            ("MCP_SERVER_DOCKER_URL", "http://docker:8080/mcp"),
            ("MCP_SERVER_GITLAB_URL", "http://gitlab:8080/mcp"),
        ])
        .unwrap();
        assert_eq!(c.runtime.isolation, Isolation::Container);
        assert!(c.runtime.deploy && c.runtime.local_pipeline);
        assert_eq!(c.runtime.limits.memory_bytes, Some(1 << 30));
        assert_eq!(c.runtime.limits.cpus, Some(1.5));
        assert_eq!(c.runtime.limits.pids, Some(512));
        assert_eq!(c.runtime.docker.as_deref(), Some("http://docker:8080/mcp"));
        // A setting on without its peer is a start-up error naming the variable to set.
        let e = read(&[("PLANNER_ISOLATION", "container"), ("PLANNER_DEPLOY", "on"), ("PLANNER_LOCAL_PIPELINE", "on")])
            .unwrap_err();
        for needle in
            ["PLANNER_ISOLATION=container", "PLANNER_DEPLOY=on", "MCP_SERVER_DOCKER_URL", "MCP_SERVER_GITLAB_URL"]
        {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        let e = read(&[("PLANNER_ISOLATION", "vm"), ("PLANNER_CONTAINER_CPUS", "0")]).unwrap_err();
        assert!(e.contains("\"vm\"") && e.contains("PLANNER_CONTAINER_CPUS"), "{e}");
    }

    #[test]
    fn gitlab_delivery_settings() {
        let c = read(&[]).unwrap();
        assert_eq!(c.runtime.gitlab_project, "fleet/{slug}");
        assert_eq!(c.runtime.gitlab_delivery_missing().len(), 2);
        let c = read(&[
            ("PLANNER_GITLAB_REMOTE", "https://gitlab.example.com/fleet/{slug}.git"),
            ("PLANNER_GITLAB_PROJECT", "/team/{slug}/"),
            ("PLANNER_GITLAB_WAIT_SECS", "900"),
            ("MCP_SERVER_GITLAB_URL", "http://gitlab:8080/mcp"),
        ])
        .unwrap();
        assert!(c.runtime.gitlab_delivery_missing().is_empty());
        assert_eq!(c.runtime.gitlab_project, "team/{slug}");
        assert_eq!(c.runtime.gitlab_wait, Some(Duration::from_secs(900)));
        assert_eq!(
            Runtime::for_slug(c.runtime.gitlab_remote.as_deref().unwrap(), "hello"),
            "https://gitlab.example.com/fleet/hello.git"
        );
        // A remote without its peer, or without {slug}, is a start-up error naming what to change.
        let e = read(&[
            ("PLANNER_GITLAB_REMOTE", "https://gitlab.example.com/fleet/one.git"),
            ("PLANNER_GITLAB_PROJECT", "fleet/one"),
            ("PLANNER_GITLAB_WAIT_SECS", "soon"),
        ])
        .unwrap_err();
        for needle in
            ["PLANNER_GITLAB_REMOTE=", "MCP_SERVER_GITLAB_URL", "PLANNER_GITLAB_PROJECT=", "PLANNER_GITLAB_WAIT_SECS"]
        {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
    }
}
