//! What several tools do to a page: run a DevTools command under the action
//! time limit, wait for a document to load, resolve a snapshot ref to a
//! node, find where an element is on screen, evaluate a little script.

use std::time::{Duration, Instant};

use chromiumoxide::Page;
use mcp_core::ToolError;
use serde_json::{Value, json};

use crate::chrome::{Tab, raw};

/// Run a command on `page` within `limit`.
pub async fn exec(page: &Page, limit: Duration, method: &'static str, params: Value) -> Result<Value, ToolError> {
    match tokio::time::timeout(limit, page.execute(raw(method, params))).await {
        Ok(Ok(r)) => Ok(r.result),
        Ok(Err(e)) => Err(ToolError::failed(format!("{method}: {e}"))),
        Err(_) => Err(ToolError::timeout(format!("{method} took longer than {} s", limit.as_secs_f64()))),
    }
}

/// Evaluate `expr` in the page's main world and return its JSON value.
/// Exceptions are failures carrying the page's message.
pub async fn eval(page: &Page, limit: Duration, expr: &str) -> Result<Value, ToolError> {
    let r = exec(
        page,
        limit,
        "Runtime.evaluate",
        json!({"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true}),
    )
    .await?;
    if let Some(ex) = r.get("exceptionDetails") {
        let msg = ex["exception"]["description"].as_str().or(ex["text"].as_str()).unwrap_or("exception");
        return Err(ToolError::failed(format!("the script threw: {}", crate::chrome::cut(msg, 500))));
    }
    Ok(r["result"]["value"].clone())
}

/// Wait until the document is loaded (`readyState == complete`) or
/// `limit` passes; a script error while the page is between documents is
/// a retry, not a failure. Whether it loaded.
pub async fn wait_loaded(page: &Page, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if let Ok(v) = eval(page, left.min(Duration::from_secs(2)), "document.readyState").await
            && v == "complete"
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page's URL and title.
pub async fn url_title(page: &Page, limit: Duration) -> (String, String) {
    match eval(page, limit, "[location.href, document.title]").await {
        Ok(Value::Array(a)) if a.len() == 2 => {
            (a[0].as_str().unwrap_or_default().to_owned(), a[1].as_str().unwrap_or_default().to_owned())
        }
        _ => (String::new(), String::new()),
    }
}

/// A snapshot ref (`e12`) as a backend node id, checked against the tab's
/// latest snapshot: refs die with the document they came from.
pub fn resolve_ref(tab: &Tab, r: &str) -> Result<i64, ToolError> {
    let id: i64 = r.strip_prefix('e').and_then(|n| n.parse().ok()).ok_or_else(|| {
        ToolError::invalid(format!("{r:?} is not a ref; refs look like e12 and come from browser_snapshot"))
    })?;
    let log = tab.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if log.refs_epoch != log.epoch || !log.refs.contains(&id) {
        return Err(ToolError::not_found(format!(
            "ref {r} is not in the latest snapshot of the current page (the page navigated or changed since); call \
             browser_snapshot again and use a ref from it"
        )));
    }
    Ok(id)
}

/// Scroll the element into view and return the centre of its content box.
pub async fn center(page: &Page, limit: Duration, node: i64) -> Result<(f64, f64), ToolError> {
    let _ = exec(page, limit, "DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": node})).await;
    let b = exec(page, limit, "DOM.getBoxModel", json!({"backendNodeId": node}))
        .await
        .map_err(|_| ToolError::conflict("the element has no box (it is hidden or not rendered); snapshot again"))?;
    let q: Vec<f64> = b["model"]["content"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    if q.len() != 8 {
        return Err(ToolError::conflict("the element has no box (it is hidden or not rendered)"));
    }
    let x = (q[0] + q[2] + q[4] + q[6]) / 4.0;
    let y = (q[1] + q[3] + q[5] + q[7]) / 4.0;
    Ok((x, y))
}

/// The element's box in page coordinates: x, y, width, height.
pub async fn page_box(page: &Page, limit: Duration, node: i64) -> Result<(f64, f64, f64, f64), ToolError> {
    let _ = exec(page, limit, "DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": node})).await;
    let v = call_on(
        page,
        limit,
        node,
        "function(){const r=this.getBoundingClientRect();return [r.x+scrollX,r.y+scrollY,r.width,r.height]}",
        json!([]),
    )
    .await?;
    let a: Vec<f64> = v.as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    match a.as_slice() {
        [x, y, w, h] if *w > 0.0 && *h > 0.0 => Ok((*x, *y, *w, *h)),
        _ => Err(ToolError::conflict("the element has no size (it is hidden or not rendered)")),
    }
}

