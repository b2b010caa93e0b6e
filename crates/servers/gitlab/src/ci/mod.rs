//! The local pipeline runner: plan and run a repository's `.gitlab-ci.yml`
//! on this machine, in containers, without GitLab (what gitlab-ci-local
//! does; nothing in Rust did). `parse` reads the file (anchors, merge keys,
//! `extends`, `!reference`, `default:`, local includes), `rules` decides
//! which jobs are in a pipeline, `plan` orders them and computes their
//! variables, `run` executes a plan, and the tools (`ci_validate`,
//! `ci_plan`, `ci_run_local`, `ci_run_status`, `ci_job_log`,
//! `ci_artifacts`) expose it. Keywords the runner cannot honour are refused
//! by name, never silently ignored: see [`model::SUPPORTED`],
//! [`model::REFUSED`] and [`model::IGNORED`].
//!
//! Every job container is started by `mcp-server-docker` (`container_run`
//! with `wait`) over MCP, never by this server: in the compose deployment
//! the docker server is the only program holding the Docker socket, so
//! every container of the fleet goes through its one start-up policy
//! (image allow-list, no privileges, capability and resource limits, mounts
//! only under its bind roots). A job's image must therefore exist locally
//! and pass that policy; its refusal is passed through as the job's failure.
//! A job runs as `sh -c <script>` inside its container: the fleet's
//! no-shell-string rule is about commands on the host, and a sandboxed
//! job's shell is its own.
//!
//! Paths: a tool's `path` is a git repository under `GITLAB_CI_ROOTS`; only
//! its git-tracked files are copied into a run (like gitlab-ci-local), under
//! `GITLAB_CI_WORK_DIR`, which must lie inside one of the docker server's
//! writable bind roots and be the same path for both servers (compose
//! mounts one volume at the same place in both).

pub mod model;
pub mod parse;
pub mod plan;
pub mod rules;
pub mod run;
pub mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::client::Peer;
use mcp_core::{Reader, ServerBuilder, StartError, ToolError};

use crate::Gitlab;

/// Directories holding the repositories the tools may run, comma- or
/// colon-separated (default `./projects`). A tool's `path` is relative to
/// one of them (the first where it exists); `..` and links out are refused.
pub const GITLAB_CI_ROOTS: &str = "GITLAB_CI_ROOTS";
/// Where runs live (default `./ci-runs`): each run's copy of the project,
/// per-job copies, artifacts, logs and `run.json`. Must be inside one of
/// the docker server's writable bind roots (`DOCKER_BIND_WRITABLE`), at the
/// same path for both servers: job directories are mounted from here.
pub const GITLAB_CI_WORK_DIR: &str = "GITLAB_CI_WORK_DIR";
/// The image of jobs that name none (default `alpine:3`); like every job
/// image it must exist locally and be allowed by the docker server.
pub const GITLAB_CI_DEFAULT_IMAGE: &str = "GITLAB_CI_DEFAULT_IMAGE";
/// Jobs running at the same time across all runs (default 2).
pub const GITLAB_CI_MAX_PARALLEL: &str = "GITLAB_CI_MAX_PARALLEL";
/// Time limit of a job without `timeout:`, seconds (default 3600).
pub const GITLAB_CI_JOB_TIMEOUT: &str = "GITLAB_CI_JOB_TIMEOUT";
/// No job runs longer, whatever its `timeout:` says, seconds (default 3600,
/// the docker server's default largest time limit).
pub const GITLAB_CI_MAX_JOB_TIMEOUT: &str = "GITLAB_CI_MAX_JOB_TIMEOUT";
/// The job containers' network as the docker server names it: `none`
/// (its default: no network), `bridge`, or a network it created. Unset:
/// the docker server's default.
pub const GITLAB_CI_NETWORK: &str = "GITLAB_CI_NETWORK";
/// `uid:gid` the job containers run as; unset: the docker server's default
/// user. Job directories are made world-writable either way.
pub const GITLAB_CI_USER: &str = "GITLAB_CI_USER";
/// Finished runs kept on disk (default 20); older ones are deleted when a
/// new run starts.
pub const GITLAB_CI_KEEP_RUNS: &str = "GITLAB_CI_KEEP_RUNS";
/// Most bytes of artifacts one job keeps (default 100M).
pub const GITLAB_CI_MAX_ARTIFACT_BYTES: &str = "GITLAB_CI_MAX_ARTIFACT_BYTES";
/// The docker server's `/mcp` URL (compose default
/// `http://mcp-server-docker:8080/mcp`); called with the fleet's peer
/// token (`MCP_PEER_TOKEN`, default `MCP_AUTH_TOKEN`).
pub const MCP_SERVER_DOCKER_URL: &str = "MCP_SERVER_DOCKER_URL";

