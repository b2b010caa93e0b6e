//! From a parsed [`Pipeline`] and the facts of one run (ref, source,
//! variables, files) to the jobs that would run: `workflow:rules`, each
//! job's `rules` or `only`/`except`, `when`, `allow_failure`, `parallel`
//! expansion, the `needs` DAG (unknown jobs, jobs left out by rules,
//! later-stage needs and cycles are errors), the jobs whose artifacts each
//! job receives, and every job's variables in GitLab's precedence:
//! predefined `CI_*` < global < job < matching rule < `parallel` < the
//! caller's, each expanded (`$VAR`, `${VAR}`; `expand: false` kept raw).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{AllowFailure, Artifacts, Job, Parallel, Pipeline, Retry, VarDef, When};
use super::rules::{self, Facts, expand};

/// Files changed against a ref (for `changes: compare_to`).
pub type Compare = Box<dyn Fn(&str) -> Result<Vec<String>, String> + Send + Sync>;

/// A job's `needs` and `dependencies` as written.
type Wanted = (Option<Vec<super::model::Need>>, Option<Vec<String>>);

/// The facts a plan is made for.
pub struct Context {
    /// Branch or tag name.
    pub ref_name: String,
    /// The ref is a tag.
    pub is_tag: bool,
    /// The commit.
    pub sha: String,
    /// `CI_PIPELINE_SOURCE` (`push`, `web`, `schedule`, `merge_request_event`…).
    pub source: String,
    /// `CI_DEFAULT_BRANCH`.
    pub default_branch: String,
    /// `CI_PROJECT_NAME`.
    pub project_name: String,
    /// `CI_PROJECT_DIR` (inside the job container).
    pub project_dir: String,
    /// Caller-supplied variables (highest precedence).
    pub variables: Vec<(String, String)>,
    /// Tracked files.
    pub files: Vec<String>,
    /// Files changed against the base; `None`: no base, every file counts as changed.
    pub changed: Option<Vec<String>>,
    /// Files changed against another ref, for `changes: compare_to`.
    pub compare: Compare,
    /// Run only these jobs (and what they need); manual ones among them are played.
    pub selected: Option<Vec<String>>,
    /// The image of jobs without one.
    pub default_image: String,
    /// The time limit of jobs without `timeout:`.
    pub default_timeout: Duration,
    /// No job runs longer.
    pub max_timeout: Duration,
}

/// What happens to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// It runs (when its `when` is met).
    Run,
    /// It waits to be played (`when: manual`).
    Manual,
    /// In the pipeline but not run (not selected).
    Skipped,
    /// Not in the pipeline (its rules, `only`/`except`, or `when: never`).
    Excluded,
}

/// One job of a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlannedJob {
    /// Job name (`name 1/3`, `name: [a, b]` for parallel jobs).
    pub name: String,
    /// Stage.
    pub stage: String,
    /// `run`, `manual`, `skipped` (in the pipeline, not selected) or `excluded` (not in the pipeline).
    pub disposition: Disposition,
    /// Why it is manual, skipped or excluded, or which rule added it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `on_success`, `on_failure`, `always`, `manual` or `never`.
    pub when: String,
    /// A failure does not fail the pipeline.
    pub allow_failure: bool,
    /// Jobs it needs (absent: it waits for every earlier stage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<String>>,
    /// Jobs whose artifacts it receives.
    pub artifacts_from: Vec<String>,
    /// Image.
    pub image: String,
    /// Time limit, seconds.
    pub timeout_secs: u64,
    /// Its variables from the file, the rules and the caller (secret-looking values masked).
    pub variables: BTreeMap<String, String>,
    /// Everything the runner needs that the caller does not see.
    #[serde(skip)]
    pub spec: JobSpec,
}

/// What the runner needs of a job.
#[derive(Debug, Clone, Default)]
pub struct JobSpec {
    /// Stage position.
    pub stage_index: usize,
    /// `when`.
    pub when: Option<When>,
    /// `allow_failure`.
    pub allow_failure: AllowFailure,
    /// The environment (every variable, expanded).
    pub env: BTreeMap<String, String>,
    /// Commands.
    pub before_script: Vec<String>,
    /// Commands.
    pub script: Vec<String>,
    /// Commands.
    pub after_script: Vec<String>,
    /// Artifacts to keep (paths expanded).
    pub artifacts: Option<Artifacts>,
    /// Time limit.
    pub timeout: Duration,
    /// Retries.
    pub retry: Retry,
    /// Played manual job.
    pub played: bool,
}

