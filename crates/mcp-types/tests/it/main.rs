//! mcp-types' tests: every contract against the callee's golden `tools/list`.

// Test code unwraps (a panic is how a test fails) and needs no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod contracts;
