//! Executing a [`Plan`]: the run directory, the scheduler, one container
//! run per job through the docker server, artifacts, logs and the run's
//! record.
//!
//! Layout of a run, under `GITLAB_CI_WORK_DIR/<run_id>/`:
//! `project/` (the repository's git-tracked files, copied once),
//! `jobs/<key>/` (each job's own copy of `project/` plus the artifacts it
//! receives, mounted writable at `/builds/<project>`; removed after the job),
//! `artifacts/<key>/` (what the job's `artifacts: paths` kept),
//! `logs/<key>.log` (the masked log with section markers) and `run.json`
//! (the record, rewritten on every change, so a restarted server can still
//! show a finished run). Each job gets its own copy because jobs of one
//! stage run at the same time and would otherwise race on one tree.
//!
//! A job's scheduling follows GitLab: it waits for the jobs it `needs`, or
//! for every job of the earlier stages; `on_success` runs when none of them
//! failed (allowed failures do not count), `on_failure` when one did,
//! `always` regardless; a job skipped because something before it failed
//! counts as failed for the jobs after it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_core::client::Peer;
use mcp_types::docker::{ContainerRun, ContainerRunArgs, Mount};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};

use super::model::{ArtifactsWhen, When};
use super::plan::{Disposition, Plan, PlannedJob, looks_secret};

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for the jobs before it.
    Created,
    /// Ready, waiting for a free slot.
    Pending,
    /// In its container.
    Running,
    /// Exited 0.
    Success,
    /// Failed (exit code, time limit, or the container could not run).
    Failed,
    /// Not run (see `reason`).
    Skipped,
    /// A manual job nobody played.
    Manual,
    /// Stopped (the server restarted during the run).
    Canceled,
}

impl JobStatus {
    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Created | Self::Pending | Self::Running)
    }
}

/// One job of a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct JobRecord {
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: String,
    /// Status.
    pub status: JobStatus,
    /// `when`.
    pub when: String,
    /// A failure does not fail the pipeline.
    pub allow_failure: bool,
    /// Why it was skipped, or why it failed without an exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The script's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Killed at its time limit.
    #[serde(default)]
    pub timed_out: bool,
    /// Image.
    pub image: String,
    /// Jobs it needs (absent: the earlier stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<String>>,
    /// Start (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// End (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Wall time, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Attempts made (retries included).
    #[serde(default)]
    pub attempts: u32,
    /// Artifact files kept (relative paths, at most 1000 listed).
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Its directory name under the run (logs, artifacts).
    pub key: String,
    /// Skipped because something it waited for failed (counts as a failure downstream).
    #[serde(default)]
    pub failed_upstream: bool,
}

/// A run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// Id.
    pub run_id: String,
    /// The project path as given.
    pub project: String,
    /// Ref.
    pub ref_name: String,
    /// Commit.
    pub sha: String,
    /// Pipeline source.
    pub source: String,
    /// `created`, `running`, then `success`, `success_with_warnings` (only
    /// allowed failures), `failed` or `canceled`.
    pub status: String,
    /// Start (RFC 3339).
    pub created_at: String,
    /// End (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Wall time, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Stages.
    pub stages: Vec<String>,
    /// Jobs in the pipeline, in stage order.
    pub jobs: Vec<JobRecord>,
    /// Warnings of the plan.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Why the run could not go on (work directory, copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunRecord {
    /// The pipeline's verdict from its jobs.
    pub fn verdict(&self) -> &'static str {
        let failed =
            |allowed: bool| self.jobs.iter().any(|j| j.status == JobStatus::Failed && j.allow_failure == allowed);
        if self.jobs.iter().any(|j| j.status == JobStatus::Canceled) {
            "canceled"
        } else if self.error.is_some() || failed(false) {
            "failed"
        } else if failed(true) {
            "success_with_warnings"
        } else {
            "success"
        }
    }

    /// Finished.
    pub fn is_final(&self) -> bool {
        !matches!(self.status.as_str(), "created" | "running")
    }
}

/// What the runner needs from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The canonical work directory.
    pub work_dir: PathBuf,
    /// `uid:gid` for job containers.
    pub user: Option<String>,
    /// The containers' network.
    pub network: Option<String>,
    /// Cap on one job's artifacts.
    pub max_artifact_bytes: u64,
    /// Finished runs kept on disk.
    pub keep_runs: usize,
}

