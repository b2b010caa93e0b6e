//! The rows the templates show, made from the upstreams' JSON: the agent's
//! requests, the planner's runs and approvals, the observer's span tree and
//! the log server's lines. Templates get plain strings and numbers, so a
//! field an upstream renames shows as empty instead of breaking a page.

use serde_json::Value;

/// A string field, or empty.
pub fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn ms(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// A span of time in words a person reads at a glance: `850 ms`, `12.4 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        return format!("{:.1} s", ms as f64 / 1000.0);
    }
    let s = ms / 1000;
    match s {
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// One request in the list.
pub struct RequestRow {
    pub id: String,
    pub state: String,
    pub run_state: String,
    pub requester: String,
    pub subject: String,
    pub age: String,
    pub duration: String,
    pub trace_id: String,
}

impl RequestRow {
    /// From the agent's record at `now_ms`.
    pub fn new(r: &Value, now_ms: i64) -> Self {
        let created = ms(r, "created_ms").unwrap_or(now_ms);
        let updated = ms(r, "updated_ms").unwrap_or(created);
        Self {
            id: text(r, "id"),
            state: text(r, "state"),
            run_state: text(r, "run_state"),
            requester: text(r, "requester"),
            subject: text(r, "subject"),
            age: span(now_ms - created),
            duration: span(updated - created),
            trace_id: text(r, "trace_id"),
        }
    }
}

/// The request page's facts.
pub struct RequestFacts {
    pub id: String,
    pub state: String,
    pub requester: String,
    pub subject: String,
    pub created: String,
    pub age: String,
    pub reason: String,
    pub trace_id: String,
    pub run_id: String,
    pub run_state: String,
    pub run_duration: String,
}

impl RequestFacts {
    /// From the agent's record and the planner's run.
    pub fn new(req: &Value, run: Option<&Value>, now_ms: i64) -> Self {
        let created = ms(req, "created_ms").unwrap_or(now_ms);
        let run_duration = run
            .and_then(|r| ms(r, "created_ms").map(|c| ms(r, "finished_ms").unwrap_or(now_ms) - c))
            .map(span)
            .unwrap_or_default();
        let run_state = run.map(|r| text(r, "state")).unwrap_or_else(|| text(req, "run_state"));
        let reason = [run.map(|r| text(r, "reason")).unwrap_or_default(), text(req, "reason")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let trace_id = Some(text(req, "trace_id"))
            .filter(|t| !t.is_empty())
            .or_else(|| run.map(|r| text(r, "trace_id")))
            .unwrap_or_default();
        Self {
            id: text(req, "id"),
            state: text(req, "state"),
            requester: text(req, "requester"),
            subject: text(req, "subject"),
            created: mcp_core::clock::rfc3339_ms(created),
            age: span(now_ms - created),
            reason,
            trace_id,
            run_id: text(req, "run_id"),
            run_state,
            run_duration,
        }
    }
}

/// One plan step.
pub struct StepRow {
    pub idx: String,
    pub key: String,
    pub title: String,
    pub state: String,
    pub attempts: String,
    pub duration: String,
    pub error: String,
}

/// The run's steps, and the report step's result as text.
pub fn steps(run: Option<&Value>, now_ms: i64) -> (Vec<StepRow>, String) {
    let Some(list) = run.and_then(|r| r.get("steps")).and_then(Value::as_array) else {
        return (Vec::new(), String::new());
    };
    let mut report = String::new();
    let rows = list
        .iter()
        .map(|s| {
            let def = s.get("def").cloned().unwrap_or(Value::Null);
            let key = text(&def, "key");
            let duration = match (ms(s, "started_ms"), ms(s, "finished_ms")) {
                (Some(a), Some(b)) => span(b - a),
                (Some(a), None) if text(s, "state") == "running" => format!("{} …", span(now_ms - a)),
                _ => String::new(),
            };
            if key == "report"
                && let Some(r) = s.get("result").filter(|r| !r.is_null())
            {
                report = match r {
                    Value::String(t) => t.clone(),
                    other => other
                        .get("text")
                        .or_else(|| other.get("report"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| serde_json::to_string_pretty(other).unwrap_or_default()),
                };
            }
            StepRow {
                idx: text(s, "idx"),
                title: Some(text(&def, "title")).filter(|t| !t.is_empty()).unwrap_or_else(|| key.clone()),
                key,
                state: text(s, "state"),
                attempts: text(s, "attempts"),
                duration,
                error: text(s, "error"),
            }
        })
        .collect();
    (rows, report)
}

/// One approval.
pub struct ApprovalRow {
    pub id: String,
    pub request_id: String,
    pub step: String,
    pub action: String,
    pub summary: String,
    pub state: String,
    pub requested_at: String,
    pub expires_at: String,
    pub decided_by: String,
    pub reason: String,
    pub trace_id: String,
}

impl ApprovalRow {
    /// From the planner's record.
    pub fn new(a: &Value) -> Self {
        let action = match a.get("action") {
            Some(Value::Object(o)) => o.get("type").and_then(Value::as_str).unwrap_or_default().to_owned(),
            _ => text(a, "action"),
        };
        Self {
            id: text(a, "id"),
            request_id: text(a, "request_id"),
            step: text(a, "step"),
            action,
            summary: text(a, "summary"),
            state: text(a, "state"),
            requested_at: text(a, "requested_at"),
            expires_at: text(a, "expires_at"),
            decided_by: text(a, "decided_by"),
            reason: text(a, "reason"),
            trace_id: text(a, "trace_id"),
        }
    }
}

/// One span of the waterfall.
pub struct SpanRow {
    pub name: String,
    pub service: String,
    pub span_id: String,
    pub kind: String,
    pub status: String,
    pub depth: usize,
    /// Start on the 0..1000 axis of the bar.
    pub x: u32,
    /// Width on the same axis (at least 2, so a 0 ms span shows).
    pub w: u32,
    pub duration: String,
    pub error: bool,
    pub colour: usize,
    pub attributes: Vec<(String, String)>,
}

/// The span tree flattened depth first, earliest child first, with bars
/// scaled to the trace's duration. `services` orders the colours.
pub fn waterfall(trace: &Value) -> Vec<SpanRow> {
    let total = trace.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0).max(0.001);
    let services: Vec<String> = trace
        .get("services")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut stack: Vec<(usize, &Value)> = trace
        .get("roots")
        .and_then(Value::as_array)
        .map(|r| r.iter().rev().map(|s| (0, s)).collect())
        .unwrap_or_default();
    // A trace has at most the observer's `max_spans`; the cap guards the page anyway.
    while let Some((depth, s)) = stack.pop() {
        if out.len() >= 5000 {
            break;
        }
        let offset = s.get("offset_ms").and_then(Value::as_f64).unwrap_or(0.0);
        let dur = s.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0);
        let x = ((offset / total) * 1000.0).clamp(0.0, 998.0) as u32;
        let w = ((dur / total) * 1000.0).clamp(2.0, 1000.0 - f64::from(x)) as u32;
        let service = text(s, "service");
        let status_code = text(s, "status_code");
        let mut status = status_code.clone();
        let msg = text(s, "status_message");
        if !msg.is_empty() {
            status = format!("{status}: {msg}");
        }
        let attributes = match s.get("attributes") {
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                .collect(),
            _ => Vec::new(),
        };
        out.push(SpanRow {
            name: text(s, "name"),
            colour: services.iter().position(|x| *x == service).unwrap_or(0) % 6,
            service,
            span_id: text(s, "span_id"),
            kind: text(s, "kind"),
            error: status_code == "ERROR",
            status,
            depth: depth.min(12),
            x,
            w,
            duration: if dur < 1.0 { format!("{dur:.2} ms") } else { span(dur.round() as i64) },
            attributes,
        });
        if let Some(children) = s.get("children").and_then(Value::as_array) {
            stack.extend(children.iter().rev().map(|c| (depth + 1, c)));
        }
    }
    out
}

/// One log line.
pub struct LogRow {
    pub ts: String,
    pub level: String,
    pub service: String,
    pub message: String,
}

impl LogRow {
    /// From the log server's line.
    pub fn new(l: &Value) -> Self {
        Self { ts: text(l, "ts"), level: text(l, "level"), service: text(l, "service"), message: text(l, "message") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spans_of_time_read_at_a_glance() {
        assert_eq!(span(850), "850 ms");
        assert_eq!(span(12_400), "12.4 s");
        assert_eq!(span(185_000), "3 min 5 s");
        assert_eq!(span(7_800_000), "2 h 10 min");
        assert_eq!(span(-5), "0 ms");
    }

    #[test]
    fn the_waterfall_is_depth_first_and_scaled() {
        let t = json!({"duration_ms": 100.0, "services": ["a", "b"], "roots": [
            {"name": "root", "service": "a", "offset_ms": 0.0, "duration_ms": 100.0, "status_code": "OK", "span_id": "1",
             "children": [
                {"name": "child", "service": "b", "offset_ms": 50.0, "duration_ms": 0.0, "status_code": "ERROR", "span_id": "2",
                 "attributes": {"k": "v", "n": 3}, "children": []}]}]});
        let rows = waterfall(&t);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].x, rows[0].w, rows[0].depth, rows[0].error), (0, 1000, 0, false));
        assert_eq!((rows[1].x, rows[1].w, rows[1].depth, rows[1].error, rows[1].colour), (500, 2, 1, true, 1));
        assert_eq!(rows[1].attributes, vec![("k".into(), "v".into()), ("n".into(), "3".into())]);
    }
}
