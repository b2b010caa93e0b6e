//! A small smart-HTTP git server for tests: axum on loopback running
//! `git http-backend` as CGI, refusing any request without the expected
//! `Authorization` header (401), and recording what it was sent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use tokio::io::AsyncWriteExt;

/// The running server.
pub struct GitHttp {
    pub addr: SocketAddr,
    /// `(method, path, Authorization header)` of every request.
    pub seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GitHttp {
    /// `http://127.0.0.1:PORT/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }
}

/// Serve the repositories under `root`, requiring `Authorization: <auth>`.
pub async fn start(root: PathBuf, auth: String) -> GitHttp {
    let seen: Arc<Seen> = Arc::default();
    let (root, auth, log) = (Arc::new(root), Arc::new(auth), seen.clone());
    let app = axum::Router::new().fallback(move |req: Request| {
        let (root, auth, log) = (root.clone(), auth.clone(), log.clone());
        async move { handle(req, &root, &auth, &log).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    GitHttp { addr, seen, task }
}

/// `(method, path, Authorization header)` of every request.
pub type Seen = Mutex<Vec<(String, String, Option<String>)>>;

async fn handle(req: Request, root: &std::path::Path, auth: &str, log: &Seen) -> Response {
    let (parts, body) = req.into_parts();
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let got = header("authorization");
    log.lock().unwrap().push((parts.method.to_string(), parts.uri.path().to_owned(), got.clone()));
    if got.as_deref() != Some(auth) {
        let mut r = Response::new(Body::from("authentication required\n"));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Basic realm=\"git\""));
        return r;
    }
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", "tester")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = header("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(ce) = header("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", ce);
    }
    if let Some(p) = header("git-protocol") {
        cmd.env("GIT_PROTOCOL", p);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&body).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    cgi_response(&out.stdout)
}

/// Turn CGI output (headers, blank line, body) into a response.
fn cgi_response(raw: &[u8]) -> Response {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, body) = match split {
        Some((i, n)) => (&raw[..i], &raw[i + n..]),
        None => (&raw[..0], raw),
    };
    let mut resp = Response::new(Body::from(body.to_vec()));
    for line in String::from_utf8_lossy(head).lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            let code = v.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(500);
            *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else if let (Ok(name), Ok(val)) =
            (axum::http::HeaderName::from_bytes(k.trim().as_bytes()), HeaderValue::from_str(v))
        {
            resp.headers_mut().append(name, val);
        }
    }
    resp
}
