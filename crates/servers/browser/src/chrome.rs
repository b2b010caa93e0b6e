//! One Chromium process: launched by us in a process group of its own with
//! a fresh temporary profile, driven over the DevTools protocol through
//! chromiumoxide, and killed — group and all — when it is dropped.
//!
//! The allow-list is enforced at the browser target: `Fetch.enable` on the
//! root session pauses every request of every target the browser has (tabs,
//! popups opened by `window.open` or `target=_blank`, frames, workers)
//! before it leaves, and each one is continued or failed by
//! [`crate::origin::Policy::check`]. Redirect hops are requests of their own
//! and pass the same check. WebSockets are not seen by the Fetch domain
//! (nor stopped by `Network.setBlockedURLs` in Chromium 156), so every
//! document and script response gets a `Content-Security-Policy:
//! connect-src` naming only the allowed origins ([`connect_csp`]).
//! Downloads are denied at the browser level.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::fetch::EventRequestPaused;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::page::EventFrameNavigated;
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use chromiumoxide::handler::HandlerConfig;
use chromiumoxide::{Browser, Page};
use futures::StreamExt;
use mcp_core::ToolError;
use mcp_core::tracing;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::origin::{Policy, Verdict};

/// Entries kept per tab in each log (console, network), oldest dropped first.
pub const LOG_CAP: usize = 500;
/// Blocked requests remembered per browser.
pub const BLOCKED_CAP: usize = 500;
/// Largest document (by its `Content-Length`) a tab loads: documents pass
/// through memory here to get their `connect-src` policy.
pub const MAX_DOCUMENT_BYTES: u64 = 32 << 20;

/// A DevTools command given by name with JSON parameters; its answer is
/// JSON. Most calls here use this rather than chromiumoxide's generated
/// types: fewer moving parts when the protocol grows a field.
#[derive(Debug)]
pub struct Raw {
    method: &'static str,
    params: Value,
}

impl serde::Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl chromiumoxide::types::Method for Raw {
    fn identifier(&self) -> chromiumoxide::types::MethodId {
        self.method.into()
    }
}

impl chromiumoxide::types::Command for Raw {
    type Response = Value;
}

/// `Raw` shorthand.
pub fn raw(method: &'static str, params: Value) -> Raw {
    Raw { method, params }
}

/// A request the allow-list refused.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// Order in this browser's life.
    pub seq: u64,
    /// The URL refused.
    pub url: String,
    /// The rule that refused it.
    pub rule: String,
}

/// Requests refused in this browser, shared with the interceptor.
#[derive(Debug, Default)]
pub struct BlockedLog {
    next: u64,
    entries: VecDeque<Blocked>,
}

impl BlockedLog {
    fn push(&mut self, url: String, rule: String) {
        self.next += 1;
        if self.entries.len() == BLOCKED_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back(Blocked { seq: self.next, url, rule });
    }
    /// The last sequence number handed out.
    pub fn last(&self) -> u64 {
        self.next
    }
    /// Entries after `seq`.
    pub fn since(&self, seq: u64) -> Vec<Blocked> {
        self.entries.iter().filter(|b| b.seq > seq).cloned().collect()
    }
}

/// A console message.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ConsoleEntry {
    /// Order in this tab's life; pass the last one seen as `since`.
    pub seq: u64,
    /// `log`, `info`, `warning`, `error`, `debug`... (`error` for uncaught exceptions).
    pub level: String,
    /// The message (arguments joined by spaces).
    pub text: String,
}

/// A network request.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct NetEntry {
    /// Order in this tab's life; pass the last one seen as `since`.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// URL (cut at 500 characters).
    pub url: String,
    /// `Document`, `Script`, `Fetch`, `XHR`, `Image`...
    pub resource_type: String,
    /// Response status, when one came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed (`net::ERR_BLOCKED_BY_CLIENT` when the allow-list refused it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Refused by the allow-list.
    pub blocked: bool,
    #[serde(skip)]
    id: String,
    #[serde(skip)]
    done: bool,
    #[serde(skip)]
    started: Option<Instant>,
}

