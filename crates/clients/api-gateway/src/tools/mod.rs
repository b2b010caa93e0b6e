//! The gateway's own tools (`gateway__*`), one per file, registered here.
//!
//! **Why two lists.** mcp-core lists a registered tool to every caller, and
//! the fleet's rule is that a tool a caller may not use is hidden, not
//! refused. So a tool every authenticated caller may use (any role is at
//! least a viewer) is registered normally ([`register`], [`STATIC`]), and a
//! tool only some roles may use is served through the gateway's
//! [`crate::source::GatewaySource`] ([`sourced`]), which lists and resolves
//! it per caller under the same policy as the upstreams' tools (role and
//! the key's globs). `gateway__audit` is admin-only, so it is sourced: a
//! viewer's `tools/list` does not show it and a call by name is an unknown
//! tool, exactly like a hidden upstream tool. Registered tools win over
//! sourced names, and no upstream may be called `gateway`, so the names
//! cannot collide.

pub mod audit;
pub mod servers;
pub mod whoami;

use std::sync::{Arc, LazyLock};

use mcp_core::ServerBuilder;
use mcp_core::auth::Role;
use mcp_core::tool::{Handler, ToolDef};

use crate::Gateway;

/// The names of the registered (every-caller) tools, in registry order.
pub const STATIC: &[&str] = &["gateway__servers", "gateway__whoami"];

/// Register every tool every caller may use.
pub fn register(b: ServerBuilder<Gateway>) -> ServerBuilder<Gateway> {
    b.tool(servers::tool()).tool(whoami::tool())
}

/// An own tool served through the tool source: its definition, the role it
/// needs, and how to make its handler over the gateway's state.
pub struct SourcedTool {
    /// The definition (built once).
    pub def: ToolDef,
    /// The least role that sees it.
    pub role: Role,
    /// Its handler, bound to the state.
    pub make: fn(Arc<Gateway>) -> Handler,
}

static SOURCED: LazyLock<Vec<SourcedTool>> =
    LazyLock::new(|| vec![SourcedTool { def: audit::tool().def().clone(), role: Role::Admin, make: audit::handler }]);

/// The own tools served per caller, sorted by name.
pub fn sourced() -> &'static [SourcedTool] {
    &SOURCED
}
