//! `trace show`: a trace as a text waterfall — one line per span, indented
//! under its parent, with its duration and a bar placed on the trace's timeline.
//!
//! The observer answers with a nested tree (`roots[].children[]`, offsets in
//! `offset_ms`); the gateway may pass that on or flatten it into `spans[]`
//! with `parent_span_id` and `start_offset_ms`. Both are read here, so the
//! rendering does not depend on which one the gateway settles on. Parent
//! links are followed with a visited set and a depth cap, so a corrupt trace
//! cannot loop or overflow the stack.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::api::excerpt;
use super::render::{duration_ms, field};

/// Columns of the bar.
const BAR: usize = 40;
/// Widest label (indentation, name and service).
const LABEL: usize = 56;
/// Deepest indentation shown; deeper spans are drawn at this depth.
const MAX_DEPTH: usize = 32;

/// One line of the waterfall.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    depth: usize,
    label: String,
    offset: f64,
    duration: f64,
    error: Option<String>,
}

/// Render a trace answer as a waterfall.
pub fn render(v: &Value) -> String {
    let rows = rows(v);
    let mut out = header(v, &rows);
    if rows.is_empty() {
        out.push_str("no spans\n");
        return out;
    }
    let total = v
        .get("duration_ms")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .max(rows.iter().map(|r| r.offset + r.duration).fold(0.0, f64::max));
    let width = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(0);
    for r in &rows {
        let pad = width - r.label.chars().count();
        out.push_str(&format!("{}{}  {:>9}  |{}|", r.label, " ".repeat(pad), duration_ms(r.duration), bar(r, total)));
        if let Some(e) = &r.error {
            out.push_str("  ERROR");
            if !e.is_empty() {
                out.push_str(": ");
                out.push_str(&excerpt(e, 80));
            }
        }
        out.push('\n');
    }
    out
}

fn header(v: &Value, rows: &[Row]) -> String {
    let mut out = format!("trace {}  {} spans", field(v, "trace_id"), rows.len());
    if let Some(d) = v.get("duration_ms").and_then(Value::as_f64) {
        out.push_str(&format!("  {}", duration_ms(d)));
    }
    let errors = rows.iter().filter(|r| r.error.is_some()).count();
    if errors > 0 {
        out.push_str(&format!("  {errors} with errors"));
    }
    if v.get("truncated").and_then(Value::as_bool) == Some(true) {
        out.push_str(&format!("  (truncated: {} stored)", field(v, "total_spans")));
    }
    out.push('\n');
    out
}

/// The bar of one span: blank before its start, `█` while it runs (`▒` when
/// it ended in error), at least one cell so instant spans stay visible.
fn bar(r: &Row, total: f64) -> String {
    let scale = if total > 0.0 { BAR as f64 / total } else { 0.0 };
    let start = ((r.offset.max(0.0) * scale).floor() as usize).min(BAR - 1);
    let len = ((r.duration.max(0.0) * scale).round() as usize).clamp(1, BAR - start);
    let fill = if r.error.is_some() { "▒" } else { "█" };
    format!("{}{}{}", " ".repeat(start), fill.repeat(len), " ".repeat(BAR - start - len))
}

/// The spans in display order (depth first, children by start).
fn rows(v: &Value) -> Vec<Row> {
    let mut out = Vec::new();
    if let Some(roots) = v.get("roots").and_then(Value::as_array) {
        let mut sorted: Vec<&Value> = roots.iter().collect();
        sorted.sort_by(|a, b| offset(a).total_cmp(&offset(b)));
        for r in sorted {
            nested(r, 0, &mut out);
        }
    } else if let Some(spans) = v.get("spans").and_then(Value::as_array) {
        flat(spans, &mut out);
    }
    out
}

fn nested(node: &Value, depth: usize, out: &mut Vec<Row>) {
    out.push(row(node, depth));
    let mut children: Vec<&Value> =
        node.get("children").and_then(Value::as_array).map(|c| c.iter().collect()).unwrap_or_default();
    children.sort_by(|a, b| offset(a).total_cmp(&offset(b)));
    for c in children {
        // The answer is finite JSON, so recursion ends; the depth cap only
        // bounds the indentation (and the observer caps nesting itself).
        nested(c, (depth + 1).min(MAX_DEPTH), out);
    }
}

fn flat(spans: &[Value], out: &mut Vec<Row>) {
    let id = |s: &Value| s.get("span_id").and_then(Value::as_str).map(str::to_owned);
    let known: HashSet<String> = spans.iter().filter_map(id).collect();
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.get("parent_span_id").and_then(Value::as_str) {
            Some(p) if known.contains(p) && Some(p) != s.get("span_id").and_then(Value::as_str) => {
                children.entry(p.to_owned()).or_default().push(i)
            }
            _ => roots.push(i),
        }
    }
    let by_start = |list: &mut Vec<usize>| list.sort_by(|&a, &b| offset(&spans[a]).total_cmp(&offset(&spans[b])));
    by_start(&mut roots);
    for list in children.values_mut() {
        by_start(list);
    }
    let mut visited = vec![false; spans.len()];
    // An explicit stack: parent links come from the network and may be as
    // deep (or as cyclic) as a broken exporter makes them.
    let walk = |start: usize, visited: &mut Vec<bool>, out: &mut Vec<Row>| {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) {
                continue;
            }
            out.push(row(&spans[i], depth));
            if let Some(kids) = id(&spans[i]).and_then(|s| children.get(&s)) {
                for &k in kids.iter().rev() {
                    stack.push((k, (depth + 1).min(MAX_DEPTH)));
                }
            }
        }
    };
    for &r in &roots {
        walk(r, &mut visited, out);
    }
    // Spans on a parent cycle are reachable from no root: show them anyway.
    for i in 0..spans.len() {
        if !visited[i] {
            walk(i, &mut visited, out);
        }
    }
}

