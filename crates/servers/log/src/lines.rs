//! Log lines: what the fleet sends, how it is checked, stored and read back.
//!
//! The wire form is the fleet's own JSON log line (`mcp_core::trace`):
//! `{"timestamp", "level", "service", "trace_id", "span_id", "target",
//! "message", "fields"}`, one per line (NDJSON) or as a JSON array. Each line
//! is checked on its own: a bad line is refused with its reason and the good
//! ones around it are still stored, so one broken producer cannot make a
//! batch, or its neighbours' lines, disappear.

use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Backend, Db};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::level_num;

/// Longest message stored, bytes.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// Largest `fields` object stored, bytes of JSON.
pub const MAX_FIELDS: usize = 32 * 1024;
/// Longest service or target name.
pub const MAX_NAME: usize = 256;

/// A line as sent. Unknown keys are ignored: producers may add their own.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LineIn {
    /// When, RFC 3339 (`ts` is accepted too). Absent: the time it arrives.
    #[serde(default, alias = "ts")]
    pub timestamp: Option<String>,
    /// TRACE, DEBUG, INFO, WARN or ERROR (any case).
    pub level: String,
    /// The program that wrote it.
    pub service: String,
    /// W3C trace id: 32 hex digits.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// W3C span id: 16 hex digits.
    #[serde(default)]
    pub span_id: Option<String>,
    /// Module path or logger name.
    #[serde(default)]
    pub target: Option<String>,
    /// The message.
    pub message: String,
    /// Structured fields (an object).
    #[serde(default)]
    pub fields: Option<Value>,
}

/// A checked line, ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    ts: String,
    ts_ms: i64,
    level: &'static str,
    level_num: i64,
    service: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    target: Option<String>,
    message: String,
    fields: Option<String>,
}

/// A stored line, as the tools and `/api/logs` return it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Line {
    /// Storage id: increasing, a cursor for `logs_tail`.
    pub id: i64,
    /// When, RFC 3339.
    pub ts: String,
    /// Level.
    pub level: String,
    /// Service.
    pub service: String,
    /// Trace id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Message.
    pub message: String,
    /// Fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

/// The columns [`from_row`] reads, in its order.
pub const COLUMNS: &str = "id, ts, level, service, trace_id, span_id, target, message, fields";

/// A row selected with [`COLUMNS`].
pub fn from_row(r: &AnyRow) -> Line {
    let fields: Option<String> = r.get(8);
    Line {
        id: r.get(0),
        ts: r.get(1),
        level: r.get(2),
        service: r.get(3),
        trace_id: r.get(4),
        span_id: r.get(5),
        target: r.get(6),
        message: r.get(7),
        fields: fields.and_then(|f| serde_json::from_str(&f).ok()),
    }
}

/// One line in the short text form the tools return alongside JSON.
pub fn render(l: &Line) -> String {
    let trace = l.trace_id.as_deref().map(|t| format!(" [{}]", &t[..t.len().min(8)])).unwrap_or_default();
    format!("{} {:5} {}{}: {}", l.ts, l.level, l.service, trace, l.message)
}

/// A trace id as stored: lowercase, exactly 32 hex digits, not all zero.
pub fn normalize_trace_id(s: &str) -> Result<String, String> {
    hex_id(s, 32, "trace_id")
}

fn hex_id(s: &str, len: usize, what: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_lowercase();
    if t.len() != len || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{what} must be {len} hex digits"));
    }
    if t.bytes().all(|b| b == b'0') {
        return Err(format!("{what} is all zeros (invalid in W3C trace context)"));
    }
    Ok(t)
}

fn name(s: &str, what: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if t.len() > MAX_NAME || t.chars().any(char::is_control) {
        return Err(format!("{what} must be at most {MAX_NAME} bytes without control characters"));
    }
    Ok(t.to_owned())
}

/// Check a line. `now_ms` stands in for a missing timestamp.
pub fn check(l: LineIn, now_ms: i64) -> Result<Checked, String> {
    let (level, level_num) = match level_num(&l.level) {
        Some(n) => (["TRACE", "DEBUG", "INFO", "WARN", "ERROR"][n as usize], n),
        None => return Err(format!("unknown level {:?}", truncate(&l.level, 32))),
    };
    let (ts, ts_ms) = match l.timestamp.as_deref() {
        None => (mcp_core::clock::now_rfc3339(), now_ms),
        Some(t) => match mcp_core::clock::parse_rfc3339_ms(t) {
            Some(ms) => (t.trim().to_owned(), ms),
            None => return Err(format!("timestamp {:?} is not RFC 3339", truncate(t, 64))),
        },
    };
    if l.message.len() > MAX_MESSAGE {
        return Err(format!("message is {} bytes, over {MAX_MESSAGE}", l.message.len()));
    }
    if l.message.contains('\0') {
        return Err("message contains a NUL byte".into());
    }
    let fields = match l.fields {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => {
            let s = v.to_string();
            if s.len() > MAX_FIELDS {
                return Err(format!("fields are {} bytes of JSON, over {MAX_FIELDS}", s.len()));
            }
            // PostgreSQL text cannot hold NUL; JSON escapes it as \u0000,
            // which is fine in text, so only the raw byte would be refused.
            Some(s)
        }
        Some(_) => return Err("fields must be an object".into()),
    };
    Ok(Checked {
        ts,
        ts_ms,
        level,
        level_num,
        service: name(&l.service, "service")?,
        trace_id: l.trace_id.as_deref().filter(|t| !t.is_empty()).map(normalize_trace_id).transpose()?,
        span_id: l.span_id.as_deref().filter(|t| !t.is_empty()).map(|s| hex_id(s, 16, "span_id")).transpose()?,
        target: l.target.as_deref().filter(|t| !t.is_empty()).map(|t| name(t, "target")).transpose()?,
        message: l.message,
        fields,
    })
}

