//! The grammar of `mcp-fleet` (clap derive): the global options and every
//! subcommand, with the environment variables that stand in for options.
//!
//! Parsing stays free of I/O so tests can drive it with `try_parse_from`;
//! reading key files, stdin and argument files happens later, in `mod.rs`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use reqwest::Url;

/// The gateway's address when neither `--url` nor [`URL_ENV`] is given (its compose port).
pub const DEFAULT_URL: &str = "http://127.0.0.1:8203";
/// The gateway's base URL (`--url`).
pub const URL_ENV: &str = "MCP_FLEET_URL";
/// The bearer credential: an API key, the fleet token or a JWT (`--key`).
pub const KEY_ENV: &str = "MCP_FLEET_KEY";
/// A file holding the credential (`--key-file`); never together with [`KEY_ENV`].
pub const KEY_FILE_ENV: &str = "MCP_FLEET_KEY_FILE";

/// The command line client of the fleet's api-gateway.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-fleet",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 done; 1 the server reported a failure, or the run failed; 2 usage; \
                  3 cannot reach the gateway; 4 credential refused (401/403); 5 rate limited (429)."
)]
pub struct Cli {
    /// The gateway's base URL (`/api/v1` is added).
    #[arg(long, global = true, env = URL_ENV, default_value = DEFAULT_URL, value_parser = parse_base_url)]
    pub url: Url,
    /// The bearer credential: an API key, the fleet token or a JWT.
    // `hide_env_values`: `--help` must not print a key taken from the environment.
    #[arg(long, global = true, env = KEY_ENV, hide_env_values = true, conflicts_with = "key_file")]
    pub key: Option<ApiKey>,
    /// Read the credential from this file (surrounding whitespace ignored).
    #[arg(long, global = true, env = KEY_FILE_ENV, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Print the server's JSON (pretty) and nothing else on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for an answer (connecting included).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit, list, show, follow, cancel or retry requests.
    #[command(subcommand)]
    Request(RequestCmd),
    /// Approve a pending approval: the waiting step runs.
    Approve {
        /// The approval's id.
        id: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deny a pending approval: the step does not run and the run ends.
    Deny {
        /// The approval's id.
        id: String,
        /// Why (required; kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// List approvals.
    Approvals {
        /// Only approvals in this state (pending, approved, denied, expired).
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    /// List or call tools of the fleet.
    #[command(subcommand)]
    Tools(ToolsCmd),
    /// The upstream servers and whether they are up.
    Servers,
    /// Show traces.
    #[command(subcommand)]
    Trace(TraceCmd),
    /// Search the fleet's logs.
    Logs(LogsArgs),
    /// The audit log of tool calls.
    Audit(AuditArgs),
    /// Create, list or revoke API keys.
    #[command(subcommand)]
    Keys(KeysCmd),
}

/// `mcp-fleet request ...`
#[derive(Debug, Subcommand)]
pub enum RequestCmd {
    /// Submit a request; its text comes from `--text`, or `--file` (`-` reads stdin).
    #[command(group(ArgGroup::new("body").required(true)))]
    Submit {
        /// The requester's address.
        #[arg(long = "from", value_name = "ADDR")]
        from: String,
        /// A one-line subject.
        #[arg(long)]
        subject: String,
        /// The request's text.
        #[arg(long, group = "body")]
        text: Option<String>,
        /// Read the request's text from this file (`-` for stdin).
        #[arg(long, value_name = "PATH", group = "body")]
        file: Option<PathBuf>,
    },
    /// List requests, newest first.
    List {
        /// Only requests in this state.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    /// A request and its run's steps.
    Show {
        /// The request's id.
        id: String,
    },
    /// Follow a request until its run ends (exit 0 when it succeeded, 1 otherwise).
    Watch {
        /// The request's id.
        id: String,
    },
    /// Cancel a request and its run.
    Cancel {
        /// The request's id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Start a failed request's run again.
    Retry {
        /// The request's id.
        id: String,
    },
}

/// `mcp-fleet tools ...`
#[derive(Debug, Subcommand)]
pub enum ToolsCmd {
    /// List the tools you may call.
    List {
        /// Only the tools of this upstream server.
        #[arg(long)]
        server: Option<String>,
    },
    /// Call a tool.
    Call {
        /// The tool's name.
        name: String,
        /// The arguments, a JSON object (default `{}`).
        #[arg(long, value_name = "JSON", conflicts_with = "args_file")]
        args: Option<String>,
        /// Read the arguments from this file (`-` for stdin).
        #[arg(long, value_name = "PATH")]
        args_file: Option<PathBuf>,
    },
}

/// `mcp-fleet trace ...`
#[derive(Debug, Subcommand)]
pub enum TraceCmd {
    /// A trace as a waterfall: nested spans with their durations.
    Show {
        /// The trace's id (32 hex digits).
        trace_id: String,
    },
}

/// `mcp-fleet logs ...`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only lines of this trace.
    #[arg(long = "trace", value_name = "TRACE_ID")]
    pub trace_id: Option<String>,
    /// Only lines of this service.
    #[arg(long)]
    pub service: Option<String>,
    /// Only lines matching this text.
    #[arg(long)]
    pub query: Option<String>,
    /// Only lines newer than this (`30s`, `15m`, `2h`, `1d`).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many lines.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// `mcp-fleet audit ...`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only calls by this subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only calls of this tool.
    #[arg(long)]
    pub tool: Option<String>,
    /// Only calls with this decision (e.g. allowed, denied).
    #[arg(long)]
    pub decision: Option<String>,
    /// At most this many entries.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// `mcp-fleet keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a key; it is printed once and never again.
    Create {
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Tools it may call (glob; repeatable). Every tool of its role when absent.
        #[arg(long, value_name = "GLOB")]
        allow: Vec<String>,
        /// Tools it may not call (glob; repeatable).
        #[arg(long, value_name = "GLOB")]
        deny: Vec<String>,
        /// Days until it expires (never when absent).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        expires_in_days: Option<u32>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// A key's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Reads only.
    Viewer,
    /// Reads, calls tools, submits and decides.
    Operator,
    /// Everything, keys included.
    Admin,
}

impl Role {
    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

/// The bearer credential. Its `Debug` hides it, so neither `{:?}` of the
/// parsed command line nor an error can print it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The credential itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl FromStr for ApiKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the key is empty".to_owned());
        }
        // A header value cannot hold control characters; saying so here beats
        // an opaque "invalid header value" from the HTTP client later.
        if s.chars().any(char::is_control) {
            return Err("the key holds control characters".to_owned());
        }
        Ok(Self(s.to_owned()))
    }
}

/// `--url`: an absolute http(s) URL.
fn parse_base_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err("expected an http:// or https:// URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL takes no query or fragment".to_owned());
    }
    Ok(url)
}
