//! `browser_pdf` (registered only with `BROWSER_ENABLE=pdf`): print the
//! selected tab to a PDF file in the data directory.

use base64::Engine as _;
use mcp_core::prelude::*;

use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// File name (letters, digits, `-`, `_`, `.`) in the server's data directory; generated when absent.
    pub save_to: Option<String>,
    /// Landscape instead of portrait.
    #[serde(default)]
    pub landscape: bool,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Pdf {
    /// Where the PDF is.
    pub saved_to: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_pdf",
        "Print the selected tab to a PDF file in the server's data directory (with backgrounds); returns its path \
         and size.",
        Annotations::additive(false),
        run,
    )
    .title("Save as PDF")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Pdf>, ToolError> {
    let path = match &a.save_to {
        Some(n) => page::save_path(&b.config.data_dir, n, ".pdf")?,
        None => b.config.data_dir.join(page::auto_name("page", ".pdf")),
    };
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let r = page::exec(
        &tab.page,
        b.config.nav_timeout,
        "Page.printToPDF",
        json!({"printBackground": true, "landscape": a.landscape}),
    )
    .await?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(r["data"].as_str().unwrap_or_default())
        .map_err(|e| ToolError::internal(format!("pdf data: {e}")))?;
    page::write_file(&path, &bytes)?;
    Ok(Out::new(Pdf { saved_to: path.display().to_string(), bytes: bytes.len() as u64 }))
}