/// What a tab's listeners record.
#[derive(Debug, Default)]
pub struct TabLog {
    /// Console messages.
    pub console: VecDeque<ConsoleEntry>,
    /// Network requests.
    pub network: VecDeque<NetEntry>,
    seq: u64,
    /// Bumped on every main-frame navigation: refs from before are stale.
    pub epoch: u64,
    /// Status of the last main-frame document response.
    pub main_status: Option<u16>,
    /// When a request last started or ended.
    pub last_activity: Option<Instant>,
    /// Refs (backend node ids) handed out by the last snapshot, and its epoch.
    pub refs: HashSet<i64>,
    /// The epoch of `refs`.
    pub refs_epoch: u64,
}

impl TabLog {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
    /// The last sequence number handed out (console and network share it).
    pub fn last_seq(&self) -> u64 {
        self.seq
    }
    /// A document request started after `seq` and still in flight: a
    /// navigation on its way (a page commits before its request ends).
    pub fn document_pending_since(&self, seq: u64) -> bool {
        self.network.iter().any(|n| n.seq > seq && n.resource_type == "Document" && !n.done)
    }
    /// Requests started and not finished (one pending for over 30 s — a
    /// long poll, a stream — no longer counts).
    pub fn in_flight(&self) -> usize {
        self.network
            .iter()
            .filter(|n| !n.done && n.started.is_some_and(|t| t.elapsed() < Duration::from_secs(30)))
            .count()
    }
}

/// One tab: its page handle and what its listeners record.
pub struct Tab {
    /// The page.
    pub page: Page,
    /// The listeners' records.
    pub log: Arc<Mutex<TabLog>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Tab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A running Chromium and its tabs.
pub struct Chrome {
    /// The browser connection.
    pub browser: Arc<Browser>,
    /// The tabs this session knows, in opening order.
    pub tabs: Vec<Tab>,
    /// The selected tab.
    pub current: usize,
    /// Requests the allow-list refused.
    pub blocked: Arc<Mutex<BlockedLog>>,
    /// Targets closed on purpose (Chromium's first tab, tabs closed by a
    /// call), which may still be listed for a moment and must not be adopted.
    pub closed: HashSet<String>,
    child: tokio::process::Child,
    pgid: Option<i32>,
    profile: Option<tempfile::TempDir>,
    tasks: Vec<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kill a process group by id (SIGKILL). Safe to call on a dead group.
pub fn kill_group(pgid: i32) {
    if let Some(p) = rustix::process::Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.tabs.clear();
        if let Some(g) = self.pgid.take() {
            kill_group(g);
        }
        // kill_on_drop also SIGKILLs the leader; tokio reaps it.
        let _ = self.child.start_kill();
        // The profile goes once the processes writing it are gone.
        if let Some(p) = self.profile.take() {
            let path = p.path().to_path_buf();
            std::mem::forget(p);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let _ = std::fs::remove_dir_all(path);
            });
        }
    }
}

/// chromiumoxide handler errors (protocol messages it could not decode,
/// connection errors) across the server: how many, and the last one.
#[derive(Debug, Default)]
pub struct HandlerLog {
    /// How many.
    pub count: AtomicU64,
    /// The last one's text (cut).
    pub last: Mutex<Option<String>>,
    /// Events chromiumoxide could not decode that nothing here uses, by
    /// method (Chromium 156's `Network.requestWillBeSentExtraInfo` is one):
    /// logged once each, not counted as errors.
    pub ignored: Mutex<std::collections::BTreeSet<String>>,
}

/// Events this server (or chromiumoxide's own bookkeeping) relies on: an
/// undecodable one of these is an error, any other undecodable event is
/// ignored (see [`HandlerLog::ignored`]).
fn relied_on(method: &str) -> bool {
    const USED: &[&str] = &[
        "Fetch.requestPaused",
        "Runtime.consoleAPICalled",
        "Runtime.exceptionThrown",
        "Network.requestWillBeSent",
        "Network.responseReceived",
        "Network.loadingFinished",
        "Network.loadingFailed",
    ];
    USED.contains(&method) || ["Target.", "Page.", "Runtime.executionContext"].iter().any(|p| method.starts_with(p))
}

