//! W3C trace context, logs and span export.
//!
//! One trace_id follows a project across the fleet. A server takes the parent
//! from `params._meta.traceparent` first and the HTTP `traceparent` header
//! second, and starts a new trace otherwise ([`parent_context`]). Every log line
//! is written by [`JsonLayer`] with the trace_id and span_id of the span it
//! happened in, read from the OpenTelemetry layer so logs and exported spans
//! always agree. Spans go to `OTEL_EXPORTER_OTLP_ENDPOINT` over OTLP/HTTP when
//! it is set; ids are generated either way, so logs carry them even with no
//! collector configured.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

pub use opentelemetry::Context as TraceContext;
pub use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `traceparent` key, in `_meta` and as an HTTP header.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` key.
pub const TRACESTATE: &str = "tracestate";

/// Telemetry errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (bad endpoint).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// The log filter did not parse.
    #[error("invalid RUST_LOG filter: {0}")]
    Filter(String),
}

/// Options for [`init`].
pub struct TelemetryOptions {
    /// `service` in logs and `service.name` on spans.
    pub service_name: String,
    /// JSON or pretty.
    pub format: LogFormat,
    /// `RUST_LOG`-style filter.
    pub filter: String,
    /// OTLP/HTTP base endpoint; `/v1/traces` is appended.
    pub otlp_endpoint: Option<String>,
    /// Bearer token for the endpoint (the fleet's peer token), sent unless
    /// `OTEL_EXPORTER_OTLP_HEADERS` sets headers of its own, which win.
    pub otlp_token: Option<String>,
    /// Where log lines go; stdout when `None`. Tests capture lines here.
    pub writer: Option<LogWriter>,
    /// Also ship JSON lines to the log server (see [`crate::ship`]).
    pub ship: Option<crate::ship::ShipOptions>,
}

/// A clonable, thread-safe line sink for logs.
pub type LogWriter = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Keeps the tracer provider alive; flushes spans on [`Telemetry::shutdown`].
#[derive(Clone)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Export every finished span now (tests call this before asserting).
    pub fn flush(&self) {
        let _ = self.provider.force_flush();
    }

    /// Flush spans and logs and stop exporting.
    pub fn shutdown(&self) {
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
        flush_logs();
        crate::ship::flush(std::time::Duration::from_secs(3));
    }
}

static INSTALLED: OnceLock<Telemetry> = OnceLock::new();

/// Export every finished span now, off the async threads, waiting at most
/// `limit`. A program that can be killed calls it at its checkpoints (the
/// planner after each step), so a SIGKILL loses only the spans still open,
/// not a batch of finished ones waiting for the exporter's timer.
pub async fn flush_spans(limit: std::time::Duration) {
    if let Some(t) = INSTALLED.get() {
        let t = t.clone();
        let _ = tokio::time::timeout(limit, tokio::task::spawn_blocking(move || t.flush())).await;
    }
}

/// Install the global subscriber once per process. Later calls return the
/// first installation, so in-process tests can start many servers.
pub fn init(opts: TelemetryOptions) -> Result<Telemetry, TelemetryError> {
    if let Some(t) = INSTALLED.get() {
        return Ok(t.clone());
    }
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(opts.service_name.clone()).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &opts.otlp_endpoint {
        use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
        let url = traces_url(endpoint);
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .with_timeout(std::time::Duration::from_secs(5))
            .with_headers(
                opts.otlp_token
                    .iter()
                    .map(|t| ("Authorization".to_owned(), format!("Bearer {t}")))
                    .collect::<HashMap<_, _>>(),
            )
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(opts.service_name.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_new(&opts.filter).map_err(|e| TelemetryError::Filter(e.to_string()))?;
    // The span layer gets the same filter as the logs. Unfiltered, it would
    // record every TRACE event of every dependency as a span event (rmcp
    // Debug-formats each whole message at TRACE): a third of a request's CPU.
    let otel_filter = EnvFilter::try_new(&opts.filter).map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let otel = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(otel_filter);
    let sink: LogWriter = opts.writer.unwrap_or_else(buffered_stdout);
    let ship = opts.ship.and_then(crate::ship::start);
    let registry = tracing_subscriber::registry().with(otel);
    let result = match opts.format {
        LogFormat::Json => {
            // One JSON line, written to stdout and copied to the shipper.
            let sink = match ship {
                Some(ship) => Arc::new(move |line: &[u8]| {
                    sink(line);
                    ship(line);
                }) as LogWriter,
                None => sink,
            };
            registry.with(JsonLayer { service: opts.service_name.clone(), sink }.with_filter(filter)).try_init()
        }
        LogFormat::Pretty => {
            // Pretty text for people on stdout; the log server still gets JSON.
            let shipped = match ship {
                Some(ship) => {
                    let f = EnvFilter::try_new(&opts.filter).map_err(|e| TelemetryError::Filter(e.to_string()))?;
                    Some(JsonLayer { service: opts.service_name.clone(), sink: ship }.with_filter(f))
                }
                None => None,
            };
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(SinkWriter(sink))
                        .with_target(false)
                        .with_ansi(false)
                        .with_filter(filter),
                )
                .with(shipped)
                .try_init()
        }
    };
    // A subscriber installed by someone else (a test harness) is not an error:
    // our layers simply are not the ones receiving events.
    let _ = result;
    Ok(INSTALLED.get_or_init(|| Telemetry { provider }).clone())
}

/// The installed telemetry, if [`init`] ran.
pub fn installed() -> Option<Telemetry> {
    INSTALLED.get().cloned()
}

/// Log lines go to stdout through a buffer that a background thread flushes
/// every 50 ms (and that fills past 64 KiB flush at once): one write system
/// call per request on the hot path cost ~5% of throughput. At most 50 ms of
/// lines can be lost if the process is killed with SIGKILL; a clean shutdown
/// flushes everything (see [`Telemetry::shutdown`]).
fn buffered_stdout() -> LogWriter {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    let buf = BUF
        .get_or_init(|| {
            let buf: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::with_capacity(64 << 10)));
            let b = buf.clone();
            let _ = std::thread::Builder::new().name("log-flush".into()).spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    flush_buffer(&b);
                }
            });
            FLUSH.get_or_init(|| buf.clone());
            buf
        })
        .clone();
    Arc::new(move |line: &[u8]| {
        let full = match buf.lock() {
            Ok(mut b) => {
                b.extend_from_slice(line);
                b.len() >= 64 << 10
            }
            Err(_) => false,
        };
        if full {
            flush_buffer(&buf);
        }
    })
}

static FLUSH: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn flush_buffer(buf: &Mutex<Vec<u8>>) {
    let pending = match buf.lock() {
        Ok(mut b) if !b.is_empty() => std::mem::replace(&mut *b, Vec::with_capacity(64 << 10)),
        _ => return,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&pending);
    let _ = out.flush();
}

/// Write out buffered log lines now.
pub fn flush_logs() {
    if let Some(b) = FLUSH.get() {
        flush_buffer(b);
    }
}

fn traces_url(endpoint: &str) -> String {
    let e = endpoint.trim_end_matches('/');
    if e.ends_with("/v1/traces") { e.to_owned() } else { format!("{e}/v1/traces") }
}

/// Make `span` continue the trace of a stored `traceparent` (a resumed
/// run, a request picked up again after a restart). A missing or malformed
/// value leaves the span where it is (a new trace, or its current parent).
pub fn resume(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else { return };
    let cx = parent_context(Some(tp), None, None);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The parent context of an incoming request: `_meta` first, header second.
/// An invalid or absent `traceparent` yields an empty context (a new trace).
pub fn parent_context(
    meta_traceparent: Option<&str>,
    meta_tracestate: Option<&str>,
    headers: Option<&http::HeaderMap>,
) -> TraceContext {
    let propagator = TraceContextPropagator::new();
    if let Some(tp) = meta_traceparent {
        let mut carrier = HashMap::new();
        carrier.insert(TRACEPARENT.to_owned(), tp.to_owned());
        if let Some(ts) = meta_tracestate {
            carrier.insert(TRACESTATE.to_owned(), ts.to_owned());
        }
        let cx = propagator.extract(&carrier);
        if cx.span().span_context().is_valid() {
            return cx;
        }
    }
    if let Some(h) = headers
        && let Some(tp) = h.get(TRACEPARENT).and_then(|v| v.to_str().ok())
    {
        let mut carrier = HashMap::new();
        carrier.insert(TRACEPARENT.to_owned(), tp.to_owned());
        if let Some(ts) = h.get(TRACESTATE).and_then(|v| v.to_str().ok()) {
            carrier.insert(TRACESTATE.to_owned(), ts.to_owned());
        }
        let cx = propagator.extract(&carrier);
        if cx.span().span_context().is_valid() {
            return cx;
        }
    }
    TraceContext::new()
}

/// `traceparent` (and `tracestate` when present) for the current span, to put
/// on an outgoing call.
pub fn current_carrier() -> HashMap<String, String> {
    let cx = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier
}

/// `(trace_id, span_id)` of the current span as lowercase hex, if any.
pub fn current_ids() -> Option<(String, String)> {
    let cx = tracing::Span::current().context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// The trace id of a span (lowercase hex), if it has a valid context.
pub fn trace_id_of_span(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// A new random `traceparent` (sampled), for starting a trace by hand.
pub fn new_traceparent() -> String {
    let trace: u128 = rand::random::<u128>() | 1;
    let span: u64 = rand::random::<u64>() | 1;
    format!("00-{trace:032x}-{span:016x}-01")
}

/// The trace id inside a `traceparent`, if it is well formed.
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (v, t, s, f) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(v, 2) && hex(t, 32) && hex(s, 16) && hex(f, 2) && t != "0".repeat(32)).then_some(t)
}

/// Writes through a [`LogWriter`] for the pretty formatter.
#[derive(Clone)]
struct SinkWriter(LogWriter);

struct SinkLine(LogWriter, Vec<u8>);

impl std::io::Write for SinkLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SinkLine {
    fn drop(&mut self) {
        (self.0)(&self.1);
    }
}

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = SinkLine;
    fn make_writer(&'a self) -> Self::Writer {
        SinkLine(self.0.clone(), Vec::with_capacity(256))
    }
}

/// The fleet's JSON log format: `timestamp, level, service, trace_id, span_id,
/// target, message, fields`. Span fields (tool name, method) are merged into
/// `fields`, innermost span winning; `otel.*` bookkeeping fields are left out.
/// Lines are written straight into a buffer: this runs once per request on
/// the hot path, so no intermediate JSON map is built.
pub struct JsonLayer {
    service: String,
    sink: LogWriter,
}

