//! `browser_fill_form`: fill several fields in one call — text boxes are
//! typed into, check boxes and radio buttons set, selects chosen.

use mcp_core::prelude::*;

use super::Acted;
use crate::page;
use crate::session::Browsers;

/// One field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field's ref from the latest browser_snapshot (`e12`).
    #[serde(rename = "ref")]
    pub element: String,
    /// Text for a text box; `true`/`false` for a check box or radio button; an option's value or label for a select.
    pub value: String,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The fields, filled in order.
    pub fields: Vec<Field>,
}

const KIND_JS: &str = "function(){if(this.tagName==='SELECT')return 'select';\
const t=(this.type||'').toLowerCase();return (t==='checkbox'||t==='radio')?'check':'text'}";

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_fill_form",
        "Fill several form fields (refs from browser_snapshot) in one call: text is typed (replacing the content), \
         check boxes and radio buttons are set to true/false, select options are chosen by value or label. Does not \
         submit: click the submit button or use browser_type with submit.",
        Annotations::additive(true).open_world(),
        run,
    )
    .title("Fill a form")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    if a.fields.is_empty() || a.fields.len() > 100 {
        return Err(ToolError::invalid("give 1 to 100 fields"));
    }
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let act = super::act(&b);
    let start = super::mark(&c, tab);
    // Every ref is checked before anything is changed.
    let nodes = a.fields.iter().map(|f| page::resolve_ref(tab, &f.element)).collect::<Result<Vec<_>, _>>()?;
    for (f, node) in a.fields.iter().zip(nodes) {
        let kind = page::call_on(&tab.page, act, node, KIND_JS, json!([])).await?;
        match kind.as_str() {
            Some("select") => {
                page::call_on(&tab.page, act, node, super::browser_select::SELECT_JS, json!([[f.value]])).await?;
            }
            Some("check") => {
                let want = match f.value.to_ascii_lowercase().as_str() {
                    "true" | "on" | "yes" | "1" | "checked" => true,
                    "false" | "off" | "no" | "0" | "unchecked" => false,
                    _ => return Err(ToolError::invalid(format!("{}: a check box takes true or false", f.element))),
                };
                let is = page::call_on(&tab.page, act, node, "function(){return this.checked}", json!([])).await?;
                if is.as_bool() != Some(want) {
                    let at = page::center(&tab.page, act, node).await?;
                    page::mouse(&tab.page, act, at, 1).await?;
                }
            }
            _ => super::browser_type::type_into(&b, &tab.page, node, &f.value, false).await?,
        }
    }
    super::acted(&b, &c, start).await
}
