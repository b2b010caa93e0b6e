//! `browser_tabs`: list, open, select and close tabs. Popups a page opened
//! (and that the allow-list let load) appear here too. A new tab's URL
//! passes the same checks as `browser_navigate`.

use mcp_core::prelude::*;
use mcp_types::browser::Navigation;

use crate::page;
use crate::session::Browsers;

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// List the tabs.
    List,
    /// Open a tab (at `url` when given) and select it.
    New,
    /// Select tab `index`.
    Select,
    /// Close tab `index` (the selected one when absent).
    Close,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `list`, `new`, `select` or `close`.
    pub action: Action,
    /// The tab, as `index` in the list.
    pub index: Option<usize>,
    /// For `new`: the URL to open (same rules as browser_navigate).
    pub url: Option<String>,
}

/// One tab.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TabInfo {
    /// Its position.
    pub index: usize,
    /// Its URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// The selected tab (the one the other tools act on).
    pub current: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tabs {
    /// The tabs now.
    pub tabs: Vec<TabInfo>,
    /// Where a new tab's navigation ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub navigation: Option<Navigation>,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_tabs",
        "List, open (`new`, optionally at a url), select or close tabs of this session's browser. Popups a page \
         opened appear in the list. The other tools act on the selected tab.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Tabs")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Tabs>, ToolError> {
    let mut c = b.browser(&ctx).await?;
    c.refresh_tabs().await?;
    let bad = |i: usize, n: usize| ToolError::not_found(format!("there is no tab {i}; there are {n} (0..{n})"));
    let mut navigation = None;
    match a.action {
        Action::List => {}
        Action::New => {
            if let Some(u) = &a.url
                && let crate::origin::Verdict::Deny(rule) = b.policy.check_navigation(u.trim())
            {
                return Err(ToolError::denied(rule));
            }
            let p = c.browser.new_page("about:blank").await.map_err(|e| ToolError::failed(format!("new tab: {e}")))?;
            let i = c.adopt(p).await?;
            c.current = i;
            if let Some(u) = &a.url {
                navigation = Some(super::browser_navigate::navigate(&b, &mut c, u.trim()).await?);
            }
        }
        Action::Select => {
            let i = a.index.ok_or_else(|| ToolError::invalid("select needs index"))?;
            if i >= c.tabs.len() {
                return Err(bad(i, c.tabs.len()));
            }
            c.current = i;
            let _ = page::exec(&c.tabs[i].page, super::act(&b), "Page.bringToFront", json!({})).await;
        }
        Action::Close => {
            let i = a.index.unwrap_or(c.current);
            if i >= c.tabs.len() {
                return Err(bad(i, c.tabs.len()));
            }
            let id = c.tabs[i].page.target_id().as_ref().to_owned();
            c.closed.insert(id.clone());
            let _ = c.browser.execute(crate::chrome::raw("Target.closeTarget", json!({"targetId": id}))).await;
            c.tabs.remove(i);
            if c.tabs.is_empty() {
                let p =
                    c.browser.new_page("about:blank").await.map_err(|e| ToolError::failed(format!("new tab: {e}")))?;
                c.adopt(p).await?;
            }
            if c.current >= c.tabs.len() || c.current == i {
                c.current = c.tabs.len() - 1;
            } else if c.current > i {
                c.current -= 1;
            }
        }
    }
    let mut tabs = Vec::new();
    for (index, t) in c.tabs.iter().enumerate() {
        let (url, title) = page::url_title(&t.page, super::act(&b)).await;
        tabs.push(TabInfo { index, url, title, current: index == c.current });
    }
    Ok(Out::new(Tabs { tabs, navigation }))
}
