//! The one diagnostic shape every tool's output is turned into, so a caller
//! (the planner, a model) reads ruff, clippy and hadolint the same way.

use std::path::Path;

use mcp_core::prelude::*;

/// How serious a finding is, in SARIF's three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the build or is a defect.
    Error,
    /// Should be fixed.
    Warning,
    /// Style, information.
    Note,
}

impl Severity {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

/// One finding of one tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// The tool that reported it (`ruff`, `clippy`, `compose-schema`...).
    pub tool: String,
    /// The file, relative to the project.
    pub file: String,
    /// First line, 1-based (0 when the tool names no line).
    pub line: u32,
    /// First column, 1-based (0 when the tool names none).
    pub column: u32,
    /// Last line, when the tool gives a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// Column after the end, when the tool gives a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    /// The rule's code as the tool names it (`F401`, `clippy::needless_return`, `SC2086`,
    /// `format` for formatters).
    pub rule: String,
    /// `error`, `warning` or `note`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// A suggested fix where the tool gives one: replacement text, an edit, or a diff hunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The rule's documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
}

impl Diagnostic {
    /// A finding at a line and column, with no range, fix or link yet.
    pub fn new(
        tool: &str,
        file: String,
        line: u32,
        column: u32,
        rule: String,
        severity: Severity,
        message: String,
    ) -> Self {
        Self {
            tool: tool.to_owned(),
            file,
            line,
            column,
            end_line: None,
            end_column: None,
            rule,
            severity,
            message,
            fix: None,
            help_uri: None,
        }
    }
}

/// A tool's file name made relative to the project: tools print absolute
/// paths (black, clippy in a workspace), `./x` or plain relative ones.
pub fn relative(project: &Path, file: &str) -> String {
    let p = Path::new(file);
    let rel = if p.is_absolute() {
        match p.strip_prefix(project) {
            Ok(r) => r.to_path_buf(),
            Err(_) => return file.to_owned(),
        }
    } else {
        p.to_path_buf()
    };
    let s = rel.to_string_lossy().into_owned();
    let mut s = s.as_str();
    while let Some(r) = s.strip_prefix("./") {
        s = r;
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let p = Path::new("/r/proj");
        assert_eq!(relative(p, "/r/proj/src/a.py"), "src/a.py");
        assert_eq!(relative(p, "./src/a.py"), "src/a.py");
        assert_eq!(relative(p, "src/a.py"), "src/a.py");
        assert_eq!(relative(p, "/elsewhere/a.py"), "/elsewhere/a.py");
    }
}
