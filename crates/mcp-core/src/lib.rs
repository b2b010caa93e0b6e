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
//! - [`error`]: error kinds as data, and RFC 9457 problems for REST answers.
//! - [`clock`]: time as the fleet writes and reads it.
//! - [`idempotency`]: the `idempotency_key` contract: key rule, argument hash, replay or conflict.
//! - [`tls`]: the one TLS crypto provider (ring).
//! - `sandbox` (feature `sandbox`): kernel confinement (Landlock, no_new_privs, subreaper) of child processes.

/// Every program built on mcp-core uses mimalloc (see docs/benchmarks.md for
/// why); declaring it here keeps each `main.rs` to its few lines.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
#[cfg(feature = "db")]
pub mod db;
pub mod error;
pub mod idempotency;
#[cfg(feature = "sandbox")]
pub mod jobs;
pub mod metrics;
pub mod resource;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "schemas")]
pub mod schemas;
pub mod security;
pub mod serve;
pub mod server;
pub mod ship;
pub mod template;
pub mod tls;
pub mod tool;
pub mod trace;

pub use client::{CallResult, ClientError, ClientOptions, McpClient, ProgressEvent, ToolInfo};
pub use config::{ConfigErrors, CoreConfig, Reader};
pub use error::{ErrorKind, Problem};
#[cfg(feature = "sandbox")]
pub use serve::run_confined;
pub use serve::{Program, StartError, run, serve};
pub use server::{Server, ServerBuilder, Sessions};
pub use tool::{Annotations, Content, Ctx, Out, Tool, ToolError, ToolResponse, ToolSource};

pub use tls::install_crypto_provider;

// Re-exports so server crates need nothing else for their tools.
pub use schemars;
pub use serde_json;
pub use tracing;

/// Everything a tool file needs.
pub mod prelude {
    pub use crate::error::ErrorKind;
    pub use crate::tool::{Annotations, Content, Ctx, Out, Tool, ToolError, ToolResponse};
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
    pub use std::sync::Arc;
}
