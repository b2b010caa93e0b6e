//! `POST /v1/traces`: the OTLP/HTTP trace receiver.
//!
//! Accepts `application/x-protobuf` (also `application/protobuf`) and
//! `application/json`, uncompressed. The body is bounded
//! (`OBSERVER_MAX_INGEST_BYTES`, checked on `Content-Length` first and while
//! reading), and so is the span count (`OBSERVER_MAX_SPANS_PER_BATCH`). The
//! batch is stored in one transaction; duplicates of stored spans (a retried
//! export) are absorbed. Answers follow OTLP/HTTP: 200 with an
//! `ExportTraceServiceResponse` in the request's encoding (carrying
//! `partial_success` when spans were left out), 400 for an undecodable body,
//! 413 when too large, 415 for other media types or encodings, and 503 with
//! `Retry-After` when storage fails, which exporters retry.
//!
//! No tracing span is opened anywhere on this path (see the crate docs: the
//! observer exporting to itself must not feed itself).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcp_core::{ErrorKind, Problem};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};

use crate::{Observer, otlp, when};

/// The two encodings OTLP/HTTP defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Binary protobuf.
    Protobuf,
    /// OTLP JSON.
    Json,
}

impl Format {
    fn label(self) -> &'static str {
        match self {
            Self::Protobuf => "protobuf",
            Self::Json => "json",
        }
    }

    fn of(headers: &HeaderMap) -> Option<Self> {
        let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = ct.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Self::Protobuf),
            "application/json" => Some(Self::Json),
            _ => None,
        }
    }
}

fn fail(obs: &Observer, status: StatusCode, reason: &str, message: String) -> Response {
    obs.metrics.failures.with_label_values(&[reason]).inc();
    if status.is_server_error() {
        mcp_core::tracing::warn!(reason, error = %message, "OTLP export not stored");
    } else {
        mcp_core::tracing::debug!(reason, error = %message, "OTLP export refused");
    }
    let problem = if status == StatusCode::SERVICE_UNAVAILABLE {
        Problem::new(ErrorKind::Unavailable, message).retry_after(5)
    } else {
        Problem::new(ErrorKind::InvalidInput, message).http_status(status)
    };
    problem.into_response()
}

/// The handler.
pub async fn handle(State(obs): State<Arc<Observer>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let Some(format) = Format::of(&headers) else {
        return fail(
            &obs,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "send Content-Type application/x-protobuf or application/json (OTLP/HTTP)".into(),
        );
    };
    if let Some(enc) = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok())
        && !enc.trim().eq_ignore_ascii_case("identity")
    {
        return fail(
            &obs,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "encoding",
            format!(
                "Content-Encoding {enc:?} is not supported: send uncompressed OTLP (no OTEL_EXPORTER_OTLP_COMPRESSION)"
            ),
        );
    }
    let max = obs.config.max_ingest_bytes;
    let too_large =
        || format!("the export is larger than {max} bytes (OBSERVER_MAX_INGEST_BYTES): send smaller batches");
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return fail(&obs, StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large());
    }
    let bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(e) => {
            // The limit error is the body's own; anything else is a broken upload.
            let text = e.to_string();
            return if text.contains("length limit") {
                fail(&obs, StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large())
            } else {
                fail(&obs, StatusCode::BAD_REQUEST, "read", format!("reading the body failed: {text}"))
            };
        }
    };
    let decoded = match format {
        Format::Protobuf => otlp::decode_protobuf(&bytes),
        Format::Json => otlp::decode_json(&bytes),
    };
    let req = match decoded {
        Ok(r) => r,
        Err(e) => return fail(&obs, StatusCode::BAD_REQUEST, "decode", e.to_string()),
    };
    let n = otlp::count_spans(&req);
    if n > obs.config.max_spans_per_batch {
        return fail(
            &obs,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_spans",
            format!(
                "{n} spans in one export, over the limit of {} (OBSERVER_MAX_SPANS_PER_BATCH): send smaller batches",
                obs.config.max_spans_per_batch
            ),
        );
    }
    let (mut rows, invalid) = otlp::rows(req);
    let before = rows.len();
    rows.retain(|r| r.service != obs.service_name || r.method.is_some());
    let own_internal = before - rows.len();
    if let Err(e) = obs.store.insert(&rows, when::now_ms()).await {
        return fail(&obs, StatusCode::SERVICE_UNAVAILABLE, "storage", format!("storing the spans failed: {e}"));
    }
    let m = &obs.metrics;
    m.batches.inc();
    m.spans.inc_by(rows.len() as u64);
    m.rejected.with_label_values(&["invalid"]).inc_by(invalid as u64);
    m.rejected.with_label_values(&["own_internal"]).inc_by(own_internal as u64);
    m.duration.with_label_values(&[format.label()]).observe(started.elapsed().as_secs_f64());
    // Only spans the sender cannot fix count as rejected for it; our own
    // internal spans are dropped by policy and are not its problem.
    let partial_success = (invalid > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: invalid as i64,
        error_message: format!("{invalid} span(s) had an invalid trace_id or span_id and were not stored"),
    });
    let answer = ExportTraceServiceResponse { partial_success };
    match format {
        Format::Protobuf => {
            use prost::Message;
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"))], answer.encode_to_vec())
                .into_response()
        }
        Format::Json => axum::Json(answer).into_response(),
    }
}
