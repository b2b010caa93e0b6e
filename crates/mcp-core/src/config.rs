//! Configuration from the environment: the shared variables every program reads,
//! and the small reader every crate's `config.rs` uses for its own.
//!
//! Every variable is a documented `pub const`. Parsing never stops at the first
//! problem: a [`Reader`] collects every error so an operator fixes a bad
//! deployment in one round, and [`ConfigErrors`] maps to exit code 64
//! (`EX_USAGE`). Tests hand a map to [`Reader::new`] instead of touching the
//! process environment, so they never race on `set_var`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Address and port the HTTP listener binds, e.g. `127.0.0.1:8080`.
pub const MCP_LISTEN_ADDR: &str = "MCP_LISTEN_ADDR";
/// Bearer token required on every endpoint but `/health` when set.
pub const MCP_AUTH_TOKEN: &str = "MCP_AUTH_TOKEN";
/// File holding the bearer token (compose secrets); used when `MCP_AUTH_TOKEN` is unset.
pub const MCP_AUTH_TOKEN_FILE: &str = "MCP_AUTH_TOKEN_FILE";
/// Comma-separated `Host` values accepted on `/mcp` (DNS-rebinding protection).
/// Defaults to loopback names plus the program's own name, which is its compose
/// service name, so a fleet on a compose network works without configuration.
pub const MCP_ALLOWED_HOSTS: &str = "MCP_ALLOWED_HOSTS";
/// Comma-separated browser origins allowed on `/mcp` (`scheme://host[:port]`).
/// Empty (the default) refuses every request that carries an `Origin` header.
pub const MCP_ALLOWED_ORIGINS: &str = "MCP_ALLOWED_ORIGINS";
/// `json` (default) or `pretty`.
pub const LOG_FORMAT: &str = "LOG_FORMAT";
/// Standard `tracing` filter, e.g. `info,mcp_core=debug`.
pub const RUST_LOG: &str = "RUST_LOG";
/// OTLP/HTTP endpoint (e.g. `http://mcp-client-observer:8080`); spans are exported when set.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Service name in logs and spans; defaults to the program's binary name.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Largest accepted request body in bytes (default 4 MiB).
pub const MCP_MAX_BODY_BYTES: &str = "MCP_MAX_BODY_BYTES";
/// Largest tool result in bytes before it is truncated visibly (default 1 MiB).
pub const MCP_MAX_OUTPUT_BYTES: &str = "MCP_MAX_OUTPUT_BYTES";
/// Default per-call timeout in seconds (default 60); tools may declare their own.
pub const MCP_CALL_TIMEOUT_SECS: &str = "MCP_CALL_TIMEOUT_SECS";
/// How long shutdown waits for in-flight calls, in seconds (default 10).
pub const MCP_SHUTDOWN_GRACE_SECS: &str = "MCP_SHUTDOWN_GRACE_SECS";

/// Log server ingest URL (`http://mcp-server-log:8080`, `/v1/logs` appended):
/// when set, every JSON log line is also shipped there in batches.
pub const MCP_LOG_ENDPOINT: &str = "MCP_LOG_ENDPOINT";
/// Bearer token this program sends to its peers (other fleet servers, the
/// log endpoint). Defaults to `MCP_AUTH_TOKEN`: a fleet usually shares one.
pub const MCP_PEER_TOKEN: &str = "MCP_PEER_TOKEN";
/// File holding the peer token (compose secrets); set this or `MCP_PEER_TOKEN`, not both.
pub const MCP_PEER_TOKEN_FILE: &str = "MCP_PEER_TOKEN_FILE";

/// Peers are found through `MCP_SERVER_<NAME>_URL` / `MCP_CLIENT_<NAME>_URL`
/// (`MCP_SERVER_SQL_URL` for `mcp-server-sql`), named by [`peer_var`] and read
/// with [`Reader::peer_url`] (compose default `http://<program>:8080/mcp`) or
/// [`Reader::optional_peer`]; each program documents which peers it uses.
pub const MCP_PEER_URL_PATTERN: &str = "MCP_SERVER_<NAME>_URL";