/// Call `function` with `this` = the node and `args` (JSON values).
pub async fn call_on(page: &Page, limit: Duration, node: i64, function: &str, args: Value) -> Result<Value, ToolError> {
    let o = exec(page, limit, "DOM.resolveNode", json!({"backendNodeId": node}))
        .await
        .map_err(|_| ToolError::not_found("the element is gone from the page; call browser_snapshot again"))?;
    let object = o["object"]["objectId"].as_str().unwrap_or_default().to_owned();
    let args: Vec<Value> = args.as_array().into_iter().flatten().map(|v| json!({"value": v})).collect();
    let r = exec(
        page,
        limit,
        "Runtime.callFunctionOn",
        json!({"functionDeclaration": function, "objectId": object, "arguments": args, "returnByValue": true,
               "awaitPromise": true, "userGesture": true}),
    )
    .await?;
    let _ = exec(page, limit, "Runtime.releaseObject", json!({"objectId": object})).await;
    if let Some(ex) = r.get("exceptionDetails") {
        let msg = ex["exception"]["description"].as_str().or(ex["text"].as_str()).unwrap_or("exception");
        return Err(ToolError::failed(crate::chrome::cut(msg, 500)));
    }
    Ok(r["result"]["value"].clone())
}

/// Bring the tab to the front before input: a background tab (one a popup
/// covered) does not answer input events, and the call would hang.
pub async fn front(page: &Page, limit: Duration) {
    let _ = exec(page, limit, "Page.bringToFront", json!({})).await;
}

/// Mouse events at a point: `moved`, then press and release when `click`.
pub async fn mouse(page: &Page, limit: Duration, (x, y): (f64, f64), click: u32) -> Result<(), ToolError> {
    front(page, limit).await;
    exec(page, limit, "Input.dispatchMouseEvent", json!({"type": "mouseMoved", "x": x, "y": y})).await?;
    for n in 1..=click {
        for t in ["mousePressed", "mouseReleased"] {
            exec(
                page,
                limit,
                "Input.dispatchMouseEvent",
                json!({"type": t, "x": x, "y": y, "button": "left", "clickCount": n}),
            )
            .await?;
        }
    }
    Ok(())
}

/// A key the keyboard can press: `(key, code, keyCode, text)`.
pub fn key_info(name: &str) -> Option<(String, String, i64, String)> {
    let named: &[(&str, &str, i64, &str)] = &[
        ("Enter", "Enter", 13, "\r"),
        ("Tab", "Tab", 9, ""),
        ("Escape", "Escape", 27, ""),
        ("Backspace", "Backspace", 8, ""),
        ("Delete", "Delete", 46, ""),
        ("ArrowUp", "ArrowUp", 38, ""),
        ("ArrowDown", "ArrowDown", 40, ""),
        ("ArrowLeft", "ArrowLeft", 37, ""),
        ("ArrowRight", "ArrowRight", 39, ""),
        ("Home", "Home", 36, ""),
        ("End", "End", 35, ""),
        ("PageUp", "PageUp", 33, ""),
        ("PageDown", "PageDown", 34, ""),
        (" ", "Space", 32, " "),
        ("Space", "Space", 32, " "),
    ];
    if let Some((k, c, n, t)) = named.iter().find(|(k, ..)| k.eq_ignore_ascii_case(name)) {
        let key = if *k == "Space" { " " } else { k };
        return Some((key.to_string(), c.to_string(), *n, t.to_string()));
    }
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(ch), None) if !ch.is_control() => {
            let up = ch.to_ascii_uppercase();
            let code = if ch.is_ascii_alphabetic() {
                format!("Key{up}")
            } else if ch.is_ascii_digit() {
                format!("Digit{ch}")
            } else {
                String::new()
            };
            let n = if ch.is_ascii_alphanumeric() { i64::from(up as u8) } else { 0 };
            Some((ch.to_string(), code, n, ch.to_string()))
        }
        _ => None,
    }
}