/// A plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Plan {
    /// Ref.
    pub ref_name: String,
    /// Commit.
    pub sha: String,
    /// Pipeline source.
    pub source: String,
    /// False when `workflow:rules` prevent the pipeline.
    pub created: bool,
    /// Why the pipeline is not created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_reason: Option<String>,
    /// Stages in order (only those with jobs in the pipeline).
    pub stages: Vec<String>,
    /// Jobs in stage order, then file order.
    pub jobs: Vec<PlannedJob>,
    /// Ignored keywords used, and other remarks.
    pub warnings: Vec<String>,
}

/// A variable name whose value is masked in logs and results.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PRIVATE", "CREDENTIAL", "API_KEY", "ACCESS_KEY", "AUTH"]
        .iter()
        .any(|w| n.contains(w))
        || n.ends_with("_KEY")
        || n == "KEY"
}

/// Resolve layered definitions: later layers win; expandable values are
/// expanded against the result (recursively; a cycle expands to empty).
pub fn resolve_vars(layers: &[(String, VarDef)]) -> BTreeMap<String, String> {
    let mut defs: HashMap<&str, &VarDef> = HashMap::new();
    for (k, v) in layers {
        defs.insert(k.as_str(), v);
    }
    fn go(
        name: &str,
        defs: &HashMap<&str, &VarDef>,
        done: &mut HashMap<String, String>,
        visiting: &mut HashSet<String>,
    ) -> String {
        if let Some(v) = done.get(name) {
            return v.clone();
        }
        let Some(d) = defs.get(name) else { return String::new() };
        if !d.expand || !d.value.contains('$') {
            done.insert(name.to_owned(), d.value.clone());
            return d.value.clone();
        }
        if !visiting.insert(name.to_owned()) {
            return String::new();
        }
        // The names this value refers to, resolved first.
        let mut local: HashMap<String, String> = HashMap::new();
        for r in references(&d.value) {
            let v = go(&r, defs, done, visiting);
            local.insert(r, v);
        }
        visiting.remove(name);
        let v = expand(&d.value, &local);
        done.insert(name.to_owned(), v.clone());
        v
    }
    let mut done = HashMap::new();
    let mut out = BTreeMap::new();
    for k in defs.keys() {
        let v = go(k, &defs, &mut done, &mut HashSet::new());
        out.insert((*k).to_owned(), v);
    }
    out
}

/// Variable names a value refers to.
fn references(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            if b.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            let (start, braced) = if b.get(i + 1) == Some(&b'{') { (i + 2, true) } else { (i + 1, false) };
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && !b[start].is_ascii_digit() {
                out.push(s[start..j].to_owned());
            }
            i = if braced { j + 1 } else { j.max(i + 1) };
            continue;
        }
        i += 1;
    }
    out
}

fn lit(v: &str) -> VarDef {
    VarDef { value: v.to_owned(), expand: false }
}

fn slug(s: &str) -> String {
    let mut out: String =
        s.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    out.truncate(63);
    out.trim_matches('-').to_owned()
}

/// The pipeline-wide predefined variables.
pub fn predefined(c: &Context) -> Vec<(String, VarDef)> {
    let mut v = vec![
        ("CI".to_owned(), lit("true")),
        ("GITLAB_CI".to_owned(), lit("true")),
        ("CI_SERVER".to_owned(), lit("yes")),
        ("CI_COMMIT_REF_NAME".to_owned(), lit(&c.ref_name)),
        ("CI_COMMIT_REF_SLUG".to_owned(), lit(&slug(&c.ref_name))),
        ("CI_COMMIT_SHA".to_owned(), lit(&c.sha)),
        ("CI_COMMIT_SHORT_SHA".to_owned(), lit(&c.sha.chars().take(8).collect::<String>())),
        ("CI_PIPELINE_SOURCE".to_owned(), lit(&c.source)),
        ("CI_PROJECT_DIR".to_owned(), lit(&c.project_dir)),
        ("CI_PROJECT_NAME".to_owned(), lit(&c.project_name)),
        ("CI_PROJECT_PATH".to_owned(), lit(&c.project_name)),
        ("CI_DEFAULT_BRANCH".to_owned(), lit(&c.default_branch)),
        ("CI_BUILDS_DIR".to_owned(), lit("/builds")),
    ];
    if c.is_tag {
        v.push(("CI_COMMIT_TAG".to_owned(), lit(&c.ref_name)));
    } else {
        v.push(("CI_COMMIT_BRANCH".to_owned(), lit(&c.ref_name)));
    }
    v
}

