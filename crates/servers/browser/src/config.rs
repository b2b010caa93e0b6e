//! Configuration of `mcp-server-browser`: every variable it reads. The
//! origin allow-list, the file roots and the opt-in capabilities are fixed
//! for the life of the process; no tool argument can widen them.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

use crate::origin::{OriginPattern, parse_patterns};

/// The Chromium executable (default `/usr/bin/chromium`, Debian's package).
pub const BROWSER_CHROMIUM: &str = "BROWSER_CHROMIUM";
/// Origins pages may load anything from, comma-separated patterns
/// `scheme://host[:port]`: an exact origin (`http://app:8080`), any port
/// (`http://127.0.0.1:*`), subdomains (`https://*.example.com`, which
/// does not match `example.com` itself), or any dot-less host name on a
/// fixed port (`http://*:8080`: containers on a compose network, never an IP
/// address or a domain). Only `http` and `https`; `*` with `*` port is
/// refused, and so is a `*` host together with `BROWSER_ROOTS` (a local
/// file could be sent to any service on the network). WebSockets are
/// allowed to exact and subdomain patterns only. Default: loopback on any port
/// (`http://127.0.0.1:*,http://localhost:*,http://[::1]:*`). Enforced on
/// every request the browser makes (documents, redirects, frames, popups,
/// subresources, `fetch`), not only at navigation.
pub const BROWSER_ALLOWED_ORIGINS: &str = "BROWSER_ALLOWED_ORIGINS";
/// Directories whose files `file://` URLs may read, comma-separated
/// (canonicalised at start-up; they must exist). Default none: every
/// `file://` URL is refused.
pub const BROWSER_ROOTS: &str = "BROWSER_ROOTS";
/// Where screenshots, snapshots and PDFs are written when a call names
/// `save_to` or a result is over its cap, and where each browser's
/// temporary profile lives (`.profiles/`, removed when the browser ends);
/// default `mcp-server-browser` under the system temporary directory, made
/// at start-up. Saved files are not cleaned up by the server.
pub const BROWSER_DATA_DIR: &str = "BROWSER_DATA_DIR";
/// Opt-in capabilities, comma-separated: `evaluate` (registers
/// `browser_evaluate`: JavaScript run in the page), `pdf` (registers
/// `browser_pdf`). Default none; tools not enabled are not registered.
pub const BROWSER_ENABLE: &str = "BROWSER_ENABLE";
/// Start Chromium with `--no-sandbox` (default false). Only for a
/// container or a root user where Chromium's sandbox cannot start; a loud
/// warning is logged when set. As root without it the server refuses to
/// start (Chromium would refuse anyway, less clearly).
pub const BROWSER_NO_SANDBOX: &str = "BROWSER_NO_SANDBOX";
/// Time a navigation may take, seconds (default 60, at most 80).
pub const BROWSER_NAV_TIMEOUT_SECS: &str = "BROWSER_NAV_TIMEOUT_SECS";
/// Time an action (click, type, a CDP call) may take, seconds (default 5, at most 60).
pub const BROWSER_ACTION_TIMEOUT_SECS: &str = "BROWSER_ACTION_TIMEOUT_SECS";
/// Browsers (one per MCP session) running at once (default 4).
pub const BROWSER_MAX_SESSIONS: &str = "BROWSER_MAX_SESSIONS";
/// A session's browser is killed after this many idle seconds (default 300).
pub const BROWSER_IDLE_SECS: &str = "BROWSER_IDLE_SECS";
/// Characters of snapshot text a result carries at most (default 40000;
/// callers may ask for less; more is saved to a file and cut).
pub const BROWSER_MAX_SNAPSHOT_CHARS: &str = "BROWSER_MAX_SNAPSHOT_CHARS";
/// Base64 bytes of image a screenshot result carries at most (default
/// 700K, and never more than three quarters of `MCP_MAX_OUTPUT_BYTES`);
/// a larger shot is saved whole and returned scaled down.
pub const BROWSER_MAX_IMAGE_BYTES: &str = "BROWSER_MAX_IMAGE_BYTES";
/// Height of a full-page screenshot in CSS pixels at most (default 16384);
/// taller pages are clipped and the result says so.
pub const BROWSER_MAX_PAGE_HEIGHT: &str = "BROWSER_MAX_PAGE_HEIGHT";

