//! The hostile corpus: every way a page or a caller might reach an origin
//! that is not allowed, or a file outside the roots. Each case asserts the
//! refusal and that the disallowed site received no request at all.

use axum::Router;
use axum::routing::get;
use serde_json::json;

use crate::{Env, Site, evil, html, settle};

/// The allowed site, whose pages reach for the `evil` port.
async fn app(evil_port: u16) -> Site {
    let e = format!("http://127.0.0.1:{evil_port}");
    let r = Router::new()
        .route("/", get(|| async { html("<title>home</title><h1>Home</h1>".into()) }))
        .route(
            "/redirect",
            get({
                let e = e.clone();
                move || async move { axum::response::Redirect::temporary(&format!("{e}/landed")) }
            }),
        )
        .route("/popup", get({
            let e = e.clone();
            move || async move { html(format!("<title>popup</title><script>window.open('{e}/popup')</script>")) }
        }))
        .route("/blank", get({
            let e = e.clone();
            move || async move {
                html(format!("<title>blank</title><a id=a target=_blank href='{e}/blank'>x</a><script>document.getElementById('a').click()</script>"))
            }
        }))
        .route("/iframe", get({
            let e = e.clone();
            move || async move { html(format!("<title>frame</title><iframe src='{e}/frame'></iframe>")) }
        }))
        .route("/fetch", get({
            let e = e.clone();
            move || async move {
                html(format!("<title>fetch</title><script>fetch('{e}/api').then(()=>console.log('fetched'),x=>console.log('refused '+x))</script><img src='{e}/img.png'>"))
            }
        }))
        .route("/ws", get({
            let e = evil_port;
            move || async move {
                html(format!("<title>ws</title><script>const w=new WebSocket('ws://127.0.0.1:{e}/ws');w.onerror=()=>console.log('ws refused')</script>"))
            }
        }))
        .route("/meta", get({
            let e = e.clone();
            move || async move { html(format!("<title>meta</title><meta http-equiv=refresh content='0;url={e}/meta'>")) }
        }))
        .route("/jsnav", get({
            let e = e.clone();
            move || async move { html(format!("<title>jsnav</title><script>location.href='{e}/js'</script>")) }
        }))
        .route("/opener", get({
            let e = e.clone();
            move || async move {
                html(format!("<title>opener</title><button onclick=\"window.open('{e}/popup')\">open</button><a target=_blank href='{e}/blank'>new window</a>"))
            }
        }))
        .route("/download", get(|| async {
            ([("content-type", "application/octet-stream"), ("content-disposition", "attachment; filename=report.bin")], "secret bytes")
        }))
        .route("/tall", get(|| async {
            html("<title>tall</title><div style='height:30000px;background:linear-gradient(red,blue)'>top</div>".into())
        }))
        .route("/many", get(|| async {
            let mut b = String::from("<title>many</title>");
            for i in 0..3000 {
                b.push_str(&format!("<button>button number {i}</button>"));
            }
            html(b)
        }));
    Site::start(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_a_caller_gives_are_checked_before_loading() {
    let evil = evil().await;
    let e = Env::start("http://127.0.0.1:1").await;
    for url in [
        evil.url("/direct"),
        "javascript:alert(1)".into(),
        "data:text/html,<script>fetch('http://127.0.0.1/')</script>".into(),
        "chrome://settings".into(),
        "view-source:http://127.0.0.1:1/".into(),
        "file:///etc/passwd".into(),
        "about:config".into(),
        "relative/path".into(),
    ] {
        let m = e.fails("browser_navigate", json!({"url": url}), "forbidden").await;
        assert!(m.contains("allowed-origins") || m.contains("scheme") || m.contains("file-roots"), "{url}: {m}");
        e.fails("browser_tabs", json!({"action": "new", "url": url}), "forbidden").await;
    }
    assert_eq!(evil.hits(), 0, "{:?}", evil.paths.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cannot_reach_other_origins() {
    let evil = evil().await;
    let app = app(evil.port).await;
    let e = Env::start(&format!("http://127.0.0.1:{}", app.port)).await;
    // A redirect hop is a request of its own: refused, and the navigation says so.
    let m = e.fails("browser_navigate", json!({"url": app.url("/redirect")}), "forbidden").await;
    assert!(m.contains(&format!("127.0.0.1:{}/landed", evil.port)) && m.contains("allowed-origins"), "{m}");
    // Everything else a page can do to make a request.
    for path in ["/popup", "/blank", "/iframe", "/fetch", "/ws", "/meta", "/jsnav"] {
        let r = e.call("browser_navigate", json!({"url": app.url(path)})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        settle().await;
        assert_eq!(evil.hits(), 0, "{path}: the disallowed site got {:?}", evil.paths.lock().unwrap());
        if path != "/ws" && r.result()["isError"] == false {
            // Navigations that completed report what was refused.
            let blocked = &r.result()["structuredContent"]["blocked"];
            if !["/popup", "/blank", "/meta", "/jsnav"].contains(&path) {
                assert!(blocked.as_array().is_some_and(|b| !b.is_empty()), "{path}: {}", r.text);
            }
        }
    }
    // The page saw its fetch fail (the connect-src policy stops it before it
    // is a request); the network log marks the allow-list's refusals.
    e.ok("browser_navigate", json!({"url": app.url("/fetch")})).await;
    e.ok("browser_wait_for", json!({"network_idle": true, "timeout_secs": 20})).await;
    let net = e.ok("browser_network", json!({"failed_only": true})).await;
    assert!(
        net["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["blocked"] == true && r["url"].as_str().unwrap().contains("/img.png")),
        "{net}"
    );
    let con = e.ok("browser_console", json!({})).await;
    assert!(con.to_string().contains("refused"), "{con}");
    assert!(con.to_string().contains("Content Security Policy"), "{con}");
    // Popups to the disallowed origin never loaded anything there.
    // Popups with a user gesture (a real click), which the popup blocker
    // lets open: the window opens, its load is refused.
    e.ok("browser_navigate", json!({"url": app.url("/opener")})).await;
    let snap = e.snapshot().await;
    let c = e.ok("browser_click", json!({"ref": crate::ref_of(&snap, "button \"open\"")})).await;
    assert!(c["blocked"].to_string().contains("/popup"), "{c}");
    e.ok("browser_click", json!({"ref": crate::ref_of(&snap, "link \"new window\"")})).await;
    settle().await;
    let tabs = e.ok("browser_tabs", json!({"action": "list"})).await;
    assert_eq!(tabs["tabs"].as_array().unwrap().len(), 3, "two popups opened: {tabs}");
    for t in tabs["tabs"].as_array().unwrap() {
        assert!(!t["url"].as_str().unwrap().contains(&format!(":{}/", evil.port)) || t["title"] != "evil", "{tabs}");
    }
    settle().await;
    assert_eq!(evil.hits(), 0, "{:?}", evil.paths.lock().unwrap());
    e.assert_no_protocol_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_pages_are_capped_and_downloads_denied() {
    let evil = evil().await;
    let app = app(evil.port).await;
    let e = Env::start(&format!("http://127.0.0.1:{}", app.port)).await;
    e.ok("browser_navigate", json!({"url": app.url("/tall")})).await;
    let r = e.call("browser_screenshot", json!({"full_page": true})).await;
    let s = crate::ok(&r).clone();
    assert_eq!(s["clipped"], true, "{s}");
    let png = crate::actions::png_of(&r);
    let (w, h) = crate::actions::ihdr(&png);
    assert_eq!((w, h), (s["width"].as_u64().unwrap() as u32, s["height"].as_u64().unwrap() as u32));
    // 16384 CSS px at scale 1, or proportionally less when shrunk to fit.
    let scale = s["scale"].as_f64().unwrap();
    assert!((f64::from(h) - 16384.0 * scale).abs() <= 2.0, "{s}");

    e.ok("browser_navigate", json!({"url": app.url("/many")})).await;
    let snap = e.ok("browser_snapshot", json!({"max_chars": 2000})).await;
    assert_eq!(snap["truncated"], true);
    assert!(snap["snapshot"].as_str().unwrap().len() <= 2000);
    let saved = std::fs::read_to_string(snap["saved_to"].as_str().unwrap()).unwrap();
    assert!(saved.contains("button number 2999"), "the saved snapshot is whole");
    // The server's own cap holds too.
    let full = e.ok("browser_snapshot", json!({})).await;
    assert!(full["snapshot"].as_str().unwrap().len() <= e.state.config.max_snapshot_chars);
    // A ref the cut left out is not handed out.
    let hidden = saved.lines().find(|l| l.contains("button number 2999")).unwrap();
    let r = &hidden[hidden.find("[ref=").unwrap() + 5..hidden.len() - 1];
    e.fails("browser_click", json!({"ref": r}), "not_found").await;
    e.fails("browser_snapshot", json!({"save_to": "../escape"}), "invalid_input").await;

    // A download is refused: nothing written anywhere under the profile or the data directory.
    let t = std::time::Instant::now();
    let m = e.fails("browser_navigate", json!({"url": app.url("/download")}), "forbidden").await;
    assert!(m.contains("downloads"), "{m}");
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "a refused download took {:?}", t.elapsed());
    settle().await;
    let found = walk(e.dir.path()).into_iter().filter(|p| p.to_string_lossy().contains("report")).collect::<Vec<_>>();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(evil.hits(), 0);
    e.assert_no_protocol_errors();
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_urls_only_under_the_roots() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.html"), "<title>secret</title>").unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("page.html"),
        format!(
            "<title>local</title><h1>Local</h1><iframe src='file://{}/secret.html'></iframe>",
            outside.path().display()
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.html"), root.path().join("link.html")).unwrap();
    let canon = std::fs::canonicalize(root.path()).unwrap();
    let e = Env::with("http://127.0.0.1:1", |c| c.roots = vec![canon.clone()]).await;
    let n = e.ok("browser_navigate", json!({"url": format!("file://{}/page.html", canon.display())})).await;
    assert_eq!(n["title"], "local", "{n}");
    // The frame pointing outside was refused by the interceptor.
    assert!(n["blocked"].to_string().contains("secret.html"), "{n}");
    for bad in [
        format!("file://{}/secret.html", outside.path().display()),
        format!("file://{}/link.html", canon.display()),
        format!("file://{}/../x", canon.display()),
    ] {
        e.fails("browser_navigate", json!({"url": bad}), "forbidden").await;
    }
    e.assert_no_protocol_errors();
}