/// Async worker threads (default: one per CPU core).
pub const MCP_WORKER_THREADS: &str = "MCP_WORKER_THREADS";

/// Exit code for a configuration error (`EX_USAGE` from sysexits.h).
pub const EXIT_CONFIG: u8 = 64;

/// Where configuration values come from. The process environment in production,
/// a map in tests.
pub trait Source {
    /// The raw value of `key`, if set.
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}

impl Source for HashMap<&str, &str> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).map(|v| (*v).to_owned())
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, key: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())
    }
}

/// A secret setting (an access token, a password) as the program holds it:
/// its `Debug` never shows it, so a config printed whole or logged leaks
/// nothing. `expose` is for the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the request header (or the log masking) only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// Every configuration problem found, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ConfigErrors {
    /// Merge the errors of several readers (core and server) into one report.
    pub fn merge(parts: impl IntoIterator<Item = ConfigErrors>) -> Result<(), ConfigErrors> {
        let all: Vec<String> = parts.into_iter().flat_map(|e| e.0).collect();
        if all.is_empty() { Ok(()) } else { Err(ConfigErrors(all)) }
    }
}

/// Reads typed values and remembers every error instead of returning early.
pub struct Reader<'a> {
    source: &'a dyn Source,
    errors: Vec<String>,
}

impl<'a> Reader<'a> {
    /// A reader over `source`.
    pub fn new(source: &'a dyn Source) -> Self {
        Self { source, errors: Vec::new() }
    }

    /// The raw value, treating an empty string as unset.
    pub fn raw(&self, key: &str) -> Option<String> {
        self.source.get(key).filter(|v| !v.trim().is_empty())
    }

    /// A string, or `default`.
    pub fn string(&mut self, key: &str, default: &str) -> String {
        self.raw(key).unwrap_or_else(|| default.to_owned())
    }

    /// An optional string.
    pub fn optional(&mut self, key: &str) -> Option<String> {
        self.raw(key)
    }

    /// A value that must be set.
    pub fn required(&mut self, key: &str) -> String {
        match self.raw(key) {
            Some(v) => v,
            None => {
                self.errors.push(format!("{key} is required but not set"));
                String::new()
            }
        }
    }

    /// Any `FromStr` value, or `default`.
    pub fn parse<T>(&mut self, key: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(key) {
            None => default,
            Some(v) => match v.trim().parse() {
                Ok(t) => t,
                Err(e) => {
                    self.errors.push(format!("{key}={v:?}: {e}"));
                    default
                }
            },
        }
    }

