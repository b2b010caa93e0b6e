//! API keys: made here, shown once, stored as an HMAC, checked in memory.
//!
//! A key is `mcpf_<id>_<secret>`: `id` is 12 hex characters (public: the
//! audit, revocation and the UI name keys by it), `secret` 32 random bytes in
//! unpadded base64url (256 bits: guessing is hopeless, so a fast keyed hash
//! is enough — a password hash such as argon2 costs ~26 ms per check here,
//! fifty times the gateway's whole overhead budget). The database holds
//! `HMAC-SHA-256(GATEWAY_KEY_SECRET, key)`, so a copy of the table alone
//! cannot even confirm a guessed key. Checks compare in constant time.
//!
//! Every request is authenticated, so the keys live in memory ([`Keys`]),
//! loaded at start and changed with the table; last-used times are
//! collected in memory and written in batches.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use mcp_core::auth::Role;
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::store::KeyRow;

/// Every key starts with this.
pub const PREFIX: &str = "mcpf_";

/// A key as checked in memory.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The stored row.
    pub row: KeyRow,
    /// Its role, parsed.
    pub role: Role,
}

/// Why a presented key was refused (never said to the caller in more detail
/// than "invalid": the audit log has the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Not a key of this shape.
    Malformed,
    /// No key with this id, or the secret does not match.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// The keys, in memory.
pub struct Keys {
    secret: Vec<u8>,
    by_id: RwLock<HashMap<String, KeyInfo>>,
    used: Mutex<HashMap<String, i64>>,
}

