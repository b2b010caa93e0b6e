//! A GitLab REST v4 API double for tests: GitLab itself cannot run on the
//! project's machines (no package, no image, no registry), so the gitlab
//! server's tests talk to this instead.
//!
//! Routes and shapes follow GitLab's published OpenAPI description,
//! `doc/api/openapi/openapi_v2.yaml` in the gitlabhq repository (Swagger
//! 2.0; tags `pipelines`, `ci_jobs`, `job_artifacts`, `merge_requests`,
//! `ci_lint`): `GET /projects/:id`, `GET /projects/:id/pipelines`,
//! `POST /projects/:id/pipeline`, `GET /projects/:id/pipelines/latest`,
//! `GET /projects/:id/pipelines/:pipeline_id`, `…/jobs`, `…/retry`,
//! `…/cancel`, `GET /projects/:id/jobs`, `GET /projects/:id/jobs/:job_id`,
//! `…/trace`, `…/retry`, `…/cancel`, `…/play`, `…/artifacts` (zip),
//! `…/artifacts/tree`, `…/artifacts/*artifact_path`, merge requests with
//! `…/diffs`, `…/pipelines` and `…/notes`, and `POST /projects/:id/ci/lint`.
//! A project is named by id or URL-encoded path (`group%2Fname`).
//!
//! Behaviour a client depends on is real: `PRIVATE-TOKEN` or `Authorization:
//! Bearer` authentication (401 otherwise), 403 for a project the token may
//! not see, 404 with GitLab's message shapes, offset pagination with
//! `X-Total`, `X-Total-Pages`, `X-Page`, `X-Per-Page`, `X-Next-Page`,
//! `X-Prev-Page` and an absolute `Link` header, and `429` with
//! `Retry-After` on demand ([`GitlabDouble::throttle`]). Pipelines run on a
//! clock the test drives ([`GitlabDouble::tick`] or
//! [`GitlabDouble::start_clock`]): stage by stage, each job goes
//! `created → pending → running → success/failed`, its log growing one
//! scripted chunk per tick; a failed job that may not fail skips the later
//! stages. `/merge` and `/close` in a note are executed as GitLab's quick
//! actions are, so a test can prove a client escapes them. CI lint checks
//! the text against the fleet's vendored GitLab CI schema
//! (`mcp_core::schemas`). python-gitlab drives the double in its own test,
//! as an independent client written against the real API.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The token the double accepts.
pub const TOKEN: &str = "glpat-double-0123456789abcdef";

/// How a scripted job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit non-zero (`script_failure`).
    Failed,
}

/// A job of a scripted pipeline.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: String,
    /// How it ends.
    pub outcome: Outcome,
    /// May fail without failing the pipeline.
    pub allow_failure: bool,
    /// `when: manual`: waits for `play`.
    pub manual: bool,
    /// Log chunks, one appended per tick while it runs (the last when it ends).
    pub log: Vec<String>,
    /// Artifact files (path inside the archive, content).
    pub artifacts: Vec<(String, Vec<u8>)>,
}

impl JobSpec {
    /// A job that succeeds, with one log line.
    pub fn ok(name: &str, stage: &str) -> Self {
        Self {
            name: name.into(),
            stage: stage.into(),
            outcome: Outcome::Success,
            allow_failure: false,
            manual: false,
            log: vec![format!("Running {name}\n"), "Job succeeded\n".into()],
            artifacts: Vec::new(),
        }
    }
    /// A job that fails with `log`.
    pub fn failing(name: &str, stage: &str, log: &[&str]) -> Self {
        Self { outcome: Outcome::Failed, log: log.iter().map(|s| (*s).to_owned()).collect(), ..Self::ok(name, stage) }
    }
    /// With these log chunks.
    pub fn log(mut self, chunks: &[&str]) -> Self {
        self.log = chunks.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    /// With this artifact file.
    pub fn artifact(mut self, path: &str, content: &[u8]) -> Self {
        self.artifacts.push((path.into(), content.to_vec()));
        self
    }
    /// `when: manual`.
    pub fn manual(mut self) -> Self {
        self.manual = true;
        self
    }
    /// `allow_failure: true`.
    pub fn allow_failure(mut self) -> Self {
        self.allow_failure = true;
        self
    }
}

#[derive(Debug, Clone)]
struct Project {
    id: u64,
    path: String,
    default_branch: String,
    forbidden: bool,
    /// Jobs of a pipeline created through the API.
    template: Vec<JobSpec>,
}

#[derive(Debug, Clone)]
struct Job {
    id: u64,
    project_id: u64,
    pipeline_id: u64,
    spec: JobSpec,
    stage_idx: usize,
    status: String,
    trace: String,
    /// Next log chunk.
    next_chunk: usize,
    retried: bool,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
}

#[derive(Debug, Clone)]
struct Pipeline {
    id: u64,
    iid: u64,
    project_id: u64,
    git_ref: String,
    sha: String,
    source: String,
    jobs: Vec<u64>,
    variables: Vec<Value>,
    created_at: String,
    updated_at: String,
    canceled: bool,
}

#[derive(Debug, Clone)]
struct Mr {
    id: u64,
    iid: u64,
    project_id: u64,
    title: String,
    description: String,
    state: String,
    source: String,
    target: String,
    notes: Vec<Value>,
    pipelines: Vec<u64>,
    diffs: Vec<(String, String)>,
    created_at: String,
}

/// One request the double answered.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Status answered.
    pub status: u16,
}

