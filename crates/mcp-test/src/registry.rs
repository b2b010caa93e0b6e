//! A double of the package registries the registry server reads, served
//! over real HTTP on `127.0.0.1:0`: npm, Docker Hub, GitHub, GitLab and OSV
//! cannot be reached from the project's machines, and the reachable ones
//! (PyPI, crates.io) strip `ETag` and never answer 304 or 429 there, so the
//! registry server's tests, and the planner's tests of its `pin` step, talk to
//! this instead.
//!
//! Each answer follows the registry's documented API:
//!
//! - PyPI Simple API, PEP 691 JSON (`meta.api-version`, `versions` in text
//!   order as PyPI sends them, `files[].yanked` bool-or-reason per PEP 592,
//!   `files[].requires-python`, `upload-time`) at `/simple/<name>/`; JSON API
//!   `info`, `releases`, `vulnerabilities` at `/pypi/<name>/json`.
//! - crates.io sparse index (`/index/<prefix>/<name>`, one JSON object per
//!   line: `name`, `vers`, `deps`, `cksum`, `features`, `yanked`, `pubtime`;
//!   `config.json` per RFC 2789) and `.crate` downloads
//!   (`/crates/<name>/<name>-<version>.crate`, a gzipped tar with
//!   `<name>-<version>/Cargo.toml`, its real SHA-256 in the index).
//! - npm packument (`/npm/<name>`: `dist-tags`, `versions.*.deprecated`, `time`).
//! - Docker Hub `/hub/v2/namespaces/<ns>/repositories/<repo>/tags`
//!   (`count`, `next`, `results[].name/last_updated/digest/images`).
//! - GitHub `/gh/repos/<o>/<r>/releases/latest` and `/tags`; GitLab
//!   `/gl/api/v4/projects/<id>/releases` and `/packages`.
//! - OSV `POST /osv/v1/query` (`{package: {name, ecosystem}, version}` →
//!   `{vulns: [...]}` or `{}`).
//!
//! What it checks and lets a test check: every GET answer carries a strong
//! `ETag` and honours `If-None-Match` with 304 ([`Double::not_modified`]);
//! requests are counted per path ([`Double::hits`]) and the credentials sent
//! recorded ([`Double::auth_seen`]). Paths can be made to answer 429/503
//! with `Retry-After` ([`Double::limit`]), to answer anything else (hostile
//! bodies, redirects: [`Double::can`]), or everything to be down
//! ([`Double::set_down`], [`Double::set_osv_down`]). A test can serve its
//! own PyPI project ([`Double::set_pypi`]). The registry server's tests
//! check the double against independent clients: pip reads its Simple API
//! and cargo its sparse index, and both must agree with the server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A canned answer.
#[derive(Clone)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// Headers, as sent.
    pub headers: Vec<(String, String)>,
    /// Body, as sent.
    pub body: Vec<u8>,
}

/// One release of a PyPI project a test serves ([`Double::set_pypi`]).
#[derive(Clone, Debug)]
pub struct PypiRelease {
    /// The version, as PyPI lists it.
    pub version: String,
    /// PEP 592's `yanked`: `false`, `true` or the reason.
    pub yanked: Value,
    /// The files' `requires-python`.
    pub requires_python: String,
}

impl PypiRelease {
    /// A release that is not yanked and supports Python 3.8 and later.
    pub fn new(version: &str) -> Self {
        Self { version: version.into(), yanked: json!(false), requires_python: ">=3.8".into() }
    }

    /// Yanked, with `reason`.
    pub fn yanked(mut self, reason: &str) -> Self {
        self.yanked = json!(reason);
        self
    }

    /// Files declaring `requires-python = spec`.
    pub fn requires_python(mut self, spec: &str) -> Self {
        self.requires_python = spec.into();
        self
    }
}

/// What the double has seen and how it is told to answer.
#[derive(Default)]
pub struct State {
    /// Requests seen per path (with query).
    pub hits: Mutex<HashMap<String, u32>>,
    /// 304 answers given.
    pub not_modified: Mutex<u32>,
    /// Per path: how many more 429s to give, with which `Retry-After`.
    pub limited: Mutex<HashMap<String, (u32, String, u16)>>,
    /// Per path: a fixed answer.
    pub canned: Mutex<HashMap<String, Canned>>,
    /// Every path answers 503 without `Retry-After`.
    pub down: Mutex<bool>,
    /// `Authorization`/`PRIVATE-TOKEN` headers seen, per path.
    pub auth: Mutex<Vec<(String, String)>>,
    /// OSV answers 503 (unavailable) when true.
    pub osv_down: Mutex<bool>,
    /// PyPI projects a test added, served instead of the built-in ones.
    pub pypi: Mutex<HashMap<String, Vec<PypiRelease>>>,
}

