//! The accessibility tree as text: `Accessibility.getFullAXTree` filtered
//! to what a reader of the page sees, one indented line per node —
//! `- button "Approve" [ref=e12]` — where the ref is the node's
//! `backendDOMNodeId`, which the action tools take back.
//!
//! Ignored nodes are skipped (their children kept), inline text boxes and
//! list markers dropped, unnamed generic containers flattened, and static
//! text that only repeats its parent's name folded away.

use std::collections::HashMap;

use serde_json::Value;

/// Roles that never carry information of their own.
const DROP: &[&str] = &["InlineTextBox", "ListMarker", "LineBreak"];
/// Containers shown only when they have a name.
const TRANSPARENT: &[&str] = &["generic", "none", "presentation", "Section", "paragraph", "group", "div"];
/// Properties worth a mark on the line.
const FLAGS: &[&str] = &["checked", "disabled", "expanded", "selected", "required", "pressed", "focused", "readonly"];

/// A rendered snapshot.
pub struct Rendered {
    /// The text (possibly cut).
    pub text: String,
    /// The whole text, when `text` was cut.
    pub full: Option<String>,
    /// Backend node ids given a ref.
    pub refs: Vec<i64>,
    /// The requested root was not found.
    pub root_missing: bool,
}

struct Node<'a> {
    ignored: bool,
    role: &'a str,
    name: String,
    value: String,
    flags: Vec<String>,
    level: Option<i64>,
    children: Vec<&'a str>,
    backend: Option<i64>,
}

