//! `browser_type`: type text into an editable element by ref — focused,
//! emptied unless `append`, then the text inserted as the keyboard would
//! (input events fire), optionally followed by Enter.

use mcp_core::prelude::*;

use super::Acted;
use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The element's ref from the latest browser_snapshot (`e12`): a text box, text area or editable element.
    #[serde(rename = "ref")]
    pub element: String,
    /// The text to type.
    pub text: String,
    /// Press Enter afterwards (submits most forms).
    #[serde(default)]
    pub submit: bool,
    /// Keep what the element already holds and add to it (default: replace it).
    #[serde(default)]
    pub append: bool,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_type",
        "Type text into an editable element (a ref from browser_snapshot), replacing its content unless append is \
         true; submit presses Enter afterwards and waits for a navigation it starts.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Type text")
    .timeout(super::nav_timeout())
}

/// Focus `node`, empty it unless `append`, insert `text`.
pub async fn type_into(
    b: &Browsers,
    page_: &chromiumoxide::Page,
    node: i64,
    text: &str,
    append: bool,
) -> Result<(), ToolError> {
    let act = super::act(b);
    page::front(page_, act).await;
    let _ = page::exec(page_, act, "DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": node})).await;
    page::exec(page_, act, "DOM.focus", json!({"backendNodeId": node}))
        .await
        .map_err(|_| ToolError::conflict("the element cannot take focus (it is not editable or is disabled)"))?;
    if !append {
        page::call_on(
            page_,
            act,
            node,
            "function(){if('value' in this){this.value='';this.dispatchEvent(new Event('input',{bubbles:true}))}\
             else if(this.isContentEditable){this.textContent=''}}",
            json!([]),
        )
        .await?;
    }
    if !text.is_empty() {
        page::exec(page_, act, "Input.insertText", json!({"text": text})).await?;
    }
    Ok(())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    if a.text.len() > 100_000 {
        return Err(ToolError::invalid("text is over 100000 bytes"));
    }
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let node = page::resolve_ref(tab, &a.element)?;
    let start = super::mark(&c, tab);
    type_into(&b, &tab.page, node, &a.text, a.append).await?;
    if a.submit {
        page::press(&tab.page, super::act(&b), "Enter").await?;
    }
    super::acted(&b, &c, start).await
}
