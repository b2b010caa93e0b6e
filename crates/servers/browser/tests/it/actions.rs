//! Snapshot refs and the actions that take them, on a small form page;
//! screenshots (valid PNGs of the stated size), console and network logs,
//! history, tabs, evaluate and PDF.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use base64::Engine as _;
use serde_json::json;

use crate::{Env, Site, html, ref_of};

const FORM: &str = r#"<title>Form</title><h1>Sign up</h1>
<form action="/done" method="get">
<input name="name" aria-label="Name">
<select name="color" aria-label="Color"><option value="r">Red</option><option value="g">Green</option></select>
<input type="checkbox" name="agree" aria-label="Agree">
<button type="submit">Send</button>
</form>
<button id="hov" onmouseover="document.getElementById('out').textContent='hovered'">Hover me</button>
<p id="out"></p>
<script>console.log('ready', 42); console.error('oops');</script>"#;

async fn site() -> Site {
    let r = Router::new()
        .route("/form", get(|| async { html(FORM.into()) }))
        .route(
            "/dialog",
            get(|| async {
                html("<title>dialog</title><script>alert('hi there');document.title='after'</script>".into())
            }),
        )
        .route(
            "/done",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let g = |k: &str| q.get(k).cloned().unwrap_or_default();
                html(format!("<title>Done</title><p>Hello {} color={} agree={}</p>", g("name"), g("color"), g("agree")))
            }),
        );
    Site::start(r).await
}

