//! `browser_evaluate` (registered only with `BROWSER_ENABLE=evaluate`): run
//! a JavaScript expression in the selected tab and return its JSON value.
//! The page's own origin rules still hold: whatever the script requests
//! passes the allow-list like any other request.

use mcp_core::prelude::*;

use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// A JavaScript expression (a promise is awaited), e.g. `document.querySelectorAll('tr').length`.
    pub expression: String,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Evaluated {
    /// The value, as JSON (`null` for undefined or values that cannot be serialised).
    pub value: Value,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_evaluate",
        "Run a JavaScript expression in the selected tab (awaiting a promise) and return its value as JSON (at most \
         64 KiB). Requests it makes obey the origin allow-list.",
        Annotations::destructive(false).open_world(),
        run,
    )
    .title("Evaluate JavaScript")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Evaluated>, ToolError> {
    if a.expression.len() > 100_000 {
        return Err(ToolError::invalid("the expression is over 100000 bytes"));
    }
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let value = page::eval(&tab.page, super::act(&b), &a.expression).await?;
    let size = value.to_string().len();
    if size > 64 * 1024 {
        return Err(ToolError::invalid(format!(
            "the value is {size} bytes of JSON, over 64 KiB; return less (a count, a slice, selected fields)"
        )));
    }
    Ok(Out::new(Evaluated { value }))
}