/// A run in memory.
pub struct RunHandle {
    record: Mutex<RunRecord>,
    done: watch::Sender<bool>,
    dir: PathBuf,
}

impl RunHandle {
    /// A copy of the record.
    pub fn snapshot(&self) -> Option<RunRecord> {
        self.record.lock().ok().map(|r| r.clone())
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Wait until the run is final or `limit` passes.
    pub async fn wait(&self, limit: Duration) {
        let mut rx = self.done.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|d| *d)).await;
    }

    fn update(&self, f: impl FnOnce(&mut RunRecord)) {
        if let Ok(mut r) = self.record.lock() {
            f(&mut r);
            save(&self.dir, &r);
        }
    }
}

fn save(dir: &Path, r: &RunRecord) {
    let Ok(text) = serde_json::to_vec_pretty(r) else { return };
    let tmp = dir.join("run.json.tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join("run.json"));
    }
}

/// Every run the server knows.
pub struct Runs {
    settings: Settings,
    docker: Peer,
    slots: Arc<Semaphore>,
    runs: Mutex<BTreeMap<String, Arc<RunHandle>>>,
}

impl Runs {
    /// The table, with the finished runs found on disk (a run that was
    /// going on when the server stopped is marked canceled).
    pub fn new(settings: Settings, docker: Peer, max_parallel: usize) -> Self {
        let mut runs = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(&settings.work_dir) {
            for e in rd.flatten() {
                let dir = e.path();
                let Ok(text) = std::fs::read(dir.join("run.json")) else { continue };
                let Ok(mut r) = serde_json::from_slice::<RunRecord>(&text) else { continue };
                if !r.is_final() {
                    for j in r.jobs.iter_mut().filter(|j| !j.status.is_final()) {
                        j.status = JobStatus::Canceled;
                        j.reason = Some("the server stopped during the run".into());
                    }
                    r.status = "canceled".into();
                    save(&dir, &r);
                }
                let (done, _) = watch::channel(true);
                runs.insert(r.run_id.clone(), Arc::new(RunHandle { record: Mutex::new(r), done, dir }));
            }
        }
        Self { settings, docker, slots: Arc::new(Semaphore::new(max_parallel.max(1))), runs: Mutex::new(runs) }
    }

    /// A run by id.
    pub fn get(&self, id: &str) -> Option<Arc<RunHandle>> {
        self.runs.lock().ok()?.get(id).cloned()
    }

    /// Every run, oldest first.
    pub fn all(&self) -> Vec<Arc<RunHandle>> {
        self.runs.lock().map(|r| r.values().cloned().collect()).unwrap_or_default()
    }

