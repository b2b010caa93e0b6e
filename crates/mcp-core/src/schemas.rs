//! Schema checks of Compose files and `.gitlab-ci.yml`, in process, against
//! the JSON schemas vendored under `crates/mcp-core/schemas/` (see its README
//! for their source and licences). Shared by the lint server (schema
//! findings), the docker server (`compose_validate`) and the gitlab server
//! (`ci_validate`), so all three judge a file by the same schema. Nothing is fetched: the validator is built without
//! its remote-reference features and both schemas are self-contained.
//!
//! YAML is read with `yaml_serde`, the serde_yaml API maintained by the YAML
//! organisation (serde_yaml itself is archived): it keeps serde_yaml's merge
//! keys (`<<`, which GitLab and Compose files use with anchors) and tagged
//! values (GitLab's `!reference`), which the checks need.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

/// One finding: where in the file, which schema keyword failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// 1-based line (the nearest line found for the JSON pointer).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The schema keyword that failed (`required`, `type`, `enum`…), or
    /// `yaml-syntax` / `yaml-merge` when the text is not usable YAML.
    pub rule: String,
    /// The JSON pointer of the offending value and the validator's message.
    pub message: String,
}

/// The Compose Specification's schema.
const COMPOSE: &str = include_str!("../schemas/compose-spec.json");
/// GitLab's CI schema.
const GITLAB: &str = include_str!("../schemas/gitlab-ci.json");
/// Larger files are reported instead of parsed.
const MAX_FILE: u64 = 4 << 20;
/// A message names the instance; long ones are cut.
const MAX_MESSAGE: usize = 400;

/// Which schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `compose-schema`.
    Compose,
    /// `gitlab-ci-schema`.
    GitlabCi,
}

impl Kind {
    /// The tool name.
    pub fn tool(self) -> &'static str {
        match self {
            Self::Compose => "compose-schema",
            Self::GitlabCi => "gitlab-ci-schema",
        }
    }

    /// The schema's version line for runs.
    pub fn version(self) -> &'static str {
        match self {
            Self::Compose => "compose-spec (check-jsonschema 0.39.0)",
            Self::GitlabCi => "gitlab-ci (check-jsonschema 0.39.0)",
        }
    }
}

fn validator(kind: Kind) -> Result<&'static Validator, String> {
    static COMPOSE_V: OnceLock<Result<Validator, String>> = OnceLock::new();
    static GITLAB_V: OnceLock<Result<Validator, String>> = OnceLock::new();
    let (cell, text) = match kind {
        Kind::Compose => (&COMPOSE_V, COMPOSE),
        Kind::GitlabCi => (&GITLAB_V, GITLAB),
    };
    cell.get_or_init(|| {
        let schema: Value = serde_json::from_str(text).map_err(|e| format!("vendored schema: {e}"))?;
        jsonschema::validator_for(&schema).map_err(|e| format!("vendored schema does not compile: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Check one file (relative to `project`); the findings, or why it could not be checked.
pub fn check(project: &std::path::Path, rel: &str, kind: Kind) -> Result<Vec<Finding>, String> {
    let path = project.join(rel);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{rel}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{rel} is not a regular file"));
    }
    if meta.len() > MAX_FILE {
        return Err(format!("{rel} is larger than {MAX_FILE} bytes; not checked"));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
    check_text(&text, kind)
}

/// Check YAML text. `Err` only when the vendored schema itself is unusable.
pub fn check_text(text: &str, kind: Kind) -> Result<Vec<Finding>, String> {
    let mut y: yaml_serde::Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, col) = e.location().map(|l| (l.line() as u32, l.column() as u32)).unwrap_or((1, 1));
            return Ok(vec![Finding {
                line,
                column: col,
                rule: "yaml-syntax".to_owned(),
                message: format!("not valid YAML: {e}"),
            }]);
        }
    };
    if let Err(e) = y.apply_merge() {
        return Ok(vec![Finding {
            line: 1,
            column: 1,
            rule: "yaml-merge".to_owned(),
            message: format!("merge keys (<<) do not resolve: {e}"),
        }]);
    }
    let instance = to_json(y);
    let v = validator(kind)?;
    let mut out = Vec::new();
    for e in v.iter_errors(&instance) {
        let pointer = e.instance_path().to_string();
        let segments: Vec<String> =
            pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        let (line, col) = locate(text, &segments);
        let mut msg = e.to_string();
        if msg.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg.truncate(cut);
            msg.push('…');
        }
        let at = if pointer.is_empty() { "(top level)".to_owned() } else { pointer.clone() };
        out.push(Finding { line, column: col, rule: e.kind().keyword().to_owned(), message: format!("{at}: {msg}") });
    }
    Ok(out)
}

