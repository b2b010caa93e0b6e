//! A trace's spans as a tree: children under their parents, ordered by start
//! time, with offsets from the trace's start for a waterfall.
//!
//! A span whose parent is not stored (the caller's span lives in a program
//! that does not export, or was not exported yet) becomes a root marked
//! `parent_missing`. Parent links that form a cycle (only possible with
//! corrupt input) cannot hang the walk: every span is visited once, and spans
//! not reachable from a root become roots themselves. Nesting deeper than
//! [`MAX_DEPTH`] is flattened at that depth so serialising the answer can
//! never exhaust the stack.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::store::{StoredSpan, rfc3339_ns};

/// Deepest nesting kept; deeper descendants hang under the span at this depth.
pub const MAX_DEPTH: usize = 48;

/// One span and its children.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SpanNode {
    /// Span id.
    pub span_id: String,
    /// Parent span id (none for a root).
    pub parent_span_id: Option<String>,
    /// True when the parent span is not stored (a caller outside the fleet, or not exported yet).
    #[serde(skip_serializing_if = "is_false")]
    #[schemars(default)]
    pub parent_missing: bool,
    /// Service that exported the span.
    pub service: String,
    /// Span name, e.g. `tools/call read_file`.
    pub name: String,
    /// `server`, `client`, `internal`, ...
    pub kind: String,
    /// Start, RFC 3339.
    pub start: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Milliseconds after the trace's first span started.
    pub offset_ms: f64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: String,
    /// Status message, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Attributes (left out when the caller asked for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Value>,
    /// Events (left out when the caller asked for no attributes, or there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Value>,
    /// Child spans, earliest first.
    pub children: Vec<SpanNode>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A whole trace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceTree {
    /// Trace id.
    pub trace_id: String,
    /// Spans in this answer.
    pub span_count: usize,
    /// Spans stored for the trace (more than `span_count` when `truncated`).
    pub total_spans: i64,
    /// The answer holds only the earliest spans; narrow with `max_spans` or use `traces_search`.
    pub truncated: bool,
    /// Every service with a span here, sorted.
    pub services: Vec<String>,
    /// First span's start, RFC 3339.
    pub start: String,
    /// First span's start, Unix ms.
    pub start_ms: i64,
    /// From the first start to the last end, ms.
    pub duration_ms: f64,
    /// Spans with status ERROR.
    pub error_count: usize,
    /// Root spans (and spans whose parent is not stored), earliest first.
    pub roots: Vec<SpanNode>,
}