    /// Start a run of `plan` over the tracked `files` of `repo` in the background.
    pub fn start(
        self: &Arc<Self>,
        project: &str,
        repo: &Path,
        project_name: &str,
        files: Vec<String>,
        plan: Plan,
    ) -> Result<String, String> {
        self.prune();
        let run_id = new_id();
        let dir = self.settings.work_dir.join(&run_id);
        // The work directory itself is private to the server; job directories below it are opened up.
        std::fs::create_dir_all(&self.settings.work_dir).map_err(|e| format!("work directory: {e}"))?;
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| format!("run directory: {e}"))?;
        std::fs::create_dir_all(dir.join("artifacts")).map_err(|e| format!("run directory: {e}"))?;
        let jobs: Vec<JobRecord> = plan
            .jobs
            .iter()
            .filter(|j| j.disposition != Disposition::Excluded)
            .enumerate()
            .map(|(i, j)| JobRecord {
                name: j.name.clone(),
                stage: j.stage.clone(),
                status: match j.disposition {
                    Disposition::Skipped => JobStatus::Skipped,
                    Disposition::Manual => JobStatus::Manual,
                    _ => JobStatus::Created,
                },
                when: j.when.clone(),
                allow_failure: j.allow_failure,
                reason: match j.disposition {
                    Disposition::Run => None,
                    _ => j.reason.clone(),
                },
                exit_code: None,
                timed_out: false,
                image: j.image.clone(),
                needs: j.needs.clone(),
                started_at: None,
                finished_at: None,
                duration_ms: None,
                attempts: 0,
                artifacts: Vec::new(),
                key: format!("{i:03}-{}", file_slug(&j.name)),
                failed_upstream: false,
            })
            .collect();
        let record = RunRecord {
            run_id: run_id.clone(),
            project: project.to_owned(),
            ref_name: plan.ref_name.clone(),
            sha: plan.sha.clone(),
            source: plan.source.clone(),
            status: "created".into(),
            created_at: mcp_core::clock::now_rfc3339(),
            finished_at: None,
            duration_ms: None,
            stages: plan.stages.clone(),
            jobs,
            warnings: plan.warnings.clone(),
            error: None,
        };
        save(&dir, &record);
        let (done, _) = watch::channel(false);
        let handle = Arc::new(RunHandle { record: Mutex::new(record), done, dir });
        if let Ok(mut r) = self.runs.lock() {
            r.insert(run_id.clone(), handle.clone());
        }
        let specs: Vec<PlannedJob> = plan.jobs.into_iter().filter(|j| j.disposition != Disposition::Excluded).collect();
        let me = self.clone();
        let repo = repo.to_owned();
        let project_name = project_name.to_owned();
        tokio::spawn(async move {
            let started = Instant::now();
            handle.update(|r| r.status = "running".into());
            let prepared = {
                let (repo, dir) = (repo.clone(), handle.dir.clone());
                tokio::task::spawn_blocking(move || copy_tracked(&repo, &files, &dir.join("project")))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r)
            };
            match prepared {
                Err(e) => handle.update(|r| {
                    r.error = Some(format!("could not copy the project: {e}"));
                    for j in r.jobs.iter_mut().filter(|j| !j.status.is_final()) {
                        j.status = JobStatus::Skipped;
                        j.reason = Some("the run could not start".into());
                    }
                }),
                Ok(()) => me.schedule(&handle, &specs, &project_name).await,
            }
            handle.update(|r| {
                r.status = r.verdict().into();
                r.finished_at = Some(mcp_core::clock::now_rfc3339());
                r.duration_ms = Some(started.elapsed().as_millis() as u64);
            });
            let _ = tokio::fs::remove_dir_all(handle.dir.join("project")).await;
            let _ = tokio::fs::remove_dir_all(handle.dir.join("jobs")).await;
            handle.done.send_replace(true);
        });
        Ok(run_id)
    }

    /// Drop the oldest finished runs beyond the configured number.
    fn prune(&self) {
        let Ok(mut runs) = self.runs.lock() else { return };
        let finished: Vec<String> =
            runs.iter().filter(|(_, h)| h.snapshot().is_some_and(|r| r.is_final())).map(|(k, _)| k.clone()).collect();
        let excess = finished.len().saturating_sub(self.settings.keep_runs.saturating_sub(1));
        for id in finished.into_iter().take(excess) {
            if let Some(h) = runs.remove(&id) {
                let _ = std::fs::remove_dir_all(&h.dir);
            }
        }
    }

    async fn schedule(self: &Arc<Self>, handle: &Arc<RunHandle>, specs: &[PlannedJob], project: &str) {
        let index: HashMap<&str, usize> = specs.iter().enumerate().map(|(i, j)| (j.name.as_str(), i)).collect();
        let preds: Vec<Vec<usize>> = specs
            .iter()
            .map(|j| match &j.needs {
                Some(ns) => ns.iter().filter_map(|n| index.get(n.as_str()).copied()).collect(),
                None => specs
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.spec.stage_index < j.spec.stage_index)
                    .map(|(i, _)| i)
                    .collect(),
            })
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let Some(snap) = handle.snapshot() else { return };
            let mut starts = Vec::new();
            let mut skips: Vec<(usize, String, bool)> = Vec::new();
            for (i, j) in snap.jobs.iter().enumerate() {
                if j.status != JobStatus::Created {
                    continue;
                }
                let ps: Vec<&JobRecord> = preds[i].iter().map(|&p| &snap.jobs[p]).collect();
                if ps.iter().any(|p| !p.status.is_final()) {
                    continue;
                }
                if let Some(b) = ps.iter().find(|p| p.status == JobStatus::Manual && !p.allow_failure) {
                    skips.push((i, format!("blocked by the manual job {} (not played)", b.name), false));
                    continue;
                }
                let failed = ps.iter().any(|p| {
                    (p.status == JobStatus::Failed && !p.allow_failure)
                        || p.status == JobStatus::Canceled
                        || p.failed_upstream
                });
                let spec = &specs[i].spec;
                let when = if spec.played { When::Always } else { spec.when.unwrap_or(When::OnSuccess) };
                match when {
                    When::OnSuccess if failed => {
                        skips.push((i, "a job it waits for failed".into(), true));
                    }
                    When::OnFailure if !failed => {
                        skips.push((i, "when: on_failure, and no job it waits for failed".into(), false));
                    }
                    _ => starts.push(i),
                }
            }
            if !skips.is_empty() || !starts.is_empty() {
                handle.update(|r| {
                    for (i, why, upstream) in &skips {
                        r.jobs[*i].status = JobStatus::Skipped;
                        r.jobs[*i].reason = Some(why.clone());
                        r.jobs[*i].failed_upstream = *upstream;
                    }
                    for &i in &starts {
                        r.jobs[i].status = JobStatus::Pending;
                    }
                });
            }
            for i in starts {
                let me = self.clone();
                let handle = handle.clone();
                let spec = specs[i].clone();
                let sources: Vec<String> = spec
                    .artifacts_from
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).map(|&k| snap.jobs[k].key.clone()))
                    .collect();
                let key = snap.jobs[i].key.clone();
                let project = project.to_owned();
                tasks.spawn(async move {
                    me.job(&handle, i, &spec, &key, &sources, &project).await;
                });
            }
            if !skips.is_empty() {
                continue;
            }
            if tasks.join_next().await.is_none() {
                // Nothing running and nothing could start: whatever is left waits forever.
                handle.update(|r| {
                    for j in r.jobs.iter_mut().filter(|j| !j.status.is_final()) {
                        j.status = JobStatus::Skipped;
                        j.reason = Some("its predecessors never finished".into());
                    }
                });
                return;
            }
        }
    }

    async fn job(&self, handle: &RunHandle, i: usize, spec: &PlannedJob, key: &str, sources: &[String], project: &str) {
        let Ok(_slot) = self.slots.clone().acquire_owned().await else { return };
        let started = Instant::now();
        handle.update(|r| {
            r.jobs[i].status = JobStatus::Running;
            r.jobs[i].started_at = Some(mcp_core::clock::now_rfc3339());
        });
        let log_path = handle.dir.join("logs").join(format!("{key}.log"));
        let secrets: Vec<String> =
            spec.spec.env.iter().filter(|(k, v)| looks_secret(k) && v.len() >= 4).map(|(_, v)| v.clone()).collect();
        let mut log = Log { text: String::new(), secrets, path: log_path };
        let outcome = self.job_inner(handle, spec, key, sources, project, &mut log).await;
        log.flush();
        let ms = started.elapsed().as_millis() as u64;
        handle.update(|r| {
            let j = &mut r.jobs[i];
            j.status = if outcome.success { JobStatus::Success } else { JobStatus::Failed };
            j.exit_code = outcome.exit_code;
            j.timed_out = outcome.timed_out;
            j.attempts = outcome.attempts;
            j.reason = outcome.reason.clone();
            j.artifacts = outcome.artifacts.clone();
            // An exit code outside `allow_failure: exit_codes` fails the pipeline.
            if !outcome.success {
                j.allow_failure = spec.spec.allow_failure.allows(outcome.exit_code);
            }
            j.finished_at = Some(mcp_core::clock::now_rfc3339());
            j.duration_ms = Some(ms);
        });
    }

    async fn job_inner(
        &self,
        handle: &RunHandle,
        spec: &PlannedJob,
        key: &str,
        sources: &[String],
        project: &str,
        log: &mut Log,
    ) -> Outcome {
        let s = &spec.spec;
        let job_dir = handle.dir.join("jobs").join(key);
        log.section("prepare", |l| {
            l.line(&format!(
                "Running job {} (stage {}) with the local runner of mcp-server-gitlab through mcp-server-docker",
                spec.name, spec.stage
            ));
            l.line(&format!("Using image {}", spec.image));
        });
        log.flush();
        let prep = {
            let (run_dir, job_dir, sources) = (handle.dir.clone(), job_dir.clone(), sources.to_vec());
            tokio::task::spawn_blocking(move || prepare_job_dir(&run_dir, &job_dir, &sources))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
        };
        match prep {
            Ok(restored) => {
                if !sources.is_empty() {
                    log.section("download_artifacts", |l| {
                        for (src, n) in &restored {
                            l.line(&format!("Restored {n} artifact file(s) of {}", src_name(src)));
                        }
                    });
                }
            }
            Err(e) => {
                log.line(&format!("ERROR: could not prepare the job's directory: {e}"));
                return Outcome::failed(format!("could not prepare the job's directory: {e}"));
            }
        }
        let target = format!("/builds/{project}");
        let mut env = s.env.clone();
        env.insert("CI_PROJECT_DIR".into(), target.clone());
        let mut outcome = Outcome::default();
        let script = shell_script(&s.before_script, &s.script);
        for attempt in 0..=s.retry.max {
            outcome.attempts = attempt + 1;
            if attempt > 0 {
                log.line(&format!("Retrying (attempt {} of {})", attempt + 1, s.retry.max + 1));
            }
            let args = self.args(spec, &job_dir, &target, &env, &script, s.timeout, key, attempt);
            let (ok, code, timed_out, system) = log.section_async("step_script", self.call(args)).await;
            outcome.exit_code = code;
            outcome.timed_out = timed_out;
            outcome.success = ok;
            outcome.reason = system
                .clone()
                .or_else(|| timed_out.then(|| format!("the job exceeded its time limit of {} s", s.timeout.as_secs())));
            if ok || !retryable(&s.retry, code, timed_out, system.is_some()) {
                break;
            }
        }
        if !s.after_script.is_empty() {
            let mut env = env.clone();
            env.insert("CI_JOB_STATUS".into(), if outcome.success { "success" } else { "failed" }.into());
            let script = shell_script(&[], &s.after_script);
            let args =
                self.args(spec, &job_dir, &target, &env, &script, Duration::from_secs(300), &format!("{key}-after"), 0);
            let (ok, code, _, _) = log.section_async("after_script", self.call(args)).await;
            if !ok {
                log.line(&format!(
                    "WARNING: after_script failed (exit code {}); the job's status is not changed",
                    code.map_or("none".into(), |c| c.to_string())
                ));
            }
        }
        if let Some(a) = &s.artifacts {
            let wanted = match a.when {
                ArtifactsWhen::OnSuccess => outcome.success,
                ArtifactsWhen::OnFailure => !outcome.success,
                ArtifactsWhen::Always => true,
            };
            if wanted && !a.paths.is_empty() {
                let (job_dir, dest, a, cap) = (
                    job_dir.clone(),
                    handle.dir.join("artifacts").join(key),
                    a.clone(),
                    self.settings.max_artifact_bytes,
                );
                let kept = tokio::task::spawn_blocking(move || collect_artifacts(&job_dir, &dest, &a, cap))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                let section =
                    if outcome.success { "upload_artifacts_on_success" } else { "upload_artifacts_on_failure" };
                log.section(section, |l| match &kept {
                    Ok((files, notes)) => {
                        for n in notes {
                            l.line(n);
                        }
                        l.line(&format!("Kept {} artifact file(s)", files.len()));
                    }
                    Err(e) => l.line(&format!("ERROR: artifacts: {e}")),
                });
                match kept {
                    Ok((files, _)) => outcome.artifacts = files.into_iter().take(1000).collect(),
                    Err(e) => {
                        outcome.success = false;
                        outcome.reason = Some(format!("artifacts could not be kept: {e}"));
                    }
                }
            }
        }
        log.line(&if outcome.success {
            "Job succeeded".to_owned()
        } else {
            match (outcome.exit_code, &outcome.reason) {
                (_, Some(r)) => format!("ERROR: Job failed: {r}"),
                (Some(c), None) => format!("ERROR: Job failed: exit code {c}"),
                (None, None) => "ERROR: Job failed".to_owned(),
            }
        });
        let _ = tokio::fs::remove_dir_all(&job_dir).await;
        outcome
    }

    #[allow(clippy::too_many_arguments)]
    fn args(
        &self,
        spec: &PlannedJob,
        job_dir: &Path,
        target: &str,
        env: &BTreeMap<String, String>,
        script: &str,
        timeout: Duration,
        key: &str,
        attempt: u32,
    ) -> ContainerRunArgs {
        ContainerRunArgs {
            image: spec.image.clone(),
            argv: vec!["sh".into(), "-c".into(), script.to_owned()],
            name: Some(container_name(job_dir, key, attempt)),
            env: env.clone(),
            workdir: Some(target.to_owned()),
            user: self.settings.user.clone(),
            mounts: vec![Mount { source: job_dir.display().to_string(), target: target.to_owned(), writable: true }],
            network: self.settings.network.clone(),
            limits: None,
            wait: true,
            timeout_secs: Some(timeout.as_secs().max(1)),
            remove: Some(true),
        }
    }

    /// One container run: (succeeded, exit code, timed out, system failure) and its output.
    async fn call(&self, args: ContainerRunArgs) -> (String, (bool, Option<i64>, bool, Option<String>)) {
        let value = match serde_json::to_value(&args) {
            Ok(v) => v,
            Err(e) => return (String::new(), (false, None, false, Some(format!("arguments: {e}")))),
        };
        match self.docker.call_as::<ContainerRun>("container_run", value).await {
            Ok(r) => {
                let mut text = r.stdout;
                if !r.stderr.is_empty() {
                    text.push_str(&r.stderr);
                }
                if r.truncated {
                    text.insert_str(0, "[output cut to the docker server's cap]\n");
                }
                let ok = r.exit_code == Some(0) && !r.timed_out;
                (text, (ok, r.exit_code, r.timed_out, None))
            }
            Err(e) => (format!("ERROR: {}\n", e.message), (false, None, false, Some(e.message))),
        }
    }
}

