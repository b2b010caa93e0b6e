//! The typed model of a `.gitlab-ci.yml` after parsing (includes merged,
//! `!reference` and `extends` resolved, `default:` applied), and the
//! keyword tables that say what the local runner does with each keyword.
//!
//! Every keyword GitLab knows is in exactly one of three lists. A keyword in
//! none of them is unknown, which GitLab itself refuses, and so do we.
//! [`REFUSED`] keywords stop `ci_validate`, `ci_plan` and `ci_run_local` with
//! an error naming the keyword: running the pipeline without them would
//! give a result GitLab would not (a job without its services, its secrets
//! or its trigger). [`IGNORED`] keywords cannot change what a job's script
//! does locally; each use is reported as a warning in the plan.

use std::time::Duration;

use serde::Serialize;

/// Keywords the local runner implements (`where:keyword`).
pub const SUPPORTED: &[&str] = &[
    "top:stages",
    "top:variables (value, description, expand, options)",
    "top:default",
    "top:include (local files: string, list, {local}, wildcards)",
    "top:workflow:rules (if, changes, exists, when, variables)",
    "top:image, top:before_script, top:after_script (deprecated globals, applied as default:)",
    "job:script, before_script, after_script (nested lists flattened)",
    "job:stage (default test; .pre and .post)",
    "job:image (string or {name})",
    "job:variables",
    "job:extends (string or list, multi-level)",
    "job:rules (if, changes (list or {paths, compare_to}), exists, when, allow_failure, variables)",
    "job:only / except (refs incl. branches, tags, sources and /regex/; variables; changes)",
    "job:when (on_success, on_failure, always, manual, never)",
    "job:allow_failure (bool or {exit_codes})",
    "job:needs (names, {job, artifacts, optional}, [])",
    "job:dependencies",
    "job:artifacts (paths, exclude, when; name, expire_in, expose_as accepted)",
    "job:timeout",
    "job:retry (max, when, exit_codes)",
    "job:parallel (number, matrix)",
    "job:inherit (default, variables)",
    "!reference [job, key, ...] tags, YAML anchors and merge keys (<<)",
];

/// Keywords refused with an error naming them.
pub const REFUSED: &[(&str, &str)] = &[
    ("include:remote", "remote includes would fetch from the network"),
    ("include:template", "GitLab's templates are not available locally"),
    ("include:project", "other projects' files are not available locally"),
    ("include:component", "CI/CD components are not available locally"),
    ("include:rules", "conditional includes are not implemented"),
    ("include:inputs", "include inputs are not implemented"),
    ("spec", "include inputs headers are not implemented"),
    ("trigger", "downstream pipelines are not run locally"),
    ("services", "service containers are not implemented; a job would run without its services"),
    ("secrets", "external secrets (Vault, cloud managers) are not available locally"),
    ("id_tokens", "OIDC tokens are issued only by GitLab"),
    ("identity", "cloud identity federation is GitLab's"),
    ("release", "releases are created through GitLab's API"),
    ("hooks", "runner hooks are not implemented"),
    ("run", "CI steps (`run:`) are not implemented"),
    ("dast_configuration", "DAST profiles live in GitLab"),
    ("start_in", "delayed jobs are not implemented"),
    ("when:delayed", "delayed jobs are not implemented"),
    ("image:entrypoint", "the docker server runs images with their own entrypoint"),
    ("image:docker", "per-job docker platform/user options are not implemented"),
    ("image:kubernetes", "Kubernetes options do not apply"),
    ("artifacts:untracked", "untracked-file artifacts are not implemented"),
    ("artifacts:access", "artifact access control is GitLab's"),
    ("rules:needs", "needs inside rules are not implemented"),
    ("only:kubernetes", "Kubernetes conditions do not apply"),
    ("except:kubernetes", "Kubernetes conditions do not apply"),
];