#[derive(Default)]
struct State {
    projects: Vec<Project>,
    pipelines: BTreeMap<u64, Pipeline>,
    jobs: BTreeMap<u64, Job>,
    mrs: Vec<Mr>,
    next_id: u64,
    throttle_left: u32,
    throttle_forever: bool,
    retry_after: u64,
    seen: Vec<Seen>,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The double, serving on `127.0.0.1`. Dropping it stops it.
pub struct GitlabDouble {
    /// Address bound.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    clock: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for GitlabDouble {
    fn drop(&mut self) {
        self.task.abort();
        if let Ok(mut c) = self.clock.lock()
            && let Some(t) = c.take()
        {
            t.abort();
        }
    }
}

fn now() -> String {
    mcp_core::clock::now_rfc3339_secs()
}

impl GitlabDouble {
    /// Start on `127.0.0.1:0` with no projects.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State { next_id: 1000, retry_after: 1, ..State::default() }));
        let s = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move { handle(&s, method, uri, headers, body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task, clock: Mutex::new(None) }
    }

    /// The instance URL (what `GITLAB_URL` is set to).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add a project; `template` is what a pipeline created through the API runs.
    pub fn add_project(&self, id: u64, path: &str) {
        self.lock().projects.push(Project {
            id,
            path: path.into(),
            default_branch: "main".into(),
            forbidden: false,
            template: vec![JobSpec::ok("build", "build")],
        });
    }

    /// Add a project the token may not see (every request about it is 403).
    pub fn add_forbidden_project(&self, id: u64, path: &str) {
        self.add_project(id, path);
        if let Some(p) = self.lock().projects.iter_mut().find(|p| p.id == id) {
            p.forbidden = true;
        }
    }

    /// The jobs a pipeline created through the API gets.
    pub fn set_template(&self, project: u64, jobs: Vec<JobSpec>) {
        if let Some(p) = self.lock().projects.iter_mut().find(|p| p.id == project) {
            p.template = jobs;
        }
    }

    /// Add a pipeline of `jobs` on `git_ref` (status `created`); its id.
    pub fn add_pipeline(&self, project: u64, git_ref: &str, jobs: Vec<JobSpec>) -> u64 {
        let mut s = self.lock();
        new_pipeline(&mut s, project, git_ref, "push", jobs, Vec::new())
    }

    /// The ids of a pipeline's jobs, in order.
    pub fn jobs_of(&self, pipeline: u64) -> Vec<u64> {
        self.lock().pipelines.get(&pipeline).map(|p| p.jobs.clone()).unwrap_or_default()
    }

    /// A pipeline's status now.
    pub fn pipeline_status(&self, pipeline: u64) -> String {
        let s = self.lock();
        s.pipelines.get(&pipeline).map(|p| pipeline_status(&s, p)).unwrap_or_default()
    }

    /// Advance every unfinished pipeline by one step.
    pub fn tick(&self) {
        tick(&mut self.lock());
    }

    /// Run every pipeline to its end.
    pub fn finish_all(&self) {
        for _ in 0..1000 {
            tick(&mut self.lock());
        }
    }

