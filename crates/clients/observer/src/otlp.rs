//! OTLP/HTTP trace requests (protobuf and JSON) into rows of the `spans` table.
//!
//! Both encodings decode into the same generated `ExportTraceServiceRequest`
//! (the JSON form through opentelemetry-proto's serde support: hex ids,
//! 64-bit integers as strings or numbers, enums as integers). Every span is
//! then flattened into a [`SpanRow`]: hex ids, the resource's `service.name`,
//! text kind and status, attributes and events as JSON, and the attributes the
//! dashboards group by pulled out into columns.
//!
//! Everything a sender controls is bounded here: attribute count and value
//! length, events per span, name length. A span with invalid ids is rejected
//! (counted, reported back as a partial success), never stored half-formed.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{Map, Value};

/// Most attributes kept per span or event; the rest are dropped and counted.
pub const MAX_ATTRIBUTES: usize = 128;
/// Longest attribute string kept, in bytes; longer ones are cut visibly.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Most events kept per span.
pub const MAX_EVENTS: usize = 64;
/// Longest span name or service name kept, in bytes.
pub const MAX_NAME_BYTES: usize = 512;

/// One span as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    /// Trace id, 32 lowercase hex digits.
    pub trace_id: String,
    /// Span id, 16 lowercase hex digits.
    pub span_id: String,
    /// Parent span id; `None` for a root.
    pub parent_span_id: Option<String>,
    /// `service.name` of the exporting resource.
    pub service: String,
    /// Span name (`tools/call read_file`).
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: &'static str,
    /// Start, Unix milliseconds.
    pub start_ms: i64,
    /// Start, Unix nanoseconds.
    pub start_unix_nano: i64,
    /// End, Unix nanoseconds.
    pub end_unix_nano: i64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: &'static str,
    /// The status message, if any.
    pub status_message: Option<String>,
    /// Attributes as a JSON object (text).
    pub attributes: String,
    /// Events as a JSON array (text).
    pub events: String,
    /// `gen_ai.tool.name`, when present and not empty.
    pub tool: Option<String>,
    /// `mcp.method.name`, when present.
    pub method: Option<String>,
    /// The project: `gen_ai.conversation.id`, else a `project` attribute.
    pub project: Option<String>,
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a valid protobuf `ExportTraceServiceRequest`.
    #[error("the body is not a protobuf ExportTraceServiceRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// Not valid OTLP JSON.
    #[error("the body is not OTLP JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Decode a protobuf body.
pub fn decode_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    use prost::Message;
    Ok(ExportTraceServiceRequest::decode(body)?)
}

/// Decode an OTLP JSON body.
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    Ok(serde_json::from_slice(body)?)
}

/// Spans in a request.
pub fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans.iter().flat_map(|rs| &rs.scope_spans).map(|ss| ss.spans.len()).sum()
}