/// The local runner's settings.
#[derive(Clone)]
pub struct CiConfig {
    /// [`GITLAB_CI_ROOTS`].
    pub roots: Vec<PathBuf>,
    /// [`GITLAB_CI_WORK_DIR`].
    pub work_dir: PathBuf,
    /// [`GITLAB_CI_DEFAULT_IMAGE`].
    pub default_image: String,
    /// [`GITLAB_CI_MAX_PARALLEL`].
    pub max_parallel: usize,
    /// [`GITLAB_CI_JOB_TIMEOUT`].
    pub job_timeout: Duration,
    /// [`GITLAB_CI_MAX_JOB_TIMEOUT`].
    pub max_job_timeout: Duration,
    /// [`GITLAB_CI_NETWORK`].
    pub network: Option<String>,
    /// [`GITLAB_CI_USER`].
    pub user: Option<String>,
    /// [`GITLAB_CI_KEEP_RUNS`].
    pub keep_runs: usize,
    /// [`GITLAB_CI_MAX_ARTIFACT_BYTES`].
    pub max_artifact_bytes: u64,
    /// [`MCP_SERVER_DOCKER_URL`].
    pub docker_url: String,
    /// The token sent to the docker server (the fleet's peer token).
    pub peer_token: Option<String>,
}

impl std::fmt::Debug for CiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CiConfig")
            .field("roots", &self.roots)
            .field("work_dir", &self.work_dir)
            .field("default_image", &self.default_image)
            .field("max_parallel", &self.max_parallel)
            .field("docker_url", &self.docker_url)
            .field("peer_token", &self.peer_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl CiConfig {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let roots = r.paths(GITLAB_CI_ROOTS);
        let user = r.optional(GITLAB_CI_USER);
        if let Some(u) = &user {
            let ok = u.split_once(':').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
            if !ok {
                r.error(format!("{GITLAB_CI_USER}={u:?}: expected uid:gid, e.g. 1000:1000"));
            }
        }
        let max_parallel = r.parse(GITLAB_CI_MAX_PARALLEL, 2usize);
        if max_parallel == 0 {
            r.error(format!("{GITLAB_CI_MAX_PARALLEL} must be at least 1"));
        }
        Self {
            roots: if roots.is_empty() { vec![PathBuf::from("./projects")] } else { roots },
            work_dir: PathBuf::from(r.string(GITLAB_CI_WORK_DIR, "./ci-runs")),
            default_image: r.string(GITLAB_CI_DEFAULT_IMAGE, "alpine:3"),
            max_parallel: max_parallel.max(1),
            job_timeout: r.secs(GITLAB_CI_JOB_TIMEOUT, Duration::from_secs(3600)),
            max_job_timeout: r.secs(GITLAB_CI_MAX_JOB_TIMEOUT, Duration::from_secs(3600)),
            network: r.optional(GITLAB_CI_NETWORK),
            user,
            keep_runs: r.parse(GITLAB_CI_KEEP_RUNS, 20usize).max(1),
            max_artifact_bytes: r.bytes(GITLAB_CI_MAX_ARTIFACT_BYTES, 100 << 20) as u64,
            docker_url: r.peer_url("mcp-server-docker"),
            peer_token: peer_token(r),
        }
    }
}