    /// Tick every `interval` in the background until dropped.
    pub fn start_clock(&self, interval: Duration) {
        let s = self.state.clone();
        let t = tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                tick(&mut s.lock().unwrap_or_else(|e| e.into_inner()));
            }
        });
        if let Ok(mut c) = self.clock.lock() {
            *c = Some(t);
        }
    }

    /// Answer the next `n` requests with `429 Too Many Requests` and
    /// `Retry-After: retry_after_secs`.
    pub fn throttle(&self, n: u32, retry_after_secs: u64) {
        let mut s = self.lock();
        s.throttle_left = n;
        s.retry_after = retry_after_secs;
    }

    /// Answer every request with 429 until [`GitlabDouble::throttle`] is called again.
    pub fn throttle_forever(&self, retry_after_secs: u64) {
        let mut s = self.lock();
        s.throttle_forever = true;
        s.retry_after = retry_after_secs;
    }

    /// Stop throttling.
    pub fn unthrottle(&self) {
        let mut s = self.lock();
        s.throttle_forever = false;
        s.throttle_left = 0;
    }

    /// Add a merge request; its iid.
    pub fn add_mr(&self, project: u64, source: &str, target: &str, title: &str, description: &str) -> u64 {
        let mut s = self.lock();
        new_mr(&mut s, project, source, target, title, description)
    }

    /// Give a merge request a changed file.
    pub fn add_mr_diff(&self, project: u64, iid: u64, path: &str, diff: &str) {
        if let Some(m) = self.lock().mrs.iter_mut().find(|m| m.project_id == project && m.iid == iid) {
            m.diffs.push((path.into(), diff.into()));
        }
    }

    /// Link a pipeline to a merge request.
    pub fn add_mr_pipeline(&self, project: u64, iid: u64, pipeline: u64) {
        if let Some(m) = self.lock().mrs.iter_mut().find(|m| m.project_id == project && m.iid == iid) {
            m.pipelines.insert(0, pipeline);
        }
    }

    /// A merge request's state (`opened`, `merged`, `closed`).
    pub fn mr_state(&self, project: u64, iid: u64) -> String {
        self.lock()
            .mrs
            .iter()
            .find(|m| m.project_id == project && m.iid == iid)
            .map(|m| m.state.clone())
            .unwrap_or_default()
    }

    /// A merge request's note bodies as stored.
    pub fn mr_notes(&self, project: u64, iid: u64) -> Vec<String> {
        self.lock()
            .mrs
            .iter()
            .find(|m| m.project_id == project && m.iid == iid)
            .map(|m| m.notes.iter().filter_map(|n| n["body"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// A merge request's description as stored.
    pub fn mr_description(&self, project: u64, iid: u64) -> String {
        self.lock()
            .mrs
            .iter()
            .find(|m| m.project_id == project && m.iid == iid)
            .map(|m| m.description.clone())
            .unwrap_or_default()
    }

    /// The variables a pipeline was created with.
    pub fn pipeline_variables(&self, pipeline: u64) -> Vec<Value> {
        self.lock().pipelines.get(&pipeline).map(|p| p.variables.clone()).unwrap_or_default()
    }

    /// Every request answered so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }
}

fn new_pipeline(
    s: &mut State,
    project: u64,
    git_ref: &str,
    source: &str,
    jobs: Vec<JobSpec>,
    variables: Vec<Value>,
) -> u64 {
    let id = s.id();
    let iid = s.pipelines.values().filter(|p| p.project_id == project).count() as u64 + 1;
    let mut stages: Vec<String> = Vec::new();
    for j in &jobs {
        if !stages.contains(&j.stage) {
            stages.push(j.stage.clone());
        }
    }
    let mut ids = Vec::new();
    for spec in jobs {
        let jid = s.id();
        let stage_idx = stages.iter().position(|st| *st == spec.stage).unwrap_or(0);
        s.jobs.insert(
            jid,
            Job {
                id: jid,
                project_id: project,
                pipeline_id: id,
                status: if spec.manual { "manual".into() } else { "created".into() },
                spec,
                stage_idx,
                trace: String::new(),
                next_chunk: 0,
                retried: false,
                created_at: now(),
                started_at: None,
                finished_at: None,
            },
        );
        ids.push(jid);
    }
    s.pipelines.insert(
        id,
        Pipeline {
            id,
            iid,
            project_id: project,
            git_ref: git_ref.into(),
            sha: format!("{:040x}", id),
            source: source.into(),
            jobs: ids,
            variables,
            created_at: now(),
            updated_at: now(),
            canceled: false,
        },
    );
    id
}

fn new_mr(s: &mut State, project: u64, source: &str, target: &str, title: &str, description: &str) -> u64 {
    let id = s.id();
    let iid = s.mrs.iter().filter(|m| m.project_id == project).count() as u64 + 1;
    s.mrs.push(Mr {
        id,
        iid,
        project_id: project,
        title: title.into(),
        description: description.into(),
        state: "opened".into(),
        source: source.into(),
        target: target.into(),
        notes: Vec::new(),
        pipelines: Vec::new(),
        diffs: Vec::new(),
        created_at: now(),
    });
    iid
}

const TERMINAL: &[&str] = &["success", "failed", "canceled", "skipped"];

fn pipeline_status(s: &State, p: &Pipeline) -> String {
    let jobs: Vec<&Job> = p.jobs.iter().filter_map(|j| s.jobs.get(j)).filter(|j| !j.retried).collect();
    let has = |st: &str| jobs.iter().any(|j| j.status == st);
    if has("running") {
        return "running".into();
    }
    if has("pending") {
        return if jobs.iter().any(|j| TERMINAL.contains(&j.status.as_str())) { "running" } else { "pending" }.into();
    }
    if has("created") {
        return if jobs.iter().any(|j| j.status != "created" && j.status != "manual") { "running" } else { "created" }
            .into();
    }
    if p.canceled || has("canceled") {
        return "canceled".into();
    }
    if jobs.iter().any(|j| j.status == "failed" && !j.spec.allow_failure) {
        return "failed".into();
    }
    if !jobs.is_empty() && jobs.iter().all(|j| j.status == "manual") {
        return "manual".into();
    }
    "success".into()
}

fn tick(s: &mut State) {
    let ids: Vec<u64> = s.pipelines.keys().copied().collect();
    for pid in ids {
        let Some(p) = s.pipelines.get(&pid).cloned() else { continue };
        let live: Vec<u64> = p.jobs.iter().copied().filter(|j| s.jobs.get(j).is_some_and(|j| !j.retried)).collect();
        // The first stage with work left.
        let stage = live
            .iter()
            .filter_map(|j| s.jobs.get(j))
            .filter(|j| matches!(j.status.as_str(), "created" | "pending" | "running"))
            .map(|j| j.stage_idx)
            .min();
        let Some(stage) = stage else { continue };
        // A failure that may not fail in an earlier stage skips the rest.
        let blocked = live
            .iter()
            .filter_map(|j| s.jobs.get(j))
            .any(|j| j.stage_idx < stage && j.status == "failed" && !j.spec.allow_failure);
        for jid in &live {
            let Some(j) = s.jobs.get_mut(jid) else { continue };
            if j.stage_idx != stage {
                continue;
            }
            if blocked {
                if j.status == "created" {
                    j.status = "skipped".into();
                }
                continue;
            }
            match j.status.as_str() {
                "created" => j.status = "pending".into(),
                "pending" => {
                    j.status = "running".into();
                    j.started_at = Some(now());
                    if let Some(c) = j.spec.log.first() {
                        j.trace.push_str(c);
                        j.next_chunk = 1;
                    }
                }
                "running" => {
                    if j.next_chunk < j.spec.log.len() {
                        j.trace.push_str(&j.spec.log[j.next_chunk]);
                        j.next_chunk += 1;
                    }
                    if j.next_chunk >= j.spec.log.len() {
                        j.status = if j.spec.outcome == Outcome::Success { "success" } else { "failed" }.into();
                        j.finished_at = Some(now());
                    }
                }
                _ => {}
            }
        }
        if let Some(p) = s.pipelines.get_mut(&pid) {
            p.updated_at = now();
        }
    }
}

/// A request, split up.
struct Req {
    method: Method,
    /// Path segments after `/api/v4/`, percent-decoded.
    seg: Vec<String>,
    query: Vec<(String, String)>,
    body: Value,
    /// `http://host:port` as the client addressed it, for `Link`.
    origin: String,
    path: String,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn qs(&self, k: &str) -> Vec<String> {
        let arr = format!("{k}[]");
        self.query.iter().filter(|(key, _)| *key == k || *key == arr).map(|(_, v)| v.clone()).collect()
    }
    fn field(&self, k: &str) -> Option<String> {
        match self.body.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => self.q(k).map(str::to_owned),
            Some(v) => Some(v.to_string()),
        }
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn msg(status: StatusCode, m: &str) -> Response {
    (status, axum::Json(json!({"message": m}))).into_response()
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

fn handle(state: &Mutex<State>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let path = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let resp = answer(&mut s, &method, &uri, &headers, &body);
    s.seen.push(Seen { method: method.to_string(), path, status: resp.status().as_u16() });
    resp
}

fn answer(s: &mut State, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    if s.throttle_forever || s.throttle_left > 0 {
        s.throttle_left = s.throttle_left.saturating_sub(1);
        let mut r = msg(StatusCode::TOO_MANY_REQUESTS, "Retry later");
        if let Ok(v) = HeaderValue::from_str(&s.retry_after.to_string()) {
            r.headers_mut().insert("retry-after", v);
        }
        return r;
    }
    let token = headers
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")));
    if token != Some(TOKEN) {
        return msg(StatusCode::UNAUTHORIZED, "401 Unauthorized");
    }
    let Some(rest) = uri.path().strip_prefix("/api/v4/") else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "404 Not Found"}))).into_response();
    };
    let seg: Vec<String> = rest.split('/').map(decode).collect();
    let query: Vec<(String, String)> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    let body: Value = if body.is_empty() {
        Value::Null
    } else if headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("form")) {
        let m: serde_json::Map<String, Value> = String::from_utf8_lossy(body)
            .split('&')
            .filter_map(|p| p.split_once('=').map(|(k, v)| (decode(k), Value::String(decode(v)))))
            .collect();
        Value::Object(m)
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return msg(StatusCode::BAD_REQUEST, "400 Bad request - body is not JSON"),
        }
    };
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let req =
        Req { method: method.clone(), seg, query, body, origin: format!("http://{host}"), path: uri.path().to_owned() };
    route(s, &req)
}

