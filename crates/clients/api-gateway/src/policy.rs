//! Who may use which tool: the role a tool needs, from its annotations, and
//! an API key's allow/deny globs on qualified names.
//!
//! The role comes from what the upstream says the tool does, so a new tool
//! is classified the moment it is listed, without a table to keep:
//!
//! - `readOnlyHint: true` → **viewer**;
//! - `destructiveHint: false` (and not read-only) → **operator**;
//! - anything else → **admin**. That includes a tool with no annotations or
//!   no `destructiveHint`: the MCP spec's default for `destructiveHint` is
//!   `true`, and a tool that does not say it is harmless is not treated as
//!   harmless.
//!
//! On top of the role, a key may carry globs over qualified names
//! (`fs__read_*`, `git__*`): with a non-empty allow list only matching tools
//! are usable, and a deny match always wins. A tool a caller may not use is
//! neither listed nor resolved (it answers as an unknown tool), so a key
//! cannot even learn that a hidden tool exists.
//!
//! The fleet token's holder ([`Caller::fleet`]) sees everything: it is the
//! fleet itself (the planner calling through the gateway).

use std::collections::HashMap;
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mcp_core::auth::{Caller, Role};
use serde_json::Value;

/// The role a tool needs, from its raw MCP `annotations` object (or `null`).
pub fn required_role(annotations: &Value) -> Role {
    let hint = |k: &str| annotations.get(k).and_then(Value::as_bool);
    if hint("readOnlyHint") == Some(true) {
        Role::Viewer
    } else if hint("destructiveHint") == Some(false) {
        Role::Operator
    } else {
        Role::Admin
    }
}

/// Whether `caller` is the fleet itself (the fleet token, not a key or a JWT
/// that happens to name "fleet": those carry a key id or a `jwt:` subject).
pub fn is_fleet(caller: &Caller) -> bool {
    caller.key_id.is_none() && caller.subject == "fleet" && caller.role == Role::Admin
}

/// A key's compiled globs. `allow: None` means "no allow list" (whatever the
/// role allows).
#[derive(Debug, Clone, Default)]
pub struct KeyGlobs {
    allow: Option<GlobSet>,
    deny: Option<GlobSet>,
    /// A glob failed to compile: the key is allowed nothing (fail closed;
    /// the key endpoints check globs with [`check_globs`] before storing).
    broken: bool,
}

/// Check glob patterns as a key would use them; the error names the first bad one.
pub fn check_globs(patterns: &[String]) -> Result<(), String> {
    for p in patterns {
        if p.is_empty() || p.len() > 128 {
            return Err(format!("glob {p:?}: expected 1..=128 characters"));
        }
        Glob::new(p).map_err(|e| format!("glob {p:?}: {e}"))?;
    }
    Ok(())
}

fn compile(patterns: &[String]) -> Result<Option<GlobSet>, globset::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p)?);
    }
    b.build().map(Some)
}

impl KeyGlobs {
    /// Compile a key's lists.
    pub fn new(allow: &[String], deny: &[String]) -> Self {
        match (compile(allow), compile(deny)) {
            (Ok(allow), Ok(deny)) => Self { allow, deny, broken: false },
            _ => Self { allow: None, deny: None, broken: true },
        }
    }

    /// Whether the globs let `qualified` through (deny wins; an empty allow
    /// list allows everything).
    pub fn admits(&self, qualified: &str) -> bool {
        if self.broken {
            return false;
        }
        if self.deny.as_ref().is_some_and(|d| d.is_match(qualified)) {
            return false;
        }
        self.allow.as_ref().is_none_or(|a| a.is_match(qualified))
    }
}

/// Whether `caller`, with its key's `globs` (none for the fleet token and
/// JWTs), may use the tool `qualified` whose raw annotations are
/// `annotations`.
pub fn may_use(caller: &Caller, globs: Option<&KeyGlobs>, qualified: &str, annotations: &Value) -> bool {
    may_use_role(caller, globs, qualified, required_role(annotations))
}

/// [`may_use`] with the tool's role already derived.
pub fn may_use_role(caller: &Caller, globs: Option<&KeyGlobs>, qualified: &str, needed: Role) -> bool {
    if is_fleet(caller) {
        return true;
    }
    caller.role >= needed && globs.is_none_or(|g| g.admits(qualified))
}

/// One caller's view, made once per list or call: the role and the key's
/// compiled globs.
#[derive(Debug, Clone)]
pub struct View {
    caller: Caller,
    globs: Option<KeyGlobs>,
}