fn src_name(key: &str) -> &str {
    key.split_once('-').map_or(key, |(_, n)| n)
}

#[derive(Debug, Default)]
struct Outcome {
    success: bool,
    exit_code: Option<i64>,
    timed_out: bool,
    reason: Option<String>,
    attempts: u32,
    artifacts: Vec<String>,
}

impl Outcome {
    fn failed(reason: String) -> Self {
        Self { reason: Some(reason), attempts: 1, ..Self::default() }
    }
}

fn retryable(r: &super::model::Retry, code: Option<i64>, timed_out: bool, system: bool) -> bool {
    let when_ok = r.when.is_empty()
        || r.when.iter().any(|w| match w.as_str() {
            "always" => true,
            "script_failure" => !system && !timed_out,
            "job_execution_timeout" => timed_out,
            "runner_system_failure" | "unknown_failure" | "api_failure" | "stuck_or_timeout_failure" => system,
            _ => false,
        });
    let code_ok = r.exit_codes.is_empty() || code.is_some_and(|c| r.exit_codes.contains(&c));
    when_ok && code_ok
}

/// The job's log: masked, with GitLab's section markers, written to disk.
struct Log {
    text: String,
    secrets: Vec<String>,
    path: PathBuf,
}

impl Log {
    fn line(&mut self, l: &str) {
        self.push(l);
        if !l.ends_with('\n') {
            self.text.push('\n');
        }
    }

