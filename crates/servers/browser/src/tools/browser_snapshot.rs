//! `browser_snapshot`: the selected tab's accessibility tree as indented
//! text with element refs, capped (`max_chars`), optionally from one
//! element down (`root_ref`) and optionally saved to a file (`save_to`).
//! A snapshot over the cap is saved whole and cut in the result.

use mcp_core::prelude::*;

use crate::page;
use crate::session::Browsers;
use crate::snapshot;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Characters of snapshot to return at most (default and maximum: the server's BROWSER_MAX_SNAPSHOT_CHARS).
    /// A longer snapshot is cut at a line and saved whole to a file named in `saved_to`.
    pub max_chars: Option<u32>,
    /// Only the subtree of this element (a ref from an earlier snapshot of the same page, such as `e42`).
    pub root_ref: Option<String>,
    /// Also save the whole snapshot under this file name (letters, digits, `-`, `_`, `.`) in the server's data
    /// directory; `.txt` is added when missing.
    pub save_to: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Snapshot {
    /// The page's URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// One line per node: `- role "name" [flags] [ref=eN]`, children indented.
    pub snapshot: String,
    /// Refs handed out (the action tools take them until the page navigates).
    pub refs: usize,
    /// The snapshot was longer than `max_chars` and was cut.
    pub truncated: bool,
    /// Where the whole snapshot was written, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_to: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_snapshot",
        "The selected tab's accessibility tree as text: one line per element (`- button \"Save\" [ref=e12]`), \
         children indented. Use the refs with browser_click, browser_type, browser_fill_form, browser_select, \
         browser_hover, browser_screenshot and browser_wait_for. Keep it small with max_chars or root_ref (a subtree); \
         save_to writes the whole snapshot to a file instead of the conversation. Refs become stale when the page \
         navigates: snapshot again.",
        Annotations::read_only(),
        run,
    )
    .title("Accessibility snapshot")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Snapshot>, ToolError> {
    let cap = b.config.max_snapshot_chars;
    let max = match a.max_chars {
        None => cap,
        Some(n) if n >= 100 => (n as usize).min(cap),
        Some(n) => return Err(ToolError::invalid(format!("max_chars {n}: ask for at least 100"))),
    };
    let save = a.save_to.as_deref().map(|n| page::save_path(&b.config.data_dir, n, ".txt")).transpose()?;
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let root = a.root_ref.as_deref().map(|r| page::resolve_ref(tab, r)).transpose()?;
    let epoch = page::epoch(tab);
    let tree = page::exec(&tab.page, super::act(&b), "Accessibility.getFullAXTree", json!({})).await?;
    let nodes = tree["nodes"].as_array().cloned().unwrap_or_default();
    let r = snapshot::render(&nodes, root, max);
    if r.root_missing {
        return Err(ToolError::not_found(format!(
            "{} is not in the page's accessibility tree any more; call browser_snapshot again",
            a.root_ref.unwrap_or_default()
        )));
    }
    if let Ok(mut l) = tab.log.lock() {
        // A subtree snapshot adds to the refs of the same document.
        if root.is_none() || l.refs_epoch != epoch {
            l.refs.clear();
        }
        l.refs.extend(r.refs.iter().copied());
        l.refs_epoch = epoch;
    }
    let whole = r.full.as_deref().unwrap_or(&r.text);
    let saved_to = match (save, r.full.is_some()) {
        (Some(p), _) => Some(p),
        (None, true) => Some(b.config.data_dir.join(page::auto_name("snapshot", ".txt"))),
        (None, false) => None,
    };
    if let Some(p) = &saved_to {
        page::write_file(p, whole.as_bytes())?;
    }
    let (url, title) = page::url_title(&tab.page, super::act(&b)).await;
    let truncated = r.full.is_some();
    let mut text = format!("Page: {url}\nTitle: {title}\n");
    if truncated {
        text.push_str(&format!(
            "[snapshot cut at {max} characters; the whole one is in {}; use root_ref for a part]\n",
            saved_to.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ));
    }
    text.push_str(&r.text);
    Ok(Out::new(Snapshot {
        url,
        title,
        refs: r.refs.len(),
        snapshot: r.text,
        truncated,
        saved_to: saved_to.map(|p| p.display().to_string()),
    })
    .text(text))
}