type Fields = Vec<(&'static str, Value)>;

/// Span fields kept in the span's extensions.
#[derive(Default)]
struct SpanFields(Fields);

struct JsonVisitor<'a> {
    fields: &'a mut Fields,
    message: Option<&'a mut String>,
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.put(field, Value::String(s));
    }
}

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message"
            && let Some(m) = self.message.as_deref_mut()
        {
            match value {
                Value::String(s) => *m = s,
                other => *m = other.to_string(),
            }
            return;
        }
        if name.starts_with("otel.") || name.starts_with("log.") {
            return;
        }
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }
}

fn push_str(buf: &mut Vec<u8>, s: &str) {
    // Serialising a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonVisitor { fields: &mut fields.0, message: None });
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor { fields: &mut fields.0, message: None });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields: Fields = Vec::with_capacity(16);
        let mut message = String::new();
        event.record(&mut JsonVisitor { fields: &mut fields, message: Some(&mut message) });
        let mut ids = None;
        if let Some(scope) = ctx.event_scope(event) {
            let mut leaf = None;
            // Innermost first: a key already present wins over outer spans'.
            for span in scope {
                leaf.get_or_insert_with(|| span.id());
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    for (k, v) in &f.0 {
                        if !fields.iter().any(|(x, _)| x == k) {
                            fields.push((k, v.clone()));
                        }
                    }
                }
            }
            if let Some(leaf) = leaf {
                // Must run with no extension guard held: it locks them itself.
                tracing::dispatcher::get_default(|dispatch| {
                    if let Some(cx) = tracing_opentelemetry::get_otel_context(&leaf, dispatch) {
                        let sc = cx.span().span_context().clone();
                        if sc.is_valid() {
                            ids = Some((sc.trace_id(), sc.span_id()));
                        }
                    }
                });
            }
        }
        let meta = event.metadata();
        let service = match fields.iter().position(|(k, _)| *k == "service") {
            Some(i) => match fields.swap_remove(i).1 {
                Value::String(s) => s,
                other => other.to_string(),
            },
            None => self.service.clone(),
        };
        let mut buf: Vec<u8> = Vec::with_capacity(384 + message.len());
        buf.extend_from_slice(b"{\"timestamp\":");
        push_str(&mut buf, &crate::clock::now_rfc3339());
        buf.extend_from_slice(b",\"level\":\"");
        buf.extend_from_slice(meta.level().as_str().as_bytes());
        buf.extend_from_slice(b"\",\"service\":");
        push_str(&mut buf, &service);
        match ids {
            Some((t, sp)) => {
                let _ = write!(&mut buf, ",\"trace_id\":\"{t}\",\"span_id\":\"{sp}\"");
            }
            None => buf.extend_from_slice(b",\"trace_id\":null,\"span_id\":null"),
        }
        buf.extend_from_slice(b",\"target\":");
        push_str(&mut buf, meta.target());
        buf.extend_from_slice(b",\"message\":");
        push_str(&mut buf, &message);
        buf.extend_from_slice(b",\"fields\":{");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push_str(&mut buf, k);
            buf.push(b':');
            let _ = serde_json::to_writer(&mut buf, v);
        }
        buf.extend_from_slice(b"}}\n");
        (self.sink)(&buf);
    }
}

