//! mcp-test's own tests: a minimal compliant server passes the compliance
//! check, and the same server behind each defect fails exactly the check for
//! that defect.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod broken;
mod core;
mod db;

use mcp_core::prelude::*;
use mcp_core::{Server, ToolResponse};

/// Echo arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// Text to send back.
    pub text: String,
}

/// Sleep arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SleepArgs {
    /// Milliseconds.
    pub ms: u64,
}

/// Fail arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailArgs {
    /// The error kind to fail with, in its text form (`not_found`, `unavailable`...).
    pub kind: String,
}

/// Echo output.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EchoOut {
    /// The text.
    pub text: String,
}

/// A small compliant server built only from mcp-core.
pub fn echo_server() -> Server {
    echo_server_builder().build()
}

/// The echo server's builder, for tests that add to it.
pub fn echo_server_builder() -> mcp_core::ServerBuilder<()> {
    Server::builder("mcp-server-echo", "0.0.1", Arc::new(()))
        .tool(Tool::new(
            "echo",
            "Send the text back unchanged.",
            Annotations::read_only(),
            |_s: Arc<()>, a: EchoArgs, _c: Ctx| async move { Ok(Out::new(EchoOut { text: a.text })) },
        ))
        .tool(Tool::new(
            "sleep",
            "Sleep for ms milliseconds, then answer.",
            Annotations::read_only(),
            |_s: Arc<()>, a: SleepArgs, c: Ctx| async move {
                for i in 0..a.ms / 10 {
                    c.progress(i as f64, Some((a.ms / 10) as f64), None).await;
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Ok(ToolResponse::text("slept"))
            },
        ))
        .tool(Tool::new(
            "boom",
            "Always panics, to prove panics are contained.",
            Annotations::read_only(),
            |_s: Arc<()>, _a: EchoArgs, _c: Ctx| async move {
                if true {
                    panic!("boom");
                }
                Ok(ToolResponse::text("unreachable"))
            },
        ))
        .tool(Tool::new(
            "fail",
            "Fails with the error kind asked for, to prove kinds travel as data.",
            Annotations::read_only(),
            |_s: Arc<()>, a: FailArgs, _c: Ctx| async move {
                let kind = mcp_core::ErrorKind::parse(&a.kind)
                    .ok_or_else(|| ToolError::invalid(format!("no error kind {:?}", a.kind)))?;
                Err::<ToolResponse, _>(ToolError::of_kind(kind, format!("failing as {kind} on request")))
            },
        ))
        .tool(Tool::new(
            "big",
            "Returns a lot of text.",
            Annotations::read_only(),
            |_s: Arc<()>, a: SleepArgs, _c: Ctx| async move { Ok(ToolResponse::text("x".repeat(a.ms as usize))) },
        ))
}