/// The fleet's peer token, read the way `CoreConfig` reads it (which also
/// reports its errors, so none are reported twice here).
fn peer_token(r: &Reader<'_>) -> Option<String> {
    let secret = |k: &str, f: &str| {
        r.raw(k)
            .map(|v| v.trim().to_owned())
            .or_else(|| r.raw(f).and_then(|p| std::fs::read_to_string(p.trim()).ok()).map(|v| v.trim().to_owned()))
    };
    secret(mcp_core::config::MCP_PEER_TOKEN, mcp_core::config::MCP_PEER_TOKEN_FILE)
        .or_else(|| secret(mcp_core::config::MCP_AUTH_TOKEN, mcp_core::config::MCP_AUTH_TOKEN_FILE))
        .filter(|t| !t.is_empty())
}

/// A repository a tool named.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its canonical directory.
    pub dir: PathBuf,
    /// Its name (`CI_PROJECT_NAME`, the container path `/builds/<name>`).
    pub name: String,
    /// The path as the caller gave it.
    pub given: String,
}

/// What a plan is asked for (the shared arguments of `ci_plan` and `ci_run_local`).
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// The pipeline file (default `.gitlab-ci.yml`).
    pub file: Option<String>,
    /// Branch or tag (default: the checked-out branch).
    pub ref_name: Option<String>,
    /// Treat the ref as a tag (default: whether a tag of that name exists).
    pub tag: Option<bool>,
    /// Pipeline source (default `push`).
    pub source: Option<String>,
    /// Caller-supplied variables.
    pub variables: BTreeMap<String, String>,
    /// Compare with this ref for `changes` (default: every file counts as changed).
    pub changes_base: Option<String>,
    /// Run only these jobs (and what they need).
    pub jobs: Option<Vec<String>>,
}

/// Pipeline sources GitLab knows.
pub const SOURCES: &[&str] = &[
    "push",
    "web",
    "trigger",
    "schedule",
    "api",
    "external",
    "pipeline",
    "chat",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
];

/// The local runner's state.
pub struct Ci {
    config: CiConfig,
    roots: Vec<PathBuf>,
    /// The work directory, absolute (a tool's path may not lead into it).
    work_dir: PathBuf,
    runs: Arc<run::Runs>,
}

impl Ci {
    /// Set up the runner: the work directory (made by the first run), the roots (a
    /// missing root is logged; tools say so), the docker server's client,
    /// and the runs found on disk.
    pub async fn new(config: &CiConfig) -> Result<Self, StartError> {
        // Created by the first run, not here: a server that never runs a
        // pipeline leaves no directory behind.
        let work_dir = match std::fs::canonicalize(&config.work_dir) {
            Ok(d) => d,
            Err(_) => std::path::absolute(&config.work_dir).map_err(|e| {
                StartError::config(format!("{GITLAB_CI_WORK_DIR} ({}): {e}", config.work_dir.display()))
            })?,
        };
        if work_dir.exists() && !work_dir.is_dir() {
            return Err(StartError::config(format!(
                "{GITLAB_CI_WORK_DIR} ({}) is not a directory",
                work_dir.display()
            )));
        }
        let mut roots = Vec::new();
        for r in &config.roots {
            match std::fs::canonicalize(r) {
                // The work directory may lie inside a root (compose keeps it
                // in the projects folder, the docker server's bind root);
                // `project` then refuses paths into it, so one run's copy is
                // never taken for a repository.
                Ok(c) => roots.push(c),
                Err(e) => mcp_core::tracing::warn!(root = %r.display(), error = %e, "{GITLAB_CI_ROOTS}: root unusable"),
            }
        }
        let timeout = config.max_job_timeout + Duration::from_secs(120);
        let docker = Peer::new("docker", &config.docker_url, config.peer_token.clone(), crate::NAME, timeout)
            .map_err(|e| StartError::config(format!("{MCP_SERVER_DOCKER_URL}: {e}")))?;
        let settings = run::Settings {
            work_dir: work_dir.clone(),
            user: config.user.clone(),
            network: config.network.clone(),
            max_artifact_bytes: config.max_artifact_bytes,
            keep_runs: config.keep_runs,
        };
        let runs = Arc::new(run::Runs::new(settings, docker, config.max_parallel));
        Ok(Self { config: config.clone(), roots, work_dir, runs })
    }