/// Parse a role's text form.
pub fn parse_role(s: &str) -> Option<Role> {
    match s {
        "viewer" => Some(Role::Viewer),
        "operator" => Some(Role::Operator),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

impl Keys {
    /// Keys hashed under `secret`, loaded from `rows`.
    pub fn new(secret: &str, rows: Vec<KeyRow>) -> Self {
        let k = Self { secret: secret.as_bytes().to_vec(), by_id: RwLock::new(HashMap::new()), used: Mutex::default() };
        k.replace(rows);
        k
    }

    /// Replace the whole set (a reload from the table).
    pub fn replace(&self, rows: Vec<KeyRow>) {
        let map = rows
            .into_iter()
            .filter_map(|row| parse_role(&row.role).map(|role| (row.id.clone(), KeyInfo { row, role })))
            .collect();
        if let Ok(mut m) = self.by_id.write() {
            *m = map;
        }
    }

    /// Add or replace one key.
    pub fn put(&self, row: KeyRow) {
        if let Some(role) = parse_role(&row.role)
            && let Ok(mut m) = self.by_id.write()
        {
            m.insert(row.id.clone(), KeyInfo { row, role });
        }
    }

    /// Mark a key revoked in memory.
    pub fn revoke(&self, id: &str, at_ms: i64) {
        if let Ok(mut m) = self.by_id.write()
            && let Some(k) = m.get_mut(id)
        {
            k.row.revoked_ms.get_or_insert(at_ms);
        }
    }

    /// One key by id.
    pub fn get(&self, id: &str) -> Option<KeyInfo> {
        self.by_id.read().ok().and_then(|m| m.get(id).cloned())
    }

    /// HMAC-SHA-256 of `key` under the secret, hex.
    pub fn hash(&self, key: &str) -> String {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(b"").expect("HMAC accepts any key"));
        mac.update(key.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A new key: the text to show once, and its row (without name, role and
    /// the rest, which the caller fills in).
    pub fn generate(&self) -> (String, String, String) {
        let mut id = [0u8; 6];
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut id);
        rand::rng().fill_bytes(&mut secret);
        let id = hex(&id);
        let key = format!("{PREFIX}{id}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        let hash = self.hash(&key);
        (key, id, hash)
    }

    /// Check a presented key at `now_ms`.
    pub fn check(&self, presented: &str, now_ms: i64) -> Result<KeyInfo, KeyRefusal> {
        let rest = presented.strip_prefix(PREFIX).ok_or(KeyRefusal::Malformed)?;
        let (id, secret) = rest.split_once('_').ok_or(KeyRefusal::Malformed)?;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || secret.len() != 43 {
            return Err(KeyRefusal::Malformed);
        }
        let info = self.get(id).ok_or(KeyRefusal::Unknown)?;
        let want = self.hash(presented);
        if !bool::from(want.as_bytes().ct_eq(info.row.hash.as_bytes())) {
            return Err(KeyRefusal::Unknown);
        }
        if info.row.revoked_ms.is_some() {
            return Err(KeyRefusal::Revoked);
        }
        if info.row.expires_ms.is_some_and(|e| e <= now_ms) {
            return Err(KeyRefusal::Expired);
        }
        if let Ok(mut u) = self.used.lock() {
            u.insert(info.row.id.clone(), now_ms);
        }
        Ok(info)
    }

    /// The last-used times collected since the previous call.
    pub fn take_used(&self) -> Vec<(String, i64)> {
        self.used.lock().map(|mut u| u.drain().collect()).unwrap_or_default()
    }

    /// Put back last-used times whose write failed (a newer use wins).
    pub fn restore_used(&self, used: Vec<(String, i64)>) {
        if let Ok(mut u) = self.used.lock() {
            for (id, ms) in used {
                let e = u.entry(id).or_insert(ms);
                *e = (*e).max(ms);
            }
        }
    }

    /// Every key, oldest first.
    pub fn all(&self) -> Vec<KeyInfo> {
        let mut v: Vec<KeyInfo> = self.by_id.read().map(|m| m.values().cloned().collect()).unwrap_or_default();
        v.sort_by(|a, b| (a.row.created_ms, &a.row.id).cmp(&(b.row.created_ms, &b.row.id)));
        v
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, hash: String) -> KeyRow {
        KeyRow {
            id: id.into(),
            name: "ci".into(),
            hash,
            role: "operator".into(),
            allow: vec![],
            deny: vec![],
            created_ms: 1,
            created_by: "fleet".into(),
            expires_ms: None,
            revoked_ms: None,
            last_used_ms: None,
        }
    }

    #[test]
    fn a_generated_key_checks_and_nothing_else_does() {
        let keys = Keys::new("0123456789abcdef0123456789abcdef", vec![]);
        let (key, id, hash) = keys.generate();
        assert!(key.starts_with("mcpf_") && key.len() == 5 + 12 + 1 + 43, "{key}");
        assert_ne!(hash, key, "the stored form is not the key");
        keys.put(row(&id, hash));
        assert_eq!(keys.check(&key, 10).map(|k| k.role), Ok(Role::Operator));
        // One character off, another id, wrong shapes.
        let mut off = key.clone();
        let last = off.pop().map(|c| if c == 'A' { 'B' } else { 'A' }).unwrap_or('A');
        off.push(last);
        assert_eq!(keys.check(&off, 10).map(|_| ()), Err(KeyRefusal::Unknown));
        assert_eq!(keys.check("mcpf_000000000000_x", 10).map(|_| ()), Err(KeyRefusal::Malformed));
        assert_eq!(keys.check("Bearer nonsense", 10).map(|_| ()), Err(KeyRefusal::Malformed));
        assert_eq!(keys.take_used(), vec![(id.clone(), 10)]);
        keys.revoke(&id, 20);
        assert_eq!(keys.check(&key, 30).map(|_| ()), Err(KeyRefusal::Revoked));
    }

    #[test]
    fn another_secret_makes_another_hash_and_expiry_is_checked() {
        let a = Keys::new("0123456789abcdef0123456789abcdef", vec![]);
        let b = Keys::new("fedcba9876543210fedcba9876543210", vec![]);
        let (key, id, hash) = a.generate();
        assert_ne!(a.hash(&key), b.hash(&key));
        let mut r = row(&id, hash);
        r.expires_ms = Some(100);
        a.put(r);
        assert!(a.check(&key, 99).is_ok());
        assert_eq!(a.check(&key, 100).map(|_| ()), Err(KeyRefusal::Expired));
    }
}
