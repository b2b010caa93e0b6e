//! `browser_wait_for`: wait until text appears or goes, a CSS selector
//! matches, an element (by ref) is visible, or the network is idle — one
//! condition per call, with a bounded time limit.

use std::time::{Duration, Instant};

use mcp_core::prelude::*;

use crate::page;
use crate::session::Browsers;

/// Arguments: exactly one condition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Wait until this text is on the page.
    pub text: Option<String>,
    /// Wait until this text is no longer on the page.
    pub text_gone: Option<String>,
    /// Wait until this CSS selector matches an element.
    pub selector: Option<String>,
    /// Wait until this element (a ref from the latest snapshot) is visible.
    #[serde(rename = "ref")]
    pub element: Option<String>,
    /// Wait until no request has been in flight for half a second.
    #[serde(default)]
    pub network_idle: bool,
    /// Seconds to wait at most (default 5, at most 30).
    pub timeout_secs: Option<u32>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Waited {
    /// Milliseconds it took.
    pub waited_ms: u64,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_wait_for",
        "Wait (at most timeout_secs, default 5, max 30) until one condition holds in the selected tab: text appears, \
         text_gone disappears, a CSS selector matches, an element ref is visible, or network_idle. Times out with \
         an error saying which condition did not hold.",
        Annotations::read_only(),
        run,
    )
    .title("Wait for")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Waited>, ToolError> {
    let n = [a.text.is_some(), a.text_gone.is_some(), a.selector.is_some(), a.element.is_some(), a.network_idle]
        .iter()
        .filter(|x| **x)
        .count();
    if n != 1 {
        return Err(ToolError::invalid("give exactly one of text, text_gone, selector, ref, network_idle"));
    }
    let secs = super::limit(a.timeout_secs, 5, 30)?;
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let node = a.element.as_deref().map(|r| page::resolve_ref(tab, r)).transpose()?;
    let js = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let expr = if let Some(t) = &a.text {
        Some(format!("(document.body?document.body.innerText:'').includes({})", js(t)))
    } else if let Some(t) = &a.text_gone {
        Some(format!("!(document.body?document.body.innerText:'').includes({})", js(t)))
    } else {
        a.selector.as_ref().map(|s| format!("document.querySelector({}) !== null", js(s)))
    };
    let start = Instant::now();
    let end = start + Duration::from_secs(secs as u64);
    let act = super::act(&b);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ok = if let Some(e) = &expr {
            match page::eval(&tab.page, left.clamp(Duration::from_millis(200), act), e).await {
                Ok(v) => v == Value::Bool(true),
                // A bad selector will not get better.
                Err(err) if a.selector.is_some() && err.to_string().contains("SyntaxError") => {
                    return Err(ToolError::invalid(format!("selector: {err}")));
                }
                Err(_) => false,
            }
        } else if let Some(nd) = node {
            page::call_on(
                &tab.page,
                act,
                nd,
                "function(){const r=this.getBoundingClientRect();return r.width>0&&r.height>0}",
                json!([]),
            )
            .await
            .is_ok_and(|v| v == Value::Bool(true))
        } else {
            let l = tab.log.lock().map_err(|_| ToolError::internal("log lock"))?;
            l.in_flight() == 0 && l.last_activity.is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
        };
        if ok {
            return Ok(Out::new(Waited { waited_ms: start.elapsed().as_millis() as u64 }));
        }
        if Instant::now() >= end {
            return Err(ToolError::timeout(format!("the condition did not hold within {secs} s")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