/// Keywords accepted and ignored (a warning in the plan), because ignoring
/// them cannot change what a job's script does locally.
pub const IGNORED: &[(&str, &str)] = &[
    ("environment", "no deployment is recorded; the job still runs"),
    ("resource_group", "local jobs are not serialised across pipelines"),
    ("pages", "nothing is published"),
    ("coverage", "no coverage value is extracted from the log"),
    ("cache", "jobs run without a cache: slower, same result"),
    ("tags", "there is one local executor"),
    ("interruptible", "runs are not auto-cancelled"),
    ("artifacts:reports", "reports are not collected"),
    ("image:pull_policy", "the docker server never pulls: images must exist locally"),
    ("manual_confirmation", "manual jobs are played by naming them"),
    ("workflow:name", "pipeline names are not shown"),
    ("workflow:auto_cancel", "runs are not auto-cancelled"),
    ("rules:interruptible", "runs are not auto-cancelled"),
];

/// The reason a refused keyword is refused, if it is.
pub fn refused(keyword: &str) -> Option<&'static str> {
    REFUSED.iter().find(|(k, _)| *k == keyword).map(|(_, why)| *why)
}

/// The reason an ignored keyword is ignored, if it is.
pub fn ignored(keyword: &str) -> Option<&'static str> {
    IGNORED.iter().find(|(k, _)| *k == keyword).map(|(_, why)| *why)
}

/// The default stages when a file declares none.
pub const DEFAULT_STAGES: &[&str] = &["build", "test", "deploy"];

/// One variable definition as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VarDef {
    /// The value (numbers and booleans as their text).
    pub value: String,
    /// `$VAR` references are expanded (false with `expand: false`).
    pub expand: bool,
}

/// Variables in file order.
pub type Vars = Vec<(String, VarDef)>;

/// When a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// When every earlier job succeeded (or failed with `allow_failure`).
    OnSuccess,
    /// When an earlier job failed.
    OnFailure,
    /// Whatever happened before.
    Always,
    /// Only when played (named in `jobs` of `ci_run_local`).
    Manual,
    /// Not added to the pipeline.
    Never,
}

impl When {
    /// Parse the keyword's value.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "on_success" => Ok(Self::OnSuccess),
            "on_failure" => Ok(Self::OnFailure),
            "always" => Ok(Self::Always),
            "manual" => Ok(Self::Manual),
            "never" => Ok(Self::Never),
            "delayed" => Err(format!("when: delayed is refused: {}", REFUSED_DELAYED)),
            other => Err(format!("unknown when value {other:?} (on_success, on_failure, always, manual, never)")),
        }
    }

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnSuccess => "on_success",
            Self::OnFailure => "on_failure",
            Self::Always => "always",
            Self::Manual => "manual",
            Self::Never => "never",
        }
    }
}

const REFUSED_DELAYED: &str = "delayed jobs are not implemented";

/// `allow_failure`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AllowFailure {
    /// Failure is allowed (for every exit code when `exit_codes` is empty).
    pub allowed: bool,
    /// Only these exit codes are allowed failures.
    pub exit_codes: Vec<i64>,
}

impl AllowFailure {
    /// Is a failure with this exit code allowed?
    pub fn allows(&self, exit_code: Option<i64>) -> bool {
        if !self.allowed {
            return false;
        }
        if self.exit_codes.is_empty() {
            return true;
        }
        exit_code.is_some_and(|c| self.exit_codes.contains(&c))
    }
}

/// `rules: changes`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Changes {
    /// Globs.
    pub paths: Vec<String>,
    /// The ref to compare with (`compare_to`).
    pub compare_to: Option<String>,
}

/// One `rules:` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Rule {
    /// `if:` expression.
    #[serde(rename = "if")]
    pub if_: Option<String>,
    /// `changes:`.
    pub changes: Option<Changes>,
    /// `exists:` globs.
    pub exists: Option<Vec<String>>,
    /// `when:`.
    pub when: Option<When>,
    /// `allow_failure:`.
    pub allow_failure: Option<bool>,
    /// `variables:`.
    pub variables: Vars,
}