    /// A boolean: `1/true/yes/on` or `0/false/no/off`.
    pub fn bool(&mut self, key: &str, default: bool) -> bool {
        match self.raw(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => default,
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    self.errors.push(format!("{key}={v:?}: expected true or false"));
                    default
                }
            },
        }
    }

    /// A comma-separated list with blanks dropped; empty when unset.
    pub fn list(&mut self, key: &str) -> Vec<String> {
        self.raw(key).map(|v| split_list(&v)).unwrap_or_default()
    }

    /// A list of paths, separated by commas or the platform path separator (`:`).
    pub fn paths(&mut self, key: &str) -> Vec<PathBuf> {
        self.raw(key)
            .map(|v| v.split([',', ':']).map(str::trim).filter(|s| !s.is_empty()).map(PathBuf::from).collect())
            .unwrap_or_default()
    }

    /// A duration given in whole or fractional seconds.
    pub fn secs(&mut self, key: &str, default: Duration) -> Duration {
        match self.raw(key) {
            None => default,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Duration::from_secs_f64(s),
                _ => {
                    self.errors.push(format!("{key}={v:?}: expected a positive number of seconds"));
                    default
                }
            },
        }
    }

    /// A positive byte count (plain number; `K`, `M`, `G` suffixes are binary units).
    pub fn bytes(&mut self, key: &str, default: usize) -> usize {
        match self.raw(key) {
            None => default,
            Some(v) => match parse_bytes(&v) {
                Some(n) if n > 0 => n,
                _ => {
                    self.errors.push(format!("{key}={v:?}: expected a size such as 65536, 512K or 4M"));
                    default
                }
            },
        }
    }

    /// A secret given either inline in `key` or in the file named by
    /// `file_key` (compose secrets). Setting both is an error (which one
    /// would win is a surprise either way); a file that is empty or cannot be
    /// read is an error naming the file. Surrounding white space (the
    /// newline editors add) is trimmed.
    pub fn secret(&mut self, key: &str, file_key: &str) -> Option<String> {
        match (self.raw(key), self.raw(file_key)) {
            (Some(_), Some(_)) => {
                self.errors.push(format!("set {key} or {file_key}, not both"));
                None
            }
            (Some(v), None) => Some(v.trim().to_owned()),
            (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
                Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
                Ok(_) => {
                    self.errors.push(format!("{file_key}={path:?}: the file is empty"));
                    None
                }
                Err(e) => {
                    self.errors.push(format!("{file_key}={path:?}: {e}"));
                    None
                }
            },
            (None, None) => None,
        }
    }

    /// An optional `http://` or `https://` URL.
    pub fn url(&mut self, key: &str) -> Option<String> {
        let v = self.raw(key)?.trim().to_owned();
        if v.starts_with("http://") || v.starts_with("https://") {
            Some(v)
        } else {
            self.errors.push(format!("{key}={v:?}: expected an http:// or https:// URL"));
            None
        }
    }

    /// Where the fleet program `program` (`mcp-server-sql`) answers MCP:
    /// [`peer_var`] when set, else its compose address
    /// (`http://mcp-server-sql:8080/mcp`).
    pub fn peer_url(&mut self, program: &str) -> String {
        let key = peer_var(program);
        self.url(&key).unwrap_or_else(|| format!("http://{program}:8080/mcp"))
    }

    /// Where an optional peer answers: [`peer_var`] when set, else `None`
    /// (the program runs without it).
    pub fn optional_peer(&mut self, program: &str) -> Option<String> {
        self.url(&peer_var(program))
    }

    /// Record a problem found while validating values together.
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// Finish reading: every error found, or nothing.
    pub fn finish(self) -> Result<(), ConfigErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(ConfigErrors(self.errors)) }
    }
}

/// Read a configuration from variables held in memory, as the binary would
/// read them from its environment: every problem reported together. Tests
/// and harnesses use it instead of `set_var`.
pub fn read_vars<C, K: AsRef<str>, V: AsRef<str>>(
    vars: &[(K, V)],
    read: impl FnOnce(&mut Reader<'_>) -> C,
) -> Result<C, ConfigErrors> {
    let map: HashMap<String, String> =
        vars.iter().map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())).collect();
    let mut r = Reader::new(&map);
    let c = read(&mut r);
    r.finish().map(|()| c)
}

/// The variable naming where a peer answers: `MCP_SERVER_SQL_URL` for
/// `mcp-server-sql`, `MCP_CLIENT_PLANNER_URL` for `mcp-client-planner`.
pub fn peer_var(program: &str) -> String {
    format!("{}_URL", program.replace('-', "_").to_ascii_uppercase())
}

/// Split a comma-separated list, trimming and dropping blanks.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn parse_bytes(v: &str) -> Option<usize> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()?.to_ascii_uppercase() {
        'K' => (&v[..v.len() - 1], 1usize << 10),
        'M' => (&v[..v.len() - 1], 1 << 20),
        'G' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    num.trim().parse::<usize>().ok()?.checked_mul(mult)
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the fleet's format, ingested by the log server).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            other => Err(format!("unknown log format {other:?}; use json or pretty")),
        }
    }
}

