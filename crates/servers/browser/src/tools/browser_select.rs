//! `browser_select`: choose options of a `<select>` by value or label.

use mcp_core::prelude::*;

use super::Acted;
use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The select element's ref from the latest browser_snapshot (`e12`).
    #[serde(rename = "ref")]
    pub element: String,
    /// Options to select, each matched by value or by visible label; one for a single select.
    pub values: Vec<String>,
}

/// Selects the options whose value or label is in the list (and only
/// those), fires input and change, and returns the values now selected.
pub const SELECT_JS: &str = "function(want){if(this.tagName!=='SELECT')throw new Error('not a select element');\
const m=o=>want.includes(o.value)||want.includes(o.label.trim());if(!Array.from(this.options).some(m))return [];\
let n=0;for(const o of this.options){const on=want.includes(o.value)||want.includes(o.label.trim());\
if(on&&!this.multiple&&n>0)continue;o.selected=on;if(on)n++}\
this.dispatchEvent(new Event('input',{bubbles:true}));this.dispatchEvent(new Event('change',{bubbles:true}));\
return Array.from(this.selectedOptions).map(o=>o.value)}";

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_select",
        "Choose options in a select element (a ref from browser_snapshot), matched by value or visible label; \
         returns the values selected afterwards.",
        Annotations::additive(true).open_world(),
        run,
    )
    .title("Select options")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    if a.values.is_empty() {
        return Err(ToolError::invalid("values is empty: name at least one option"));
    }
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let node = page::resolve_ref(tab, &a.element)?;
    let start = super::mark(&c, tab);
    let chosen = page::call_on(&tab.page, super::act(&b), node, SELECT_JS, json!([a.values])).await?;
    let n = chosen.as_array().map_or(0, Vec::len);
    if n == 0 {
        return Err(ToolError::not_found(format!("no option of the select matches {:?}", a.values)));
    }
    super::acted(&b, &c, start).await
}