/// An in-memory log sink for tests: every line written, in order.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<String>>>);

impl CapturedLogs {
    /// A writer feeding this capture (and stderr when `echo`).
    pub fn writer(&self, echo: bool) -> LogWriter {
        let lines = self.0.clone();
        Arc::new(move |bytes: &[u8]| {
            let s = String::from_utf8_lossy(bytes).into_owned();
            if echo {
                let _ = std::io::stderr().write_all(s.as_bytes());
            }
            if let Ok(mut l) = lines.lock() {
                l.push(s);
            }
        })
    }

    /// Every line captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_parsing() {
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert_eq!(trace_id_of(tp), Some("0af7651916cd43dd8448eb211c80319c"));
        assert_eq!(trace_id_of("00-00000000000000000000000000000000-b7ad6b7169203331-01"), None);
        assert_eq!(trace_id_of("garbage"), None);
        assert!(trace_id_of(&new_traceparent()).is_some());
    }

    #[test]
    fn meta_wins_over_header() {
        let meta = "00-11111111111111111111111111111111-2222222222222222-01";
        let mut h = http::HeaderMap::new();
        h.insert(TRACEPARENT, "00-33333333333333333333333333333333-4444444444444444-01".parse().unwrap());
        let cx = parent_context(Some(meta), None, Some(&h));
        assert_eq!(cx.span().span_context().trace_id().to_string(), "11111111111111111111111111111111");
        let cx = parent_context(None, None, Some(&h));
        assert_eq!(cx.span().span_context().trace_id().to_string(), "33333333333333333333333333333333");
        let cx = parent_context(Some("bogus"), None, Some(&h));
        assert_eq!(cx.span().span_context().trace_id().to_string(), "33333333333333333333333333333333");
        let cx = parent_context(None, None, None);
        assert!(!cx.span().span_context().is_valid());
    }
}