    fn push(&mut self, t: &str) {
        let mut t = t.to_owned();
        for s in &self.secrets {
            t = t.replace(s.as_str(), "[MASKED]");
        }
        self.text.push_str(&t);
    }

    fn section(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        self.line(&format!("section_start:{}:{name}", unix()));
        f(self);
        self.line(&format!("section_end:{}:{name}", unix()));
    }

    async fn section_async<T>(&mut self, name: &str, f: impl std::future::Future<Output = (String, T)>) -> T {
        self.line(&format!("section_start:{}:{name}", unix()));
        self.flush();
        let (out, v) = f.await;
        self.push(&out);
        if !out.is_empty() && !out.ends_with('\n') {
            self.text.push('\n');
        }
        self.line(&format!("section_end:{}:{name}", unix()));
        self.flush();
        v
    }

    fn flush(&self) {
        let _ = std::fs::write(&self.path, &self.text);
    }
}

fn unix() -> i64 {
    mcp_core::clock::now_ms() / 1000
}

/// `sh -c` text: every command echoed as `$ command` (like GitLab's logs),
/// then run; the first failing command ends the script (`set -e`), and
/// standard error joins standard output so the log keeps their order.
pub fn shell_script(before: &[String], script: &[String]) -> String {
    let mut s = String::from("exec 2>&1\nset -e\n");
    for cmd in before.iter().chain(script) {
        let shown = cmd.lines().next().unwrap_or("");
        let more = if cmd.lines().nth(1).is_some() { " # collapsed multi-line command" } else { "" };
        s.push_str(&format!("printf '%s\\n' {}\n", sh_quote(&format!("$ {shown}{more}"))));
        s.push_str(cmd);
        s.push('\n');
    }
    s
}

