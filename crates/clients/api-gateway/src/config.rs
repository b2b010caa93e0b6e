//! Configuration of `mcp-client-api-gateway`: every variable it reads.
//!
//! The shared variables (`MCP_AUTH_TOKEN`, `MCP_LISTEN_ADDR`, ...) are read
//! by `mcp-core`. `MCP_AUTH_TOKEN` stays the fleet's own credential here
//! too: a holder is the caller `fleet` with the admin role (how the first
//! API key is made: `mcp-fleet keys create` with the fleet token). Everyone
//! else presents an API key or a JWT.
//!
//! Upstreams are the fleet's programs, each at its usual peer address
//! (`MCP_SERVER_<NAME>_URL`, compose default `http://<program>:8080/mcp`),
//! called with the peer token.

use std::fmt;
use std::time::Duration;

use mcp_core::Reader;

/// Where keys, the audit and sessions are kept: `sqlite:PATH` (default
/// `sqlite:./.data/gateway/gateway.db`) or `postgres://...` (compose).
pub const GATEWAY_DATABASE_URL: &str = "GATEWAY_DATABASE_URL";
/// The secret API keys are hashed with (HMAC-SHA-256), at least 32 bytes;
/// changing it invalidates every key. Set this or `GATEWAY_KEY_SECRET_FILE`.
pub const GATEWAY_KEY_SECRET: &str = "GATEWAY_KEY_SECRET";
/// File holding `GATEWAY_KEY_SECRET` (compose secrets).
pub const GATEWAY_KEY_SECRET_FILE: &str = "GATEWAY_KEY_SECRET_FILE";
/// Which upstreams to aggregate: a comma list of short names (`fs,git,...`;
/// default every fleet program the gateway knows). Each one's address is its
/// peer variable.
pub const GATEWAY_UPSTREAMS: &str = "GATEWAY_UPSTREAMS";
/// Seconds between background refreshes (default 30; 1..=3600): the
/// catalogue, the API keys from the table (revocations by other replicas)
/// and the JWKS.
pub const GATEWAY_REFRESH_SECS: &str = "GATEWAY_REFRESH_SECS";
/// Milliseconds an upstream has to answer `tools/list` before it counts as
/// unavailable for that refresh (default 3000).
pub const GATEWAY_LIST_TIMEOUT_MS: &str = "GATEWAY_LIST_TIMEOUT_MS";
/// Requests per minute per caller at the edge (default 1200; 0 = no limit).
pub const GATEWAY_RATE_PER_MINUTE: &str = "GATEWAY_RATE_PER_MINUTE";
/// Calls per minute per caller and tool (default 120; 0 = no limit); over it
/// a call is a `rate_limited` tool error the model can act on.
pub const GATEWAY_TOOL_QUOTA_PER_MINUTE: &str = "GATEWAY_TOOL_QUOTA_PER_MINUTE";
/// A JWKS URL (`https://.../jwks.json`) whose keys sign accepted bearer JWTs;
/// unset means no JWTs are accepted. Fetched at start and every
/// `GATEWAY_REFRESH_SECS`; until one fetch succeeds every JWT is refused and
/// `/ready` fails its `jwks` check (the fleet token and API keys still work).
pub const GATEWAY_JWKS_URL: &str = "GATEWAY_JWKS_URL";
/// The `iss` accepted JWTs must carry (required with `GATEWAY_JWKS_URL`).
pub const GATEWAY_JWT_ISSUER: &str = "GATEWAY_JWT_ISSUER";
/// The `aud` accepted JWTs must carry (required with `GATEWAY_JWKS_URL`).
pub const GATEWAY_JWT_AUDIENCE: &str = "GATEWAY_JWT_AUDIENCE";
/// The claim naming a JWT caller's role (`viewer`, `operator`, `admin`;
/// default claim `role`; a token without it is a viewer).
pub const GATEWAY_JWT_ROLE_CLAIM: &str = "GATEWAY_JWT_ROLE_CLAIM";

/// Every upstream the gateway knows: short name, program, peer variable.
/// The short name qualifies its tools (`fs__read_file`).
pub const KNOWN_UPSTREAMS: &[(&str, &str, &str)] = &[
    ("email", "mcp-server-email", "MCP_SERVER_EMAIL_URL"),
    ("git", "mcp-server-git", "MCP_SERVER_GIT_URL"),
    ("fs", "mcp-server-fs", "MCP_SERVER_FS_URL"),
    ("lint", "mcp-server-lint", "MCP_SERVER_LINT_URL"),
    ("test", "mcp-server-test", "MCP_SERVER_TEST_URL"),
    ("sql", "mcp-server-sql", "MCP_SERVER_SQL_URL"),
    ("log", "mcp-server-log", "MCP_SERVER_LOG_URL"),
    ("shell", "mcp-server-shell", "MCP_SERVER_SHELL_URL"),
    ("docker", "mcp-server-docker", "MCP_SERVER_DOCKER_URL"),
    ("gitlab", "mcp-server-gitlab", "MCP_SERVER_GITLAB_URL"),
    ("browser", "mcp-server-browser", "MCP_SERVER_BROWSER_URL"),
    ("spec", "mcp-server-spec", "MCP_SERVER_SPEC_URL"),
    ("registry", "mcp-server-registry", "MCP_SERVER_REGISTRY_URL"),
    ("llm_agent", "mcp-client-llm-agent", "MCP_CLIENT_LLM_AGENT_URL"),
    ("planner", "mcp-client-planner", "MCP_CLIENT_PLANNER_URL"),
    ("observer", "mcp-client-observer", "MCP_CLIENT_OBSERVER_URL"),
];