fn project_json(p: &Project, origin: &str) -> Value {
    json!({
        "id": p.id,
        "name": p.path.rsplit('/').next().unwrap_or(&p.path),
        "path": p.path.rsplit('/').next().unwrap_or(&p.path),
        "path_with_namespace": p.path,
        "name_with_namespace": p.path.replace('/', " / "),
        "default_branch": p.default_branch,
        "web_url": format!("{origin}/{}", p.path),
        "visibility": "private",
    })
}

fn user_json() -> Value {
    json!({"id": 1, "username": "ci-bot", "name": "CI Bot", "state": "active"})
}

fn pipeline_json(s: &State, p: &Pipeline, origin: &str, project_path: &str) -> Value {
    let jobs: Vec<&Job> = p.jobs.iter().filter_map(|j| s.jobs.get(j)).collect();
    let started = jobs.iter().filter_map(|j| j.started_at.clone()).min();
    let status = pipeline_status(s, p);
    let finished = if TERMINAL.contains(&status.as_str()) {
        jobs.iter().filter_map(|j| j.finished_at.clone()).max()
    } else {
        None
    };
    json!({
        "id": p.id,
        "iid": p.iid,
        "project_id": p.project_id,
        "sha": p.sha,
        "ref": p.git_ref,
        "status": status,
        "source": p.source,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "started_at": started,
        "finished_at": finished,
        "duration": null,
        "queued_duration": null,
        "coverage": null,
        "yaml_errors": null,
        "tag": false,
        "before_sha": "0000000000000000000000000000000000000000",
        "user": user_json(),
        "web_url": format!("{origin}/{project_path}/-/pipelines/{}", p.id),
        "detailed_status": {"group": status, "text": status},
    })
}