/// Single-quote text for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn file_slug(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    out.truncate(60);
    out
}

fn container_name(job_dir: &Path, key: &str, attempt: u32) -> String {
    let run =
        job_dir.parent().and_then(Path::parent).and_then(Path::file_name).map(|s| s.to_string_lossy().into_owned());
    let mut n = format!("ci-{}-{}-{attempt}", run.unwrap_or_default(), key)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .collect::<String>();
    n.truncate(120);
    n
}

fn new_id() -> String {
    let ms = mcp_core::clock::now_ms();
    format!("r{ms}-{:06x}", rand_u32() & 0xff_ffff)
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish() as u32
}

/// Copy the tracked `files` of `repo` into `dest`: regular files with their
/// mode, symbolic links as links (never followed), submodules skipped.
pub fn copy_tracked(repo: &Path, files: &[String], dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for rel in files {
        if rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let src = repo.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&src) else { continue };
        let to = dest.join(rel);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| format!("{rel}: {e}"))?;
            std::os::unix::fs::symlink(target, &to).map_err(|e| format!("{rel}: {e}"))?;
        } else if meta.is_file() {
            std::fs::copy(&src, &to).map_err(|e| format!("{rel}: {e}"))?;
        }
    }
    Ok(())
}

/// Copy a tree (links as links), making everything writable for the job's
/// user, which may not be the server's.
fn copy_tree(from: &Path, to: &Path) -> Result<usize, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut n = 0;
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let _ = std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o777));
    let Ok(rd) = std::fs::read_dir(from) else { return Ok(0) };
    for e in rd.flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let Ok(t) = e.file_type() else { continue };
        if t.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| format!("{}: {e}", src.display()))?;
            let _ = std::fs::remove_file(&dst);
            std::os::unix::fs::symlink(target, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        } else if t.is_dir() {
            n += copy_tree(&src, &dst)?;
        } else if t.is_file() {
            if std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir()) {
                let _ = std::fs::remove_dir_all(&dst);
            }
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
            let mode = std::fs::metadata(&dst).map(|m| m.permissions().mode()).unwrap_or(0o644);
            let _ = std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode | 0o666));
            n += 1;
        }
    }
    Ok(n)
}