/// A lock that a panicking test thread did not poison for the others.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The registries' double, running until dropped.
pub struct Double {
    /// Address bound.
    pub addr: SocketAddr,
    /// What it has seen and how it answers.
    pub state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Double {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Double {
    /// Serve on `127.0.0.1:0`.
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let s = state.clone();
        let app = axum::Router::new().fallback(move |m: Method, u: Uri, h: HeaderMap, b: Bytes| {
            let s = s.clone();
            async move { handle(&s, m, u, h, b) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The registry server's variables pointing every registry here.
    pub fn vars(&self) -> Vec<(String, String)> {
        let u = self.url();
        vec![
            ("REGISTRY_PYPI_URL".into(), u.clone()),
            ("REGISTRY_CRATES_INDEX_URL".into(), format!("{u}/index")),
            ("REGISTRY_CRATES_DOWNLOAD_URL".into(), format!("{u}/crates")),
            ("REGISTRY_NPM_URL".into(), format!("{u}/npm")),
            ("REGISTRY_DOCKERHUB_URL".into(), format!("{u}/hub")),
            ("REGISTRY_GITHUB_URL".into(), format!("{u}/gh")),
            ("REGISTRY_GITLAB_URL".into(), format!("{u}/gl")),
            ("REGISTRY_OSV_URL".into(), format!("{u}/osv")),
        ]
    }

    /// Requests seen for `path` (with its query).
    pub fn hits(&self, path: &str) -> u32 {
        lock(&self.state.hits).get(path).copied().unwrap_or(0)
    }

    /// Requests seen in all.
    pub fn total_hits(&self) -> u32 {
        lock(&self.state.hits).values().sum()
    }

    /// 304 answers given.
    pub fn not_modified(&self) -> u32 {
        *lock(&self.state.not_modified)
    }

    /// `path` answers `times` × `status` with `Retry-After: retry_after`.
    pub fn limit(&self, path: &str, times: u32, retry_after: &str, status: u16) {
        lock(&self.state.limited).insert(path.into(), (times, retry_after.into(), status));
    }

    /// `path` answers `status` with `headers` and `body`, whatever was asked.
    pub fn can(&self, path: &str, status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) {
        lock(&self.state.canned).insert(
            path.into(),
            Canned {
                status,
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: body.into(),
            },
        );
    }

    /// Every path answers 503 without `Retry-After` while `down`.
    pub fn set_down(&self, down: bool) {
        *lock(&self.state.down) = down;
    }

    /// OSV answers 503 while `down`.
    pub fn set_osv_down(&self, down: bool) {
        *lock(&self.state.osv_down) = down;
    }

    /// `(path, value)` of every `Authorization` or `PRIVATE-TOKEN` header seen.
    pub fn auth_seen(&self) -> Vec<(String, String)> {
        lock(&self.state.auth).clone()
    }

    /// Serve PyPI project `name` with `releases` (in the order PyPI's
    /// `versions` lists them) instead of the built-in fixture of that name.
    /// Each release has an sdist and a wheel; the JSON API's `info.version`
    /// is the last release that is neither yanked nor a pre-release.
    pub fn set_pypi(&self, name: &str, releases: &[PypiRelease]) {
        lock(&self.state.pypi).insert(name.into(), releases.to_vec());
    }
}

fn etag_of(body: &[u8]) -> String {
    // FNV-1a: a strong validator that changes with the body.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

fn handle(s: &State, m: Method, u: Uri, h: HeaderMap, body: Bytes) -> Response {
    let path = u.path().to_owned();
    let full = u.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.clone());
    *lock(&s.hits).entry(full.clone()).or_default() += 1;
    for k in ["authorization", "private-token"] {
        if let Some(v) = h.get(k) {
            lock(&s.auth).push((path.clone(), v.to_str().unwrap_or_default().to_owned()));
        }
    }
    if *lock(&s.down) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(e) = lock(&s.limited).get_mut(&path)
        && e.0 > 0
    {
        e.0 -= 1;
        return (status(e.2), [("retry-after", e.1.clone())], "slow down").into_response();
    }
    if let Some(c) = lock(&s.canned).get(&path).cloned() {
        let mut r = Response::builder().status(c.status);
        for (k, v) in &c.headers {
            r = r.header(k, v);
        }
        return r
            .body(axum::body::Body::from(c.body))
            .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response());
    }
    let (status, ctype, bytes): (u16, &str, Vec<u8>) = if m == Method::POST && path == "/osv/v1/query" {
        if *lock(&s.osv_down) {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let q: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (200, "application/json", osv(&q).to_string().into_bytes())
    } else if m == Method::GET {
        let host = h.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
        match route(s, &path, &host) {
            Some((ctype, b)) => (200, ctype, b),
            None => (404, "application/json", b"{\"message\":\"Not Found\"}".to_vec()),
        }
    } else {
        (405, "text/plain", Vec::new())
    };
    if status != 200 || m == Method::POST {
        return (self::status(status), [("content-type", ctype.to_owned())], bytes).into_response();
    }
    let etag = etag_of(&bytes);
    if h.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        *lock(&s.not_modified) += 1;
        return (StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
    }
    (StatusCode::OK, [("content-type", ctype.to_owned()), ("etag", etag)], bytes).into_response()
}

/// `code` as a status (500 when it is not one).
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// 200 versions for the benchmark's projects (a realistic Simple API page).
static BENCH_VERSIONS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    (0..200).map(|i| &*Box::leak(format!("{}.{}.{}", i / 50, (i / 10) % 5, i % 10).into_boxed_str())).collect()
});

const SIMPLE: &str = "application/vnd.pypi.simple.v1+json";

fn file(name: &str, v: &str, ext: &str, yanked: Value, rp: &str, t: &str) -> Value {
    json!({
        "filename": format!("{name}-{v}{ext}"),
        "url": format!("https://files.example/{name}-{v}{ext}"),
        "hashes": {"sha256": "00"},
        "requires-python": rp,
        "upload-time": t,
        "yanked": yanked,
    })
}

/// PyPI projects: a test's ([`Double::set_pypi`]), else the built-in ones.
fn pypi_project(s: &State, name: &str) -> Option<Vec<PypiRelease>> {
    if let Some(r) = lock(&s.pypi).get(name) {
        return Some(r.clone());
    }
    let builtin = builtin_pypi(name)?;
    Some(
        builtin
            .into_iter()
            .map(|(v, yanked)| {
                // pytest 8.1.0 needs a newer Python than the others (a `requires-python` test).
                let rp = if (name, v) == ("pytest", "8.1.0") { ">=3.10" } else { ">=3.8" };
                PypiRelease { version: v.into(), yanked, requires_python: rp.into() }
            })
            .collect(),
    )
}

/// The built-in PyPI projects: name → [(version, yanked)] in PyPI's text order.
fn builtin_pypi(name: &str) -> Option<Vec<(&'static str, Value)>> {
    Some(match name {
        // `versions` as PyPI sends them: text order (0.9.10 before 0.9.9).
        "demo" => vec![
            ("0.9.10", json!(false)),
            ("0.9.9", json!(false)),
            ("1.0", json!(false)),
            ("1.1", json!(false)),
            ("1.2", json!("broken metadata")),
            ("2.0rc1", json!(false)),
        ],
        "pytest" => vec![("7.0.0", json!(false)), ("8.1.0", json!(false)), ("8.2.0rc1", json!(false))],
        "flake8" => vec![("6.0.0", json!(false)), ("7.0.0", json!(false))],
        "onlybad" => vec![("1.0", json!(false)), ("1.1", json!(false))],
        // For the benchmark: as many distinct projects as it needs.
        n if n.starts_with("bench-") => (0..200).map(|i| (BENCH_VERSIONS[i], json!(i % 17 == 0))).collect(),
        _ => return None,
    })
}

fn route(s: &State, path: &str, host: &str) -> Option<(&'static str, Vec<u8>)> {
    let j = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    // The sparse index's configuration, as cargo reads it (RFC 2789).
    if path == "/index/config.json" {
        return j(json!({"dl": format!("http://{host}/crates/{{crate}}/{{crate}}-{{version}}.crate"), "api": null}));
    }
    if let Some(name) = path.strip_prefix("/simple/").and_then(|p| p.strip_suffix('/')) {
        let rel = pypi_project(s, name)?;
        let mut files = Vec::new();
        for (i, r) in rel.iter().enumerate() {
            let t = format!("2024-0{}-01T00:00:00Z", (i % 9) + 1);
            let (v, y, rp) = (&r.version, &r.yanked, &r.requires_python);
            files.push(file(name, v, ".tar.gz", y.clone(), rp, &t));
            files.push(file(name, v, "-py3-none-any.whl", y.clone(), rp, &t));
        }
        return Some((
            SIMPLE,
            json!({"meta": {"api-version": "1.1"}, "name": name, "versions": rel.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(), "files": files})
                .to_string()
                .into_bytes(),
        ));
    }
    if let Some(name) = path.strip_prefix("/pypi/").and_then(|p| p.strip_suffix("/json")) {
        let rel = pypi_project(s, name)?;
        let added = lock(&s.pypi).contains_key(name);
        let latest = match name {
            "demo" | "onlybad" if !added => "1.1",
            _ => rel
                .iter()
                .rev()
                .find(|r| r.yanked == json!(false) && !r.version.chars().any(|c| c.is_ascii_alphabetic()))
                .map(|r| r.version.as_str())
                .unwrap_or("0"),
        };
        let vulns = if name == "demo" && !added {
            json!([{"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "summary": "demo is bad", "fixed_in": ["1.2"], "withdrawn": null}])
        } else {
            json!([])
        };
        return j(json!({
            "info": {
                "name": name, "version": latest, "summary": format!("The {name} project"),
                "license_expression": "MIT", "home_page": null, "requires_python": ">=3.8",
                "project_urls": {"Source": format!("https://github.com/example/{name}"), "Documentation": "https://docs.example"},
            },
            "releases": {},
            "urls": [],
            "vulnerabilities": vulns,
            "last_serial": 1,
        }));
    }
    if let Some(rest) = path.strip_prefix("/index/") {
        let name = rest.rsplit('/').next()?;
        let line = |v: &str, yanked: bool| {
            // The real SHA-256 of the one `.crate` the double serves, so cargo accepts it.
            let cksum = if (name, v) == ("demo-crate", "1.0.0") { demo_crate_sha256() } else { "00".repeat(32) };
            json!({"name": name, "vers": v, "deps": [], "cksum": cksum, "features": {}, "yanked": yanked, "pubtime": "2025-01-01T00:00:00Z", "rust_version": "1.70"})
                .to_string()
        };
        let lines: Vec<String> = match rest {
            "de/mo/demo-crate" => vec![
                line("0.9.0", false),
                line("1.0.0", false),
                line("1.1.0", true),
                line("1.2.0-beta.1", false),
                line("0.10.0", false),
            ],
            "se/rd/serde" => vec![line("1.0.100", false), line("1.0.200", false)],
            "an/yh/anyhow" => vec![line("1.0.90", false), line("1.0.99", false)],
            "hu/ge/hugeline" => {
                vec![format!("{{\"name\":\"hugeline\",\"vers\":\"{}\"}}", "9".repeat(10 << 20)), line("1.0.0", false)]
            }
            _ => return None,
        };
        return Some(("text/plain", (lines.join("\n") + "\n").into_bytes()));
    }
    if path == "/crates/demo-crate/demo-crate-1.0.0.crate" {
        return Some(("application/gzip", demo_crate()));
    }
    if let Some(name) = path.strip_prefix("/npm/") {
        if name != "left-pad" && name != "@scope/pkg" && name != "@scope%2fpkg" {
            return None;
        }
        return j(json!({
            "name": name,
            "description": "String left pad",
            "dist-tags": {"latest": "1.3.0", "next": "2.0.0-beta"},
            "license": "WTFPL",
            "repository": {"type": "git", "url": "git+https://github.com/example/left-pad.git"},
            "versions": {
                "1.0.0": {"name": name, "version": "1.0.0"},
                "1.3.0": {"name": name, "version": "1.3.0", "deprecated": "use String.prototype.padStart()"},
                "2.0.0-beta": {"name": name, "version": "2.0.0-beta"},
                "not-a-version": {}
            },
            "time": {"1.0.0": "2016-01-01T00:00:00.000Z", "1.3.0": "2018-04-09T00:00:00.000Z"},
        }));
    }
    if path == "/hub/v2/namespaces/library/repositories/python/tags" {
        let names = ["3.13-slim", "3.13", "3.12-slim", "3.12", "latest"];
        let results: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                json!({"name": n, "last_updated": format!("2026-11-2{}T00:00:00Z", 9 - i), "digest": format!("sha256:{i:064}"),
                       "images": [{"architecture": "amd64", "os": "linux"}, {"architecture": "arm64", "os": "linux", "variant": "v8"}]})
            })
            .collect();
        return j(json!({"count": 5, "next": null, "previous": null, "results": results}));
    }
    if path == "/gh/repos/octo/app/releases/latest" {
        return j(json!({"tag_name": "v2.1.0", "name": "Two one", "published_at": "2026-10-01T00:00:00Z",
                        "html_url": "https://github.com/octo/app/releases/tag/v2.1.0", "prerelease": false, "draft": false}));
    }
    if path == "/gh/repos/octo/notags/tags" {
        return j(json!([{"name": "v1.9.0"}, {"name": "v1.10.0"}, {"name": "v2.0.0-rc.1"}, {"name": "nightly"}]));
    }
    if path == "/gl/api/v4/projects/group%2Fproj/releases" {
        return j(json!([
            {"tag_name": "v3.0.0", "name": "upcoming", "released_at": "2099-01-01T00:00:00Z", "upcoming_release": true},
            {"tag_name": "v2.0.0", "name": "Two", "released_at": "2026-09-01T00:00:00Z", "upcoming_release": false,
             "_links": {"self": "https://gitlab.example/group/proj/-/releases/v2.0.0"}}
        ]));
    }
    if path == "/gl/api/v4/projects/group%2Fproj/packages" {
        return j(json!([
            {"id": 2, "name": "demo-lib", "version": "1.1.0", "package_type": "pypi", "created_at": "2026-10-02T00:00:00Z", "status": "default"},
            {"id": 1, "name": "demo-lib", "version": "1.0.0", "package_type": "pypi", "created_at": "2026-10-01T00:00:00Z", "status": "default"}
        ]));
    }
    None
}

/// OSV: `demo` 1.1 and every `onlybad` version are vulnerable; `crates.io`
/// `serde` 1.0.200 too.
fn osv(q: &Value) -> Value {
    let name = q["package"]["name"].as_str().unwrap_or_default();
    let eco = q["package"]["ecosystem"].as_str().unwrap_or_default();
    let version = q["version"].as_str().unwrap_or_default();
    let vuln = |id: &str| {
        json!({"vulns": [{"id": id, "summary": format!("{name} {version} is vulnerable"), "aliases": ["CVE-2099-1234"],
                          "modified": "2026-01-01T00:00:00Z", "database_specific": {"severity": "HIGH"}}]})
    };
    match (eco, name, version) {
        ("PyPI", "demo", "1.1") => vuln("GHSA-demo-0001"),
        ("PyPI", "onlybad", _) => vuln("GHSA-only-bad1"),
        ("crates.io", "serde", "1.0.200") => vuln("RUSTSEC-2099-0001"),
        _ => json!({}),
    }
}

/// The one `.crate` the double serves.
fn demo_crate() -> Vec<u8> {
    static CRATE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CRATE
        .get_or_init(|| {
            let manifest = "[package]\nname = \"demo-crate\"\nversion = \"1.0.0\"\nedition = \"2021\"\ndescription = \"A demo crate\"\nlicense = \"MIT OR Apache-2.0\"\nrepository = \"https://github.com/example/demo-crate\"\nrust-version = \"1.70\"\n";
            crate_file("demo-crate", "1.0.0", manifest)
        })
        .clone()
}

fn demo_crate_sha256() -> String {
    use sha2::Digest;
    sha2::Sha256::digest(demo_crate()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A `.crate`: gzipped tar holding `<name>-<version>/Cargo.toml`.
pub fn crate_file(name: &str, version: &str, manifest: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, format!("{name}-{version}/Cargo.toml"), manifest.as_bytes()).expect("tar in memory");
    let lib = b"//! demo\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(lib.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, format!("{name}-{version}/src/lib.rs"), &lib[..]).expect("tar in memory");
    let tar = b.into_inner().expect("tar in memory");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip in memory");
    gz.finish().expect("gzip in memory")
}
