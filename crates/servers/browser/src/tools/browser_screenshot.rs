//! `browser_screenshot`: a PNG of the viewport, the whole page (capped in
//! height, and `clipped` says so) or one element, returned as image content
//! beside its structured description. An image over the result budget is
//! saved whole and returned scaled down; `save_to` saves it on request.

use base64::Engine as _;
use mcp_core::prelude::*;

use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The whole page instead of the viewport (up to the server's height cap, BROWSER_MAX_PAGE_HEIGHT).
    #[serde(default)]
    pub full_page: bool,
    /// Only this element (a ref from the latest browser_snapshot).
    #[serde(rename = "ref")]
    pub element: Option<String>,
    /// Also save the PNG under this file name (letters, digits, `-`, `_`, `.`) in the server's data directory.
    pub save_to: Option<String>,
}

/// The result; the PNG itself is the image content block.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Shot {
    /// Width of the returned image, pixels.
    pub width: u32,
    /// Height of the returned image, pixels.
    pub height: u32,
    /// Size of the returned PNG, bytes.
    pub bytes: u64,
    /// The page was taller than the full-page cap and was cut at it.
    pub clipped: bool,
    /// Scale of the returned image (below 1 when it was shrunk to fit the result).
    pub scale: f64,
    /// Where the full-size PNG was saved, when it was.
    pub saved_to: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_screenshot",
        "Take a PNG screenshot of the selected tab: the viewport (default), the whole page (full_page; very tall pages \
         are cut at the server's cap and `clipped` is true) or one element (ref). The image comes back as image \
         content; save_to also writes it to a file. Images too large for a result are returned scaled down, with \
         the full-size PNG saved.",
        Annotations::read_only(),
        run,
    )
    .title("Screenshot")
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" || &b[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
    Some((w, h))
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Shot>, ToolError> {
    if a.full_page && a.element.is_some() {
        return Err(ToolError::invalid("give full_page or ref, not both"));
    }
    let save = a.save_to.as_deref().map(|n| page::save_path(&b.config.data_dir, n, ".png")).transpose()?;
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let act = super::act(&b);
    let m = page::exec(&tab.page, act, "Page.getLayoutMetrics", json!({})).await?;
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let vv = &m["cssVisualViewport"];
    let cap = f64::from(b.config.max_page_height);
    let mut clipped = false;
    let (x, y, w, h) = match (&a.element, a.full_page) {
        (Some(r), _) => {
            let node = page::resolve_ref(tab, r)?;
            let (x, y, w, h) = page::page_box(&tab.page, act, node).await?;
            if h > cap {
                clipped = true;
            }
            (x, y, w, h.min(cap))
        }
        (None, true) => {
            let cs = &m["cssContentSize"];
            let (w, h) = (f(&cs["width"]).max(1.0), f(&cs["height"]).max(1.0));
            if h > cap {
                clipped = true;
            }
            (0.0, 0.0, w.min(cap), h.min(cap))
        }
        (None, false) => {
            (f(&vv["pageX"]), f(&vv["pageY"]), f(&vv["clientWidth"]).max(1.0), f(&vv["clientHeight"]).max(1.0))
        }
    };
    let budget = b.config.max_image_bytes;
    let mut scale = 1.0f64;
    let mut saved_to = None;
    let mut png;
    let mut data;
    let mut tries = 0;
    loop {
        let r = page::exec(
            &tab.page,
            act.max(std::time::Duration::from_secs(20)),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": x, "y": y, "width": w, "height": h, "scale": scale}}),
        )
        .await?;
        data = r["data"].as_str().unwrap_or_default().to_owned();
        png = base64::engine::general_purpose::STANDARD
            .decode(&data)
            .map_err(|e| ToolError::internal(format!("screenshot data: {e}")))?;
        // The first capture is full size: that is what save_to keeps.
        if tries == 0
            && let Some(p) = &save
        {
            page::write_file(p, &png)?;
            saved_to = Some(p.clone());
        }
        if data.len() <= budget {
            break;
        }
        if tries == 0 && saved_to.is_none() {
            let p = b.config.data_dir.join(page::auto_name("screenshot", ".png"));
            page::write_file(&p, &png)?;
            saved_to = Some(p);
        }
        tries += 1;
        if tries > 4 {
            return Err(ToolError::failed(format!(
                "the screenshot does not fit a result even scaled down; the full-size PNG is in {}",
                saved_to.map(|p| p.display().to_string()).unwrap_or_default()
            )));
        }
        scale *= (budget as f64 / data.len() as f64).sqrt() * 0.9;
    }
    let (width, height) =
        png_size(&png).ok_or_else(|| ToolError::internal("Chromium returned something that is not a PNG"))?;
    let shot = Shot {
        width,
        height,
        bytes: png.len() as u64,
        clipped,
        scale: (scale * 1000.0).round() / 1000.0,
        saved_to: saved_to.map(|p| p.display().to_string()),
    };
    let text = format!(
        "PNG {width}x{height}, {} bytes{}{}{}",
        shot.bytes,
        if clipped {
            format!("; cut at {} px (BROWSER_MAX_PAGE_HEIGHT)", b.config.max_page_height)
        } else {
            String::new()
        },
        if shot.scale < 1.0 { format!("; scaled to {}", shot.scale) } else { String::new() },
        shot.saved_to.as_ref().map(|p| format!("; saved to {p}")).unwrap_or_default()
    );
    Ok(Out::new(shot).text(text).with(Content::Image { data, mime_type: "image/png".into() }))
}