/// The job's own copy of the project with the artifacts it receives.
fn prepare_job_dir(run_dir: &Path, job_dir: &Path, sources: &[String]) -> Result<Vec<(String, usize)>, String> {
    copy_tree(&run_dir.join("project"), job_dir)?;
    let mut restored = Vec::new();
    for s in sources {
        let from = run_dir.join("artifacts").join(s);
        let n = if from.is_dir() { copy_tree(&from, job_dir)? } else { 0 };
        restored.push((s.clone(), n));
    }
    Ok(restored)
}

/// Matches a path or one of its parent directories (a directory pattern
/// takes the whole tree).
fn matches_any(ms: &[globset::GlobMatcher], rel: &str) -> bool {
    let mut p = rel;
    loop {
        if ms.iter().any(|m| m.is_match(p)) {
            return true;
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return false,
        }
    }
}

/// Copy the files `artifacts: paths` name (minus `exclude`) from the job's
/// tree to `dest`; symbolic links are not kept. Returns the files and notes.
fn collect_artifacts(
    job_dir: &Path,
    dest: &Path,
    a: &super::model::Artifacts,
    cap: u64,
) -> Result<(Vec<String>, Vec<String>), String> {
    let compile = |ps: &[String]| -> Result<Vec<globset::GlobMatcher>, String> {
        ps.iter().map(|p| super::parse::glob(p.trim_end_matches('/'), "artifacts").map_err(|e| e.to_string())).collect()
    };
    let include = compile(&a.paths)?;
    let exclude = compile(&a.exclude)?;
    let mut notes = Vec::new();
    let mut kept = Vec::new();
    let mut total = 0u64;
    let files = super::parse::walk(job_dir);
    for (p, m) in a.paths.iter().zip(&include) {
        if !files.iter().any(|f| matches_any(std::slice::from_ref(m), f)) {
            notes.push(format!("WARNING: {p}: no matching files"));
        }
    }
    for rel in files {
        if !matches_any(&include, &rel) || matches_any(&exclude, &rel) {
            continue;
        }
        let src = job_dir.join(&rel);
        let len = std::fs::symlink_metadata(&src).map(|m| m.len()).unwrap_or(0);
        if total + len > cap {
            notes.push(format!("WARNING: artifacts are capped at {cap} bytes; {rel} and later files are not kept"));
            break;
        }
        let to = dest.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(&src, &to).map_err(|e| format!("{rel}: {e}"))?;
        total += len;
        kept.push(rel);
    }
    Ok((kept, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_echo_and_stop() {
        let s = shell_script(&["cd x".into()], &["echo 'hi'".into(), "a\nb".into()]);
        assert!(s.starts_with("exec 2>&1\nset -e\n"));
        assert!(s.contains("printf '%s\\n' '$ echo '\\''hi'\\'''\necho 'hi'\n"), "{s}");
        assert!(s.contains("collapsed multi-line"));
    }

    #[test]
    fn artifact_selection() {
        let d = tempfile::tempdir().expect("tempdir");
        let job = d.path().join("job");
        std::fs::create_dir_all(job.join("dist/sub")).expect("mkdir");
        std::fs::write(job.join("dist/a.txt"), "a").expect("write");
        std::fs::write(job.join("dist/sub/b.log"), "b").expect("write");
        std::fs::write(job.join("top.txt"), "t").expect("write");
        let a = super::super::model::Artifacts {
            paths: vec!["dist/".into(), "*.txt".into(), "missing/".into()],
            exclude: vec!["**/*.log".into()],
            when: ArtifactsWhen::OnSuccess,
        };
        let (files, notes) = collect_artifacts(&job, &d.path().join("out"), &a, 1 << 20).expect("collect");
        assert_eq!(files, vec!["dist/a.txt".to_owned(), "top.txt".to_owned()]);
        assert!(notes.iter().any(|n| n.contains("missing")), "{notes:?}");
        assert!(d.path().join("out/dist/a.txt").is_file());
    }

    #[test]
    fn interrupted_runs_read_back_canceled() {
        let d = tempfile::tempdir().expect("tempdir");
        let run_dir = d.path().join("r1");
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        let job = |status| JobRecord {
            name: "a".into(),
            stage: "test".into(),
            status,
            when: "on_success".into(),
            allow_failure: false,
            reason: None,
            exit_code: None,
            timed_out: false,
            image: "i".into(),
            needs: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            attempts: 0,
            artifacts: Vec::new(),
            key: "000-a".into(),
            failed_upstream: false,
        };
        let r = RunRecord {
            run_id: "r1".into(),
            project: "p".into(),
            ref_name: "main".into(),
            sha: "0".into(),
            source: "push".into(),
            status: "running".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            duration_ms: None,
            stages: vec!["test".into()],
            jobs: vec![job(JobStatus::Success), job(JobStatus::Running)],
            warnings: Vec::new(),
            error: None,
        };
        save(&run_dir, &r);
        let settings =
            Settings { work_dir: d.path().to_owned(), user: None, network: None, max_artifact_bytes: 1, keep_runs: 5 };
        let peer = Peer::new("docker", "http://127.0.0.1:9/mcp", None, "t", Duration::from_secs(1)).expect("peer");
        let runs = Runs::new(settings, peer, 1);
        let back = runs.get("r1").and_then(|h| h.snapshot()).expect("read back");
        assert_eq!(back.status, "canceled");
        assert_eq!(back.jobs[1].status, JobStatus::Canceled);
        assert_eq!(back.verdict(), "canceled");
    }

    #[test]
    fn retry_conditions() {
        let r = super::super::model::Retry { max: 2, when: vec!["runner_system_failure".into()], exit_codes: vec![] };
        assert!(!retryable(&r, Some(1), false, false));
        assert!(retryable(&r, None, false, true));
        let r = super::super::model::Retry { max: 1, when: vec![], exit_codes: vec![137] };
        assert!(retryable(&r, Some(137), false, false));
        assert!(!retryable(&r, Some(1), false, false));
    }
}