/// One upstream as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Short name, the prefix of its tools.
    pub name: String,
    /// The program.
    pub program: String,
    /// Its `/mcp` URL.
    pub url: String,
}

/// JWT settings, when JWTs are accepted.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// Where the signing keys are published.
    pub jwks_url: String,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// The claim that carries the role.
    pub role_claim: String,
}

/// The gateway's settings.
#[derive(Clone)]
pub struct Config {
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// The API-key hashing secret.
    pub key_secret: String,
    /// The upstreams, in the order of [`KNOWN_UPSTREAMS`].
    pub upstreams: Vec<Upstream>,
    /// Catalogue refresh period.
    pub refresh: Duration,
    /// Per-upstream `tools/list` timeout.
    pub list_timeout: Duration,
    /// Edge requests per minute per caller (0: none).
    pub rate_per_minute: u32,
    /// Calls per minute per caller and tool (0: none).
    pub tool_quota_per_minute: u32,
    /// JWTs, when accepted.
    pub jwt: Option<Jwt>,
}

impl fmt::Debug for Config {
    // Hand-written so neither the key secret nor a database password reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &mcp_core::db::redact_url(&self.database_url))
            .field("key_secret", &"<redacted>")
            .field("upstreams", &self.upstreams)
            .field("refresh", &self.refresh)
            .field("list_timeout", &self.list_timeout)
            .field("rate_per_minute", &self.rate_per_minute)
            .field("tool_quota_per_minute", &self.tool_quota_per_minute)
            .field("jwt", &self.jwt)
            .finish()
    }
}

impl Config {
    /// Read from the environment (or a test map), collecting every problem.
    pub fn read(r: &mut Reader<'_>) -> Self {
        let database_url = r.string(GATEWAY_DATABASE_URL, "sqlite:./.data/gateway/gateway.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            r.error(format!(
                "{GATEWAY_DATABASE_URL}={:?}: expected sqlite:PATH or postgres://...",
                mcp_core::db::redact_url(&database_url)
            ));
        }
        let key_secret = r.secret(GATEWAY_KEY_SECRET, GATEWAY_KEY_SECRET_FILE).unwrap_or_default();
        if key_secret.len() < 32 {
            r.error(format!(
                "{GATEWAY_KEY_SECRET} (or {GATEWAY_KEY_SECRET_FILE}) is required, at least 32 bytes: API keys are stored as HMACs under it"
            ));
        }
        let wanted = r.string(GATEWAY_UPSTREAMS, "");
        let wanted: Vec<String> = wanted.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        for w in &wanted {
            if !KNOWN_UPSTREAMS.iter().any(|(n, _, _)| n == w) {
                let known: Vec<&str> = KNOWN_UPSTREAMS.iter().map(|(n, _, _)| *n).collect();
                r.error(format!("{GATEWAY_UPSTREAMS}: unknown upstream {w:?}; known: {}", known.join(", ")));
            }
        }
        let upstreams = KNOWN_UPSTREAMS
            .iter()
            .filter(|(n, _, _)| wanted.is_empty() || wanted.iter().any(|w| w == n))
            .map(|(n, program, _)| Upstream {
                name: (*n).to_owned(),
                program: (*program).to_owned(),
                url: r.peer_url(program),
            })
            .collect();
        let refresh = r.parse(GATEWAY_REFRESH_SECS, 30u64);
        if !(1..=3600).contains(&refresh) {
            r.error(format!("{GATEWAY_REFRESH_SECS}={refresh}: expected 1..=3600"));
        }
        let list_timeout = r.parse(GATEWAY_LIST_TIMEOUT_MS, 3000u64);
        if !(50..=60_000).contains(&list_timeout) {
            r.error(format!("{GATEWAY_LIST_TIMEOUT_MS}={list_timeout}: expected 50..=60000"));
        }
        let rate_per_minute = r.parse(GATEWAY_RATE_PER_MINUTE, 1200u32);
        let tool_quota_per_minute = r.parse(GATEWAY_TOOL_QUOTA_PER_MINUTE, 120u32);
        let jwt = match r.url(GATEWAY_JWKS_URL) {
            None => None,
            Some(jwks_url) => {
                let issuer = r.string(GATEWAY_JWT_ISSUER, "");
                let audience = r.string(GATEWAY_JWT_AUDIENCE, "");
                if issuer.is_empty() || audience.is_empty() {
                    r.error(format!(
                        "{GATEWAY_JWKS_URL} is set: {GATEWAY_JWT_ISSUER} and {GATEWAY_JWT_AUDIENCE} are required too"
                    ));
                }
                let role_claim = r.string(GATEWAY_JWT_ROLE_CLAIM, "role");
                Some(Jwt { jwks_url, issuer, audience, role_claim })
            }
        };
        Self {
            database_url,
            key_secret,
            upstreams,
            refresh: Duration::from_secs(refresh.clamp(1, 3600)),
            list_timeout: Duration::from_millis(list_timeout.clamp(50, 60_000)),
            rate_per_minute,
            tool_quota_per_minute,
            jwt,
        }
    }
}