    /// The settings.
    pub fn config(&self) -> &CiConfig {
        &self.config
    }

    /// The runs.
    pub fn runs(&self) -> &Arc<run::Runs> {
        &self.runs
    }

    /// Resolve a tool's `path` under the roots.
    pub fn project(&self, path: &str) -> Result<Project, ToolError> {
        if self.roots.is_empty() {
            return Err(ToolError::unavailable(format!(
                "no usable repository root: an operator must set {GITLAB_CI_ROOTS} to existing directories"
            )));
        }
        let p = path.trim();
        let rel = if p.is_empty() || p == "." {
            String::new()
        } else {
            parse::safe_rel(p, "path").map_err(|e| ToolError::invalid(e.to_string()))?
        };
        for root in &self.roots {
            let Ok(dir) = std::fs::canonicalize(root.join(&rel)) else { continue };
            if !dir.starts_with(root) {
                return Err(ToolError::denied(format!("{path} leads out of the repository roots")));
            }
            if dir.starts_with(&self.work_dir) {
                return Err(ToolError::denied(format!(
                    "{path} holds the local pipelines' work directory ({GITLAB_CI_WORK_DIR}), not a repository"
                )));
            }
            if !dir.is_dir() {
                continue;
            }
            let name: String = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "project".into())
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
                .collect();
            return Ok(Project { dir, name, given: p.to_owned() });
        }
        Err(ToolError::not_found(format!("no directory {path:?} under the repository roots")))
    }

    /// Read and parse a project's pipeline file.
    pub async fn load(&self, p: &Project, file: Option<&str>) -> Result<model::Pipeline, ToolError> {
        let (dir, file) = (p.dir.clone(), file.unwrap_or(".gitlab-ci.yml").to_owned());
        mcp_core::tool::blocking(move || parse::load(&dir, &file).map_err(|e| ToolError::invalid(e.to_string()))).await
    }

    /// The facts of a plan: ref, commit, files, changed files.
    pub async fn context(&self, p: &Project, req: &PlanRequest) -> Result<plan::Context, ToolError> {
        let source = req.source.clone().unwrap_or_else(|| "push".into());
        if !SOURCES.contains(&source.as_str()) {
            return Err(ToolError::invalid(format!("source {source:?}: use one of {}", SOURCES.join(", "))));
        }
        if req.variables.len() > 200 {
            return Err(ToolError::invalid("at most 200 variables"));
        }
        for k in req.variables.keys() {
            if !parse::var_name_ok(k) {
                return Err(ToolError::invalid(format!("variable name {k:?}: letters, digits and _ only")));
            }
        }
        if let Some(r) = &req.ref_name
            && !ref_ok(r)
        {
            return Err(ToolError::invalid(format!("ref {r:?} is not a branch or tag name")));
        }
        let dir = p.dir.clone();
        let req2 = req.clone();
        let (files, sha, ref_name, is_tag, default_branch, changed) = mcp_core::tool::blocking(move || {
            let files = git_lines(&dir, &["ls-files", "-z"], '\0').map_err(|e| {
                ToolError::invalid(format!("the project is not a usable git repository (git ls-files: {e})"))
            })?;
            let head = git(&dir, &["symbolic-ref", "--short", "-q", "HEAD"]).ok().filter(|s| !s.is_empty());
            let ref_name = req2.ref_name.clone().or(head).unwrap_or_else(|| "HEAD".into());
            let is_tag = req2.tag.unwrap_or_else(|| {
                git(&dir, &["show-ref", "--verify", "--quiet", &format!("refs/tags/{ref_name}")]).is_ok()
            });
            let sha = git(&dir, &["rev-parse", "--verify", "--quiet", &format!("{ref_name}^{{commit}}")])
                .or_else(|_| git(&dir, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]))
                .unwrap_or_else(|_| "0".repeat(40));
            let default_branch = git(&dir, &["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"])
                .ok()
                .map(|s| s.trim_start_matches("origin/").to_owned())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    ["main", "master"]
                        .into_iter()
                        .find(|b| git(&dir, &["show-ref", "--verify", "--quiet", &format!("refs/heads/{b}")]).is_ok())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "main".into());
            let changed = match &req2.changes_base {
                Some(b) => Some(changed_since(&dir, b).map_err(ToolError::invalid)?),
                None => None,
            };
            Ok((files, sha, ref_name, is_tag, default_branch, changed))
        })
        .await?;
        let dir = p.dir.clone();
        Ok(plan::Context {
            ref_name,
            is_tag,
            sha,
            source,
            default_branch,
            project_name: p.name.clone(),
            project_dir: format!("/builds/{}", p.name),
            variables: req.variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            files,
            changed,
            compare: Box::new(move |b| changed_since(&dir, b)),
            selected: req.jobs.clone().filter(|j| !j.is_empty()),
            default_image: self.config.default_image.clone(),
            default_timeout: self.config.job_timeout,
            max_timeout: self.config.max_job_timeout,
        })
    }

    /// Parse and plan.
    pub async fn plan(&self, path: &str, req: &PlanRequest) -> Result<(Project, plan::Plan, Vec<String>), ToolError> {
        let p = self.project(path)?;
        let pipeline = self.load(&p, req.file.as_deref()).await?;
        let ctx = self.context(&p, req).await?;
        let files = ctx.files.clone();
        let plan = plan::plan(&pipeline, &ctx).map_err(ToolError::invalid)?;
        Ok((p, plan, files))
    }

    /// Plan and start a run in the background; its id.
    pub async fn start(&self, path: &str, req: &PlanRequest) -> Result<String, ToolError> {
        let (p, plan, files) = self.plan(path, req).await?;
        if !plan.created {
            return Err(ToolError::conflict(format!(
                "workflow:rules create no pipeline for this ref and source: {}",
                plan.workflow_reason.as_deref().unwrap_or("no rule matches")
            )));
        }
        self.runs.start(&p.given, &p.dir, &p.name, files, plan).map_err(ToolError::internal)
    }
}

