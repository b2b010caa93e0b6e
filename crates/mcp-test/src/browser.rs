//! A real browser for tests: Debian's Chromium, headless, driven over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages
//! separated by NUL on file descriptors 3 and 4, so no WebSocket client and
//! no extra crate). Every host but loopback is made unresolvable, so a page
//! that needed a CDN breaks here as it would offline. Used by the gateway's
//! UI tests and the fleet's end-to-end test of the UI.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use serde_json::{Value, json};

/// A headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
    next: u64,
    session: String,
    shots: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium command on this machine.
pub fn chromium() -> Result<String> {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(c.to_owned());
        }
    }
    bail!("Chromium is not installed (Debian: apt-get install chromium); `cargo xtask test` provisions it")
}

impl Browser {
    /// Start Chromium with its profile and screenshots under `dir`.
    pub fn launch(dir: &std::path::Path) -> Result<Self> {
        let profile = dir.join("profile");
        let shots = dir.join("shots");
        std::fs::create_dir_all(&shots)?;
        let log = std::fs::File::create(dir.join("chromium.log"))?;
        // The shell only moves the pipes to the descriptors Chromium reads
        // (3) and writes (4); it execs Chromium at once.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(chromium()?)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("start chromium")?;
        let to = child.stdin.take_or_err()?;
        let from = BufReader::new(child.stdout.take_or_err()?);
        let mut b = Self { to, from, child, next: 0, session: String::new(), shots };
        let t = b.call(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target = t["targetId"].as_str().context("targetId")?.to_owned();
        let a = b.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))?;
        b.session = a["sessionId"].as_str().context("sessionId")?.to_owned();
        b.call(Some(()), "Page.enable", json!({}))?;
        Ok(b)
    }

    /// One command; its result (events in between are skipped).
    pub fn call(&mut self, on_page: Option<()>, method: &str, params: Value) -> Result<Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if on_page.is_some() {
            msg["sessionId"] = Value::String(self.session.clone());
        }
        let mut bytes = serde_json::to_vec(&msg)?;
        bytes.push(0);
        self.to.write_all(&bytes)?;
        self.to.flush()?;
        loop {
            let mut buf = Vec::new();
            let n = self.from.read_until(0, &mut buf)?;
            ensure!(n > 0, "chromium closed the pipe");
            buf.pop();
            let v: Value = serde_json::from_slice(&buf)?;
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// Evaluate JavaScript in the page; its value.
    pub fn eval(&mut self, js: &str) -> Result<Value> {
        let r = self.call(
            Some(()),
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            bail!("{js}: {e}");
        }
        Ok(r["result"]["value"].clone())
    }

    /// Wait until `js` is true (the page loaded, an element appeared).
    pub fn wait(&mut self, js: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // A navigation in progress may destroy the context mid-call: try again.
            if let Ok(Value::Bool(true)) = self.eval(js) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body ? document.body.innerText.slice(0, 500) : ''").unwrap_or_default();
                bail!("timed out waiting for {js}; page: {body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Open `url` and wait until it has loaded.
    pub fn goto(&mut self, url: &str) -> Result<()> {
        self.call(Some(()), "Page.navigate", json!({"url": url}))?;
        self.wait(&format!("location.href === {} && document.readyState === 'complete'", json!(url)))
    }

    /// Wait for a page at `path` to have loaded (after a form's redirect).
    pub fn arrive(&mut self, path: &str) -> Result<()> {
        self.wait(&format!("location.pathname === {} && document.readyState === 'complete'", json!(path)))
    }

    /// The text of the first element matching `selector` (empty when none).
    pub fn text(&mut self, selector: &str) -> Result<String> {
        let v = self.eval(&format!("(document.querySelector({}) || {{}}).innerText || ''", json!(selector)))?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// A screenshot of the page; checks it is a non-empty PNG.
    pub fn shot(&mut self, name: &str) -> Result<()> {
        let r = self.call(Some(()), "Page.captureScreenshot", json!({"format": "png"}))?;
        let png = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().context("data")?)?;
        ensure!(png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG ({} bytes)", png.len());
        std::fs::write(self.shots.join(format!("{name}.png")), &png)?;
        // Kept for a person to look at when asked.
        if let Some(keep) = std::env::var_os("GATEWAY_UI_SHOTS") {
            std::fs::create_dir_all(&keep)?;
            std::fs::write(std::path::Path::new(&keep).join(format!("{name}.png")), &png)?;
        }
        Ok(())
    }
}

trait TakeOrErr<T> {
    fn take_or_err(&mut self) -> Result<T>;
}

impl<T> TakeOrErr<T> for Option<T> {
    fn take_or_err(&mut self) -> Result<T> {
        self.take().context("a child pipe")
    }
}