/// The PNG of a screenshot result (its image content block), checked.
pub fn png_of(r: &mcp_test::raw::Reply) -> Vec<u8> {
    let img = r.result()["content"].as_array().unwrap().iter().find(|c| c["type"] == "image").expect("an image block");
    assert_eq!(img["mimeType"], "image/png");
    let png = base64::engine::general_purpose::STANDARD.decode(img["data"].as_str().unwrap()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    png
}

/// Width and height from the IHDR chunk.
pub fn ihdr(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[12..16], b"IHDR");
    (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_refs_drive_a_form() {
    let s = site().await;
    let e = Env::start(&format!("http://127.0.0.1:{}", s.port)).await;
    let n = e.ok("browser_navigate", json!({"url": s.url("/form")})).await;
    assert_eq!((n["status"].as_u64(), n["title"].as_str()), (Some(200), Some("Form")), "{n}");
    let snap = e.snapshot().await;
    for want in [
        "heading \"Sign up\" [level=1]",
        "textbox \"Name\"",
        "combobox \"Color\"",
        "checkbox \"Agree\"",
        "button \"Send\"",
    ] {
        assert!(snap.contains(want), "{want} not in\n{snap}");
    }
    // A subtree.
    let form_ref = ref_of(&snap, "button \"Send\"");
    let sub = e.ok("browser_snapshot", json!({"root_ref": form_ref})).await;
    assert_eq!(sub["snapshot"].as_str().unwrap().lines().count(), 1, "{sub}");

    e.ok("browser_hover", json!({"ref": ref_of(&snap, "Hover me")})).await;
    e.ok("browser_wait_for", json!({"text": "hovered"})).await;
    e.fails("browser_wait_for", json!({"text": "never there", "timeout_secs": 1}), "timed_out").await;

    e.ok(
        "browser_fill_form",
        json!({"fields": [
            {"ref": ref_of(&snap, "textbox \"Name\""), "value": "Ada"},
            {"ref": ref_of(&snap, "combobox \"Color\""), "value": "Green"},
            {"ref": ref_of(&snap, "checkbox \"Agree\""), "value": "true"},
        ]}),
    )
    .await;
    let after = e.snapshot().await;
    assert!(after.lines().any(|l| l.contains("checkbox \"Agree\"") && l.contains("[checked]")), "{after}");
    let send = ref_of(&after, "button \"Send\"");
    let clicked = e.ok("browser_click", json!({"ref": send})).await;
    assert_eq!(clicked["navigated"], true, "{clicked}");
    assert!(clicked["url"].as_str().unwrap().contains("/done?name=Ada"), "{clicked}");
    e.ok("browser_wait_for", json!({"selector": "p"})).await;
    let done = e.snapshot().await;
    assert!(done.contains("Hello Ada color=g agree=on"), "{done}");
    // A ref from before the navigation is stale, and the error says what to do.
    let m = e.fails("browser_click", json!({"ref": send}), "not_found").await;
    assert!(m.contains("browser_snapshot"), "{m}");
    e.fails("browser_click", json!({"ref": "button"}), "invalid_input").await;

    // Back to the form: type with submit, select directly.
    let back = e.ok("browser_history", json!({"action": "back"})).await;
    assert!(back["url"].as_str().unwrap().ends_with("/form"), "{back}");
    let snap = e.snapshot().await;
    e.ok("browser_select", json!({"ref": ref_of(&snap, "combobox"), "values": ["r"]})).await;
    e.fails("browser_select", json!({"ref": ref_of(&snap, "combobox"), "values": ["purple"]}), "not_found").await;
    let typed =
        e.ok("browser_type", json!({"ref": ref_of(&snap, "textbox \"Name\""), "text": "Bob", "submit": true})).await;
    assert!(typed["url"].as_str().unwrap().contains("name=Bob&color=r"), "{typed}");
    e.ok("browser_history", json!({"action": "reload"})).await;
    let fwd = e.call("browser_history", json!({"action": "forward"})).await;
    assert_eq!(fwd.result()["_meta"]["dev.mcp-fleet/errorKind"], "conflict", "{}", fwd.text);

    // Keys: focus the text box, type a character with press_key.
    e.ok("browser_navigate", json!({"url": s.url("/form")})).await;
    let snap = e.snapshot().await;
    e.ok("browser_type", json!({"ref": ref_of(&snap, "textbox \"Name\""), "text": "Z"})).await;
    e.ok("browser_press_key", json!({"key": "q"})).await;
    e.ok("browser_press_key", json!({"key": "Enter"})).await;
    let v = e.ok("browser_evaluate", json!({"expression": "location.search"})).await;
    assert!(v["value"].as_str().unwrap().contains("name=Zq"), "{v}");
    e.fails("browser_press_key", json!({"key": "Hyper"}), "invalid_input").await;

    // Console and network logs.
    e.ok("browser_navigate", json!({"url": s.url("/form")})).await;
    let con = e.ok("browser_console", json!({})).await;
    let msgs = con["messages"].as_array().unwrap();
    assert!(msgs.iter().any(|m| m["text"] == "ready 42" && m["level"] == "log"), "{con}");
    let errs = e.ok("browser_console", json!({"level": "error"})).await;
    assert!(errs["messages"].as_array().unwrap().iter().all(|m| m["level"] == "error"), "{errs}");
    assert!(errs.to_string().contains("oops"), "{errs}");
    let net = e.ok("browser_network", json!({"url_contains": "/done"})).await;
    assert!(
        net["requests"].as_array().unwrap().iter().any(|r| r["status"] == 200 && r["resource_type"] == "Document"),
        "{net}"
    );
    e.assert_no_protocol_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_tabs_evaluate_pdf() {
    let s = site().await;
    let e = Env::start(&format!("http://127.0.0.1:{}", s.port)).await;
    e.ok("browser_navigate", json!({"url": s.url("/form")})).await;
    let r = e.call("browser_screenshot", json!({"save_to": "form"})).await;
    let shot = crate::ok(&r).clone();
    let png = png_of(&r);
    let (w, h) = ihdr(&png);
    assert_eq!(
        (u64::from(w), u64::from(h), png.len() as u64),
        (shot["width"].as_u64().unwrap(), shot["height"].as_u64().unwrap(), shot["bytes"].as_u64().unwrap())
    );
    assert!(w >= 800 && h >= 500, "{w}x{h}");
    assert_eq!(shot["clipped"], false);
    let saved = shot["saved_to"].as_str().unwrap();
    assert!(saved.ends_with("/form.png"));
    assert_eq!(std::fs::read(saved).unwrap(), png);
    // One element.
    let snap = e.snapshot().await;
    let r = e.call("browser_screenshot", json!({"ref": ref_of(&snap, "button \"Send\"")})).await;
    let (bw, bh) = ihdr(&png_of(&r));
    assert!(bw < 300 && bh < 100 && bw > 0 && bh > 0, "{bw}x{bh}");
    // A shot over the image budget comes back scaled down, saved whole.
    let small = Env::with(&format!("http://127.0.0.1:{}", s.port), |c| c.max_image_bytes = 5_000).await;
    small.ok("browser_navigate", json!({"url": s.url("/form")})).await;
    let r = small.call("browser_screenshot", json!({"full_page": true})).await;
    let big = crate::ok(&r).clone();
    assert!(big["scale"].as_f64().unwrap() < 1.0, "{big}");
    let whole = std::fs::read(big["saved_to"].as_str().unwrap()).unwrap();
    assert!(ihdr(&whole).0 > ihdr(&png_of(&r)).0);

    // Tabs: a new one at a URL, select, close.
    let t = e.ok("browser_tabs", json!({"action": "new", "url": s.url("/done?name=T")})).await;
    assert_eq!(t["tabs"].as_array().unwrap().len(), 2, "{t}");
    assert_eq!(t["navigation"]["title"], "Done");
    assert_eq!(t["tabs"][1]["current"], true);
    let v = e.ok("browser_evaluate", json!({"expression": "document.title"})).await;
    assert_eq!(v["value"], "Done");
    e.ok("browser_tabs", json!({"action": "select", "index": 0})).await;
    let v = e.ok("browser_evaluate", json!({"expression": "Promise.resolve(document.title)"})).await;
    assert_eq!(v["value"], "Form");
    let t = e.ok("browser_tabs", json!({"action": "close", "index": 1})).await;
    assert_eq!(t["tabs"].as_array().unwrap().len(), 1, "{t}");
    e.fails("browser_tabs", json!({"action": "select", "index": 5}), "not_found").await;
    let m = e.fails("browser_evaluate", json!({"expression": "throw new Error('boom')"}), "failed").await;
    assert!(m.contains("boom"), "{m}");

    // A page that opens a dialog does not hang the browser: it is dismissed and logged.
    let n = e.ok("browser_navigate", json!({"url": s.url("/dialog")})).await;
    assert_eq!(n["title"], "after", "{n}");
    let con = e.ok("browser_console", json!({"level": "warning"})).await;
    assert!(con.to_string().contains("hi there"), "{con}");

    let pdf = e.ok("browser_pdf", json!({"save_to": "page"})).await;
    let bytes = std::fs::read(pdf["saved_to"].as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    e.assert_no_protocol_errors();
    small.assert_no_protocol_errors();
}
