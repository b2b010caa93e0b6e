//! A minimal OTLP/HTTP trace receiver (protobuf and JSON) that keeps spans in
//! memory, so tests can assert on what a server really exported.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;

/// One received span, flattened.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// `service.name` of the exporting resource.
    pub service: String,
    /// Trace id, hex.
    pub trace_id: String,
    /// Span id, hex.
    pub span_id: String,
    /// Parent span id, hex (empty for a root).
    pub parent_span_id: String,
    /// Span name.
    pub name: String,
    /// Span kind (OTLP enum value).
    pub kind: i32,
    /// String forms of the attributes.
    pub attributes: Vec<(String, String)>,
}

impl SpanRecord {
    /// An attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A running collector.
#[derive(Clone)]
pub struct Collector {
    /// Where it listens.
    pub addr: SocketAddr,
    spans: Arc<Mutex<Vec<SpanRecord>>>,
}

impl Collector {
    /// Start on its own thread and runtime, so it outlives any test's runtime.
    pub fn start() -> Self {
        let spans: Arc<Mutex<Vec<SpanRecord>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let s = spans.clone();
        std::thread::Builder::new()
            .name("otlp-collector".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind collector");
                    let _ = tx.send(listener.local_addr().expect("addr"));
                    let app = Router::new().route("/v1/traces", post(ingest)).with_state(s);
                    let _ = axum::serve(listener, app).await;
                });
            })
            .expect("collector thread");
        let addr = rx.recv().expect("collector address");
        Self { addr, spans }
    }

    /// The endpoint to give `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Spans of one trace.
    pub fn trace(&self, trace_id: &str) -> Vec<SpanRecord> {
        self.spans().into_iter().filter(|s| s.trace_id == trace_id).collect()
    }
}

async fn ingest(State(spans): State<Arc<Mutex<Vec<SpanRecord>>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let json =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let req = if json {
        match serde_json::from_slice::<ExportTraceServiceRequest>(&body) {
            Ok(r) => r,
            Err(_) => return StatusCode::BAD_REQUEST,
        }
    } else {
        match ExportTraceServiceRequest::decode(body) {
            Ok(r) => r,
            Err(_) => return StatusCode::BAD_REQUEST,
        }
    };
    let mut out = Vec::new();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
            .map(|a| any_to_string(a.value.as_ref().and_then(|v| v.value.as_ref())))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push(SpanRecord {
                    service: service.clone(),
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    name: s.name,
                    kind: s.kind,
                    attributes: s
                        .attributes
                        .iter()
                        .map(|a| (a.key.clone(), any_to_string(a.value.as_ref().and_then(|v| v.value.as_ref()))))
                        .collect(),
                });
            }
        }
    }
    if let Ok(mut s) = spans.lock() {
        s.extend(out);
    }
    StatusCode::OK
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn any_to_string(v: Option<&AnyValue>) -> String {
    match v {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
