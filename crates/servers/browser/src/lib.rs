//! `mcp-server-browser`: a headless Chromium under an origin allow-list,
//! one isolated browser per MCP session, after microsoft/playwright-mcp.
//!
//! - `config` — every variable; `origin` — the allow-list and the one
//!   decision every request goes through.
//! - `chrome` — one Chromium process (own process group, temporary profile)
//!   with browser-wide Fetch interception, WebSocket blocking, downloads
//!   denied, and per-tab console and network logs.
//! - `session` — browsers per MCP session (or per stateless caller), the
//!   session cap, the idle reaper, and killing everything at shutdown.
//! - `snapshot` — the accessibility tree as text with element refs; `page`
//!   — what the action tools share (refs, boxes, keys, waits).
//! - `tools` — one tool per file.

pub mod chrome;
pub mod config;
pub mod origin;
pub mod page;
pub mod session;
pub mod snapshot;
pub mod tools;

use std::sync::Arc;

use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;
pub use session::Browsers;

/// The program name.
pub const NAME: &str = "mcp-server-browser";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Build the server and keep a handle on its state (tests count handler
/// errors and launched browsers through it).
pub fn server_with_state(config: Config) -> Result<(Server, Arc<Browsers>), StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::config(format!("{}: {e}", config::BROWSER_DATA_DIR)))?;
    let (evaluate, pdf) = (config.enable_evaluate, config.enable_pdf);
    let state = Arc::new(Browsers::new(config));
    let b = Server::builder(NAME, VERSION, state.clone()).instructions(
        "A headless Chromium for checking web pages: browser_navigate opens a URL (only allowed origins load; every \
         other request, redirect, frame, popup and fetch is refused and reported), browser_snapshot gives the page's \
         accessibility tree with refs (e12) that browser_click, browser_type, browser_fill_form, browser_select, \
         browser_hover and browser_wait_for take; browser_screenshot returns a PNG. Each MCP session (or stateless \
         caller) has its own browser with an empty in-memory profile; browser_close ends it.",
    );
    let b = b.ready_check("chromium", |s: Arc<Browsers>| async move {
        let c = &s.config.chromium;
        if !c.is_file() {
            return Err(format!("{} is not installed", c.display()));
        }
        let errors = s.handler_errors.count.load(std::sync::atomic::Ordering::Relaxed);
        let ignored =
            s.handler_errors.ignored.lock().map(|i| i.iter().cloned().collect::<Vec<_>>()).unwrap_or_default();
        Ok(format!(
            "{}; {} browser(s) open; {errors} protocol error(s); undecodable unused events: {}",
            c.display(),
            s.open_sessions(),
            if ignored.is_empty() { "none".to_owned() } else { ignored.join(", ") }
        ))
    });
    let server = b
        .tool(tools::browser_click::tool())
        .tool(tools::browser_close::tool())
        .tool(tools::browser_console::tool())
        .tool_if(evaluate, tools::browser_evaluate::tool())
        .tool(tools::browser_fill_form::tool())
        .tool(tools::browser_history::tool())
        .tool(tools::browser_hover::tool())
        .tool(tools::browser_navigate::tool())
        .tool(tools::browser_network::tool())
        .tool_if(pdf, tools::browser_pdf::tool())
        .tool(tools::browser_press_key::tool())
        .tool(tools::browser_screenshot::tool())
        .tool(tools::browser_select::tool())
        .tool(tools::browser_snapshot::tool())
        .tool(tools::browser_tabs::tool())
        .tool(tools::browser_type::tool())
        .tool(tools::browser_wait_for::tool())
        .build();
    Ok((server, state))
}

/// Build the server.
pub fn server(config: Config) -> Result<Server, StartError> {
    Ok(server_with_state(config)?.0)
}

/// Checks made once at start-up that depend on the machine, not the text
/// of the configuration.
fn preflight(config: &Config) -> Result<(), StartError> {
    if !config.chromium.is_file() {
        return Err(StartError::config(format!(
            "{}: {} does not exist (Debian: apt-get install chromium)",
            config::BROWSER_CHROMIUM,
            config.chromium.display()
        )));
    }
    if config.no_sandbox {
        mcp_core::tracing::warn!(
            "BROWSER_NO_SANDBOX is set: Chromium runs WITHOUT its sandbox, so a page that exploits the renderer runs \
             with this server's rights. Only acceptable inside a container that is itself the boundary."
        );
    } else if rustix::process::geteuid().is_root() {
        return Err(StartError::config(format!(
            "this server runs as root, where Chromium's sandbox cannot start; run it as another user, or set \
             {}=true if a container is the boundary",
            config::BROWSER_NO_SANDBOX
        )));
    }
    Ok(())
}

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// and the idle reaper as its background task, whose drop at shutdown kills
/// every browser.
pub async fn start(mut config: Config, core: CoreConfig) -> Result<Program, StartError> {
    preflight(&config)?;
    // An image must fit in one result beside its JSON.
    config.max_image_bytes = config.max_image_bytes.min(core.max_output_bytes / 4 * 3);
    let (server, state) = server_with_state(config)?;
    Ok(Program { server, routes: None, background: Some(Box::pin(state.background())) })
}
