//! The local pipeline runner's tests: the parse/rules/plan corpus and runs
//! on the real Docker Engine through the real docker server.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod corpus;
mod docker;