impl HandlerLog {
    fn record(&self, e: &chromiumoxide::error::CdpError) {
        if let chromiumoxide::error::CdpError::InvalidMessage(raw, err) = e {
            let method = serde_json::from_str::<Value>(raw)
                .ok()
                .filter(|v| v.get("id").is_none())
                .and_then(|v| v["method"].as_str().map(str::to_owned));
            if let Some(m) = method.filter(|m| !relied_on(m)) {
                if lock(&self.ignored).insert(m.clone()) {
                    tracing::warn!(method = %m, error = %err, "chromiumoxide cannot decode this DevTools event; it is not used here, ignored");
                }
                return;
            }
            self.count.fetch_add(1, Ordering::Relaxed);
            *lock(&self.last) = Some(format!("{err}: {}", cut(raw, 600)));
        } else {
            self.count.fetch_add(1, Ordering::Relaxed);
            *lock(&self.last) = Some(e.to_string());
        }
        tracing::error!(error = %e, "chromiumoxide handler error (a DevTools message was lost)");
    }
}

/// The shared [`HandlerLog`].
pub type HandlerErrors = Arc<HandlerLog>;

fn cdp(what: &str, e: impl std::fmt::Display) -> ToolError {
    ToolError::failed(format!("{what}: {e}"))
}

impl Chrome {
    /// The process group id (the leader's pid), for killing without a lock.
    pub fn pgid(&self) -> Option<i32> {
        self.pgid
    }

    /// The profile directory (for tests that look for leftovers).
    pub fn profile_dir(&self) -> Option<std::path::PathBuf> {
        self.profile.as_ref().map(|p| p.path().to_path_buf())
    }

