//! `mcp-types`: the contracts between the fleet's programs, as types.
//!
//! What one program sends and another reads — the project spec the agent
//! hands the planner, the states of runs and requests, the results the
//! clients read from the servers — is defined once here, so a rename on one
//! side breaks a compile or a test, not production. The crate is types only
//! (serde and schemars, no I/O, no mcp-core), after linkerd2-proxy-api:
//! servers and clients both depend on it and on nothing of each other.
//!
//! Result types here describe what a *client reads*: they list the fields
//! it relies on and ignore the rest, so a server may add fields freely. The
//! `tests/it/contracts.rs` test holds every one of them against the callee's
//! golden `tools/list` (its `inputSchema` and `outputSchema`), so a server
//! that renames or drops a field a client reads fails there.
//!
//! - [`spec`]: the project spec and the request it came from, and the slug rule.
//! - [`plan`]: the planner's run and step states, `plan_start`, templates.
//! - [`request`]: the agent's request states and decisions.
//! - [`peer`]: the results the clients read from fs, git, shell, email and sql.
//! - [`approval`]: the planner's human approval gates (`approvals_list`, `approval_get`, `approval_decide`).
//! - [`docker`]: containers run to completion and applications deployed, as the planner and the
//!   gitlab server's local pipelines ask the docker server for them.
//! - [`registry`]: a manifest's dependencies checked and pinned (`check_dependencies`, `pin_dependencies`).
//! - [`documents`]: documents rendered by the spec server (`spec_generate`).
//! - [`browser`]: a page opened and shot (`browser_navigate`, `browser_screenshot`).

pub mod approval;
pub mod browser;
pub mod docker;
pub mod documents;
pub mod peer;
pub mod plan;
pub mod registry;
pub mod request;
pub mod spec;

/// Defines a closed set of states with one text form each: serde and
/// schemars use it, `as_str` and `parse` give and read it, `ALL` lists them.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The one text form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value whose text form is `s`.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::UnknownValue { what: stringify!($name), value: s.to_owned() })
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use text_enum;

/// A text that names none of an enum's values (a corrupt row, a newer peer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {what}")]
pub struct UnknownValue {
    /// The enum.
    pub what: &'static str,
    /// The text.
    pub value: String,
}