/// A ref name git would accept, and never an option.
fn ref_ok(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && !r.starts_with('-')
        && !r.contains("..")
        && !r.chars().any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// Git on a repository nobody reviewed: its own config could name commands
/// (`core.fsmonitor` runs one on `ls-files`/`diff`), so those are switched
/// off on the command line, which wins over the repository's file; the
/// environment is emptied (the server's token never reaches a child) and no
/// global or system config is read.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-c")
        .arg(format!("safe.directory={}", dir.display()))
        .args(["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false"])
        .args(["-c", "core.pager=cat"])
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn git_lines(dir: &Path, args: &[&str], sep: char) -> Result<Vec<String>, String> {
    let out = git(dir, args)?;
    Ok(out.split(sep).filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

/// Tracked files that differ between `base` and the work tree.
fn changed_since(dir: &Path, base: &str) -> Result<Vec<String>, String> {
    if !ref_ok(base) {
        return Err(format!("changes base {base:?} is not a ref"));
    }
    let sha = git(dir, &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")])
        .map_err(|_| format!("changes base {base:?} is not a commit of this repository"))?;
    git_lines(dir, &["diff", "--name-only", "-z", &sha], '\0')
}

/// Add the local runner's tools (after the GitLab tools).
pub fn register(b: ServerBuilder<Gitlab>) -> ServerBuilder<Gitlab> {
    let wait = Duration::from_secs(tools::MAX_WAIT_SECS + 60);
    b.tool(tools::ci_artifacts::tool())
        .tool(tools::ci_job_log::tool())
        .tool(tools::ci_plan::tool())
        .tool(tools::ci_run_local::tool().timeout(wait))
        .tool(tools::ci_run_status::tool().timeout(wait))
        .tool(tools::ci_validate::tool())
}