    /// Is the process still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Launch Chromium and connect to it, with interception in place before
    /// the first page exists.
    pub async fn launch(config: &Config, policy: Arc<Policy>, errors: HandlerErrors) -> Result<Self, ToolError> {
        // Profiles live under the data directory in `.profiles` (a name
        // `save_to` cannot reach: it refuses a leading dot), so one server's
        // browsers are found by path and nothing is left in the system's
        // temporary directory.
        let parent = config.data_dir.join(".profiles");
        let profile = std::fs::create_dir_all(&parent)
            .and_then(|()| tempfile::Builder::new().prefix("profile-").tempdir_in(&parent))
            .map_err(|e| ToolError::unavailable(format!("cannot make a browser profile directory: {e}")))?;
        let mut cmd = tokio::process::Command::new(&config.chromium);
        cmd.args([
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-client-side-phishing-detection",
            "--disable-features=Translate,MediaRouter,OptimizationHints,InterestFeedContentSuggestions,AutofillServerCommunication",
            "--metrics-recording-only",
            // No crash handler: it would outlive the browser's group.
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--password-store=basic",
            "--use-mock-keychain",
            "--mute-audio",
            "--hide-scrollbars",
            "--window-size=1280,800",
        ]);
        if config.no_sandbox {
            cmd.arg("--no-sandbox");
        }
        cmd.arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            // Its own home: nothing written next to the server's files.
            .env("HOME", profile.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            // A group of its own, so one signal reaches the zygote,
            // renderers and GPU process too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            ToolError::unavailable(format!("cannot start Chromium at {}: {e}", config.chromium.display()))
        })?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok());
        let guard = KillGuard(pgid);
        let stderr = child.stderr.take().ok_or_else(|| ToolError::unavailable("Chromium has no stderr"))?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let ws = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if let Some(u) = l.strip_prefix("DevTools listening on ") {
                    return Some(u.trim().to_owned());
                }
                if seen.len() < 20 {
                    seen.push(l);
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(ws) = ws else {
            return Err(ToolError::unavailable(format!(
                "Chromium did not start: {}",
                seen.iter().rev().take(5).cloned().collect::<Vec<_>>().join(" | ")
            )));
        };
        // Keep reading so Chromium never blocks on a full pipe.
        let drain = tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                tracing::debug!(target: "chromium", "{l}");
            }
        });
        let hc = HandlerConfig {
            ignore_invalid_messages: false,
            request_timeout: config.nav_timeout + Duration::from_secs(5),
            ..HandlerConfig::default()
        };
        // Chromium prints its DevTools address before its WebSocket server
        // always finishes a handshake: on a loaded machine the first attempt
        // can fail ("Handshake not finished"). A few attempts, a short pause
        // between them, then the error.
        let mut attempt = 0;
        let (browser, mut handler) = loop {
            attempt += 1;
            match Browser::connect_with_config(ws.clone(), hc.clone()).await {
                Ok(pair) => break pair,
                Err(e) if attempt < 5 => {
                    tracing::debug!(error = %e, attempt, "DevTools connection failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    return Err(ToolError::unavailable(format!(
                        "cannot connect to Chromium after {attempt} attempts: {e}"
                    )));
                }
            }
        };
        let errs = errors.clone();
        let handler_task = tokio::spawn(async move {
            while let Some(r) = handler.next().await {
                if let Err(e) = r {
                    errs.record(&e);
                }
            }
        });
        let browser = Arc::new(browser);
        let blocked = Arc::new(Mutex::new(BlockedLog::default()));
        let paused = browser.event_listener::<EventRequestPaused>().await.map_err(|e| cdp("Fetch listener", e))?;
        let interceptor = tokio::spawn(intercept(browser.clone(), paused, policy.clone(), blocked.clone()));
        browser
            .execute(raw(
                "Fetch.enable",
                json!({"patterns": [
                    {"urlPattern": "*", "requestStage": "Request"},
                    {"urlPattern": "*", "resourceType": "Document", "requestStage": "Response"},
                ]}),
            ))
            .await
            .map_err(|e| cdp("Fetch.enable", e))?;
        browser
            .execute(raw("Browser.setDownloadBehavior", json!({"behavior": "deny"})))
            .await
            .map_err(|e| cdp("Browser.setDownloadBehavior", e))?;
        let mut chrome = Self {
            browser,
            tabs: Vec::new(),
            current: 0,
            blocked,
            closed: HashSet::new(),
            child,
            pgid,
            profile: Some(profile),
            tasks: vec![handler_task, interceptor, drain],
        };
        std::mem::forget(guard);
        let page = chrome.browser.new_page("about:blank").await.map_err(|e| cdp("new tab", e))?;
        let keep = page.target_id().clone();
        chrome.adopt(page).await?;
        // The tab Chromium opened by itself is not ours: close it.
        if let Ok(t) = chrome.browser.execute(raw("Target.getTargets", json!({}))).await {
            for info in t.result["targetInfos"].as_array().into_iter().flatten() {
                let id = info["targetId"].as_str().unwrap_or_default();
                if info["type"] == "page" && id != keep.as_ref() {
                    chrome.closed.insert(id.to_owned());
                    let _ = chrome.browser.execute(raw("Target.closeTarget", json!({"targetId": id}))).await;
                }
            }
        }
        Ok(chrome)
    }

    /// Take a page into the tab list: per-tab blocking and listeners.
    pub async fn adopt(&mut self, page: Page) -> Result<usize, ToolError> {
        // A page that is going away never answers: bound every call.
        let limit = Duration::from_secs(5);
        crate::page::exec(&page, limit, "Network.enable", json!({})).await?;
        // Service workers would answer requests from their cache without
        // the page's requests being visible; bypass them.
        let _ = crate::page::exec(&page, limit, "Network.setBypassServiceWorker", json!({"bypass": true})).await;
        let _ = crate::page::exec(&page, limit, "Runtime.enable", json!({})).await;
        let log = Arc::new(Mutex::new(TabLog::default()));
        let tasks = listen(&page, &log).await?;
        self.tabs.push(Tab { page, log, tasks });
        Ok(self.tabs.len() - 1)
    }

    /// The selected tab.
    pub fn tab(&self) -> Result<&Tab, ToolError> {
        self.tabs.get(self.current).ok_or_else(|| ToolError::not_found("no tab is open; open one with browser_tabs"))
    }

    /// Pages the browser has that the list lacks (popups) are adopted;
    /// tabs whose targets are gone are dropped.
    pub async fn refresh_tabs(&mut self) -> Result<(), ToolError> {
        let pages = self.browser.pages().await.map_err(|e| cdp("list pages", e))?;
        let t = self.browser.execute(raw("Target.getTargets", json!({}))).await.map_err(|e| cdp("targets", e))?;
        let live: HashSet<String> = t.result["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["type"] == "page")
            .filter_map(|i| i["targetId"].as_str().map(str::to_owned))
            .collect();
        let before = self.tabs.get(self.current).map(|t| t.page.target_id().clone());
        self.tabs.retain(|t| live.contains(t.page.target_id().as_ref()));
        for p in pages {
            if live.contains(p.target_id().as_ref())
                && !self.closed.contains(p.target_id().as_ref())
                && !self.tabs.iter().any(|t| t.page.target_id() == p.target_id())
                && let Err(e) = self.adopt(p).await
            {
                // A page closing as we look (Chromium's own first tab, a
                // popup that closed itself) is not an error of the call.
                tracing::debug!(error = %e, "a page could not be adopted");
            }
        }
        self.current = before.and_then(|id| self.tabs.iter().position(|t| *t.page.target_id() == id)).unwrap_or(0);
        Ok(())
    }
}