/// The settings every program shares (see the module docs for each variable).
#[derive(Clone)]
pub struct CoreConfig {
    /// Program name (`mcp-server-fs`), used as service name and default allowed host.
    pub name: String,
    /// Listener address.
    pub listen: SocketAddr,
    /// Bearer token; `None` disables auth (loopback development only).
    pub auth_token: Option<String>,
    /// Accepted `Host` values.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` values.
    pub allowed_origins: Vec<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter directive.
    pub log_filter: String,
    /// OTLP/HTTP endpoint for spans.
    pub otlp_endpoint: Option<String>,
    /// Service name in telemetry.
    pub service_name: String,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Tool result cap.
    pub max_output_bytes: usize,
    /// Default tool-call timeout.
    pub call_timeout: Duration,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// Async worker threads; `None` for one per core.
    pub worker_threads: Option<usize>,
    /// Where log lines are shipped, if anywhere.
    pub log_endpoint: Option<String>,
    /// Token for peers and the log endpoint.
    pub peer_token: Option<String>,
}

impl fmt::Debug for CoreConfig {
    // Hand-written so the token can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreConfig")
            .field("name", &self.name)
            .field("listen", &self.listen)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<redacted>"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("log_format", &self.log_format)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("service_name", &self.service_name)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("call_timeout", &self.call_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("worker_threads", &self.worker_threads)
            .field("log_endpoint", &self.log_endpoint)
            .field("peer_token", &self.peer_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl CoreConfig {
    /// Defaults for program `name`, as if no variable were set. Tests start here.
    pub fn defaults(name: &str) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut r = Reader::new(&env);
        Self::read(name, &mut r)
    }

    /// Read the shared variables, adding problems to `r`.
    pub fn read(name: &str, r: &mut Reader<'_>) -> Self {
        let listen = r.parse(MCP_LISTEN_ADDR, SocketAddr::from(([127, 0, 0, 1], 8080)));
        let auth_token = r.secret(MCP_AUTH_TOKEN, MCP_AUTH_TOKEN_FILE);
        if let Some(t) = &auth_token
            && t.len() < 16
        {
            r.error(format!("{MCP_AUTH_TOKEN} must be at least 16 characters (got {})", t.len()));
        }
        let mut allowed_hosts = r.list(MCP_ALLOWED_HOSTS);
        if allowed_hosts.is_empty() {
            allowed_hosts = vec!["localhost".into(), "127.0.0.1".into(), "::1".into(), name.to_owned()];
        }
        let allowed_origins = r.list(MCP_ALLOWED_ORIGINS);
        for o in &allowed_origins {
            if crate::security::Origin::parse(o).is_none() {
                r.error(format!("{MCP_ALLOWED_ORIGINS}: {o:?} is not an origin like https://host:port"));
            }
        }
        let log_format = r.parse(LOG_FORMAT, LogFormat::Json);
        let log_filter = r.string(RUST_LOG, "info,rmcp=warn");
        let otlp_endpoint = r.url(OTEL_EXPORTER_OTLP_ENDPOINT);
        let service_name = r.string(OTEL_SERVICE_NAME, name);
        let max_body_bytes = r.bytes(MCP_MAX_BODY_BYTES, 4 << 20);
        let max_output_bytes = r.bytes(MCP_MAX_OUTPUT_BYTES, 1 << 20);
        let call_timeout = r.secs(MCP_CALL_TIMEOUT_SECS, Duration::from_secs(60));
        let shutdown_grace = r.secs(MCP_SHUTDOWN_GRACE_SECS, Duration::from_secs(10));
        let worker_threads = match r.parse(MCP_WORKER_THREADS, 0usize) {
            0 => None,
            n if n > 256 => {
                r.error(format!("{MCP_WORKER_THREADS}={n}: at most 256"));
                None
            }
            n => Some(n),
        };
        let log_endpoint = r.url(MCP_LOG_ENDPOINT);
        let peer_token = r.secret(MCP_PEER_TOKEN, MCP_PEER_TOKEN_FILE).or_else(|| auth_token.clone());
        Self {
            name: name.to_owned(),
            listen,
            auth_token,
            allowed_hosts,
            allowed_origins,
            log_format,
            log_filter,
            otlp_endpoint,
            service_name,
            max_body_bytes,
            max_output_bytes,
            call_timeout,
            shutdown_grace,
            worker_threads,
            log_endpoint,
            peer_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)]) -> Result<CoreConfig, ConfigErrors> {
        read_vars(env, |r| CoreConfig::read("mcp-server-x", r))
    }

