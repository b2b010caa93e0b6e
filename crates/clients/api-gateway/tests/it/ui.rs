//! The web UI in a real browser (`mcp_test::browser`: Debian's Chromium,
//! headless, over the DevTools protocol on a pipe). Every host but loopback
//! is made unresolvable, so a page that needed a CDN would break here.
//!
//! The browser signs in with an API key through the form, reads the
//! requests, fleet and approvals pages, submits a request through the
//! form (the CSRF token a real browser sends is accepted: the agent being
//! down answers 503, not 403), creates and revokes a key, renders Swagger
//! UI at `/docs/` from the binary, signs out; each page is screenshotted
//! and the PNGs checked.

use anyhow::{Result, ensure};
use mcp_test::browser::Browser;
use serde_json::json;

use super::api::{Http, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_in_chromium() -> Result<()> {
    let gw = start().await?;
    let (_, admin) = Http::new(&gw.base).key("alice@example.com", "admin", json!({})).await?;
    let base = gw.base.clone();
    let dir = gw.dir.path().to_owned();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut b = Browser::launch(&dir)?;
        let url = |p: &str| format!("{base}{p}");

        // Sign in through the form.
        b.goto(&url("/ui/login"))?;
        ensure!(b.text("h1")? == "Sign in");
        b.shot("login")?;
        b.eval(&format!("document.querySelector('#credential').value = {}; document.querySelector('form').submit(); true", json!(admin)))?;
        b.arrive("/ui/requests")?;
        ensure!(b.text("header .who span")?.contains("alice@example.com"), "signed in as the key's name");
        let cookie_visible = b.eval("document.cookie.includes('mcpf_session')")?;
        ensure!(cookie_visible == json!(false), "the session cookie is HttpOnly");

        // Requests: the agent is down, the page says so and still offers the form.
        ensure!(b.text("main h1")? == "Requests");
        ensure!(b.text(".flash.error")?.contains("llm_agent"), "the page names the missing upstream");
        ensure!(b.eval("document.querySelector('#requester').value")? == json!("alice@example.com"));
        b.shot("requests")?;
        // Submitting goes through the CSRF check (a real browser's token and
        // headers pass) and reaches the agent, which is down: 503, not 403.
        b.eval("document.querySelector('#subject').value = 'A tool'; document.querySelector('#text').value = 'Count words'; \
                document.querySelector('form[method=post][action=\"/ui/requests\"]').submit(); true")?;
        b.wait("document.readyState === 'complete' && !!document.querySelector('main h1') && document.querySelector('main h1').innerText.startsWith('Unavailable')")?;
        ensure!(b.text("main h1")?.contains("503"));

        // The fleet page: the real upstreams up, the others down; the catalogue with roles.
        b.goto(&url("/ui/fleet"))?;
        let servers = b.text("#servers")?;
        ensure!(servers.contains("fs") && servers.contains("up") && servers.contains("down"), "{servers}");
        let tools = b.text("#tools")?;
        ensure!(tools.contains("fs__read_file") && tools.contains("viewer"), "{tools}");
        b.shot("fleet")?;

        // Approvals: the planner is down; the queue page renders with the reason.
        b.goto(&url("/ui/approvals"))?;
        ensure!(b.text("main h1")? == "Approvals");
        ensure!(b.text(".flash.error")?.contains("planner"));
        b.shot("approvals")?;

        // Keys: create one through the form (shown once), then revoke it.
        b.goto(&url("/ui/keys"))?;
        b.eval("document.querySelector('#name').value = 'from-the-browser'; document.querySelector('#role').value = 'viewer'; \
                document.querySelector('form[action=\"/ui/keys\"]').submit(); true")?;
        b.wait("!!document.querySelector('#new-key')")?;
        ensure!(b.text("#new-key")?.starts_with("mcpf_"));
        b.shot("key-created")?;
        b.goto(&url("/ui/keys"))?;
        ensure!(b.text("#new-key")?.is_empty(), "the key is not shown again");
        b.eval("window.confirm = () => true; const row = [...document.querySelectorAll('#keys tr')].find(r => r.innerText.includes('from-the-browser')); \
                row.querySelector('form button').click(); true")?;
        b.wait("document.readyState === 'complete' && !!document.querySelector('#keys tr.revoked')")?;

        // The audit page (admin) renders.
        b.goto(&url("/ui/audit"))?;
        ensure!(b.text("main h1")? == "Audit");

        // Swagger UI from the binary, with no network beyond loopback.
        b.goto(&url("/docs/"))?;
        b.wait("!!document.querySelector('.swagger-ui .info .title')")?;
        ensure!(b.text(".swagger-ui .info .title")?.contains("mcp-fleet gateway"));
        b.wait("document.querySelectorAll('.opblock').length >= 20")?;
        b.shot("docs")?;

        // Sign out: the cookie is gone and pages need a credential again.
        b.goto(&url("/ui/requests"))?;
        b.eval("document.querySelector('form.who').submit(); true")?;
        b.arrive("/ui/login")?;
        // A page asked for without a credential sends the browser to sign in.
        b.call(Some(()), "Page.navigate", json!({"url": url("/ui/requests")}))?;
        b.arrive("/ui/login")?;
        ensure!(b.text("h1")? == "Sign in", "signed out");
        Ok(())
    })
    .await??;
    Ok(())
}