fn text_of(v: &Value) -> String {
    match &v["value"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn quote(s: &str, n: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = crate::chrome::cut(&one, n);
    format!("\"{}\"", cut.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Render the `nodes` of `getFullAXTree`, from `root` (a backend node id)
/// when given, cut at `max_chars`.
pub fn render(nodes: &[Value], root: Option<i64>, max_chars: usize) -> Rendered {
    let mut by_id: HashMap<&str, Node<'_>> = HashMap::new();
    let mut first: Option<&str> = None;
    let mut by_backend: HashMap<i64, &str> = HashMap::new();
    let mut has_parent = std::collections::HashSet::new();
    for n in nodes {
        let Some(id) = n["nodeId"].as_str() else { continue };
        if first.is_none() {
            first = Some(id);
        }
        let backend = n["backendDOMNodeId"].as_i64();
        if let Some(b) = backend {
            by_backend.entry(b).or_insert(id);
        }
        let mut flags = Vec::new();
        let mut level = None;
        for p in n["properties"].as_array().into_iter().flatten() {
            let pname = p["name"].as_str().unwrap_or_default();
            let v = &p["value"]["value"];
            if pname == "level" {
                level = v.as_i64();
            } else if FLAGS.contains(&pname) {
                match v {
                    Value::Bool(true) => flags.push(pname.to_owned()),
                    Value::String(s) if s == "true" => flags.push(pname.to_owned()),
                    Value::String(s) if s == "mixed" => flags.push(format!("{pname}=mixed")),
                    _ => {}
                }
            }
        }
        let children: Vec<&str> = n["childIds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for c in &children {
            has_parent.insert(*c);
        }
        by_id.insert(
            id,
            Node {
                ignored: n["ignored"].as_bool().unwrap_or(false),
                role: n["role"]["value"].as_str().unwrap_or(""),
                name: text_of(&n["name"]),
                value: text_of(&n["value"]),
                flags,
                level,
                children,
                backend,
            },
        );
    }
    let start = match root {
        Some(b) => match by_backend.get(&b) {
            Some(id) => Some(*id),
            None => return Rendered { text: String::new(), full: None, refs: Vec::new(), root_missing: true },
        },
        None => first.filter(|f| !has_parent.contains(f)).or(first),
    };
    let mut out = String::new();
    let mut refs = Vec::new();
    if let Some(s) = start {
        walk(&by_id, s, 0, ("", ""), &mut out, &mut refs, 0);
    }
    if out.len() > max_chars {
        let mut cut = max_chars;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // End on a whole line.
        let end = out[..cut].rfind('\n').map_or(cut, |i| i + 1);
        let text = out[..end].to_owned();
        // Refs beyond the cut are not shown, so not handed out.
        let shown: Vec<i64> = refs.iter().copied().filter(|r| text.contains(&format!("[ref=e{r}]"))).collect();
        return Rendered { text, full: Some(out), refs: shown, root_missing: false };
    }
    Rendered { text: out, full: None, refs, root_missing: false }
}

fn walk(
    by_id: &HashMap<&str, Node<'_>>,
    id: &str,
    depth: usize,
    parent: (&str, &str),
    out: &mut String,
    refs: &mut Vec<i64>,
    guard: usize,
) {
    // The tree comes from a page: bound the recursion whatever it says.
    if guard > 400 {
        return;
    }
    let Some(n) = by_id.get(id) else { return };
    let kids = |depth: usize, name: (&str, &str), out: &mut String, refs: &mut Vec<i64>| {
        for c in &n.children {
            walk(by_id, c, depth, name, out, refs, guard + 1);
        }
    };
    if n.ignored || DROP.contains(&n.role) || n.role.is_empty() {
        if !DROP.contains(&n.role) {
            kids(depth, parent, out, refs);
        }
        return;
    }
    if n.role == "StaticText" {
        let t = n.name.trim();
        // Text that only repeats its parent's name or value says nothing new.
        if !t.is_empty() && t != parent.0.trim() && t != parent.1.trim() {
            out.push_str(&"  ".repeat(depth));
            out.push_str(&format!("- text {}\n", quote(t, 300)));
        }
        return;
    }
    if TRANSPARENT.contains(&n.role) && n.name.trim().is_empty() {
        kids(depth, parent, out, refs);
        return;
    }
    let role = if n.role == "RootWebArea" { "document" } else { n.role };
    out.push_str(&"  ".repeat(depth));
    out.push_str("- ");
    out.push_str(role);
    if !n.name.trim().is_empty() {
        out.push(' ');
        out.push_str(&quote(&n.name, 200));
    }
    if let Some(l) = n.level {
        out.push_str(&format!(" [level={l}]"));
    }
    for f in &n.flags {
        out.push_str(&format!(" [{f}]"));
    }
    if !n.value.is_empty() && n.value != n.name {
        out.push_str(&format!(" value={}", quote(&n.value, 200)));
    }
    if let Some(b) = n.backend {
        out.push_str(&format!(" [ref=e{b}]"));
        refs.push(b);
    }
    out.push('\n');
    kids(depth + 1, (&n.name, &n.value), out, refs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_filters_and_cuts() {
        let nodes = vec![
            json!({"nodeId": "1", "ignored": false, "role": {"value": "RootWebArea"}, "name": {"value": "T"}, "childIds": ["2", "5"], "backendDOMNodeId": 1}),
            json!({"nodeId": "2", "ignored": false, "role": {"value": "generic"}, "childIds": ["3"], "backendDOMNodeId": 2}),
            json!({"nodeId": "3", "ignored": false, "role": {"value": "button"}, "name": {"value": "Go \"now\""}, "childIds": ["4"], "backendDOMNodeId": 3}),
            json!({"nodeId": "4", "ignored": false, "role": {"value": "StaticText"}, "name": {"value": "Go \"now\""}, "childIds": [], "backendDOMNodeId": 4}),
            json!({"nodeId": "5", "ignored": false, "role": {"value": "heading"}, "name": {"value": "H"}, "properties": [{"name": "level", "value": {"value": 2}}], "backendDOMNodeId": 5}),
        ];
        let r = render(&nodes, None, 10_000);
        assert_eq!(
            r.text,
            "- document \"T\" [ref=e1]\n  - button \"Go \\\"now\\\"\" [ref=e3]\n  - heading \"H\" [level=2] [ref=e5]\n"
        );
        assert_eq!(r.refs, vec![1, 3, 5]);
        let sub = render(&nodes, Some(3), 10_000);
        assert_eq!(sub.text, "- button \"Go \\\"now\\\"\" [ref=e3]\n");
        assert!(render(&nodes, Some(99), 10_000).root_missing);
        let cut = render(&nodes, None, 40);
        assert!(cut.full.is_some() && cut.text.len() <= 40 && cut.text.ends_with('\n'));
        assert_eq!(cut.refs, vec![1]);
    }
}
