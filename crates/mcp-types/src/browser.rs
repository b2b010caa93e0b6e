//! What the planner asks `mcp-server-browser` for: a page opened and its
//! screenshot taken.
//!
//! The planner calls `browser_navigate` with [`NavigateArgs`] and reads
//! [`Navigation`], then `browser_screenshot` with [`ScreenshotArgs`] and
//! reads [`Screenshot`] (the PNG itself is the result's image content
//! block). Both calls are stateless and keyed by the caller, so they reach
//! the same browser. Result types ignore fields they do not read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `browser_navigate`'s arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NavigateArgs {
    /// Absolute URL: `http(s)://` on an allowed origin (`BROWSER_ALLOWED_ORIGINS`), or `file://` under
    /// `BROWSER_ROOTS`. `javascript:`, `data:`, `chrome:` and `view-source:` URLs are refused.
    pub url: String,
}

/// Where a navigation ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Navigation {
    /// The final URL (after redirects).
    pub url: String,
    /// HTTP status of the main document, when it came over HTTP.
    #[serde(default)]
    pub status: Option<u16>,
    /// The document's title.
    #[serde(default)]
    pub title: String,
    /// Requests the allow-list refused while the page loaded (`URL (rule)`).
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// `browser_screenshot`'s arguments (the subset the planner uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScreenshotArgs {
    /// The whole page instead of the viewport (capped in height; `clipped` says when).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_page: bool,
    /// Only this element (a ref from `browser_snapshot`).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "ref")]
    pub element: Option<String>,
    /// Also save the PNG under this file name in the server's data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to: Option<String>,
}

/// A screenshot taken; the PNG is the result's image content block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Screenshot {
    /// Width of the returned image, pixels.
    pub width: u32,
    /// Height of the returned image, pixels.
    pub height: u32,
    /// Size of the returned PNG, bytes.
    pub bytes: u64,
    /// The page was taller than the server's full-page cap and was cut.
    #[serde(default)]
    pub clipped: bool,
    /// Where the full-size PNG was saved (when asked, or when the image was scaled down to fit the result).
    #[serde(default)]
    pub saved_to: Option<String>,
}