fn offset(s: &Value) -> f64 {
    ["offset_ms", "start_offset_ms"].iter().find_map(|k| s.get(*k).and_then(Value::as_f64)).unwrap_or(0.0)
}

fn row(s: &Value, depth: usize) -> Row {
    let status = ["status_code", "status"]
        .iter()
        .find_map(|k| s.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_ascii_uppercase();
    let error =
        (status == "ERROR").then(|| s.get("status_message").and_then(Value::as_str).unwrap_or_default().to_owned());
    let mut label = format!("{}{}", "  ".repeat(depth), field(s, "name"));
    if let Some(service) = s.get("service").and_then(Value::as_str) {
        label.push_str(&format!(" [{service}]"));
    }
    Row {
        depth,
        label: excerpt(&label, LABEL),
        offset: offset(s),
        duration: s.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn nested_tree_from_the_observer() {
        let v = json!({
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_count": 4, "total_spans": 4, "truncated": false,
            "services": ["mcp-client-api-gateway", "mcp-server-fs"], "start": "2026-03-01T10:00:00Z",
            "start_ms": 1, "duration_ms": 200.0, "error_count": 1,
            "roots": [{
                "span_id": "a", "parent_span_id": null, "service": "mcp-client-api-gateway", "name": "POST /api/v1/tools/{name}/call",
                "kind": "server", "offset_ms": 0.0, "duration_ms": 200.0, "status_code": "UNSET", "children": [
                    {"span_id": "c", "parent_span_id": "a", "service": "mcp-server-fs", "name": "tools/call write_file",
                     "offset_ms": 120.0, "duration_ms": 60.0, "status_code": "ERROR", "status_message": "read-only root",
                     "children": []},
                    {"span_id": "b", "parent_span_id": "a", "service": "mcp-server-fs", "name": "tools/call read_file",
                     "offset_ms": 10.0, "duration_ms": 100.0, "status_code": "OK", "children": [
                        {"span_id": "d", "parent_span_id": "b", "service": "mcp-server-fs", "name": "blocking read",
                         "offset_ms": 20.0, "duration_ms": 0.2, "status_code": "UNSET", "children": []}
                     ]}
                ]
            }]
        });
        expect![[r#"
            trace 4bf92f3577b34da6a3ce929d0e0e4736  4 spans  200.0ms  1 with errors
            POST /api/v1/tools/{name}/call [mcp-client-api-gateway]    200.0ms  |████████████████████████████████████████|
              tools/call read_file [mcp-server-fs]                     100.0ms  |  ████████████████████                  |
                blocking read [mcp-server-fs]                           0.20ms  |    █                                   |
              tools/call write_file [mcp-server-fs]                     60.0ms  |                        ▒▒▒▒▒▒▒▒▒▒▒▒    |  ERROR: read-only root
        "#]]
        .assert_eq(&render(&v));
    }

    #[test]
    fn flat_spans_with_parent_links() {
        let v = json!({"trace_id": "t1", "spans": [
            {"span_id": "2", "parent_span_id": "1", "service": "planner", "name": "step build", "start_offset_ms": 5,
             "duration_ms": 5, "status": "ok", "extra": {"ignored": true}},
            {"span_id": "1", "parent_span_id": "remote", "service": "agent", "name": "request", "start_offset_ms": 0,
             "duration_ms": 10, "status": "ok"},
            {"span_id": "3", "parent_span_id": "4", "name": "cycle a", "start_offset_ms": 1, "duration_ms": 1},
            {"span_id": "4", "parent_span_id": "3", "name": "cycle b", "start_offset_ms": 2, "duration_ms": 1}
        ]});
        expect![[r#"
            trace t1  4 spans
            request [agent]            10.0ms  |████████████████████████████████████████|
              step build [planner]     5.00ms  |                    ████████████████████|
            cycle a                    1.00ms  |    ████                                |
              cycle b                  1.00ms  |        ████                            |
        "#]]
        .assert_eq(&render(&v));
    }

    #[test]
    fn empty_and_odd_answers() {
        assert_eq!(render(&json!({"trace_id": "t"})), "trace t  0 spans\nno spans\n");
        // Zero-length trace: every bar is one cell at the start.
        let v = json!({"spans": [{"span_id": "1", "name": "x", "duration_ms": 0}]});
        assert!(render(&v).contains("|█                                       |"));
        // A span starting past the end still gets a cell on the bar.
        let v = json!({"duration_ms": 1.0, "spans": [{"span_id": "1", "name": "late", "start_offset_ms": 9, "duration_ms": 0}]});
        assert!(render(&v).contains('█'));
    }
}