/// Build the tree of `spans` (all of one trace, any order).
pub fn build(trace_id: &str, mut spans: Vec<StoredSpan>, total: i64, truncated: bool, attributes: bool) -> TraceTree {
    spans.sort_by(|a, b| a.start_unix_nano.cmp(&b.start_unix_nano).then_with(|| a.span_id.cmp(&b.span_id)));
    let t0 = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(t0);
    let index: HashMap<&str, usize> = spans.iter().enumerate().map(|(i, s)| (s.span_id.as_str(), i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.parent_span_id.as_deref().and_then(|p| index.get(p)) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let mut visited = vec![false; spans.len()];
    let mut out = Vec::new();
    for &r in &roots {
        out.push(node(&spans, &children, &mut visited, r, 0, t0, attributes, &index));
    }
    // Whatever no root reached sits on a parent cycle: show it rather than drop it.
    for i in 0..spans.len() {
        if !visited[i] {
            out.push(node(&spans, &children, &mut visited, i, 0, t0, attributes, &index));
        }
    }
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    TraceTree {
        trace_id: trace_id.to_owned(),
        span_count: spans.len(),
        total_spans: total,
        truncated,
        services: services.into_iter().map(str::to_owned).collect(),
        start: rfc3339_ns(t0),
        start_ms: t0 / 1_000_000,
        duration_ms: (t1 - t0).max(0) as f64 / 1e6,
        error_count: spans.iter().filter(|s| s.status_code == "ERROR").count(),
        roots: out,
    }
}

#[allow(clippy::too_many_arguments)]
fn node(
    spans: &[StoredSpan],
    children: &[Vec<usize>],
    visited: &mut [bool],
    i: usize,
    depth: usize,
    t0: i64,
    attributes: bool,
    index: &HashMap<&str, usize>,
) -> SpanNode {
    visited[i] = true;
    let s = &spans[i];
    let mut kids = Vec::new();
    if depth < MAX_DEPTH {
        for &c in &children[i] {
            if !visited[c] {
                kids.push(node(spans, children, visited, c, depth + 1, t0, attributes, index));
            }
        }
    } else {
        // Flatten: every unvisited descendant becomes a direct child here.
        let mut stack: Vec<usize> = children[i].clone();
        while let Some(c) = stack.pop() {
            if visited[c] {
                continue;
            }
            stack.extend(children[c].iter().copied());
            visited[c] = true;
            kids.push(leaf(&spans[c], t0, attributes, index));
        }
        kids.sort_by_key(|k| (k.offset_ms * 1e6) as i64);
    }
    let mut n = leaf(s, t0, attributes, index);
    n.children = kids;
    n
}

/// A span without its children.
fn leaf(s: &StoredSpan, t0: i64, attributes: bool, index: &HashMap<&str, usize>) -> SpanNode {
    let events = s.events.as_array().filter(|e| !e.is_empty()).map(|_| s.events.clone());
    SpanNode {
        span_id: s.span_id.clone(),
        parent_span_id: s.parent_span_id.clone(),
        parent_missing: s.parent_span_id.as_deref().is_some_and(|p| !index.contains_key(p)),
        service: s.service.clone(),
        name: s.name.clone(),
        kind: s.kind.clone(),
        start: rfc3339_ns(s.start_unix_nano),
        start_ms: s.start_ms,
        offset_ms: (s.start_unix_nano - t0) as f64 / 1e6,
        duration_ms: s.duration_ms,
        status_code: s.status_code.clone(),
        status_message: s.status_message.clone(),
        attributes: attributes.then(|| s.attributes.clone()),
        events: if attributes { events } else { None },
        children: Vec::new(),
    }
}

/// The tree as an indented waterfall, for a model or a terminal.
pub fn render(t: &TraceTree) -> String {
    let mut out = format!(
        "trace {}: {} span(s){}, {} service(s) ({}), {:.3} ms, {} error(s), started {}\n",
        t.trace_id,
        t.span_count,
        if t.truncated { format!(" of {} (truncated)", t.total_spans) } else { String::new() },
        t.services.len(),
        t.services.join(", "),
        t.duration_ms,
        t.error_count,
        t.start
    );
    fn walk(out: &mut String, n: &SpanNode, depth: usize) {
        let _ = writeln!(
            out,
            "{:indent$}+{:.3}ms {:.3}ms {} {} [{}]{}{}",
            "",
            n.offset_ms,
            n.duration_ms,
            n.service,
            n.name,
            n.kind,
            if n.status_code == "ERROR" {
                format!(" ERROR {}", n.status_message.as_deref().unwrap_or(""))
            } else {
                String::new()
            },
            if n.parent_missing { " (parent not stored)" } else { "" },
            indent = depth * 2
        );
        for c in &n.children {
            walk(out, c, depth + 1);
        }
    }
    for r in &t.roots {
        walk(&mut out, r, 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: i64) -> StoredSpan {
        StoredSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_owned),
            service: format!("svc-{id}"),
            name: format!("op {id}"),
            kind: "server".into(),
            start_ms: start / 1_000_000,
            start_unix_nano: start,
            end_unix_nano: start + 1_000_000,
            duration_ms: 1.0,
            status_code: "UNSET".into(),
            status_message: None,
            attributes: serde_json::json!({}),
            events: serde_json::json!([]),
        }
    }

    #[test]
    fn nests_children_and_marks_missing_parents() {
        let t = build(
            "t",
            vec![span("c", Some("b"), 3), span("a", None, 1), span("b", Some("a"), 2), span("x", Some("gone"), 5)],
            4,
            false,
            true,
        );
        assert_eq!(t.roots.len(), 2);
        assert_eq!(t.roots[0].span_id, "a");
        assert_eq!(t.roots[0].children[0].span_id, "b");
        assert_eq!(t.roots[0].children[0].children[0].span_id, "c");
        assert!(t.roots[1].parent_missing);
        assert_eq!(t.roots[0].children[0].offset_ms, 1e-6);
        assert!(render(&t).contains("(parent not stored)"));
    }

    #[test]
    fn cycles_and_depth_are_bounded() {
        let t = build("t", vec![span("a", Some("b"), 1), span("b", Some("a"), 2)], 2, false, false);
        assert_eq!(t.span_count, 2);
        let mut n = 0;
        fn count(x: &SpanNode, n: &mut usize) {
            *n += 1;
            x.children.iter().for_each(|c| count(c, n));
        }
        t.roots.iter().for_each(|r| count(r, &mut n));
        assert_eq!(n, 2);

        let chain: Vec<StoredSpan> = (0..200)
            .map(|i| span(&format!("s{i}"), (i > 0).then(|| format!("s{}", i - 1)).as_deref(), i as i64))
            .collect();
        let t = build("t", chain, 200, false, false);
        let mut depth = 0;
        let mut cur = &t.roots[0];
        while let Some(c) = cur.children.first() {
            depth += 1;
            cur = c;
        }
        assert_eq!(depth, MAX_DEPTH + 1);
        assert!(serde_json::to_string(&t).is_ok());
    }
}
