//! Idempotency keys: the one contract of every tool that takes an optional
//! `idempotency_key` (sql's `decision_record` and `message_record`, git's
//! `git_commit` and `git_tag`, email's `send` and `reply`), so a client
//! retries all of them the same way:
//!
//! - no key: the call does its write, as it always did;
//! - a key never used by the tool: the write happens, and is recorded under
//!   the key with the hash of the arguments ([`args_hash`]) and the result;
//! - the same key and the same arguments: the first result again, marked
//!   `duplicate: true`, and nothing new is written ([`Replay::Same`]);
//! - the same key and other arguments: a `conflict` error saying so
//!   ([`Replay::Conflict`], [`conflict`]), and nothing is written.
//!
//! Where a record lives and how it is claimed atomically is each server's own
//! business (a table in the record's transaction, a private git reference, the
//! send log); what a valid key is, what "the same arguments" means and what a
//! conflict says are decided here, once.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::tool::ToolError;

/// The argument carrying the key in every tool that takes one.
pub const KEY_FIELD: &str = "idempotency_key";

/// The longest key, in bytes.
pub const MAX_KEY: usize = 200;

/// Check a caller's key: 1 to [`MAX_KEY`] bytes, no control characters (a
/// key ends up in database rows, logs and error messages).
pub fn check_key(key: &str) -> Result<(), ToolError> {
    if key.is_empty() || key.len() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(ToolError::invalid(format!("{KEY_FIELD} must be 1 to {MAX_KEY} bytes without control characters")));
    }
    Ok(())
}

/// SHA-256 (lowercase hex) of the canonical JSON of a call's arguments
/// without the key: object keys sorted at every level, no spaces, and
/// `key_field` and null top-level fields left out.
///
/// Dropping top-level nulls makes an absent optional argument and an explicit
/// `null` one call, and keeps a retry across an upgrade that adds an optional
/// argument from turning into a conflict. Nulls inside a value stay: there
/// they are the caller's data. Array order is data too. The hashes are stored
/// (sql's table, git's records, email's send log), so this text must never
/// change: a change would make every stored key a conflict.
pub fn args_hash(args: &Value, key_field: &str) -> String {
    let mut top = match args {
        Value::Object(m) => m.clone(),
        other => Map::from_iter([(String::new(), other.clone())]),
    };
    top.remove(key_field);
    top.retain(|_, v| !v.is_null());
    let mut text = String::new();
    canonical(&Value::Object(top), &mut text);
    sha256_hex(text.as_bytes())
}

/// SHA-256 of `data` in lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with object keys sorted at every level and no spaces. serde_json
/// keeps insertion order when any crate in the build enables its
/// `preserve_order` feature, so the order is imposed here, not assumed.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What a key's record means for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay<T> {
    /// The key is unused: make the write (and record it under the key).
    Fresh,
    /// The key was used with the same arguments: this is its record.
    Same(T),
    /// The key was used with other arguments: this is that call's record.
    Conflict(T),
}

impl<T> Replay<T> {
    /// Compare a call's [`args_hash`] with its key's record, given as the
    /// arguments' hash stored with it and the record itself.
    pub fn of(args: &str, recorded: Option<(&str, T)>) -> Self {
        match recorded {
            None => Self::Fresh,
            Some((a, r)) if a == args => Self::Same(r),
            Some((_, r)) => Self::Conflict(r),
        }
    }

    /// `None` for a fresh key, the record for a replay, and for a conflict
    /// the [`conflict`] error, with `first` saying what the first call did.
    pub fn into_result(self, key: &str, first: impl FnOnce(&T) -> String) -> Result<Option<T>, ToolError> {
        match self {
            Self::Fresh => Ok(None),
            Self::Same(r) => Ok(Some(r)),
            Self::Conflict(r) => Err(conflict(key, &first(&r))),
        }
    }
}

