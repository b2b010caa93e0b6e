//! The templates folder: project skeletons with the argv of their steps,
//! the `SPEC.md` template and the email templates. Loaded at start-up and
//! checked then (a broken template is a configuration error, not a failed
//! run), rendered with `{{name}}` placeholders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Largest template file.
const MAX_FILE: u64 = 256 * 1024;

/// `template.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `python`, `rust`, ...
    pub language: String,
    /// `cli`, `library`, `service`.
    pub kind: String,
    /// What it is.
    pub description: String,
    /// argv lists per phase: `install`, `build`, `lint`, `test`.
    pub commands: BTreeMap<String, Vec<Vec<String>>>,
    /// How a service is deployed (services only; with `PLANNER_DEPLOY=on`):
    /// the template then ships a `Dockerfile` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
}

/// `template.json`'s `deploy`: what the image listens on and how its health
/// is probed inside the container.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    /// The port the service listens on in the container (the `Dockerfile`'s `EXPOSE`).
    pub port: u16,
    /// The health probe, an argv run inside the container (never a shell string); exit 0 is healthy.
    pub health: Vec<String>,
}

/// A project template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Folder name (`python-cli`).
    pub name: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Files: path relative to the project (with `__module__` segments), contents.
    pub files: Vec<(String, String)>,
}

/// Everything under the templates folder.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Project templates by name.
    pub projects: BTreeMap<String, Template>,
    /// `SPEC.md.tmpl`.
    pub spec: String,
    /// Email templates by file stem (`completed`, `failed`, `approval`, and `pl/...`).
    pub email: BTreeMap<String, String>,
}

/// The phases a manifest may name, in the order they run.
pub const PHASES: &[&str] = &["install", "build", "lint", "test"];

fn read(path: &Path) -> Result<String, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file (links are not followed)", path.display()));
    }
    if meta.len() > MAX_FILE {
        return Err(format!("{}: larger than {MAX_FILE} bytes", path.display()));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let meta = std::fs::symlink_metadata(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(root, &p, out)?;
        } else {
            // `template.json` goes into the project too: it says how the
            // fleet builds, lints and tests it, which is where the lint and
            // test servers look first (and what a person reads to repeat it).
            let rel = p.strip_prefix(root).map_err(|e| e.to_string())?.to_string_lossy().into_owned();
            out.push((rel, read(&p)?));
        }
    }
    Ok(())
}

/// The values a project template's files may name (`actions::vars` gives
/// each of them). A file naming anything else — or Rust's own `{{`, which
/// the renderer reads as a placeholder — is refused when the templates load,
/// not when a requester's run reaches the scaffold.
pub const PROJECT_VARS: &[&str] = &[
    "status",
    "name",
    "slug",
    "module",
    "summary",
    "language",
    "kind",
    "template",
    "delivery",
    "request_id",
    "trace_id",
    "features",
    "acceptance",
    "requester",
    "requested_at",
    "toolchain_image",
];

/// Every placeholder of `text` is a known value.
fn check_placeholders(text: &str) -> Result<(), String> {
    let vars: BTreeMap<&str, String> = PROJECT_VARS.iter().map(|k| (*k, String::new())).collect();
    render(text, &vars).map(|_| ())
}

impl Templates {
    /// Load and check the folder.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut projects = BTreeMap::new();
        let pdir = dir.join("projects");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&pdir)
            .map_err(|e| format!("{}: {e}", pdir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("template.json").is_file())
            .collect();
        names.sort();
        for p in names {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let manifest: Manifest = serde_json::from_str(&read(&p.join("template.json"))?)
                .map_err(|e| format!("{}/template.json: {e}", p.display()))?;
            for (phase, cmds) in &manifest.commands {
                if !PHASES.contains(&phase.as_str()) {
                    return Err(format!("{name}: unknown phase {phase:?} (known: {PHASES:?})"));
                }
                if cmds.iter().any(Vec::is_empty) {
                    return Err(format!("{name}: an empty argv in phase {phase}"));
                }
            }
            let mut files = Vec::new();
            walk(&p, &p, &mut files)?;
            if let Some(d) = &manifest.deploy {
                if d.port == 0 || d.health.is_empty() || d.health.iter().any(String::is_empty) {
                    return Err(format!("{name}: deploy needs a port and a health argv without empty words"));
                }
                if !files.iter().any(|(rel, _)| rel == "Dockerfile") {
                    return Err(format!("{name}: deploy needs a Dockerfile in the template"));
                }
            }
            for (rel, content) in &files {
                check_placeholders(content).map_err(|e| format!("{name}/{rel}: {e}"))?;
            }
            projects.insert(name.clone(), Template { name, manifest, files });
        }
        if projects.is_empty() {
            return Err(format!("no project templates under {}", pdir.display()));
        }
        let spec = read(&dir.join("SPEC.md.tmpl"))?;
        check_placeholders(&spec).map_err(|e| format!("SPEC.md.tmpl: {e}"))?;
        let mut email = BTreeMap::new();
        for stem in ["completed", "failed", "approval"] {
            for (key, path) in
                [(stem.to_owned(), format!("{stem}.txt")), (format!("pl/{stem}"), format!("pl/{stem}.txt"))]
            {
                if let Ok(t) = read(&dir.join("email").join(path)) {
                    email.insert(key, t);
                }
            }
        }
        // Every report and approval request in English and Polish (the requester's language).
        for needed in ["completed", "failed", "approval", "pl/completed", "pl/failed", "pl/approval"] {
            if !email.contains_key(needed) {
                return Err(format!("{}/email/{needed}.txt is missing", dir.display()));
            }
        }
        Ok(Self { projects, spec, email })
    }

    /// The template for a language and kind.
    pub fn find(&self, language: &str, kind: &str) -> Option<&Template> {
        self.projects.values().find(|t| t.manifest.language == language && t.manifest.kind == kind)
    }

    /// Only the templates named (all when `names` is empty); a name that is not a template is an error.
    pub fn only(mut self, names: &[String]) -> Result<Self, String> {
        if names.is_empty() {
            return Ok(self);
        }
        if let Some(n) = names.iter().find(|n| !self.projects.contains_key(n.as_str())) {
            return Err(format!(
                "no template {n:?} (have: {})",
                self.projects.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        self.projects.retain(|k, _| names.contains(k));
        Ok(self)
    }

    /// `language/kind` pairs offered, for messages.
    pub fn offered(&self) -> Vec<String> {
        self.projects.values().map(|t| format!("{} {}", t.manifest.language, t.manifest.kind)).collect()
    }
}

// One rule for the whole fleet (the agent renders its emails with it too).
pub use mcp_core::template::render;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_placeholders_are_refused_at_load() {
        assert!(check_placeholders("fn f() { format!(\"{{}}\") }").is_err(), "Rust's own {{ is caught");
        assert!(check_placeholders("{{slug}} and {{module}}").is_ok());
        assert!(check_placeholders("{{nope}}").is_err());
    }

    #[test]
    fn the_repository_templates_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates");
        let t = Templates::load(&dir).unwrap();
        assert!(t.find("python", "cli").is_some());
        assert!(t.find("python", "library").is_some());
        assert!(t.find("rust", "cli").is_some());
        assert!(t.find("python", "service").is_some());
        assert!(t.find("rust", "service").is_some());
        for p in t.projects.values() {
            for phase in ["install", "build", "lint", "test"] {
                assert!(p.manifest.commands.contains_key(phase), "{} has no {phase}", p.name);
            }
        }
    }
}
