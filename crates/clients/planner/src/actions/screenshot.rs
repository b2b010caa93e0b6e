//! `screenshot`: open the deployed service in the browser server and take
//! a screenshot of its page for the report (`browser_navigate`,
//! `browser_screenshot`). The PNG is written to the project's `.fleet/`
//! folder (which the templates' `.gitignore` leaves out of the repository)
//! and attached to the report's email.
//!
//! Where the browser goes is `PLANNER_BROWSE_ADDRESS`: the address the
//! docker server published (a browser on the same host) or the service's
//! network alias and container port (a browser on the application network,
//! in compose). Idempotent: the page is opened again and the file written
//! whole.
//!
//! A screenshot is evidence for the requester, not a gate: when the page
//! cannot be opened or shot, the step succeeds with `passed: false` and why,
//! and the report lists it as not done.

use base64::Engine as _;
use mcp_core::tracing::warn;
use mcp_types::browser::{NavigateArgs, Navigation, Screenshot, ScreenshotArgs};
use serde_json::{Value, json};

use super::command::to_args;
use crate::config::Browse;
use crate::exec::Ctx;
use crate::peers::StepError;

/// The largest screenshot the report attaches, bytes: the email server's
/// default limit (`EMAIL_MAX_SEND_BYTES`, 256 KiB) holds it beside the text
/// once base64 is undone. A larger one stays in the project and the report
/// says where.
pub(crate) const ATTACH_MAX: usize = 160 << 10;

/// Where the PNG is kept, inside the project.
pub(crate) fn file(environment: &str) -> String {
    format!(".fleet/screenshot-{environment}.png")
}

/// Shoot the service deployed to `environment`.
pub(super) async fn run(cx: &mut Ctx<'_>, environment: &str) -> Result<Value, StepError> {
    let Some(browser) = cx.p.peers.browser.clone() else {
        return Ok(json!({"passed": false, "ran": false, "summary": "no browser server is configured"}));
    };
    let deployed = cx
        .steps
        .iter()
        .find(|s| matches!(&s.def.action, crate::plan::Action::Deploy { environment: e } if e == environment))
        .and_then(|s| cx.result_of(&s.def.key))
        .cloned()
        .unwrap_or(Value::Null);
    let url = match cx.p.config.runtime.browse {
        Browse::Published => deployed["addresses"][0].as_str().map(|a| format!("http://{a}/")),
        Browse::Alias => match (deployed["alias"].as_str(), deployed["port"].as_u64()) {
            (Some(alias), Some(port)) => Some(format!("http://{alias}:{port}/")),
            _ => None,
        },
    };
    let Some(url) = url else {
        return Ok(json!({"passed": false, "summary": "the deployment recorded no address to open"}));
    };
    // One page at a time per planner: the browser is shared by subject (see `Planner::browsing`).
    let _one = cx.p.browsing.lock().await;
    let nav: Navigation = match browser.call_as("browser_navigate", to_args(&NavigateArgs { url: url.clone() })?).await
    {
        Ok(n) => n,
        Err(e) => {
            warn!(error = %e, %url, "the deployed service could not be opened");
            return Ok(json!({"passed": false, "url": url,
                             "summary": format!("the browser could not open {url}: {}", e.message)}));
        }
    };
    let args = ScreenshotArgs { full_page: true, ..ScreenshotArgs::default() };
    let shot = match browser.call_full("browser_screenshot", to_args(&args)?).await {
        Ok(v) => v,
        Err(e) => {
            return Ok(json!({"passed": false, "url": nav.url,
                             "summary": format!("the browser opened {} but could not shoot it: {}", nav.url, e.message)}));
        }
    };
    let Some(png) = image_of(&shot) else {
        return Ok(json!({"passed": false, "url": nav.url, "summary": "the browser answered without an image"}));
    };
    let facts: Option<Screenshot> = shot.structured.clone().and_then(|v| serde_json::from_value(v).ok());
    let rel = file(environment);
    cx.p.peers
        .fs
        .call(
            "write_file",
            json!({"path": format!("{}/{rel}", cx.run.slug), "content": png, "encoding": "base64",
                   "create_parents": true}),
        )
        .await?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&png).map(|b| b.len()).unwrap_or(0);
    let (w, h) = facts.as_ref().map_or((0, 0), |f| (f.width, f.height));
    let title = if nav.title.trim().is_empty() { "(no title)".to_owned() } else { nav.title.clone() };
    let status = nav.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no HTTP status".into());
    Ok(json!({
        "passed": nav.status.is_none_or(|s| s < 400), "url": nav.url, "title": nav.title, "status": nav.status,
        "file": rel, "bytes": bytes, "width": w, "height": h, "blocked": nav.blocked,
        "attach": bytes > 0 && bytes <= ATTACH_MAX,
        "summary": if bytes <= ATTACH_MAX {
            format!("{} answered {status}, title {title:?}; screenshot {w}x{h} attached", nav.url)
        } else {
            format!("{} answered {status}, title {title:?}; screenshot {w}x{h} too large to attach, kept in {rel}",
                    nav.url)
        },
    }))
}

/// The PNG of a screenshot result: its image content block, base64.
fn image_of(result: &mcp_core::client::CallResult) -> Option<String> {
    result
        .content
        .iter()
        .find(|b| b["type"] == "image" && b["mimeType"] == "image/png")
        .and_then(|b| b["data"].as_str())
        .map(str::to_owned)
}