fn job_json(s: &State, j: &Job, origin: &str, project_path: &str) -> Value {
    let p = s.pipelines.get(&j.pipeline_id);
    let mut artifacts = Vec::new();
    if !j.spec.artifacts.is_empty() && TERMINAL.contains(&j.status.as_str()) {
        artifacts.push(json!({"file_type": "archive", "size": zip_of(&j.spec.artifacts).len(), "filename": "artifacts.zip", "file_format": "zip"}));
    }
    if !j.trace.is_empty() {
        artifacts
            .push(json!({"file_type": "trace", "size": j.trace.len(), "filename": "job.log", "file_format": null}));
    }
    json!({
        "id": j.id,
        "name": j.spec.name,
        "stage": j.spec.stage,
        "status": j.status,
        "ref": p.map(|p| p.git_ref.clone()),
        "tag": false,
        "allow_failure": j.spec.allow_failure,
        "failure_reason": if j.status == "failed" { json!("script_failure") } else { Value::Null },
        "created_at": j.created_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "erased_at": null,
        "duration": null,
        "queued_duration": null,
        "coverage": null,
        "retried": j.retried,
        "web_url": format!("{origin}/{project_path}/-/jobs/{}", j.id),
        "pipeline": p.map(|p| json!({"id": p.id, "iid": p.iid, "project_id": p.project_id, "ref": p.git_ref, "sha": p.sha, "status": pipeline_status(s, p)})),
        "artifacts": artifacts,
        "artifacts_file": if j.spec.artifacts.is_empty() { Value::Null } else { json!({"filename": "artifacts.zip", "size": zip_of(&j.spec.artifacts).len()}) },
        "artifacts_expire_at": null,
        "user": user_json(),
        "commit": {"id": p.map(|p| p.sha.clone())},
        "runner": null,
        "project": {"ci_job_token_scope_enabled": false},
    })
}