/// Kills a half-started browser's group if launch fails midway.
struct KillGuard(Option<i32>);

impl Drop for KillGuard {
    fn drop(&mut self) {
        if let Some(g) = self.0 {
            kill_group(g);
        }
    }
}

/// The `Content-Security-Policy` added to every document and script
/// response: `connect-src` limited to the allowed origins. WebSockets are
/// not seen by the Fetch domain (and `Network.setBlockedURLs` does not stop
/// them in Chromium 156, tested), but CSP's `connect-src` governs them, and
/// a policy added by a header can only narrow what the page's own policies
/// allow. Frames of local schemes (about:, data:, blob:) and blob workers
/// inherit it. Not covered: a worker script loaded from an allowed URL runs
/// under its own response's policy (the allowed site would have to serve a
/// script that opens the socket). IPv6 literals cannot be written in CSP and
/// CSP has no "dot-less host" wildcard, so WebSockets to `[::1]` and to
/// `http://*:PORT` patterns are refused.
pub fn connect_csp(policy: &Policy) -> String {
    let mut src = Vec::new();
    for p in &policy.origins {
        let host = match &p.host {
            crate::origin::HostPattern::Exact(h) if h.starts_with('[') => continue,
            // CSP's `*` would match every host, not only dot-less names.
            crate::origin::HostPattern::AnyLabel => continue,
            crate::origin::HostPattern::Exact(h) => h.clone(),
            crate::origin::HostPattern::SubdomainOf(d) => format!("*.{d}"),
        };
        let port = p.port.map_or(":*".to_owned(), |n| format!(":{n}"));
        let ws = if p.scheme == "https" { "wss" } else { "ws" };
        src.push(format!("{}://{host}{port}", p.scheme));
        src.push(format!("{ws}://{host}{port}"));
    }
    if src.is_empty() {
        src.push("'none'".into());
    }
    format!("connect-src {}", src.join(" "))
}