/// The one error for a key reused with other arguments. `first` says what
/// the key's first call did ("it recorded decision 12", "it sent message
/// <…>"), so the caller can tell whether that was the call it meant.
pub fn conflict(key: &str, first: &str) -> ToolError {
    ToolError::conflict(format!(
        "{KEY_FIELD} {key:?} was already used for different arguments ({first}). Repeat the first call's arguments \
         exactly to get its result again, or use a new key for a new call"
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(a: Value, b: Value, same: bool) {
        assert_eq!(args_hash(&a, KEY_FIELD) == args_hash(&b, KEY_FIELD), same, "{a} vs {b}");
    }

    #[test]
    fn the_hash_ignores_order_absent_fields_and_the_key() {
        // Key order, at every level.
        check(
            json!({"a": 1, "b": {"x": [1, {"q": 2, "p": 3}], "y": {"m": true, "n": "s"}}}),
            json!({"b": {"y": {"n": "s", "m": true}, "x": [1, {"p": 3, "q": 2}]}, "a": 1}),
            true,
        );
        // The key, whatever its value, and only the named field.
        check(json!({"a": 1, "idempotency_key": "k1"}), json!({"a": 1, "idempotency_key": "k2"}), true);
        check(json!({"a": 1, "idempotency_key": "k1"}), json!({"a": 1}), true);
        assert_eq!(args_hash(&json!({"a": 1, "k": "x"}), "k"), args_hash(&json!({"a": 1}), "k"));
        check(json!({"a": 1, "k": "x"}), json!({"a": 1}), false);
        // A null top-level field is an absent one.
        check(json!({"a": 1, "project": null}), json!({"a": 1}), true);
        // Values, nested objects, nested nulls, array order and types are the caller's data.
        check(json!({"a": 1}), json!({"a": 2}), false);
        check(json!({"a": {"x": 1}}), json!({"a": {"x": 2}}), false);
        check(json!({"a": {"x": null}}), json!({"a": {}}), false);
        check(json!({"a": [1, 2]}), json!({"a": [2, 1]}), false);
        check(json!({"a": "1"}), json!({"a": 1}), false);
        check(json!({"a": 1}), json!({"a": 1, "b": false}), false);
        // Not an object: hashed as such.
        check(json!([1]), json!([2]), false);
    }

    #[test]
    fn the_canonical_text_is_fixed() {
        // Stored hashes depend on this exact text: sorted keys, no spaces,
        // serde_json's escapes, the key and top-level nulls gone.
        let args = json!({"text": "h\u{e9}\"\n", "b": [null, 1.5], "a": {"z": null, "y": 2}, "n": null,
                          "idempotency_key": "k"});
        let mut text = String::new();
        let mut top = args.as_object().unwrap().clone();
        top.remove(KEY_FIELD);
        top.retain(|_, v| !v.is_null());
        canonical(&Value::Object(top), &mut text);
        assert_eq!(text, r#"{"a":{"y":2,"z":null},"b":[null,1.5],"text":"hé\"\n"}"#);
        assert_eq!(args_hash(&args, KEY_FIELD), sha256_hex(text.as_bytes()));
        // The SHA-256 of `{}`, as sql and git stored it before this module.
        assert_eq!(
            args_hash(&json!({"idempotency_key": "k"}), KEY_FIELD),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn keys_are_bounded() {
        for good in ["k", "run-1/report", "<req1@example.test>/answer", "ключ"] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        assert!(check_key(&"k".repeat(MAX_KEY)).is_ok(), "exactly {MAX_KEY} bytes");
        // 200 bytes of two-byte characters is 100 characters: the limit is bytes.
        assert!(check_key(&"é".repeat(MAX_KEY / 2)).is_ok());
        assert!(check_key(&format!("{}é", "k".repeat(MAX_KEY - 1))).is_err(), "201 bytes");
        for bad in
            [String::new(), "k".repeat(MAX_KEY + 1), "a\nb".into(), "a\tb".into(), "a\0b".into(), "\u{7f}".into()]
        {
            let e = check_key(&bad).unwrap_err();
            assert!(matches!(e, ToolError::Invalid(_)), "{bad:?}");
            assert!(e.to_string().contains("idempotency_key must be 1 to 200 bytes"), "{e}");
        }
    }

    #[test]
    fn replays_compare_the_hash() {
        let h = args_hash(&json!({"a": 1}), KEY_FIELD);
        assert_eq!(Replay::<u8>::of(&h, None), Replay::Fresh);
        assert_eq!(Replay::of(&h, Some((h.as_str(), 7))), Replay::Same(7));
        assert_eq!(Replay::of(&h, Some(("other", 7))), Replay::Conflict(7));
        assert_eq!(Replay::<u8>::Fresh.into_result("k", |_| unreachable!()).unwrap(), None);
        assert_eq!(Replay::Same(7).into_result("k", |_| unreachable!()).unwrap(), Some(7));
        let e = Replay::Conflict(7).into_result("run-1", |r| format!("it recorded decision {r}")).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
        assert_eq!(
            e.to_string(),
            "conflict: idempotency_key \"run-1\" was already used for different arguments (it recorded decision 7). \
             Repeat the first call's arguments exactly to get its result again, or use a new key for a new call"
        );
    }
}