fn mr_json(s: &State, m: &Mr, origin: &str, project_path: &str, single: bool) -> Value {
    let mut v = json!({
        "id": m.id,
        "iid": m.iid,
        "project_id": m.project_id,
        "title": m.title,
        "description": m.description,
        "state": m.state,
        "source_branch": m.source,
        "target_branch": m.target,
        "draft": m.title.starts_with("Draft:"),
        "work_in_progress": m.title.starts_with("Draft:"),
        "detailed_merge_status": "mergeable",
        "merge_status": "can_be_merged",
        "has_conflicts": false,
        "sha": format!("{:040x}", m.id),
        "labels": [],
        "author": user_json(),
        "web_url": format!("{origin}/{project_path}/-/merge_requests/{}", m.iid),
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "merged_at": if m.state == "merged" { json!(m.created_at) } else { Value::Null },
    });
    if single {
        v["head_pipeline"] = m
            .pipelines
            .first()
            .and_then(|id| s.pipelines.get(id))
            .map(|p| json!({"id": p.id, "ref": p.git_ref, "status": pipeline_status(s, p)}))
            .unwrap_or(Value::Null);
    }
    v
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, content) in files {
        if w.start_file(path.as_str(), opts).is_ok() {
            let _ = w.write_all(content);
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// One page of `items` with GitLab's headers.
fn paginate(req: &Req, items: Vec<Value>) -> Response {
    let page: usize = req.q("page").and_then(|v| v.parse().ok()).filter(|p| *p > 0).unwrap_or(1);
    let per_page: usize = req.q("per_page").and_then(|v| v.parse().ok()).filter(|p| *p > 0).unwrap_or(20).min(100);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let link = |p: usize| {
        let mut q: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        q.push(format!("page={p}"));
        q.push(format!("per_page={per_page}"));
        format!("{}{}?{}", req.origin, req.path, q.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link(page - 1)));
    }
    if page < pages {
        links.push(format!("<{}>; rel=\"next\"", link(page + 1)));
    }
    links.push(format!("<{}>; rel=\"first\"", link(1)));
    links.push(format!("<{}>; rel=\"last\"", link(pages)));
    let mut r = axum::Json(Value::Array(chunk)).into_response();
    let h = r.headers_mut();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set("x-total", total.to_string());
    set("x-total-pages", pages.to_string());
    set("x-page", page.to_string());
    set("x-per-page", per_page.to_string());
    set("x-next-page", if page < pages { (page + 1).to_string() } else { String::new() });
    set("x-prev-page", if page > 1 { (page - 1).to_string() } else { String::new() });
    set("link", links.join(", "));
    r
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn route(s: &mut State, req: &Req) -> Response {
    let seg: Vec<&str> = req.seg.iter().map(String::as_str).collect();
    let m = &req.method;
    if seg.first() != Some(&"projects") || seg.len() < 2 {
        return match seg.as_slice() {
            ["version"] => ok(json!({"version": "18.6.0-double", "revision": "double"})),
            ["user"] => ok(user_json()),
            _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "404 Not Found"}))).into_response(),
        };
    }
    let key = seg[1];
    let Some(project) =
        s.projects.iter().find(|p| key.parse::<u64>().ok() == Some(p.id) || p.path.eq_ignore_ascii_case(key)).cloned()
    else {
        return msg(StatusCode::NOT_FOUND, "404 Project Not Found");
    };
    if project.forbidden {
        return msg(StatusCode::FORBIDDEN, "403 Forbidden");
    }
    let pid = project.id;
    let origin = req.origin.as_str();
    let ppath = project.path.as_str();
    let num = |x: &str| x.parse::<u64>().ok();
    let job_in = |s: &State, id: &str| num(id).and_then(|id| s.jobs.get(&id)).filter(|j| j.project_id == pid).cloned();
    let pipe_in =
        |s: &State, id: &str| num(id).and_then(|id| s.pipelines.get(&id)).filter(|p| p.project_id == pid).cloned();
    match (m.as_str(), &seg[2..]) {
        ("GET", []) => ok(project_json(&project, origin)),
        ("GET", ["pipelines"]) => {
            let mut list: Vec<&Pipeline> = s.pipelines.values().filter(|p| p.project_id == pid).collect();
            list.sort_by_key(|p| std::cmp::Reverse(p.id));
            let items = list
                .into_iter()
                .filter(|p| req.q("ref").is_none_or(|r| r == p.git_ref))
                .filter(|p| req.q("status").is_none_or(|st| st == pipeline_status(s, p)))
                .filter(|p| req.q("source").is_none_or(|src| src == p.source))
                .map(|p| pipeline_json(s, p, origin, ppath))
                .collect();
            paginate(req, items)
        }
        ("POST", ["pipeline"]) => {
            let Some(git_ref) = req.field("ref").filter(|r| !r.is_empty()) else {
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "ref is missing"}))).into_response();
            };
            if git_ref == "no-such-branch" {
                return msg(StatusCode::BAD_REQUEST, "Reference not found");
            }
            let vars = req.body.get("variables").and_then(Value::as_array).cloned().unwrap_or_default();
            let id = new_pipeline(s, pid, &git_ref, "api", project.template.clone(), vars);
            let p = s.pipelines.get(&id).cloned();
            match p {
                Some(p) => created(pipeline_json(s, &p, origin, ppath)),
                None => msg(StatusCode::INTERNAL_SERVER_ERROR, "500"),
            }
        }
        ("GET", ["pipelines", "latest"]) => {
            let git_ref = req.q("ref").unwrap_or(&project.default_branch).to_owned();
            match s.pipelines.values().filter(|p| p.project_id == pid && p.git_ref == git_ref).max_by_key(|p| p.id) {
                Some(p) => ok(pipeline_json(s, p, origin, ppath)),
                None => msg(StatusCode::NOT_FOUND, "404 Not found"),
            }
        }
        ("GET", ["pipelines", id]) => match pipe_in(s, id) {
            Some(p) => ok(pipeline_json(s, &p, origin, ppath)),
            None => msg(StatusCode::NOT_FOUND, "404 Not found"),
        },
        ("GET", ["pipelines", id, "jobs"]) => {
            let Some(p) = pipe_in(s, id) else { return msg(StatusCode::NOT_FOUND, "404 Not found") };
            let scopes = req.qs("scope");
            let retried = req.q("include_retried") == Some("true");
            let items = p
                .jobs
                .iter()
                .filter_map(|j| s.jobs.get(j))
                .filter(|j| retried || !j.retried)
                .filter(|j| scopes.is_empty() || scopes.contains(&j.status))
                .map(|j| job_json(s, j, origin, ppath))
                .collect();
            paginate(req, items)
        }
        ("POST", ["pipelines", id, action @ ("retry" | "cancel")]) => {
            let Some(p) = pipe_in(s, id) else { return msg(StatusCode::NOT_FOUND, "404 Not found") };
            if *action == "cancel" {
                for j in &p.jobs {
                    if let Some(j) = s.jobs.get_mut(j)
                        && matches!(j.status.as_str(), "created" | "pending" | "running" | "manual")
                    {
                        j.status = "canceled".into();
                    }
                }
            } else {
                let again: Vec<Job> = p
                    .jobs
                    .iter()
                    .filter_map(|j| s.jobs.get(j))
                    .filter(|j| !j.retried && matches!(j.status.as_str(), "failed" | "canceled"))
                    .cloned()
                    .collect();
                for old in again {
                    retry_job(s, &old);
                }
            }
            match s.pipelines.get(&p.id).cloned() {
                Some(p) => created(pipeline_json(s, &p, origin, ppath)),
                None => msg(StatusCode::NOT_FOUND, "404 Not found"),
            }
        }
        ("GET", ["jobs"]) => {
            let scopes = req.qs("scope");
            let mut list: Vec<&Job> = s.jobs.values().filter(|j| j.project_id == pid && !j.retried).collect();
            list.sort_by_key(|j| std::cmp::Reverse(j.id));
            let items = list
                .into_iter()
                .filter(|j| scopes.is_empty() || scopes.contains(&j.status))
                .map(|j| job_json(s, j, origin, ppath))
                .collect();
            paginate(req, items)
        }
        ("GET", ["jobs", id]) => match job_in(s, id) {
            Some(j) => ok(job_json(s, &j, origin, ppath)),
            None => msg(StatusCode::NOT_FOUND, "404 Job Not Found"),
        },
        ("GET", ["jobs", id, "trace"]) => match job_in(s, id) {
            Some(j) => ([("content-type", "text/plain; charset=utf-8")], j.trace.clone()).into_response(),
            None => msg(StatusCode::NOT_FOUND, "404 Job Not Found"),
        },
        ("POST", ["jobs", id, action @ ("retry" | "cancel" | "play")]) => {
            let Some(j) = job_in(s, id) else { return msg(StatusCode::NOT_FOUND, "404 Job Not Found") };
            match *action {
                "retry" => {
                    if !TERMINAL.contains(&j.status.as_str()) {
                        return msg(StatusCode::FORBIDDEN, "403 Forbidden - Job is not retryable");
                    }
                    let new = retry_job(s, &j);
                    match s.jobs.get(&new).cloned() {
                        Some(n) => created(job_json(s, &n, origin, ppath)),
                        None => msg(StatusCode::INTERNAL_SERVER_ERROR, "500"),
                    }
                }
                "cancel" => {
                    if let Some(j) = s.jobs.get_mut(&j.id)
                        && matches!(j.status.as_str(), "created" | "pending" | "running" | "manual")
                    {
                        j.status = "canceled".into();
                    }
                    match s.jobs.get(&j.id).cloned() {
                        Some(j) => created(job_json(s, &j, origin, ppath)),
                        None => msg(StatusCode::NOT_FOUND, "404 Job Not Found"),
                    }
                }
                _ => {
                    if j.status != "manual" {
                        return msg(StatusCode::BAD_REQUEST, "400 Bad request - Unplayable Job");
                    }
                    if let Some(j) = s.jobs.get_mut(&j.id) {
                        j.status = "pending".into();
                    }
                    match s.jobs.get(&j.id).cloned() {
                        Some(j) => ok(job_json(s, &j, origin, ppath)),
                        None => msg(StatusCode::NOT_FOUND, "404 Job Not Found"),
                    }
                }
            }
        }
        ("GET", ["jobs", id, "artifacts"]) => match job_in(s, id) {
            Some(j) if !j.spec.artifacts.is_empty() => {
                ([("content-type", "application/zip")], zip_of(&j.spec.artifacts)).into_response()
            }
            Some(_) => msg(StatusCode::NOT_FOUND, "404 Not Found"),
            None => msg(StatusCode::NOT_FOUND, "404 Job Not Found"),
        },
        ("GET", ["jobs", id, "artifacts", "tree"]) => {
            let Some(j) = job_in(s, id) else { return msg(StatusCode::NOT_FOUND, "404 Job Not Found") };
            if j.spec.artifacts.is_empty() {
                return msg(StatusCode::NOT_FOUND, "404 Not Found");
            }
            let base = req.q("path").unwrap_or("").trim_matches('/').to_owned();
            let recursive = req.q("recursive") == Some("true");
            let mut entries: BTreeMap<String, Value> = BTreeMap::new();
            for (path, content) in &j.spec.artifacts {
                let parts: Vec<&str> = path.split('/').collect();
                for i in 0..parts.len() {
                    let is_file = i == parts.len() - 1;
                    let p = parts[..=i].join("/");
                    let key = if is_file { p.clone() } else { format!("{p}/") };
                    let parent = parts[..i].join("/");
                    let under =
                        if base.is_empty() { true } else { parent == base || parent.starts_with(&format!("{base}/")) };
                    let direct = parent == base;
                    if under && (recursive || direct) {
                        entries.insert(
                            key.clone(),
                            json!({
                                "name": parts[i],
                                "path": key,
                                "type": if is_file { "file" } else { "directory" },
                                "size": if is_file { json!(content.len()) } else { Value::Null },
                                "mode": if is_file { "100644" } else { "040755" },
                            }),
                        );
                    }
                }
            }
            paginate(req, entries.into_values().collect())
        }
        ("GET", ["jobs", id, "artifacts", rest @ ..]) => {
            let Some(j) = job_in(s, id) else { return msg(StatusCode::NOT_FOUND, "404 Job Not Found") };
            let want = rest.join("/");
            match j.spec.artifacts.iter().find(|(p, _)| *p == want) {
                Some((_, content)) => ([("content-type", "application/octet-stream")], content.clone()).into_response(),
                None => msg(StatusCode::NOT_FOUND, "404 Not Found"),
            }
        }
        ("GET", ["merge_requests"]) => {
            let state = req.q("state").unwrap_or("all");
            let mut list: Vec<&Mr> = s.mrs.iter().filter(|m| m.project_id == pid).collect();
            list.sort_by_key(|m| std::cmp::Reverse(m.iid));
            let items = list
                .into_iter()
                .filter(|m| state == "all" || m.state == state)
                .filter(|m| req.q("source_branch").is_none_or(|b| b == m.source))
                .filter(|m| req.q("target_branch").is_none_or(|b| b == m.target))
                .filter(|m| req.q("search").is_none_or(|w| m.title.contains(w) || m.description.contains(w)))
                .map(|m| mr_json(s, m, origin, ppath, false))
                .collect();
            paginate(req, items)
        }
        ("POST", ["merge_requests"]) => {
            let (Some(src), Some(dst), Some(title)) =
                (req.field("source_branch"), req.field("target_branch"), req.field("title"))
            else {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": "source_branch, target_branch, title are missing"})),
                )
                    .into_response();
            };
            let (desc, actions) = quick_actions(&req.field("description").unwrap_or_default());
            let iid = new_mr(s, pid, &src, &dst, &title, &desc);
            apply_actions(s, pid, iid, &actions);
            match s.mrs.iter().find(|m| m.project_id == pid && m.iid == iid).cloned() {
                Some(m) => created(mr_json(s, &m, origin, ppath, true)),
                None => msg(StatusCode::INTERNAL_SERVER_ERROR, "500"),
            }
        }
        (method, ["merge_requests", iid, tail @ ..]) => {
            let Some(mr) = num(iid).and_then(|i| s.mrs.iter().find(|m| m.project_id == pid && m.iid == i)).cloned()
            else {
                return msg(StatusCode::NOT_FOUND, "404 Not found");
            };
            match (method, tail) {
                ("GET", []) => ok(mr_json(s, &mr, origin, ppath, true)),
                ("GET", ["diffs"]) => {
                    let items = mr
                        .diffs
                        .iter()
                        .map(|(p, d)| {
                            json!({"old_path": p, "new_path": p, "diff": d, "new_file": false, "renamed_file": false,
                                   "deleted_file": false, "a_mode": "100644", "b_mode": "100644", "too_large": false,
                                   "collapsed": false, "generated_file": false})
                        })
                        .collect();
                    paginate(req, items)
                }
                ("GET", ["pipelines"]) => {
                    let items = mr
                        .pipelines
                        .iter()
                        .filter_map(|p| s.pipelines.get(p))
                        .map(|p| pipeline_json(s, p, origin, ppath))
                        .collect();
                    paginate(req, items)
                }
                ("GET", ["notes"]) => paginate(req, mr.notes.clone()),
                ("POST", ["notes"]) => {
                    let Some(body) = req.field("body").filter(|b| !b.trim().is_empty()) else {
                        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "body is missing"})))
                            .into_response();
                    };
                    let (kept, actions) = quick_actions(&body);
                    apply_actions(s, pid, mr.iid, &actions);
                    let id = s.id();
                    let note = json!({"id": id, "body": kept, "author": user_json(), "created_at": now(),
                                      "system": false, "noteable_type": "MergeRequest", "noteable_iid": mr.iid});
                    if let Some(m) = s.mrs.iter_mut().find(|m| m.project_id == pid && m.iid == mr.iid) {
                        m.notes.push(note.clone());
                    }
                    created(note)
                }
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "404 Not Found"}))).into_response(),
            }
        }
        ("POST", ["ci", "lint"]) => {
            let Some(content) = req.field("content") else {
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "content is missing"}))).into_response();
            };
            let errors: Vec<String> = match mcp_core::schemas::check_text(&content, mcp_core::schemas::Kind::GitlabCi) {
                Ok(findings) => findings.into_iter().map(|f| format!("line {}: {}", f.line, f.message)).collect(),
                Err(e) => vec![e],
            };
            let valid = errors.is_empty();
            ok(json!({
                "valid": valid,
                "errors": errors,
                "warnings": [],
                "merged_yaml": if valid { json!(content) } else { Value::Null },
                "includes": [],
                "jobs": [],
            }))
        }
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "404 Not Found"}))).into_response(),
    }
}