/// The interceptor: every paused request is continued or failed; every
/// paused document or script response gets the `connect-src` policy.
async fn intercept(
    browser: Arc<Browser>,
    mut paused: chromiumoxide::listeners::EventStream<EventRequestPaused>,
    policy: Arc<Policy>,
    blocked: Arc<Mutex<BlockedLog>>,
) {
    let csp = connect_csp(&policy);
    while let Some(ev) = paused.next().await {
        let id = ev.request_id.inner().clone();
        let url = ev.request.url.clone();
        let b = browser.clone();
        if ev.response_error_reason.is_some() {
            // A response that failed: let the failure through as it is.
            tokio::spawn(async move {
                let _ = b.execute(raw("Fetch.continueRequest", json!({"requestId": id}))).await;
            });
            continue;
        }
        if let Some(code) = ev.response_status_code {
            let mut headers: Vec<Value> =
                ev.response_headers.iter().flatten().map(|h| json!({"name": h.name, "value": h.value})).collect();
            headers.push(json!({"name": "Content-Security-Policy", "value": csp}));
            let phrase = ev.response_status_text.clone().filter(|p| !p.is_empty());
            // The body is held in memory to be handed back: refuse a document
            // that says it is larger than the cap (a download still is one).
            let length = ev
                .response_headers
                .iter()
                .flatten()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| h.value.trim().parse::<u64>().ok());
            // A download is refused here, where it is still a response:
            // left to Chromium's denied-download path the navigation hangs.
            let attachment = ev.response_headers.iter().flatten().any(|h| {
                h.name.eq_ignore_ascii_case("content-disposition")
                    && h.value.trim().to_ascii_lowercase().starts_with("attachment")
            });
            let refusal = if attachment {
                Some("downloads: files are never downloaded".to_owned())
            } else if length.is_some_and(|n| n > MAX_DOCUMENT_BYTES) {
                Some(format!("size: documents over {MAX_DOCUMENT_BYTES} bytes are not loaded"))
            } else {
                None
            };
            if let Some(rule) = refusal {
                lock(&blocked).push(cut(&url, 500), rule);
                tokio::spawn(async move {
                    let _ = b
                        .execute(raw("Fetch.failRequest", json!({"requestId": id, "errorReason": "BlockedByClient"})))
                        .await;
                });
                continue;
            }
            tokio::spawn(async move {
                // A redirect has no document to protect; the next hop is
                // checked as a request of its own.
                if (300..400).contains(&code) {
                    let _ = b.execute(raw("Fetch.continueRequest", json!({"requestId": id}))).await;
                    return;
                }
                // Chromium computes a document's policies from the response
                // as the network gave it: headers changed with
                // continueResponse are shown but not enforced. A fulfilled
                // response is parsed afresh, so the body is taken and the
                // response given back whole with the added policy.
                let body = match b.execute(raw("Fetch.getResponseBody", json!({"requestId": id}))).await {
                    Ok(r) => r.result,
                    Err(_) => {
                        let _ = b
                            .execute(raw("Fetch.failRequest", json!({"requestId": id, "errorReason": "Failed"})))
                            .await;
                        return;
                    }
                };
                let data = if body["base64Encoded"] == true {
                    body["body"].as_str().unwrap_or_default().to_owned()
                } else {
                    base64::engine::general_purpose::STANDARD.encode(body["body"].as_str().unwrap_or_default())
                };
                let mut params =
                    json!({"requestId": id, "responseCode": code, "responseHeaders": headers, "body": data});
                if let Some(p) = phrase {
                    params["responsePhrase"] = json!(p);
                }
                if b.execute(raw("Fetch.fulfillRequest", params)).await.is_err() {
                    let _ =
                        b.execute(raw("Fetch.failRequest", json!({"requestId": id, "errorReason": "Failed"}))).await;
                }
            });
            continue;
        }
        match policy.check(&url) {
            Verdict::Allow => {
                tokio::spawn(async move {
                    let _ = b.execute(raw("Fetch.continueRequest", json!({"requestId": id}))).await;
                });
            }
            Verdict::Deny(rule) => {
                tracing::info!(url = %cut(&url, 200), rule = %rule, "request refused by the allow-list");
                lock(&blocked).push(cut(&url, 500), rule);
                tokio::spawn(async move {
                    let _ = b
                        .execute(raw("Fetch.failRequest", json!({"requestId": id, "errorReason": "BlockedByClient"})))
                        .await;
                });
            }
        }
    }
}

/// Cut text at `n` characters.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

fn push_capped<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() == LOG_CAP {
        q.pop_front();
    }
    q.push_back(v);
}