fn truncate(s: &str, n: usize) -> &str {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A line refused, by its position in the batch (from 0).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Refused {
    /// Position in the batch.
    pub index: usize,
    /// Why.
    pub reason: String,
}

/// Parse a request body: NDJSON, a JSON array, or one JSON object. Lines
/// that do not parse or check are returned as [`Refused`]; the rest as
/// [`Checked`]. Blank NDJSON lines are skipped.
pub fn parse_body(body: &[u8], max_lines: usize, now_ms: i64) -> Result<(Vec<Checked>, Vec<Refused>), String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let trimmed = text.trim_start();
    let raw: Vec<Result<Value, String>> = if trimmed.starts_with('[') {
        let values: Vec<Value> =
            serde_json::from_str(trimmed).map_err(|e| format!("the body is not a JSON array: {e}"))?;
        values.into_iter().map(Ok).collect()
    } else {
        trimmed
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<Value>(l).map_err(|e| format!("not JSON: {e}")))
            .collect()
    };
    if raw.len() > max_lines {
        return Err(format!("{} lines in one batch, over the limit of {max_lines}", raw.len()));
    }
    let mut ok = Vec::with_capacity(raw.len());
    let mut refused = Vec::new();
    for (index, v) in raw.into_iter().enumerate() {
        let r = v.and_then(|v| serde_json::from_value::<LineIn>(v).map_err(|e| format!("not a log line: {e}")));
        match r.and_then(|l| check(l, now_ms)) {
            Ok(c) => ok.push(c),
            Err(reason) => refused.push(Refused { index, reason }),
        }
    }
    Ok((ok, refused))
}

/// Rows per INSERT: SQLite allows 32 766 parameters, ten columns each.
const CHUNK: usize = 1000;

/// Store checked lines in one transaction (all or nothing: a database
/// failure stores none, and the caller can send the batch again).
pub async fn insert(db: &Db, lines: &[Checked]) -> Result<u64, sqlx::Error> {
    if lines.is_empty() {
        return Ok(0);
    }
    let mut tx = db.writer().begin().await?;
    for chunk in lines.chunks(CHUNK) {
        let sql = insert_sql(db.backend(), chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for l in chunk {
            q = q
                .bind(l.ts.clone())
                .bind(l.ts_ms)
                .bind(l.level)
                .bind(l.level_num)
                .bind(l.service.clone())
                .bind(l.trace_id.clone())
                .bind(l.span_id.clone())
                .bind(l.target.clone())
                .bind(l.message.clone())
                .bind(l.fields.clone());
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(lines.len() as u64)
}

/// `INSERT ... VALUES (...), (...)` for `n` rows, in the backend's
/// placeholder style. Only numbers vary, so the text is safe to build.
fn insert_sql(backend: Backend, n: usize) -> String {
    let mut s = String::with_capacity(120 + n * 48);
    s.push_str(
        "INSERT INTO log_lines (ts, ts_ms, level, level_num, service, trace_id, span_id, target, message, fields) VALUES ",
    );
    let mut p = 0;
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..10 {
            if c > 0 {
                s.push(',');
            }
            p += 1;
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    s.push('$');
                    s.push_str(&p.to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &str) -> Result<Checked, String> {
        check(serde_json::from_str(v).map_err(|e| e.to_string())?, 0)
    }

    #[test]
    fn checks() {
        assert!(one(r#"{"level":"info","service":"a","message":"m"}"#).is_ok());
        let c = one(r#"{"level":"warning","service":"a","message":"m","trace_id":"0AF7651916CD43DD8448EB211C80319C"}"#)
            .unwrap();
        assert_eq!(c.level, "WARN");
        assert_eq!(c.trace_id.as_deref(), Some("0af7651916cd43dd8448eb211c80319c"));
        assert!(one(r#"{"level":"loud","service":"a","message":"m"}"#).unwrap_err().contains("level"));
        assert!(one(r#"{"level":"info","service":" ","message":"m"}"#).is_err());
        assert!(one(r#"{"level":"info","service":"a","message":"m","trace_id":"xyz"}"#).is_err());
        assert!(
            one(r#"{"level":"info","service":"a","message":"m","trace_id":"00000000000000000000000000000000"}"#)
                .is_err()
        );
        assert!(one(r#"{"level":"info","service":"a","message":"m","timestamp":"yesterday"}"#).is_err());
        assert!(one(r#"{"level":"info","service":"a","message":"m","fields":[1]}"#).is_err());
        assert!(one(r#"{"level":"info","service":"a\nb","message":"m"}"#).is_err());
    }

    #[test]
    fn bodies() {
        let body = b"{\"level\":\"info\",\"service\":\"a\",\"message\":\"1\"}\n\nnot json\n{\"level\":\"info\",\"service\":\"a\",\"message\":\"3\"}\n";
        let (ok, bad) = parse_body(body, 10, 0).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].index, 1);
        let (ok, bad) = parse_body(br#"[{"level":"info","service":"a","message":"1"},{"level":"x"}]"#, 10, 0).unwrap();
        assert_eq!((ok.len(), bad.len()), (1, 1));
        assert!(parse_body(b"[1,2,3]", 2, 0).unwrap_err().contains("over the limit"));
        assert!(parse_body(&[0xff, 0xfe], 2, 0).is_err());
    }

    #[test]
    fn insert_text() {
        assert!(insert_sql(Backend::Postgres, 2).ends_with("($11,$12,$13,$14,$15,$16,$17,$18,$19,$20)"));
        assert_eq!(insert_sql(Backend::Sqlite, 3).matches('?').count(), 30);
    }
}