/// YAML to JSON (for the validator, and for readers that want the file as
/// JSON): keys become strings, tags are dropped
/// (GitLab's `!reference [a, b]` validates as its list, as GitLab expands it
/// to a list), and numbers keep their kind.
pub fn to_json(y: yaml_serde::Value) -> Value {
    use yaml_serde::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        Y::Bool(b) => b.to_string(),
                        Y::Number(n) => n.to_string(),
                        Y::Null => "null".to_owned(),
                        other => yaml_serde::to_string(&other).unwrap_or_default().trim().to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => to_json(t.value),
    }
}

/// The line (and column) of a JSON pointer's target in block-style YAML,
/// found by indentation: each key is looked up below its parent, each index
/// counts the parent's `- ` items. Flow style and anchors stop the descent
/// at the deepest place found, which is still the right neighbourhood.
pub fn locate(text: &str, segments: &[String]) -> (u32, u32) {
    let lines: Vec<&str> = text.lines().collect();
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let significant = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    };
    // The block being searched: lines [start, end), children deeper than `parent`.
    let (mut start, mut end, mut parent): (usize, usize, isize) = (0, lines.len(), -1);
    let mut best = (1u32, 1u32);
    for seg in segments {
        // The next block: (its first line, its end, the indent its children exceed, its place).
        let mut next: Option<(usize, usize, isize, (u32, u32))> = None;
        if let Ok(k) = seg.parse::<usize>() {
            let mut count = 0;
            let mut item_indent: Option<usize> = None;
            for i in start..end {
                let l = lines[i];
                if !significant(l) {
                    continue;
                }
                let ind = indent_of(l);
                let t = l.trim_start();
                let deeper = (ind as isize) > parent || (parent >= 0 && ind as isize == parent && t.starts_with('-'));
                if deeper && (t.starts_with("- ") || t == "-") && item_indent.is_none_or(|x| x == ind) {
                    item_indent = Some(ind);
                    if count == k {
                        let stop = block_end(&lines, i + 1, end, ind, &significant, &indent_of);
                        // Keys of a `- key: v` item sit two columns in.
                        next = Some((i, stop, ind as isize + 1, (i as u32 + 1, ind as u32 + 1)));
                        break;
                    }
                    count += 1;
                }
            }
        } else {
            for i in start..end {
                let l = lines[i];
                if !significant(l) {
                    continue;
                }
                let mut ind = indent_of(l);
                let mut t = l.trim_start();
                while let Some(r) = t.strip_prefix("- ") {
                    ind += 2 + (r.len() - r.trim_start().len());
                    t = r.trim_start();
                }
                if (ind as isize) <= parent {
                    continue;
                }
                let is_key = [format!("{seg}:"), format!("\"{seg}\":"), format!("'{seg}':")]
                    .iter()
                    .any(|k| t.starts_with(k.as_str()) && t[k.len()..].chars().next().is_none_or(|c| c == ' '));
                if is_key {
                    let stop = block_end(&lines, i + 1, end, ind, &significant, &indent_of);
                    next = Some((i + 1, stop, ind as isize, (i as u32 + 1, ind as u32 + 1)));
                    break;
                }
            }
        }
        match next {
            Some((s, e, p, at)) => {
                (start, end, parent) = (s, e, p);
                best = at;
            }
            None => break,
        }
    }
    best
}

fn block_end(
    lines: &[&str],
    from: usize,
    end: usize,
    indent: usize,
    significant: &dyn Fn(&str) -> bool,
    indent_of: &dyn Fn(&str) -> usize,
) -> usize {
    (from..end).find(|&i| significant(lines[i]) && indent_of(lines[i]) <= indent).unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn locates_pointers() {
        let y = "services:\n  web:\n    image: nginx\n    ports: \"80:80\"\n  db:\n    environment:\n      - A=1\n      - B=2\n";
        assert_eq!(locate(y, &segs(&["services", "web", "ports"])), (4, 5));
        assert_eq!(locate(y, &segs(&["services", "db", "environment", "1"])), (8, 7));
        assert_eq!(locate(y, &segs(&[])), (1, 1));
    }

    #[test]
    fn compose_and_gitlab() {
        let d = check_text("services:\n  web:\n    image: nginx\n    ports: \"80:80\"\n", Kind::Compose).unwrap();
        assert!(!d.is_empty(), "{d:?}");
        assert!(d.iter().any(|d| d.line == 4), "{d:?}");
        let ok = check_text("services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n", Kind::Compose).unwrap();
        assert!(ok.is_empty(), "{ok:?}");
        let good = ".base: &base\n  image: alpine\nbuild:\n  <<: *base\n  stage: build\n  script:\n    - echo hi\n    - !reference [.base, image]\n";
        assert!(check_text(good, Kind::GitlabCi).unwrap().is_empty());
        let bad = "build:\n  stage: build\n  script: echo hi\n  when: sometimes\n";
        assert!(!check_text(bad, Kind::GitlabCi).unwrap().is_empty());
        let syntax = check_text("a: [\n", Kind::Compose).unwrap();
        assert_eq!(syntax[0].rule, "yaml-syntax");
    }
}