/// The rows of a request, and how many spans were rejected (invalid ids).
pub fn rows(req: ExportTraceServiceRequest) -> (Vec<SpanRow>, usize) {
    let mut out = Vec::with_capacity(count_spans(&req));
    let mut rejected = 0;
    for rs in req.resource_spans {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
            .and_then(|a| a.value.as_ref())
            .map(|v| match to_json(v) {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .filter(|s| !s.is_empty());
        for ss in rs.scope_spans {
            for span in ss.spans {
                match row(span, service.as_deref()) {
                    Some(r) => out.push(r),
                    None => rejected += 1,
                }
            }
        }
    }
    (out, rejected)
}

fn row(span: Span, service: Option<&str>) -> Option<SpanRow> {
    let trace_id = id_hex(&span.trace_id, 16)?;
    let span_id = id_hex(&span.span_id, 8)?;
    // An empty parent is a root; a malformed one is treated as absent rather
    // than losing the span.
    let parent_span_id = id_hex(&span.parent_span_id, 8);
    let (attributes, dropped) = attributes_json(&span.attributes);
    let text = |k: &str| attributes.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let tool = text("gen_ai.tool.name");
    let method = text("mcp.method.name");
    let project = text("gen_ai.conversation.id").or_else(|| text("project"));
    let service = service.map(str::to_owned).or_else(|| text("service")).unwrap_or_else(|| "unknown".to_owned());
    let mut attributes = attributes;
    if dropped + span.dropped_attributes_count as usize > 0 {
        attributes.insert(
            "otel.dropped_attributes_count".into(),
            Value::from(dropped + span.dropped_attributes_count as usize),
        );
    }
    let events: Vec<Value> = span
        .events
        .iter()
        .take(MAX_EVENTS)
        .map(|e| {
            let (attrs, _) = attributes_json(&e.attributes);
            serde_json::json!({
                "name": cut(&e.name, MAX_NAME_BYTES),
                "time_unix_nano": e.time_unix_nano.min(i64::MAX as u64) as i64,
                "time_ms": (e.time_unix_nano / 1_000_000).min(i64::MAX as u64) as i64,
                "attributes": attrs,
            })
        })
        .collect();
    let start = span.start_time_unix_nano.min(i64::MAX as u64) as i64;
    // A span that ends before it starts (clock trouble in the sender) is kept
    // with a zero duration rather than a negative one.
    let end = (span.end_time_unix_nano.min(i64::MAX as u64) as i64).max(start);
    let (status_code, status_message) = match &span.status {
        Some(s) => (
            match s.code {
                1 => "OK",
                2 => "ERROR",
                _ => "UNSET",
            },
            Some(cut(&s.message, MAX_VALUE_BYTES)).filter(|m| !m.is_empty()),
        ),
        None => ("UNSET", None),
    };
    Some(SpanRow {
        trace_id,
        span_id,
        parent_span_id,
        service: cut(&service, MAX_NAME_BYTES),
        name: cut(&span.name, MAX_NAME_BYTES),
        kind: match span.kind {
            1 => "internal",
            2 => "server",
            3 => "client",
            4 => "producer",
            5 => "consumer",
            _ => "unspecified",
        },
        start_ms: start / 1_000_000,
        start_unix_nano: start,
        end_unix_nano: end,
        duration_ms: (end - start) as f64 / 1e6,
        status_code,
        status_message,
        attributes: Value::Object(attributes).to_string(),
        events: Value::Array(events).to_string(),
        tool,
        method,
        project,
    })
}

/// Lowercase hex of an id of `len` bytes, or `None` when the length is wrong
/// or the id is all zeroes (both invalid per the OTLP spec).
fn id_hex(bytes: &[u8], len: usize) -> Option<String> {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    Some(hex(bytes))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn attributes_json(kvs: &[KeyValue]) -> (Map<String, Value>, usize) {
    let mut m = Map::new();
    for kv in kvs.iter().take(MAX_ATTRIBUTES) {
        m.insert(cut(&kv.key, MAX_NAME_BYTES), kv.value.as_ref().map_or(Value::Null, to_json));
    }
    (m, kvs.len().saturating_sub(MAX_ATTRIBUTES))
}

/// An attribute value as JSON: scalars as themselves, bytes as base64,
/// arrays and key-value lists as arrays and objects.
pub fn to_json(v: &AnyValue) -> Value {
    match &v.value {
        None => Value::Null,
        Some(Any::StringValue(s)) => Value::String(cut(s, MAX_VALUE_BYTES)),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::from(*i),
        Some(Any::DoubleValue(d)) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
        Some(Any::BytesValue(b)) => {
            use base64::Engine as _;
            Value::String(cut(&base64::engine::general_purpose::STANDARD.encode(b), MAX_VALUE_BYTES))
        }
        Some(Any::ArrayValue(a)) => Value::Array(a.values.iter().take(MAX_ATTRIBUTES).map(to_json).collect()),
        Some(Any::KvlistValue(l)) => Value::Object(attributes_json(&l.values).0),
        // An index into a profiles dictionary that trace exports do not carry.
        Some(Any::StringValueStrindex(_)) => Value::Null,
    }
}

/// `s` cut to at most `max` bytes at a character boundary, with a marker
/// saying how much was dropped.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    format!("{}…[{} more bytes]", &s[..i], s.len() - i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

    fn kv(k: &str, v: Any) -> KeyValue {
        KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
    }

    fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", Any::StringValue("svc".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn flattens_a_span() {
        let span = Span {
            trace_id: vec![0xab; 16],
            span_id: vec![1; 8],
            parent_span_id: vec![],
            name: "tools/call read_file".into(),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_123_456_789,
            end_time_unix_nano: 1_700_000_000_125_456_789,
            attributes: vec![
                kv("gen_ai.tool.name", Any::StringValue("read_file".into())),
                kv("mcp.method.name", Any::StringValue("tools/call".into())),
                kv("gen_ai.conversation.id", Any::StringValue("req-7".into())),
                kv("n", Any::IntValue(3)),
                kv("big", Any::StringValue("x".repeat(MAX_VALUE_BYTES + 10))),
            ],
            status: Some(Status { code: 2, message: "boom".into() }),
            ..Default::default()
        };
        let (rows, rejected) = rows(request(vec![span]));
        assert_eq!(rejected, 0);
        let r = &rows[0];
        assert_eq!(r.trace_id, "ab".repeat(16));
        assert_eq!(r.span_id, "0101010101010101");
        assert_eq!(r.parent_span_id, None);
        assert_eq!(r.service, "svc");
        assert_eq!(r.kind, "server");
        assert_eq!(r.start_ms, 1_700_000_000_123);
        assert!((r.duration_ms - 2.0).abs() < 1e-9);
        assert_eq!(r.status_code, "ERROR");
        assert_eq!(r.status_message.as_deref(), Some("boom"));
        assert_eq!(r.tool.as_deref(), Some("read_file"));
        assert_eq!(r.method.as_deref(), Some("tools/call"));
        assert_eq!(r.project.as_deref(), Some("req-7"));
        let attrs: Value = serde_json::from_str(&r.attributes).unwrap();
        assert_eq!(attrs["n"], 3);
        assert!(attrs["big"].as_str().unwrap().ends_with("[10 more bytes]"));
    }

    #[test]
    fn invalid_ids_are_rejected_not_stored() {
        let good = Span { trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() };
        let zero = Span { trace_id: vec![0; 16], span_id: vec![2; 8], ..Default::default() };
        let short = Span { trace_id: vec![1; 15], span_id: vec![2; 8], ..Default::default() };
        let (rows, rejected) = rows(request(vec![good, zero, short]));
        assert_eq!((rows.len(), rejected), (1, 2));
        assert_eq!(rows[0].kind, "unspecified");
        assert_eq!(rows[0].status_code, "UNSET");
    }

    #[test]
    fn json_with_hex_ids_and_string_integers() {
        let body =
            br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"j"}}]},
          "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "parentSpanId":"eee19b7ec3c1b173","name":"x","kind":3,"startTimeUnixNano":"1544712660000000000",
          "endTimeUnixNano":1544712661000000000,"attributes":[{"key":"i","value":{"intValue":"42"}}],
          "status":{"code":1}}]}]}]}"#;
        let (rows, rejected) = rows(decode_json(body).unwrap());
        assert_eq!(rejected, 0);
        let r = &rows[0];
        assert_eq!(r.trace_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(r.parent_span_id.as_deref(), Some("eee19b7ec3c1b173"));
        assert_eq!((r.kind, r.status_code, r.service.as_str()), ("client", "OK", "j"));
        assert_eq!(r.duration_ms, 1000.0);
        assert_eq!(serde_json::from_str::<Value>(&r.attributes).unwrap()["i"], 42);
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("héllo", 2), "h…[5 more bytes]");
        assert_eq!(cut("abc", 3), "abc");
    }
}