impl View {
    /// May this caller use `qualified`, which needs `needed`?
    pub fn allows(&self, qualified: &str, needed: Role) -> bool {
        may_use_role(&self.caller, self.globs.as_ref(), qualified, needed)
    }

    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

/// Compiled globs per key id, so a `tools/list` does not rebuild a glob set
/// per request. An entry is rebuilt when the key's lists change (a reload).
#[derive(Default)]
pub struct GlobCache {
    by_key: Mutex<HashMap<String, Compiled>>,
}

/// A key's lists as they were compiled, and the result.
type Compiled = (Vec<String>, Vec<String>, KeyGlobs);

impl GlobCache {
    /// The view of `caller`, reading its key (if any) from `keys`. A caller
    /// naming a key that is no longer known gets globs that allow nothing
    /// (fail closed: the authenticator refuses such a key anyway).
    pub fn view(&self, keys: &crate::keys::Keys, caller: &Caller) -> View {
        let Some(id) = caller.key_id.as_deref() else { return View { caller: caller.clone(), globs: None } };
        let Some(info) = keys.get(id) else {
            return View { caller: caller.clone(), globs: Some(KeyGlobs { allow: None, deny: None, broken: true }) };
        };
        let Ok(mut m) = self.by_key.lock() else {
            return View { caller: caller.clone(), globs: Some(KeyGlobs::new(&info.row.allow, &info.row.deny)) };
        };
        let globs = match m.get(id) {
            Some((a, d, g)) if *a == info.row.allow && *d == info.row.deny => g.clone(),
            _ => {
                let g = KeyGlobs::new(&info.row.allow, &info.row.deny);
                m.insert(id.to_owned(), (info.row.allow.clone(), info.row.deny.clone(), g.clone()));
                g
            }
        };
        View { caller: caller.clone(), globs: Some(globs) }
    }

    /// Forget keys that are gone (called after a reload).
    pub fn retain(&self, keys: &crate::keys::Keys) {
        if let Ok(mut m) = self.by_key.lock() {
            m.retain(|id, _| keys.get(id).is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(role: Role) -> Caller {
        Caller { subject: "ci".into(), role, key_id: Some("0123456789ab".into()) }
    }

    fn check(caller: &Caller, globs: Option<&KeyGlobs>, name: &str, ann: Value, want: bool) {
        assert_eq!(may_use(caller, globs, name, &ann), want, "{caller:?} {name} {ann}");
    }

    #[test]
    fn the_role_follows_the_annotations_and_missing_ones_mean_admin() {
        assert_eq!(required_role(&json!({"readOnlyHint": true, "destructiveHint": false})), Role::Viewer);
        assert_eq!(required_role(&json!({"readOnlyHint": false, "destructiveHint": false})), Role::Operator);
        assert_eq!(required_role(&json!({"destructiveHint": false})), Role::Operator);
        assert_eq!(required_role(&json!({"readOnlyHint": false, "destructiveHint": true})), Role::Admin);
        assert_eq!(required_role(&json!({"readOnlyHint": false})), Role::Admin, "spec default: destructive");
        assert_eq!(required_role(&Value::Null), Role::Admin);
        assert_eq!(required_role(&json!({"readOnlyHint": "yes"})), Role::Admin, "not a boolean: no hint");
    }

    #[test]
    fn roles_globs_and_the_fleet() {
        let ro = json!({"readOnlyHint": true});
        let add = json!({"readOnlyHint": false, "destructiveHint": false});
        let del = json!({"destructiveHint": true});
        check(&key(Role::Viewer), None, "fs__stat", ro.clone(), true);
        check(&key(Role::Viewer), None, "fs__write_file", add.clone(), false);
        check(&key(Role::Operator), None, "fs__write_file", add.clone(), true);
        check(&key(Role::Operator), None, "fs__delete", del.clone(), false);
        check(&key(Role::Admin), None, "fs__delete", del.clone(), true);
        let fleet = Caller::fleet();
        check(&fleet, None, "fs__delete", del.clone(), true);
        // A JWT subject "fleet" is not the fleet.
        let jwt = Caller { subject: "fleet".into(), role: Role::Viewer, key_id: None };
        check(&jwt, None, "fs__delete", del.clone(), false);

        let g = KeyGlobs::new(&["fs__*".into(), "log__logs_*".into()], &["fs__read_*".into()]);
        let admin = key(Role::Admin);
        check(&admin, Some(&g), "fs__stat", ro.clone(), true);
        check(&admin, Some(&g), "fs__read_file", ro.clone(), false);
        check(&admin, Some(&g), "log__logs_tail", ro.clone(), true);
        check(&admin, Some(&g), "git__git_status", ro.clone(), false);
        // Globs never lift the role.
        check(&key(Role::Viewer), Some(&g), "fs__delete", del, false);
        // Only a deny list: everything else the role allows.
        let d = KeyGlobs::new(&[], &["*__delete".into()]);
        check(&admin, Some(&d), "fs__move", add, true);
        // A broken glob allows nothing.
        let broken = KeyGlobs::new(&["fs__[".into()], &[]);
        check(&admin, Some(&broken), "fs__stat", ro, false);
        assert!(check_globs(&["fs__[".into()]).is_err());
        assert!(check_globs(&["fs__*".into(), "git__git_{status,log}".into()]).is_ok());
    }
}