/// Press and release one key in the focused element.
pub async fn press(page: &Page, limit: Duration, name: &str) -> Result<(), ToolError> {
    let (key, code, n, text) = key_info(name).ok_or_else(|| {
        ToolError::invalid(format!(
            "unknown key {name:?}: use a single character or Enter, Tab, Escape, Backspace, Delete, ArrowUp, ArrowDown, \
             ArrowLeft, ArrowRight, Home, End, PageUp, PageDown, Space"
        ))
    })?;
    front(page, limit).await;
    let mut down = json!({"type": if text.is_empty() { "rawKeyDown" } else { "keyDown" }, "key": key, "code": code,
        "windowsVirtualKeyCode": n, "nativeVirtualKeyCode": n});
    if !text.is_empty() {
        down["text"] = json!(text);
        down["unmodifiedText"] = json!(text);
    }
    exec(page, limit, "Input.dispatchKeyEvent", down).await?;
    exec(
        page,
        limit,
        "Input.dispatchKeyEvent",
        json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": n, "nativeVirtualKeyCode": n}),
    )
    .await?;
    Ok(())
}

/// After an action: if it started a navigation, wait for the new document
/// (up to `nav`). Whether the main frame navigated. `epoch_before` and
/// `seq_before` are the tab's navigation epoch and log position from before
/// the action: a document request logged since means a navigation is on
/// its way even when the new page has not committed yet (a form posted to a
/// slow server).
pub async fn settle(tab: &Tab, (epoch_before, seq_before): (u64, u64), nav: Duration) -> bool {
    let state =
        || tab.log.lock().map(|l| (l.epoch, l.document_pending_since(seq_before))).unwrap_or((epoch_before, false));
    // A click's navigation starts within a moment or not at all.
    let quiet = Instant::now() + Duration::from_millis(300);
    let end = Instant::now() + nav;
    loop {
        let (epoch, pending) = state();
        if epoch != epoch_before {
            wait_loaded(&tab.page, end.saturating_duration_since(Instant::now())).await;
            return true;
        }
        let now = Instant::now();
        if now >= end || (!pending && now >= quiet) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The tab's current navigation epoch.
pub fn epoch(tab: &Tab) -> u64 {
    tab.log.lock().map(|l| l.epoch).unwrap_or(0)
}

/// The tab's navigation epoch and log position, before an action.
pub fn position(tab: &Tab) -> (u64, u64) {
    tab.log.lock().map(|l| (l.epoch, l.last_seq())).unwrap_or((0, 0))
}

/// A file name under the data directory for `save_to`: a plain name (no
/// directories, no leading dot), with `ext` added when missing.
pub fn save_path(dir: &std::path::Path, name: &str, ext: &str) -> Result<std::path::PathBuf, ToolError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(ToolError::invalid(format!(
            "save_to {name:?}: give a file name (letters, digits, '-', '_', '.'; no directories), it is written under \
             the server's data directory"
        )));
    }
    let file = if name.ends_with(ext) { name.to_owned() } else { format!("{name}{ext}") };
    Ok(dir.join(file))
}

/// A generated name for output the caller did not name.
pub fn auto_name(prefix: &str, ext: &str) -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{prefix}-{ms}-{}{ext}", std::process::id())
}

/// Write `bytes` to `path` (mode 0600), creating the directory.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), ToolError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(ToolError::internal)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(ToolError::internal)?;
    f.write_all(bytes).map_err(ToolError::internal)
}