    #[test]
    fn defaults_are_loopback_and_include_own_name() {
        let c = check(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.allowed_hosts.contains(&"mcp-server-x".to_owned()));
        assert!(c.allowed_origins.is_empty());
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let err = check(&[
            (MCP_LISTEN_ADDR, "nope"),
            (LOG_FORMAT, "xml"),
            (MCP_AUTH_TOKEN, "short"),
            (MCP_MAX_BODY_BYTES, "lots"),
            (MCP_ALLOWED_ORIGINS, "not an origin"),
        ])
        .unwrap_err();
        assert_eq!(err.0.len(), 5, "{err}");
    }

    #[test]
    fn sizes_accept_binary_suffixes() {
        let c = check(&[(MCP_MAX_OUTPUT_BYTES, "512K"), (MCP_MAX_BODY_BYTES, "2M")]).unwrap();
        assert_eq!(c.max_output_bytes, 512 * 1024);
        assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn debug_redacts_the_token() {
        let c = check(&[(MCP_AUTH_TOKEN, "0123456789abcdef-secret")]).unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn secrets_come_inline_or_from_a_file_never_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-a-file-0123456789\n").unwrap();
        let path = file.display().to_string();
        let c = check(&[(MCP_AUTH_TOKEN_FILE, &path)]).unwrap();
        assert_eq!(c.auth_token.as_deref(), Some("from-a-file-0123456789"));
        assert_eq!(c.peer_token, c.auth_token, "the peer token defaults to the auth token");
        let c = check(&[(MCP_AUTH_TOKEN, "inline-0123456789abc"), (MCP_PEER_TOKEN_FILE, &path)]).unwrap();
        assert_eq!(c.peer_token.as_deref(), Some("from-a-file-0123456789"));
        let both = check(&[(MCP_AUTH_TOKEN, "inline-0123456789abc"), (MCP_AUTH_TOKEN_FILE, &path)]).unwrap_err();
        assert!(both.0[0].contains("not both"), "{both}");
        std::fs::write(&file, " \n").unwrap();
        let empty = check(&[(MCP_AUTH_TOKEN_FILE, &path)]).unwrap_err();
        assert!(empty.0[0].contains("empty"), "{empty}");
        let missing = check(&[(MCP_AUTH_TOKEN_FILE, "/definitely/not/here")]).unwrap_err();
        assert!(missing.0[0].contains("/definitely/not/here"), "{missing}");
    }

    #[test]
    fn peers_default_to_their_compose_address_and_urls_are_checked() {
        assert_eq!(peer_var("mcp-server-sql"), "MCP_SERVER_SQL_URL");
        assert_eq!(peer_var("mcp-client-llm-agent"), "MCP_CLIENT_LLM_AGENT_URL");
        let env = [("MCP_SERVER_FS_URL", "http://127.0.0.1:8103/mcp"), ("MCP_SERVER_GIT_URL", "ftp://nope")];
        let mut r = Reader::new(&env);
        assert_eq!(r.peer_url("mcp-server-fs"), "http://127.0.0.1:8103/mcp");
        assert_eq!(r.peer_url("mcp-server-sql"), "http://mcp-server-sql:8080/mcp");
        assert_eq!(r.peer_url("mcp-server-git"), "http://mcp-server-git:8080/mcp");
        assert_eq!(r.finish().unwrap_err().0.len(), 1, "the ftp URL is an error");
    }
}
