//! Building OTLP export requests for the tests: spans with chosen ids,
//! services, names, timings and status, in protobuf or JSON.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

/// A fresh random trace id (32 hex digits).
pub fn trace_id() -> String {
    mcp_core::trace::trace_id_of(&mcp_core::trace::new_traceparent()).unwrap().to_owned()
}

/// A fresh random span id (16 hex digits).
pub fn span_id() -> String {
    mcp_core::trace::new_traceparent().split('-').nth(2).unwrap().to_owned()
}

/// Now in Unix nanoseconds.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(Any::StringValue(v.into())) }), ..Default::default() }
}

/// One span to send.
#[derive(Debug, Clone)]
pub struct S {
    pub trace_id: String,
    pub span_id: String,
    pub parent: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: i32,
    pub start_ns: u64,
    pub duration_ms: f64,
    pub error: bool,
    pub attrs: Vec<(String, String)>,
}

impl S {
    /// A server span `name` of `service` in `trace`, started `offset_ms` after `t0`.
    pub fn new(trace: &str, service: &str, name: &str, t0: u64, offset_ms: f64, duration_ms: f64) -> Self {
        Self {
            trace_id: trace.into(),
            span_id: span_id(),
            parent: None,
            service: service.into(),
            name: name.into(),
            kind: 2,
            start_ns: t0 + (offset_ms * 1e6) as u64,
            duration_ms,
            error: false,
            attrs: Vec::new(),
        }
    }

    pub fn child_of(mut self, parent: &S) -> Self {
        self.parent = Some(parent.span_id.clone());
        self
    }

    pub fn failed(mut self) -> Self {
        self.error = true;
        self
    }

    /// An MCP tool-call span: `tools/call {tool}` with the conventional attributes.
    pub fn tool(mut self, tool: &str) -> Self {
        self.name = format!("tools/call {tool}");
        self.attrs.push(("mcp.method.name".into(), "tools/call".into()));
        self.attrs.push(("gen_ai.tool.name".into(), tool.into()));
        self
    }

    pub fn attr(mut self, k: &str, v: &str) -> Self {
        self.attrs.push((k.into(), v.into()));
        self
    }

    fn proto(&self) -> Span {
        Span {
            trace_id: unhex(&self.trace_id),
            span_id: unhex(&self.span_id),
            parent_span_id: self.parent.as_deref().map(unhex).unwrap_or_default(),
            name: self.name.clone(),
            kind: self.kind,
            start_time_unix_nano: self.start_ns,
            end_time_unix_nano: self.start_ns + (self.duration_ms * 1e6) as u64,
            attributes: self.attrs.iter().map(|(k, v)| kv(k, v)).collect(),
            status: self.error.then(|| Status { code: 2, message: "it failed".into() }),
            ..Default::default()
        }
    }
}

/// The request carrying `spans`, one resource per service.
pub fn request(spans: &[S]) -> ExportTraceServiceRequest {
    let mut services: Vec<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    ExportTraceServiceRequest {
        resource_spans: services
            .into_iter()
            .map(|svc| ResourceSpans {
                resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
                scope_spans: vec![ScopeSpans {
                    spans: spans.iter().filter(|s| s.service == svc).map(S::proto).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

pub fn protobuf(spans: &[S]) -> Vec<u8> {
    request(spans).encode_to_vec()
}

pub fn json(spans: &[S]) -> Vec<u8> {
    serde_json::to_vec(&request(spans)).unwrap()
}

pub const PROTOBUF: &str = "application/x-protobuf";
pub const JSON: &str = "application/json";
