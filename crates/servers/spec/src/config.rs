//! Configuration of `mcp-server-spec`: every variable it reads. The model
//! variables are the llm-agent's (`LLM_*`), so one setting of the fleet's
//! model serves both.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// A directory of the deployment's own templates (`<name>.j2` or `<name>.md.j2`...: the name is the file
/// name up to its first dot). A template named like a built-in one replaces it. Default: none (built-in
/// templates only). Locally `templates/spec`, in compose `/templates/spec`.
pub const SPEC_TEMPLATES_DIR: &str = "SPEC_TEMPLATES_DIR";
/// Private state: the default SQLite file (default `./.data/spec`).
pub const SPEC_DATA_DIR: &str = "SPEC_DATA_DIR";
/// Where the spec workflow (documents, states, decisions) is stored: `sqlite:PATH` (default
/// `sqlite:<SPEC_DATA_DIR>/spec.db`) or `postgres://...` (role `fleet_spec` in compose).
pub const SPEC_DATABASE_URL: &str = "SPEC_DATABASE_URL";
/// Largest rendered document, bytes (default 1M): a render that grows past it stops with an error.
pub const SPEC_MAX_OUTPUT_BYTES: &str = "SPEC_MAX_OUTPUT_BYTES";
/// Largest input a tool takes (data as JSON, a document's text, an existing changelog), bytes
/// (default 512K).
pub const SPEC_MAX_INPUT_BYTES: &str = "SPEC_MAX_INPUT_BYTES";
/// Fuel of one render (default 200000, minijinja's unit: about one instruction): bounds loops and
/// recursion in templates.
pub const SPEC_TEMPLATE_FUEL: &str = "SPEC_TEMPLATE_FUEL";
/// The model provider for `spec_draft_section`: `openai` (an OpenAI-compatible chat completions API)
/// or `none` (the default; anything else but `rules`, the agent's own default, is an error).
/// Without a model the server renders templates only, and says so.
pub const LLM_PROVIDER: &str = "LLM_PROVIDER";
/// The API's base URL, up to and including `/v1` (`http://ollama:11434/v1`).
pub const LLM_BASE_URL: &str = "LLM_BASE_URL";
/// The model's name.
pub const LLM_MODEL: &str = "LLM_MODEL";
/// The API key (optional for local servers).
pub const LLM_API_KEY: &str = "LLM_API_KEY";
/// A file holding the API key, instead of `LLM_API_KEY`.
pub const LLM_API_KEY_FILE: &str = "LLM_API_KEY_FILE";
/// Time limit of one model call, seconds (default 120).
pub const LLM_TIMEOUT_SECS: &str = "LLM_TIMEOUT_SECS";

/// The model, when one is configured.
#[derive(Clone)]
pub struct Model {
    /// Base URL without a trailing `/`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key (never logged: `Debug` hides it).
    pub api_key: Option<String>,
    /// Call time limit.
    pub timeout: Duration,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The deployment's template directory.
    pub templates_dir: Option<PathBuf>,
    /// Private state.
    pub data_dir: PathBuf,
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// Largest output.
    pub max_output: usize,
    /// Largest input.
    pub max_input: usize,
    /// Fuel per render.
    pub fuel: u64,
    /// The model for drafting.
    pub model: Option<Model>,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let data_dir = PathBuf::from(r.string(SPEC_DATA_DIR, "./.data/spec"));
        let default_url = format!("sqlite:{}", data_dir.join("spec.db").display());
        let fuel: u64 = r.parse(SPEC_TEMPLATE_FUEL, 200_000);
        if fuel < 1000 {
            r.error(format!("{SPEC_TEMPLATE_FUEL} must be at least 1000"));
        }
        let model = match r.string(LLM_PROVIDER, "none").as_str() {
            // `rules` is the agent's model-less default; the same value means "no model" here.
            "none" | "rules" | "" => None,
            "openai" => {
                let base_url = r.url(LLM_BASE_URL).unwrap_or_default().trim_end_matches('/').to_owned();
                if base_url.is_empty() {
                    r.error(format!("{LLM_PROVIDER}=openai needs {LLM_BASE_URL}"));
                }
                let model = r.optional(LLM_MODEL).unwrap_or_default();
                if model.is_empty() {
                    r.error(format!("{LLM_PROVIDER}=openai needs {LLM_MODEL}"));
                }
                Some(Model {
                    base_url,
                    model,
                    api_key: r.secret(LLM_API_KEY, LLM_API_KEY_FILE),
                    timeout: r.secs(LLM_TIMEOUT_SECS, Duration::from_secs(120)),
                })
            }
            other => {
                r.error(format!("{LLM_PROVIDER}={other:?}: expected \"none\" or \"openai\""));
                None
            }
        };
        Self {
            templates_dir: r.optional(SPEC_TEMPLATES_DIR).filter(|s| !s.is_empty()).map(PathBuf::from),
            database_url: r.string(SPEC_DATABASE_URL, &default_url),
            data_dir,
            max_output: r.bytes(SPEC_MAX_OUTPUT_BYTES, 1 << 20),
            max_input: r.bytes(SPEC_MAX_INPUT_BYTES, 512 << 10),
            fuel,
            model,
        }
    }

    /// Settings for tests: a database URL, built-in templates only, no model.
    pub fn for_tests(url: &str) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut c = Self::read(&mut Reader::new(&env));
        c.database_url = url.to_owned();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(env: &[(&str, &str)]) -> (Config, Result<(), mcp_core::ConfigErrors>) {
        let env: std::collections::HashMap<&str, &str> = env.iter().copied().collect();
        let mut r = Reader::new(&env);
        let c = Config::read(&mut r);
        (c, r.finish())
    }

    #[test]
    fn model_settings() {
        let (c, ok) = read(&[]);
        assert!(ok.is_ok() && c.model.is_none() && c.templates_dir.is_none());
        let (_, errs) = read(&[("LLM_PROVIDER", "openai")]);
        let e = errs.unwrap_err().to_string();
        assert!(e.contains("LLM_BASE_URL") && e.contains("LLM_MODEL"), "{e}");
        let (c, ok) = read(&[
            ("LLM_PROVIDER", "openai"),
            ("LLM_BASE_URL", "http://127.0.0.1:11434/v1/"),
            ("LLM_MODEL", "m"),
            ("LLM_API_KEY", "sk-x"),
        ]);
        assert!(ok.is_ok());
        let m = c.model.unwrap();
        assert_eq!(m.base_url, "http://127.0.0.1:11434/v1");
        assert!(!format!("{m:?}").contains("sk-x"), "the key never shows in Debug");
        let (_, errs) = read(&[("LLM_PROVIDER", "magic"), ("SPEC_TEMPLATE_FUEL", "5")]);
        let e = errs.unwrap_err().to_string();
        assert!(e.contains("magic") && e.contains("SPEC_TEMPLATE_FUEL"), "{e}");
    }
}
