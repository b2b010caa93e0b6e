//! The audit: one row per call through the gateway, written off the call's
//! path.
//!
//! A call hands its row to [`AuditLog::record`], which never waits: the row
//! goes into a bounded channel, and a writer task ([`AuditLog::run_writer`])
//! writes batches (every 200 ms or every 100 rows, whichever comes first) in
//! one transaction each. When the channel is full — the database is slower
//! than the calls — the row is dropped, counted in
//! `gateway_audit_dropped_total` and logged: an audit that blocked calls
//! would turn a slow disk into a fleet outage, and the counter makes the loss
//! visible instead of silent.
//!
//! A row never holds argument values. It holds their *shape* ([`shape`]:
//! every value replaced by its JSON type, bounded in depth and size) and the
//! SHA-256 of their canonical JSON ([`args_sha256`]), which proves what was
//! sent to whoever has the arguments without revealing them to whoever reads
//! the audit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_core::tracing;
use prometheus::IntCounter;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::store::{AuditRow, Store};

/// Rows waiting for the writer, at most.
pub const CAPACITY: usize = 8192;
/// Rows per transaction, at most.
pub const BATCH: usize = 100;
/// How long a row waits for its batch to fill, at most.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Object keys kept per level of a shape (the rest are summarised).
const SHAPE_MAX_KEYS: usize = 32;
/// Nesting levels kept in a shape.
const SHAPE_MAX_DEPTH: usize = 4;
/// Longest key name kept in a shape (a key is data too, and may be long).
const SHAPE_MAX_KEY_LEN: usize = 64;

/// The audit's channel and its drop counter.
pub struct AuditLog {
    tx: mpsc::Sender<AuditRow>,
    rx: Mutex<Option<mpsc::Receiver<AuditRow>>>,
    dropped: IntCounter,
    dropped_seen: AtomicU64,
}

impl AuditLog {
    /// A log whose drops are counted in `dropped`.
    pub fn new(dropped: IntCounter) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        Self { tx, rx: Mutex::new(Some(rx)), dropped, dropped_seen: AtomicU64::new(0) }
    }

    /// Queue a row; never blocks. A full channel drops the row (counted,
    /// logged on the first drop and then every thousandth).
    pub fn record(&self, row: AuditRow) {
        if self.tx.try_send(row).is_err() {
            self.dropped.inc();
            let n = self.dropped_seen.fetch_add(1, Ordering::Relaxed);
            if n.is_multiple_of(1000) {
                tracing::warn!(
                    dropped_total = n + 1,
                    "audit channel full: audit rows dropped (the database is too slow)"
                );
            }
        }
    }

    /// The writer: batches rows into `store` until every sender is gone.
    /// Runs once (a second call returns at once: there is one receiver).
    pub async fn run_writer(&self, store: &Store) {
        let Some(mut rx) = self.rx.lock().ok().and_then(|mut r| r.take()) else { return };
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            // Wait for the first row of a batch, then give the batch up to
            // FLUSH_EVERY (or BATCH rows) to fill.
            let Some(first) = rx.recv().await else { break };
            batch.push(first);
            let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
            while batch.len() < BATCH {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(row)) => batch.push(row),
                    Ok(None) | Err(_) => break,
                }
            }
            if let Err(e) = store.insert_audit(&batch).await {
                self.dropped.inc_by(batch.len() as u64);
                tracing::error!(error = %e, rows = batch.len(), "audit rows could not be written; dropped");
            }
            batch.clear();
        }
    }
}

/// The JSON type of every value in `args`, never a value: objects keep their
/// keys (bounded), arrays become `[shape of the first element]`, scalars
/// become `"string"`, `"number"`, `"boolean"`, `"null"`.
pub fn shape(args: &Value) -> Value {
    shape_at(args, 0)
}

fn shape_at(v: &Value, depth: usize) -> Value {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(a) if depth >= SHAPE_MAX_DEPTH => format!("array({})", a.len()).into(),
        Value::Object(o) if depth >= SHAPE_MAX_DEPTH => format!("object({})", o.len()).into(),
        Value::Array(a) => match a.first() {
            Some(first) => Value::Array(vec![shape_at(first, depth + 1)]),
            None => Value::Array(Vec::new()),
        },
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o.iter().take(SHAPE_MAX_KEYS) {
                let key = if k.len() > SHAPE_MAX_KEY_LEN {
                    let mut cut = SHAPE_MAX_KEY_LEN;
                    while !k.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    format!("{}…", &k[..cut])
                } else {
                    k.clone()
                };
                out.insert(key, shape_at(v, depth + 1));
            }
            if o.len() > SHAPE_MAX_KEYS {
                out.insert("…".into(), format!("{} more keys", o.len() - SHAPE_MAX_KEYS).into());
            }
            Value::Object(out)
        }
    }
}

/// SHA-256 of the arguments' canonical JSON: `mcp_core::idempotency`'s text
/// (keys sorted at every level, no spaces, top-level nulls dropped), so an
/// absent optional argument and an explicit `null` hash alike, as they mean
/// the same call.
pub fn args_sha256(args: &Value) -> String {
    // No key field is excluded: "" cannot be an argument name a tool's schema has.
    mcp_core::idempotency::args_hash(args, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(args: Value, want: Value) {
        assert_eq!(shape(&args), want, "{args}");
    }

    #[test]
    fn a_shape_keeps_types_and_never_values() {
        check(
            json!({"path": "/etc/passwd", "limit": 5, "opts": {"x": true, "y": null}, "tags": ["a", "b"], "e": []}),
            json!({"path": "string", "limit": "number", "opts": {"x": "boolean", "y": "null"}, "tags": ["string"], "e": []}),
        );
        check(json!({"a": {"b": {"c": {"d": {"e": 1}}}}}), json!({"a": {"b": {"c": {"d": "object(1)"}}}}));
        let many: Map<String, Value> = (0..40).map(|i| (format!("k{i:02}"), json!(i))).collect();
        let s = shape(&Value::Object(many));
        assert_eq!(s.as_object().map(|o| o.len()), Some(SHAPE_MAX_KEYS + 1));
        assert_eq!(s["…"], "8 more keys");
        let secret = "sk-live-SECRET-VALUE-0123456789";
        let text = shape(&json!({"token": secret, "nested": [{"k": secret}]})).to_string();
        assert!(!text.contains(secret), "{text}");
    }

    #[test]
    fn the_hash_is_canonical() {
        assert_eq!(args_sha256(&json!({"a": 1, "b": [1, 2]})), args_sha256(&json!({"b": [1, 2], "a": 1})));
        assert_eq!(args_sha256(&json!({"a": 1, "b": null})), args_sha256(&json!({"a": 1})));
        assert_ne!(args_sha256(&json!({"a": 1})), args_sha256(&json!({"a": 2})));
        assert_eq!(args_sha256(&json!({})).len(), 64);
    }
}