/// The default allow-list: loopback on any port.
pub const DEFAULT_ORIGINS: &str = "http://127.0.0.1:*,http://localhost:*,http://[::1]:*";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Chromium executable.
    pub chromium: PathBuf,
    /// Origin allow-list.
    pub origins: Vec<OriginPattern>,
    /// `file://` roots, canonical.
    pub roots: Vec<PathBuf>,
    /// Output directory.
    pub data_dir: PathBuf,
    /// `browser_evaluate` registered.
    pub enable_evaluate: bool,
    /// `browser_pdf` registered.
    pub enable_pdf: bool,
    /// `--no-sandbox`.
    pub no_sandbox: bool,
    /// Navigation time limit.
    pub nav_timeout: Duration,
    /// Action time limit.
    pub action_timeout: Duration,
    /// Browsers at once.
    pub max_sessions: usize,
    /// Idle time before a browser is killed.
    pub idle: Duration,
    /// Snapshot text cap.
    pub max_snapshot_chars: usize,
    /// Screenshot image cap (base64 bytes).
    pub max_image_bytes: usize,
    /// Full-page height cap.
    pub max_page_height: u32,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let chromium = PathBuf::from(r.string(BROWSER_CHROMIUM, "/usr/bin/chromium"));
        let origins_text = r.string(BROWSER_ALLOWED_ORIGINS, DEFAULT_ORIGINS);
        let origins = match parse_patterns(&origins_text) {
            Ok(o) => o,
            Err(e) => {
                r.error(format!("{BROWSER_ALLOWED_ORIGINS}: {e}"));
                Vec::new()
            }
        };
        let mut roots = Vec::new();
        for p in r.list(BROWSER_ROOTS) {
            match std::fs::canonicalize(&p) {
                Ok(c) if c.is_dir() && c.parent().is_some() => roots.push(c),
                Ok(c) if c.parent().is_none() => {
                    r.error(format!("{BROWSER_ROOTS}: {p:?} is the whole file system; name a directory"))
                }
                Ok(_) => r.error(format!("{BROWSER_ROOTS}: {p:?} is not a directory")),
                Err(e) => r.error(format!("{BROWSER_ROOTS}: {p:?}: {e}")),
            }
        }
        if !roots.is_empty() && origins.iter().any(|o| o.host == crate::origin::HostPattern::AnyLabel) {
            r.error(format!(
                "{BROWSER_ROOTS} with a `*` host in {BROWSER_ALLOWED_ORIGINS}: a page read from disk could send it to any \
                 service on the network; name the hosts"
            ));
        }
        let data_dir = r
            .optional(BROWSER_DATA_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("mcp-server-browser"));
        let (mut enable_evaluate, mut enable_pdf) = (false, false);
        for e in r.list(BROWSER_ENABLE) {
            match e.as_str() {
                "evaluate" => enable_evaluate = true,
                "pdf" => enable_pdf = true,
                other => r.error(format!("{BROWSER_ENABLE}: unknown capability {other:?} (known: evaluate, pdf)")),
            }
        }
        let no_sandbox = r.bool(BROWSER_NO_SANDBOX, false);
        let nav_timeout = r.secs(BROWSER_NAV_TIMEOUT_SECS, Duration::from_secs(60));
        if nav_timeout > Duration::from_secs(80) {
            // The navigation tools' own call limit is 90 s.
            r.error(format!("{BROWSER_NAV_TIMEOUT_SECS}: at most 80 s"));
        }
        let action_timeout = r.secs(BROWSER_ACTION_TIMEOUT_SECS, Duration::from_secs(5));
        if action_timeout > Duration::from_secs(60) {
            r.error(format!("{BROWSER_ACTION_TIMEOUT_SECS}: at most 60 s"));
        }
        let max_sessions = r.parse(BROWSER_MAX_SESSIONS, 4usize);
        if max_sessions == 0 || max_sessions > 64 {
            r.error(format!("{BROWSER_MAX_SESSIONS}={max_sessions}: use 1..=64"));
        }
        let idle = r.secs(BROWSER_IDLE_SECS, Duration::from_secs(300));
        let max_snapshot_chars = r.parse(BROWSER_MAX_SNAPSHOT_CHARS, 40_000usize);
        if max_snapshot_chars < 1000 {
            r.error(format!("{BROWSER_MAX_SNAPSHOT_CHARS}={max_snapshot_chars}: use at least 1000"));
        }
        let max_image_bytes = r.bytes(BROWSER_MAX_IMAGE_BYTES, 700 * 1024);
        let max_page_height = r.parse(BROWSER_MAX_PAGE_HEIGHT, 16_384u32);
        if !(256..=100_000).contains(&max_page_height) {
            r.error(format!("{BROWSER_MAX_PAGE_HEIGHT}={max_page_height}: use 256..=100000"));
        }
        Self {
            chromium,
            origins,
            roots,
            data_dir,
            enable_evaluate,
            enable_pdf,
            no_sandbox,
            nav_timeout,
            action_timeout,
            max_sessions,
            idle,
            max_snapshot_chars,
            max_image_bytes,
            max_page_height,
        }
    }

    /// The defaults with `origins` allowed, output in `data_dir` and the
    /// sandbox as given: what tests and harnesses start from.
    pub fn for_tests(origins: &str, data_dir: PathBuf, no_sandbox: bool) -> Result<Self, mcp_core::ConfigErrors> {
        let sandbox = if no_sandbox { "true" } else { "false" };
        let d = data_dir.to_string_lossy().into_owned();
        mcp_core::config::read_vars(
            &[(BROWSER_ALLOWED_ORIGINS, origins), (BROWSER_DATA_DIR, d.as_str()), (BROWSER_NO_SANDBOX, sandbox)],
            Self::read,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, mcp_core::ConfigErrors> {
        mcp_core::config::read_vars(vars, Config::read)
    }

    #[test]
    fn defaults_and_errors() {
        let c = read(&[]).unwrap();
        assert_eq!(c.origins.len(), 3);
        assert!(!c.enable_evaluate && !c.enable_pdf && !c.no_sandbox);
        assert!(c.roots.is_empty());
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "*")]).is_err());
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "http://*:*")]).is_err());
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "http://*:8080")]).is_ok());
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_str().unwrap();
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "http://*:8080"), (BROWSER_ROOTS, root)]).is_err());
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "http://app:8080"), (BROWSER_ROOTS, root)]).is_ok());
        assert!(read(&[(BROWSER_ALLOWED_ORIGINS, "file:///")]).is_err());
        assert!(read(&[(BROWSER_ENABLE, "evaluate,shell")]).is_err());
        assert!(read(&[(BROWSER_ROOTS, "/")]).is_err());
        assert!(read(&[(BROWSER_ROOTS, "/does/not/exist")]).is_err());
        assert!(read(&[(BROWSER_MAX_SESSIONS, "0")]).is_err());
        let c = read(&[(BROWSER_ENABLE, "pdf")]).unwrap();
        assert!(c.enable_pdf && !c.enable_evaluate);
    }
}
