//! `mcp-core`: the one crate every program of the fleet is built on.
//!
//! It is a facade. Server and client crates depend on it (plus `serde`) and
//! never on rmcp, axum, tracing-subscriber or prometheus directly, so a major
//! bump of rmcp touches this crate only.
//!
//! - [`tool`]: how a tool is defined: typed arguments, annotations, results, errors.
//! - [`server`]: a server's registry, resources and readiness, and the MCP handler.
//! - [`serve`]: the HTTP side: `/mcp`, `/health`, `/ready`, `/metrics`, guards, shutdown, [`run`].
//! - [`client`]: the MCP client with retries, a circuit breaker and trace propagation.
//! - [`trace`]: W3C trace context, JSON logs, OTLP span export.
//! - [`config`]: environment variables, read all at once, exit 64 on error.
//! - [`metrics`]: the Prometheus series every program exposes.
//! - [`security`]: bearer token, Host and Origin allow-lists.
//! - [`resource`]: MCP resources.

/// Every program built on mcp-core uses mimalloc (see docs/benchmarks.md for
/// why); declaring it here keeps each `main.rs` to its few lines.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod client;
pub mod config;
#[cfg(feature = "db")]
pub mod db;
pub mod metrics;
pub mod resource;
pub mod security;
pub mod serve;
pub mod server;
pub mod ship;
pub mod template;
pub mod tool;
pub mod trace;

/// Time as the fleet writes it: RFC 3339, UTC.
pub mod clock {
    /// Now.
    pub fn now_rfc3339() -> String {
        let now = time::OffsetDateTime::now_utc();
        now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    /// Unix milliseconds from RFC 3339 text.
    pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
        let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
        Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// A point in time given as RFC 3339 text, or as a span back from now such
    /// as `30s`, `15m`, `2h`, `7d`: Unix milliseconds.
    pub fn parse_time(s: &str) -> Option<i64> {
        let s = s.trim();
        if let Some(ms) = parse_rfc3339_ms(s) {
            return Some(ms);
        }
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
        let n: i64 = num.parse().ok()?;
        let ms = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        Some(now_ms() - n.checked_mul(ms)?)
    }

    /// A Unix time (seconds and nanoseconds).
    pub fn rfc3339(secs: i64, nanos: i64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            + time::Duration::nanoseconds(nanos);
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    }
}

pub use client::{CallResult, ClientError, ClientOptions, McpClient, ProgressEvent, ToolInfo};
pub use config::{ConfigErrors, CoreConfig, Reader};
pub use serve::{Program, StartError, run, serve};
pub use server::{Server, ServerBuilder};
pub use tool::{Annotations, Content, Ctx, Out, Tool, ToolError, ToolResponse};

/// Install the process-wide TLS crypto provider (ring). Every TLS client in
/// the fleet (reqwest, lettre, async-imap) uses rustls without a default
/// provider compiled in, so this must run before the first connection; it is
/// idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

// Re-exports so server crates need nothing else for their tools.
pub use schemars;
pub use serde_json;
pub use tracing;

/// Everything a tool file needs.
pub mod prelude {
    pub use crate::tool::{Annotations, Content, Ctx, Out, Tool, ToolError, ToolResponse};
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
    pub use std::sync::Arc;
}