/// One instance of a (possibly parallel) job.
struct Instance {
    name: String,
    extra: Vec<(String, VarDef)>,
}

fn instances(job: &Job) -> Vec<Instance> {
    match &job.parallel {
        None => vec![Instance { name: job.name.clone(), extra: Vec::new() }],
        Some(Parallel::Count(n)) => (1..=*n)
            .map(|i| Instance {
                name: format!("{} {i}/{n}", job.name),
                extra: vec![
                    ("CI_NODE_INDEX".to_owned(), lit(&i.to_string())),
                    ("CI_NODE_TOTAL".to_owned(), lit(&n.to_string())),
                ],
            })
            .collect(),
        Some(Parallel::Matrix(combos)) => combos
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut extra: Vec<(String, VarDef)> =
                    c.iter().map(|(k, v)| (k.clone(), VarDef { value: v.clone(), expand: true })).collect();
                extra.push(("CI_NODE_INDEX".to_owned(), lit(&(i + 1).to_string())));
                extra.push(("CI_NODE_TOTAL".to_owned(), lit(&combos.len().to_string())));
                let values: Vec<&str> = c.iter().map(|(_, v)| v.as_str()).collect();
                Instance { name: format!("{}: [{}]", job.name, values.join(", ")), extra }
            })
            .collect(),
    }
}

/// Static checks of `needs` and `dependencies` over every job of the file
/// (as if every job were in the pipeline): unknown jobs, later stages, cycles.
pub fn check_needs(p: &Pipeline) -> Vec<String> {
    let stage_of: HashMap<&str, usize> =
        p.jobs.iter().map(|j| (j.name.as_str(), p.stages.iter().position(|s| *s == j.stage).unwrap_or(0))).collect();
    let mut errors = Vec::new();
    for j in &p.jobs {
        let mine = stage_of.get(j.name.as_str()).copied().unwrap_or(0);
        for n in j.needs.iter().flatten() {
            match stage_of.get(n.job.as_str()) {
                None if n.optional => {}
                None => errors.push(format!("job {} needs unknown job {:?}", j.name, n.job)),
                Some(&s) if s > mine => errors.push(format!(
                    "job {} (stage {}) needs {:?}, which is in the later stage {}",
                    j.name, j.stage, n.job, p.stages[s]
                )),
                Some(_) => {}
            }
        }
        for d in j.dependencies.iter().flatten() {
            match stage_of.get(d.as_str()) {
                None => errors.push(format!("job {} depends on unknown job {d:?}", j.name)),
                Some(&s) if s >= mine && j.needs.is_none() => errors.push(format!(
                    "job {} (stage {}) has dependency {d:?}, which is not in an earlier stage",
                    j.name, j.stage
                )),
                Some(_) => {}
            }
        }
    }
    let graph: HashMap<&str, Vec<&str>> =
        p.jobs.iter().map(|j| (j.name.as_str(), j.needs.iter().flatten().map(|n| n.job.as_str()).collect())).collect();
    if let Some(cycle) = find_cycle(&graph) {
        errors.push(format!("needs form a cycle: {}", cycle.join(" -> ")));
    }
    errors
}