fn arg_text(v: &chromiumoxide::cdp::js_protocol::runtime::RemoteObject) -> String {
    match &v.value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => v.description.clone().unwrap_or_else(|| format!("{:?}", v.r#type).to_lowercase()),
    }
}

async fn listen(page: &Page, log: &Arc<Mutex<TabLog>>) -> Result<Vec<JoinHandle<()>>, ToolError> {
    let main_frame = page.target_id().as_ref().to_owned();
    let mut tasks = Vec::new();
    macro_rules! on {
        ($ev:ty, |$e:ident, $l:ident, $mf:ident| $body:block) => {{
            let mut s = page.event_listener::<$ev>().await.map_err(|e| cdp("listener", e))?;
            let log = log.clone();
            #[allow(unused_variables)]
            let $mf = main_frame.clone();
            tasks.push(tokio::spawn(async move {
                while let Some($e) = s.next().await {
                    let mut $l = lock(&log);
                    $body
                }
            }));
        }};
    }
    on!(EventConsoleApiCalled, |e, l, main_frame| {
        let text = e.args.iter().map(arg_text).collect::<Vec<_>>().join(" ");
        let level =
            serde_json::to_value(&e.r#type).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let seq = l.next();
        push_capped(&mut l.console, ConsoleEntry { seq, level, text: cut(&text, 2000) });
    });
    on!(EventExceptionThrown, |e, l, main_frame| {
        let d = &e.exception_details;
        let text = d.exception.as_ref().and_then(|x| x.description.clone()).unwrap_or_else(|| d.text.clone());
        let seq = l.next();
        push_capped(&mut l.console, ConsoleEntry { seq, level: "error".into(), text: cut(&text, 2000) });
    });
    // The browser's own messages: CSP refusals (a WebSocket or fetch the
    // connect-src policy stopped), network errors, interventions.
    on!(chromiumoxide::cdp::browser_protocol::log::EventEntryAdded, |e, l, main_frame| {
        let level =
            serde_json::to_value(&e.entry.level).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let source =
            serde_json::to_value(&e.entry.source).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let seq = l.next();
        push_capped(
            &mut l.console,
            ConsoleEntry { seq, level, text: cut(&format!("[{source}] {}", e.entry.text), 2000) },
        );
    });
    on!(EventRequestWillBeSent, |e, l, main_frame| {
        let seq = l.next();
        let resource_type = e
            .r#type
            .as_ref()
            .and_then(|t| serde_json::to_value(t).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let id = e.request_id.inner().clone();
        // A redirect reuses the id: the earlier hop is finished.
        if let Some(prev) = l.network.iter_mut().rev().find(|n| n.id == id && !n.done) {
            prev.done = true;
            if let Some(r) = &e.redirect_response {
                prev.status = u16::try_from(r.status).ok();
            }
        }
        l.last_activity = Some(Instant::now());
        push_capped(
            &mut l.network,
            NetEntry {
                seq,
                method: e.request.method.clone(),
                url: cut(&e.request.url, 500),
                resource_type,
                status: None,
                failed: None,
                blocked: false,
                id,
                done: false,
                started: Some(Instant::now()),
            },
        );
    });
    on!(EventResponseReceived, |e, l, main_frame| {
        let id = e.request_id.inner().clone();
        let status = u16::try_from(e.response.status).ok();
        if let Some(n) = l.network.iter_mut().rev().find(|n| n.id == id) {
            n.status = status;
        }
        let doc = serde_json::to_value(&e.r#type).ok().is_some_and(|v| v == "Document");
        if doc && e.frame_id.as_ref().is_some_and(|f| f.as_ref() == main_frame.as_str()) {
            l.main_status = status;
        }
    });
    on!(EventLoadingFinished, |e, l, main_frame| {
        let id = e.request_id.inner().clone();
        if let Some(n) = l.network.iter_mut().rev().find(|n| n.id == id) {
            n.done = true;
        }
        l.last_activity = Some(Instant::now());
    });
    on!(EventLoadingFailed, |e, l, main_frame| {
        let id = e.request_id.inner().clone();
        let blocked = e.error_text.contains("BLOCKED_BY_CLIENT");
        if let Some(n) = l.network.iter_mut().rev().find(|n| n.id == id) {
            n.done = true;
            n.failed = Some(e.error_text.clone());
            n.blocked = blocked;
        }
        l.last_activity = Some(Instant::now());
    });
    // A dialog (alert, confirm, prompt, beforeunload) stops the page's
    // scripts until it is answered, and every later call would hang on it:
    // dismiss it at once (leaving a page is allowed) and log it.
    {
        let mut s = page
            .event_listener::<chromiumoxide::cdp::browser_protocol::page::EventJavascriptDialogOpening>()
            .await
            .map_err(|e| cdp("listener", e))?;
        let log = log.clone();
        let page = page.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = s.next().await {
                let kind = serde_json::to_value(&e.r#type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                {
                    let mut l = lock(&log);
                    let seq = l.next();
                    let text = cut(&format!("[dialog {kind} dismissed] {}", e.message), 2000);
                    push_capped(&mut l.console, ConsoleEntry { seq, level: "warning".into(), text });
                }
                let accept = kind == "beforeunload";
                let _ = tokio::time::timeout(
                    Duration::from_secs(5),
                    page.execute(raw("Page.handleJavaScriptDialog", json!({"accept": accept}))),
                )
                .await;
            }
        }));
    }
    on!(EventFrameNavigated, |e, l, main_frame| {
        if e.frame.parent_id.is_none() {
            l.epoch += 1;
            // The old document's requests end with it.
            for n in l.network.iter_mut().filter(|n| !n.done && n.resource_type != "Document") {
                n.done = true;
            }
        }
    });
    Ok(tasks)
}