/// `only:` / `except:`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Filter {
    /// Ref names, `/regex/`, or the keywords `branches`, `tags`, `api`,
    /// `pipelines`, `pushes`, `schedules`, `triggers`, `web`,
    /// `merge_requests`, `external`, `chats`, `external_pull_requests`.
    pub refs: Option<Vec<String>>,
    /// Expressions; one true is enough.
    pub variables: Option<Vec<String>>,
    /// Globs.
    pub changes: Option<Vec<String>>,
}

/// One `needs:` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The job.
    pub job: String,
    /// Its artifacts are restored (default true).
    pub artifacts: bool,
    /// Not an error when the job is not in the pipeline.
    pub optional: bool,
}

/// When artifacts are uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactsWhen {
    /// Only when the job succeeds (the default).
    #[default]
    OnSuccess,
    /// Only when it fails.
    OnFailure,
    /// Either way.
    Always,
}

/// `artifacts:`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Artifacts {
    /// Globs (a directory means its whole tree), relative to the project.
    pub paths: Vec<String>,
    /// Globs left out.
    pub exclude: Vec<String>,
    /// When to keep them.
    pub when: ArtifactsWhen,
}

/// `retry:`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Retry {
    /// Extra attempts (0–2).
    pub max: u32,
    /// Failure kinds retried (`always`, `script_failure`, `runner_system_failure`, …); empty = all.
    pub when: Vec<String>,
    /// Only these exit codes are retried (empty = all).
    pub exit_codes: Vec<i64>,
}

/// `parallel:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Parallel {
    /// `parallel: N`: N copies `name 1/N` … `name N/N`.
    Count(u32),
    /// `parallel: matrix`: one job per combination, `name: [a, b]`.
    Matrix(Vec<Vec<(String, String)>>),
}

/// A job (hidden jobs are not in the pipeline model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// Its stage.
    pub stage: String,
    /// Its image (`None`: the configured default image).
    pub image: Option<String>,
    /// Commands before `script`, in the same shell.
    pub before_script: Vec<String>,
    /// The commands.
    pub script: Vec<String>,
    /// Commands run afterwards in a separate container, whatever happened.
    pub after_script: Vec<String>,
    /// Job variables (with `inherit` applied to the global ones by the planner).
    pub variables: Vars,
    /// `rules:` (exclusive with only/except).
    pub rules: Option<Vec<Rule>>,
    /// `only:`.
    pub only: Option<Filter>,
    /// `except:`.
    pub except: Option<Filter>,
    /// `when:` (None: not set).
    pub when: Option<When>,
    /// `allow_failure:` (None: not set).
    pub allow_failure: Option<AllowFailure>,
    /// `needs:` (None: stage order).
    pub needs: Option<Vec<Need>>,
    /// `dependencies:` (whose artifacts are restored without needs).
    pub dependencies: Option<Vec<String>>,
    /// `artifacts:`.
    pub artifacts: Option<Artifacts>,
    /// `timeout:`.
    pub timeout: Option<Duration>,
    /// `retry:`.
    pub retry: Retry,
    /// `parallel:`.
    pub parallel: Option<Parallel>,
    /// Global variables inherited: all (`None`), none (`Some([])`) or these.
    pub inherit_variables: Option<Vec<String>>,
}

/// A parsed pipeline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pipeline {
    /// Stages in order, `.pre` first and `.post` last.
    pub stages: Vec<String>,
    /// Global variables.
    pub variables: Vars,
    /// `workflow: rules`.
    pub workflow: Option<Vec<Rule>>,
    /// Visible jobs in file order.
    pub jobs: Vec<Job>,
    /// Files read (the main file first, then includes).
    pub files: Vec<String>,
    /// Ignored keywords used, and other remarks.
    pub warnings: Vec<String>,
}