/// GitLab's quick actions in a text: the lines starting with `/command`
/// are executed and removed from what is stored.
fn quick_actions(text: &str) -> (String, Vec<String>) {
    let mut kept = Vec::new();
    let mut actions = Vec::new();
    for line in text.split('\n') {
        match line.strip_prefix('/') {
            Some(cmd)
                if cmd
                    .split_whitespace()
                    .next()
                    .is_some_and(|c| c.chars().all(|ch| ch.is_ascii_alphabetic() || ch == '_')) =>
            {
                actions.push(cmd.split_whitespace().next().unwrap_or("").to_owned());
            }
            _ => kept.push(line),
        }
    }
    (kept.join("\n"), actions)
}

fn apply_actions(s: &mut State, project: u64, iid: u64, actions: &[String]) {
    if let Some(m) = s.mrs.iter_mut().find(|m| m.project_id == project && m.iid == iid) {
        for a in actions {
            match a.as_str() {
                "merge" => m.state = "merged".into(),
                "close" => m.state = "closed".into(),
                "draft" if !m.title.starts_with("Draft:") => m.title = format!("Draft: {}", m.title),
                _ => {}
            }
        }
    }
}

fn retry_job(s: &mut State, old: &Job) -> u64 {
    let id = s.id();
    if let Some(o) = s.jobs.get_mut(&old.id) {
        o.retried = true;
    }
    let mut j = old.clone();
    j.id = id;
    j.status = "pending".into();
    j.trace = String::new();
    j.next_chunk = 0;
    j.retried = false;
    j.created_at = now();
    j.started_at = None;
    j.finished_at = None;
    s.jobs.insert(id, j);
    if let Some(p) = s.pipelines.get_mut(&old.pipeline_id) {
        p.jobs.push(id);
        p.canceled = false;
    }
    id
}