fn find_cycle(graph: &HashMap<&str, Vec<&str>>) -> Option<Vec<String>> {
    let mut names: Vec<&str> = graph.keys().copied().collect();
    names.sort_unstable();
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn dfs<'a>(
        n: &'a str,
        g: &HashMap<&'a str, Vec<&'a str>>,
        state: &mut HashMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(n, 1);
        path.push(n);
        for &m in g.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let from = path.iter().position(|x| *x == m).unwrap_or(0);
                    let mut c: Vec<String> = path[from..].iter().map(|s| (*s).to_owned()).collect();
                    c.push(m.to_owned());
                    return Some(c);
                }
                0 if g.contains_key(m) => {
                    if let Some(c) = dfs(m, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n, 2);
        None
    }
    for n in names {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = dfs(n, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Make the plan; `Err` for what GitLab would refuse to create (needs
/// errors, bad expressions).
pub fn plan(p: &Pipeline, c: &Context) -> Result<Plan, String> {
    let static_errors = check_needs(p);
    if !static_errors.is_empty() {
        return Err(static_errors.join("; "));
    }
    let pre = predefined(c);
    let caller: Vec<(String, VarDef)> =
        c.variables.iter().map(|(k, v)| (k.clone(), VarDef { value: v.clone(), expand: true })).collect();
    let all_files = c.files.clone();
    let changed = c.changed.clone().unwrap_or_else(|| all_files.clone());
    let mut warnings = p.warnings.clone();

    // workflow:rules see the predefined, global and caller variables.
    let mut workflow_vars: Vec<(String, VarDef)> = Vec::new();
    let mut workflow_reason = None;
    if let Some(wr) = &p.workflow {
        let layers: Vec<(String, VarDef)> =
            pre.iter().chain(p.variables.iter()).chain(caller.iter()).cloned().collect();
        let vars: HashMap<String, String> = resolve_vars(&layers).into_iter().collect();
        let facts = Facts {
            vars: &vars,
            ref_name: &c.ref_name,
            is_tag: c.is_tag,
            source: &c.source,
            changed: &changed,
            files: &all_files,
            compare: &c.compare,
        };
        match rules::evaluate(wr, &facts).map_err(|e| format!("workflow: {e}"))? {
            Some(o) if o.when == Some(When::Never) => {
                workflow_reason = Some(format!("workflow rule {} says when: never", o.index + 1))
            }
            Some(o) => workflow_vars = o.variables,
            None => workflow_reason = Some("no workflow rule matches".to_owned()),
        }
    }

    let mut jobs: Vec<PlannedJob> = Vec::new();
    // Instance names per job name, for needs.
    let mut by_base: HashMap<String, Vec<String>> = HashMap::new();
    // Needs as written, per instance.
    let mut wanted: HashMap<String, Wanted> = HashMap::new();
    for job in &p.jobs {
        let stage_index = p.stages.iter().position(|s| *s == job.stage).unwrap_or(0);
        for inst in instances(job) {
            by_base.entry(job.name.clone()).or_default().push(inst.name.clone());
            let mut job_pre = pre.clone();
            job_pre.push(("CI_JOB_NAME".to_owned(), lit(&inst.name)));
            job_pre.push(("CI_JOB_NAME_SLUG".to_owned(), lit(&slug(&inst.name))));
            job_pre.push(("CI_JOB_STAGE".to_owned(), lit(&job.stage)));
            let globals: Vec<(String, VarDef)> = p
                .variables
                .iter()
                .filter(|(k, _)| job.inherit_variables.as_ref().is_none_or(|l| l.contains(k)))
                .cloned()
                .collect();
            let base: Vec<(String, VarDef)> = job_pre
                .iter()
                .chain(globals.iter())
                .chain(workflow_vars.iter())
                .chain(job.variables.iter())
                .chain(inst.extra.iter())
                .chain(caller.iter())
                .cloned()
                .collect();
            let vars: HashMap<String, String> = resolve_vars(&base).into_iter().collect();
            let facts = Facts {
                vars: &vars,
                ref_name: &c.ref_name,
                is_tag: c.is_tag,
                source: &c.source,
                changed: &changed,
                files: &all_files,
                compare: &c.compare,
            };
            let ctx = format!("job {}", inst.name);
            let mut rule_vars = Vec::new();
            let (when, allow, reason, excluded): (When, AllowFailure, Option<String>, bool) = match &job.rules {
                Some(rs) => match rules::evaluate(rs, &facts).map_err(|e| format!("{ctx}: {e}"))? {
                    None => (When::Never, AllowFailure::default(), Some("no rule matches".to_owned()), true),
                    Some(o) => {
                        rule_vars = o.variables.clone();
                        let when = o.when.or(job.when).unwrap_or(When::OnSuccess);
                        let allow = match (o.allow_failure, &job.allow_failure) {
                            (Some(b), jf) => AllowFailure {
                                allowed: b,
                                exit_codes: jf.as_ref().map(|a| a.exit_codes.clone()).unwrap_or_default(),
                            },
                            (None, Some(a)) => a.clone(),
                            (None, None) => AllowFailure::default(),
                        };
                        let why = format!("rule {} matches", o.index + 1);
                        (when, allow, Some(why), when == When::Never)
                    }
                },
                None => {
                    let out = rules::only_except(job.only.as_ref(), job.except.as_ref(), &facts)
                        .map_err(|e| format!("{ctx}: {e}"))?;
                    let when = job.when.unwrap_or(When::OnSuccess);
                    // A manual job outside rules may fail by default (GitLab's rule).
                    let allow = job
                        .allow_failure
                        .clone()
                        .unwrap_or(AllowFailure { allowed: when == When::Manual, exit_codes: Vec::new() });
                    let excluded = out.is_some() || when == When::Never;
                    let reason = out.or_else(|| (when == When::Never).then(|| "when: never".to_owned()));
                    (when, allow, reason, excluded)
                }
            };
            let layers: Vec<(String, VarDef)> = job_pre
                .iter()
                .chain(globals.iter())
                .chain(workflow_vars.iter())
                .chain(job.variables.iter())
                .chain(rule_vars.iter())
                .chain(inst.extra.iter())
                .chain(caller.iter())
                .cloned()
                .collect();
            let env = resolve_vars(&layers);
            let shown: BTreeMap<String, String> = job
                .variables
                .iter()
                .chain(globals.iter())
                .chain(workflow_vars.iter())
                .chain(rule_vars.iter())
                .chain(inst.extra.iter())
                .chain(caller.iter())
                .map(|(k, _)| {
                    let v = env.get(k).cloned().unwrap_or_default();
                    (k.clone(), if looks_secret(k) { "[MASKED]".to_owned() } else { v })
                })
                .collect();
            let envh: HashMap<String, String> = env.clone().into_iter().collect();
            let image = job.image.as_deref().map(|i| expand(i, &envh)).unwrap_or_else(|| c.default_image.clone());
            let timeout = job.timeout.unwrap_or(c.default_timeout).min(c.max_timeout);
            let artifacts = job.artifacts.clone().map(|mut a| {
                a.paths = a.paths.iter().map(|x| expand(x, &envh)).collect();
                a.exclude = a.exclude.iter().map(|x| expand(x, &envh)).collect();
                a
            });
            let disposition = if excluded {
                Disposition::Excluded
            } else if when == When::Manual {
                Disposition::Manual
            } else {
                Disposition::Run
            };
            wanted.insert(inst.name.clone(), (job.needs.clone(), job.dependencies.clone()));
            jobs.push(PlannedJob {
                name: inst.name,
                stage: job.stage.clone(),
                disposition,
                reason: match disposition {
                    Disposition::Excluded => reason,
                    Disposition::Manual => Some("when: manual; name it in `jobs` to play it".to_owned()),
                    _ => reason.filter(|_| job.rules.is_some()),
                },
                when: when.as_str().to_owned(),
                allow_failure: allow.allowed,
                needs: None,
                artifacts_from: Vec::new(),
                image,
                timeout_secs: timeout.as_secs(),
                variables: shown,
                spec: JobSpec {
                    stage_index,
                    when: Some(when),
                    allow_failure: allow,
                    env,
                    before_script: job.before_script.clone(),
                    script: job.script.clone(),
                    after_script: job.after_script.clone(),
                    artifacts,
                    timeout,
                    retry: job.retry.clone(),
                    played: false,
                },
            });
        }
    }

    if let Some(why) = &workflow_reason {
        for j in &mut jobs {
            j.disposition = Disposition::Excluded;
            j.reason = Some(format!("the pipeline is not created: {why}"));
        }
    }

    // Needs and artifact sources among the jobs in the pipeline.
    let present: HashMap<String, usize> = jobs
        .iter()
        .filter(|j| j.disposition != Disposition::Excluded)
        .map(|j| (j.name.clone(), j.spec.stage_index))
        .collect();
    let resolve = |name: &str| -> Vec<String> {
        by_base
            .get(name)
            .cloned()
            .unwrap_or_else(|| if present.contains_key(name) { vec![name.to_owned()] } else { Vec::new() })
            .into_iter()
            .filter(|n| present.contains_key(n))
            .collect()
    };
    let mut errors = Vec::new();
    for j in jobs.iter_mut().filter(|j| j.disposition != Disposition::Excluded) {
        let (needs, deps) = wanted.get(&j.name).cloned().unwrap_or((None, None));
        let earlier: Vec<String> = {
            let mut v: Vec<(usize, String)> =
                present.iter().filter(|(_, s)| **s < j.spec.stage_index).map(|(n, s)| (*s, n.clone())).collect();
            v.sort();
            v.into_iter().map(|(_, n)| n).collect()
        };
        match needs {
            Some(ns) => {
                let mut names = Vec::new();
                let mut sources = Vec::new();
                for n in ns {
                    let found = resolve(&n.job);
                    if found.is_empty() && !n.optional {
                        errors.push(format!(
                            "job {} needs {:?}, which is not in this pipeline (its rules or only/except leave it out); \
                             mark the need `optional: true` or change the rules",
                            j.name, n.job
                        ));
                    }
                    for f in found {
                        if n.artifacts && deps.as_ref().is_none_or(|d| d.contains(&n.job) || d.contains(&f)) {
                            sources.push(f.clone());
                        }
                        names.push(f);
                    }
                }
                j.needs = Some(names);
                j.artifacts_from = sources;
            }
            None => {
                j.artifacts_from = match deps {
                    Some(ds) => ds.iter().flat_map(|d| resolve(d)).collect(),
                    None => earlier,
                };
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    // Cycles among instances cannot appear unless the names did; checked above.

    // Selection: the named jobs and, transitively, what they need.
    if let Some(sel) = &c.selected {
        let mut chosen: HashSet<String> = HashSet::new();
        let mut queue: Vec<String> = Vec::new();
        for s in sel {
            let found = resolve(s);
            if found.is_empty() {
                return Err(format!("job {s:?} is not in this pipeline"));
            }
            queue.extend(found);
        }
        let explicit: HashSet<String> = queue.iter().cloned().collect();
        while let Some(n) = queue.pop() {
            if chosen.insert(n.clone())
                && let Some(j) = jobs.iter().find(|j| j.name == n)
            {
                queue.extend(j.needs.iter().flatten().cloned());
            }
        }
        for j in jobs.iter_mut().filter(|j| j.disposition != Disposition::Excluded) {
            if !chosen.contains(&j.name) {
                j.disposition = Disposition::Skipped;
                j.reason = Some("not selected".to_owned());
            } else if j.disposition == Disposition::Manual && explicit.contains(&j.name) {
                j.disposition = Disposition::Run;
                j.spec.played = true;
                j.reason = Some("manual job played (selected)".to_owned());
            }
        }
    }

    jobs.sort_by_key(|j| j.spec.stage_index);
    let mut stages: Vec<String> = Vec::new();
    for j in jobs.iter().filter(|j| j.disposition != Disposition::Excluded) {
        if !stages.contains(&j.stage) {
            stages.push(j.stage.clone());
        }
    }
    warnings.dedup();
    Ok(Plan {
        ref_name: c.ref_name.clone(),
        sha: c.sha.clone(),
        source: c.source.clone(),
        created: workflow_reason.is_none(),
        workflow_reason,
        stages,
        jobs,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(v: &[(&str, &str)]) -> Vec<(String, VarDef)> {
        v.iter().map(|(k, x)| ((*k).to_owned(), VarDef { value: (*x).to_owned(), expand: true })).collect()
    }

    #[test]
    fn variable_layers() {
        let r = resolve_vars(&defs(&[("A", "a"), ("B", "$A-b"), ("A", "A2"), ("C", "${B}/$NOPE"), ("L", "$L")]));
        assert_eq!(r["A"], "A2");
        assert_eq!(r["B"], "A2-b");
        assert_eq!(r["C"], "A2-b/");
        assert_eq!(r["L"], "");
        let mut raw = defs(&[("A", "x")]);
        raw.push(("R".into(), VarDef { value: "$A".into(), expand: false }));
        assert_eq!(resolve_vars(&raw)["R"], "$A");
    }

    #[test]
    fn secrets() {
        assert!(looks_secret("DEPLOY_TOKEN"));
        assert!(looks_secret("db_password"));
        assert!(looks_secret("SSH_KEY"));
        assert!(!looks_secret("STAGE"));
    }
}
