//! Mermaid flowcharts from components and edges, valid by construction:
//! every id is rewritten to `[A-Za-z0-9_]` with a `c_` prefix (so no id is a
//! Mermaid keyword such as `end`, and none starts with the `o`/`x` that would
//! turn an arrow into a circle or cross edge), every label is quoted with
//! `"`, `#`, `<`, `>`, `|` and backticks written as Mermaid entity codes, and an
//! edge naming an unknown component is refused rather than drawn as a new
//! box.

use std::collections::HashMap;

use mcp_core::ToolError;
use mcp_types::documents::{Component, Edge};

/// Most components of one diagram.
pub const MAX_COMPONENTS: usize = 500;
/// Most edges of one diagram.
pub const MAX_EDGES: usize = 2000;
/// Longest label, characters.
const MAX_LABEL: usize = 200;

/// A label as Mermaid text inside `"..."`.
pub fn label(s: &str) -> String {
    let one: String = crate::engine::one_line(s).chars().take(MAX_LABEL).collect();
    let mut out = String::with_capacity(one.len());
    for c in one.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            // Edge text sits between `|` delimiters.
            '|' => out.push_str("#124;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn base_id(id: &str) -> String {
    let s: String = id.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("c_{s}")
}

/// The flowchart text (ends with a newline).
pub fn flowchart(components: &[Component], edges: &[Edge], direction: Option<&str>) -> Result<String, ToolError> {
    let dir = direction.unwrap_or("LR");
    if !["LR", "TB", "TD", "RL", "BT"].contains(&dir) {
        return Err(ToolError::invalid("direction must be LR, TB, TD, RL or BT"));
    }
    if components.is_empty() {
        return Err(ToolError::invalid("a diagram needs at least one component"));
    }
    if components.len() > MAX_COMPONENTS || edges.len() > MAX_EDGES {
        return Err(ToolError::invalid(format!(
            "a diagram takes at most {MAX_COMPONENTS} components and {MAX_EDGES} edges"
        )));
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut out = format!("flowchart {dir}\n");
    for c in components {
        if c.id.trim().is_empty() {
            return Err(ToolError::invalid("a component has an empty id"));
        }
        if ids.contains_key(c.id.as_str()) {
            return Err(ToolError::invalid(format!("component id {:?} is given twice", c.id)));
        }
        // Two ids that sanitise alike ("a-b", "a_b") get numbered apart.
        let base = base_id(&c.id);
        let n = taken.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}_{n}") };
        let text = label(c.label.as_deref().unwrap_or(&c.id));
        let shape = match c.kind.as_deref().unwrap_or("component") {
            "database" => format!("[(\"{text}\")]"),
            "queue" => format!("[/\"{text}\"/]"),
            "external" => format!("{{{{\"{text}\"}}}}"),
            "user" => format!("((\"{text}\"))"),
            "service" => format!("(\"{text}\")"),
            "component" => format!("[\"{text}\"]"),
            other => {
                return Err(ToolError::invalid(format!(
                    "component {:?} has kind {:?}: use service, database, queue, external, user or component",
                    c.id,
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        out.push_str(&format!("    {id}{shape}\n"));
        ids.insert(&c.id, id);
    }
    for e in edges {
        let find = |x: &str| {
            ids.get(x).cloned().ok_or_else(|| {
                ToolError::invalid(format!(
                    "edge {:?} -> {:?} names the unknown component {:?}; list it in components",
                    e.from.chars().take(64).collect::<String>(),
                    e.to.chars().take(64).collect::<String>(),
                    x.chars().take(64).collect::<String>()
                ))
            })
        };
        let (from, to) = (find(&e.from)?, find(&e.to)?);
        match e.label.as_deref().filter(|l| !l.trim().is_empty()) {
            Some(l) => out.push_str(&format!("    {from} -->|\"{}\"| {to}\n", label(l))),
            None => out.push_str(&format!("    {from} --> {to}\n")),
        }
    }
    Ok(out)
}
