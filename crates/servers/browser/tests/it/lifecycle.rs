//! Sessions: isolation between MCP sessions (cookies, storage), closing,
//! the session cap, and Chromium's processes gone after `browser_close`
//! and after the server stops. Also the benchmark figures (cold start, the
//! snapshot of a larger page), printed for the report.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::{Env, Site, html};

/// Processes whose command line mentions `needle` (Chromium's processes all
/// carry their `--user-data-dir`, or are children of one that does).
fn processes_with(needle: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else { continue };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            out.push((pid, cmd));
        }
    }
    out
}

async fn gone(needle: &str) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_with(needle);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < end, "Chromium processes left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn session_call(c: &RawClient, id: u64, tool: &str, args: Value) -> Value {
    let r = c.session_request(id, "tools/call", json!({"name": tool, "arguments": args})).await;
    assert_eq!(r.result()["isError"], false, "{tool}: {}", r.text);
    r.result()["structuredContent"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_isolated_and_cleaned_up() {
    let site = Site::start(
        Router::new()
            .route(
                "/set",
                get(|| async {
                    html(
                        "<title>set</title><script>document.cookie='k=v';localStorage.setItem('x','1')</script>".into(),
                    )
                }),
            )
            .route("/show", get(|| async { html("<title>show</title>".into()) })),
    )
    .await;
    let e = Env::with(&format!("http://127.0.0.1:{}", site.port), |c| c.max_sessions = 2).await;
    let mut a = e.server.raw();
    let mut b = e.server.raw();
    a.open_session().await;
    b.open_session().await;
    session_call(&a, 2, "browser_navigate", json!({"url": site.url("/set")})).await;
    session_call(&b, 2, "browser_navigate", json!({"url": site.url("/show")})).await;
    let probe = json!({"expression": "document.cookie + '|' + localStorage.getItem('x')"});
    assert_eq!(session_call(&a, 3, "browser_evaluate", probe.clone()).await["value"], "k=v|1");
    assert_eq!(session_call(&b, 3, "browser_evaluate", probe.clone()).await["value"], "|null");
    assert_eq!(e.state.open_sessions(), 2);
    // A third caller (stateless) is over the cap of two.
    let r = e.call("browser_tabs", json!({"action": "list"})).await;
    assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "rate_limited", "{}", r.text);

    // Closing A kills its Chromium (every process of it) and frees a slot.
    let profiles = e.state.profiles.lock().unwrap().clone();
    assert_eq!(profiles.len(), 2);
    assert!(!processes_with(&profiles[0].display().to_string()).is_empty());
    assert_eq!(session_call(&a, 4, "browser_close", json!({})).await["closed"], true);
    // A navigated first, so its browser was launched first.
    gone(&profiles[0].display().to_string()).await;
    assert!(!processes_with(&profiles[1].display().to_string()).is_empty(), "B's browser must survive A's close");
    assert_eq!(e.state.open_sessions(), 1);
    // A new browser for A is empty.
    session_call(&a, 5, "browser_navigate", json!({"url": site.url("/show")})).await;
    assert_eq!(session_call(&a, 6, "browser_evaluate", probe).await["value"], "|null");
    e.assert_no_protocol_errors();
    // Dropping the state (the server stopped) kills the rest.
    let data = e.dir.path().join("data").join(".profiles").display().to_string();
    assert!(!processes_with(&data).is_empty());
    let Env { server, state, dir } = e;
    server.stop().await;
    drop(state);
    gone(&data).await;
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_kills_chromium_and_the_program_kills_all_at_stop() {
    let site = Site::start(Router::new().route("/", get(|| async { html("<title>x</title>".into()) }))).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = mcp_server_browser::Config::for_tests(
        &format!("http://127.0.0.1:{}", site.port),
        dir.path().join("data"),
        true,
    )
    .unwrap();
    let core = mcp_core::CoreConfig::defaults(mcp_server_browser::NAME);
    let program = mcp_server_browser::start(cfg, core).await.unwrap();
    let t = mcp_test::TestServer::start_program(program).await;
    let profiles = dir.path().join("data").join(".profiles").display().to_string();
    let c = t.raw();
    let r = c.call("browser_navigate", json!({"url": site.url("/")})).await;
    assert_eq!(r.result()["isError"], false, "{}", r.text);
    let n = processes_with(&profiles).len();
    assert!(n >= 2, "Chromium runs as several processes, found {n}");
    let r = c.call("browser_close", json!({})).await;
    assert_eq!(r.result()["structuredContent"]["closed"], true, "{}", r.text);
    gone(&profiles).await;
    // Again, and this time the server stops with the browser open.
    let r = c.call("browser_navigate", json!({"url": site.url("/")})).await;
    assert_eq!(r.result()["isError"], false, "{}", r.text);
    assert!(!processes_with(&profiles).is_empty());
    t.stop().await;
    gone(&profiles).await;
    // The profiles themselves are removed.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let left: Vec<_> = std::fs::read_dir(dir.path().join("data").join(".profiles")).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_cold_start_and_snapshot() {
    // A page the size of a real dashboard: navigation, a table of 300 rows
    // with links and buttons, a form.
    let mut page = String::from("<title>Dashboard</title><nav>");
    for i in 0..30 {
        page.push_str(&format!("<a href='/p{i}'>Section {i}</a> "));
    }
    page.push_str("</nav><main><h1>Services</h1><table><tr><th>Name</th><th>Status</th><th>Action</th></tr>");
    for i in 0..300 {
        page.push_str(&format!(
            "<tr><td><a href='/s/{i}'>service-{i}</a></td><td>healthy</td><td><button>Restart {i}</button></td></tr>"
        ));
    }
    page.push_str("</table><form><input aria-label='Search'><select aria-label='Env'><option>prod</option></select></form></main>");
    let site = Site::start(Router::new().route(
        "/",
        get(move || {
            let p = page.clone();
            async move { html(p) }
        }),
    ))
    .await;
    let e = Env::start(&format!("http://127.0.0.1:{}", site.port)).await;
    let t0 = Instant::now();
    e.ok("browser_tabs", json!({"action": "list"})).await;
    let cold = t0.elapsed();
    let t1 = Instant::now();
    e.ok("browser_navigate", json!({"url": site.url("/")})).await;
    let nav = t1.elapsed();
    let mut snaps = Vec::new();
    let mut chars = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let s = e.ok("browser_snapshot", json!({})).await;
        snaps.push(t.elapsed());
        chars = s["snapshot"].as_str().unwrap().len();
    }
    snaps.sort();
    let t2 = Instant::now();
    e.ok("browser_screenshot", json!({"full_page": true})).await;
    let shot = t2.elapsed();
    eprintln!(
        "BENCH browser: cold start (launch + first call) {:.0} ms; navigate {:.0} ms; snapshot of a 300-row page \
         ({chars} chars) median {:.0} ms (min {:.0}); full-page screenshot {:.0} ms",
        cold.as_secs_f64() * 1e3,
        nav.as_secs_f64() * 1e3,
        snaps[2].as_secs_f64() * 1e3,
        snaps[0].as_secs_f64() * 1e3,
        shot.as_secs_f64() * 1e3
    );
    assert!(cold < Duration::from_secs(20), "cold start took {cold:?}");
    assert!(snaps[2] < Duration::from_secs(5), "snapshot took {:?}", snaps[2]);
    e.assert_no_protocol_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_browsers_are_killed() {
    let site = Site::start(Router::new().route("/", get(|| async { html("<title>x</title>".into()) }))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = mcp_server_browser::Config::for_tests(
        &format!("http://127.0.0.1:{}", site.port),
        dir.path().join("data"),
        true,
    )
    .unwrap();
    cfg.idle = Duration::from_secs(1);
    let program =
        mcp_server_browser::start(cfg, mcp_core::CoreConfig::defaults(mcp_server_browser::NAME)).await.unwrap();
    let t = mcp_test::TestServer::start_program(program).await;
    let profiles = dir.path().join("data").join(".profiles").display().to_string();
    let r = t.raw().call("browser_navigate", json!({"url": site.url("/")})).await;
    assert_eq!(r.result()["isError"], false, "{}", r.text);
    assert!(!processes_with(&profiles).is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    gone(&profiles).await;
    // The next call starts a fresh browser.
    let r = t.raw().call("browser_tabs", json!({"action": "list"})).await;
    assert_eq!(r.result()["isError"], false, "{}", r.text);
    assert_eq!(r.result()["structuredContent"]["tabs"][0]["url"], "about:blank", "{}", r.text);
    t.stop().await;
    gone(&profiles).await;
}
