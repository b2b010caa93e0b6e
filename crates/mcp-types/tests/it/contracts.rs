//! Each contract type against the golden `tools/list` of the program that
//! answers it: a field a client sends must exist in the callee's
//! `inputSchema` (and every field the callee requires must be sent); a
//! field a client reads must exist in the callee's `outputSchema` (and be
//! required there when the client cannot do without it), with compatible
//! JSON types. A rename on either side fails here, with the path of the
//! field and the fix.

use std::path::PathBuf;

use mcp_types::{approval, browser, docker, documents, peer, plan, registry};
use schemars::JsonSchema;
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    /// The client sends it: `inputSchema`.
    Sends,
    /// The client reads it: `outputSchema`.
    Reads,
}

/// A program's golden listing other than the default one (the agent's with
/// a model provider lists its LLM steps).
fn golden_file(program_dir: &str, file: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(program_dir).join("tests/it/golden").join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn tool_schema(golden: &Value, tool: &str, dir: Dir) -> Value {
    let tools = golden.as_array().cloned().or_else(|| golden["tools"].as_array().cloned()).unwrap_or_default();
    let t = tools.iter().find(|t| t["name"] == tool).unwrap_or_else(|| panic!("the golden lists no tool {tool}"));
    t[if dir == Dir::Sends { "inputSchema" } else { "outputSchema" }].clone()
}

/// Follow `$ref` (`#/$defs/X`) within `root`.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => resolve(&root["$defs"][name], root),
        None => schema,
    }
}

/// The JSON types a schema allows (`integer` counts as a `number`).
fn types(s: &Value) -> Vec<String> {
    let mut t: Vec<String> = match &s["type"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => {
            // anyOf/oneOf (Option<Enum>, enums): the union of the branches.
            let branches = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array);
            branches.map(|b| b.iter().flat_map(types).collect()).unwrap_or_default()
        }
    };
    if s.get("const").is_some_and(Value::is_string) || s.get("enum").is_some() && t.is_empty() {
        t.push("string".into());
    }
    t.sort();
    t.dedup();
    t
}

fn accepts(allowed: &[String], t: &str) -> bool {
    allowed.is_empty() || allowed.iter().any(|a| a == t || (a == "number" && t == "integer"))
}

fn required(s: &Value) -> Vec<&str> {
    s["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn check(c: &Value, c_root: &Value, k: &Value, k_root: &Value, path: &str, dir: Dir, errors: &mut Vec<String>) {
    let (c, k) = (resolve(c, c_root), resolve(k, k_root));
    // Types: what the sender may produce, the receiver must accept.
    let (ct, kt) = (types(c), types(k));
    let (from, to) = if dir == Dir::Sends { (&ct, &kt) } else { (&kt, &ct) };
    for t in from {
        if !accepts(to, t) {
            errors.push(format!("{path}: the sender may give {t} but the receiver takes {to:?}"));
        }
    }
    if let Some(props) = c["properties"].as_object() {
        let Some(kprops) = k["properties"].as_object() else {
            errors.push(format!("{path}: the callee has no object here"));
            return;
        };
        for (name, cs) in props {
            let p = format!("{path}.{name}");
            match kprops.get(name) {
                Some(ks) => check(cs, c_root, ks, k_root, &p, dir, errors),
                None => errors.push(format!("{p}: the callee has no such field (renamed or removed?)")),
            }
        }
        let (creq, kreq) = (required(c), required(k));
        match dir {
            Dir::Sends => {
                for r in kreq.iter().filter(|r| !creq.contains(r)) {
                    errors.push(format!("{path}.{r}: the callee requires it but the client may leave it out"));
                }
            }
            Dir::Reads => {
                for r in creq.iter().filter(|r| !kreq.contains(r)) {
                    errors.push(format!("{path}.{r}: the client needs it but the callee may leave it out"));
                }
            }
        }
    }
    if c.get("items").is_some() {
        check(&c["items"], c_root, &k["items"], k_root, &format!("{path}[]"), dir, errors);
    }
}

fn contract<T: JsonSchema>(program_dir: &str, tool: &str, dir: Dir, errors: &mut Vec<String>) {
    contract_in::<T>(program_dir, "tools_list.json", tool, dir, errors);
}

fn contract_in<T: JsonSchema>(program_dir: &str, file: &str, tool: &str, dir: Dir, errors: &mut Vec<String>) {
    let c = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    let k = tool_schema(&golden_file(program_dir, file), tool, dir);
    assert!(k.is_object(), "{program_dir} {tool}: no {dir:?} schema in the golden");
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or("?").to_owned();
    check(&c, &c, &k, &k, &format!("{name} ({program_dir} {tool})"), dir, errors);
}

/// What the planner's LLM steps send `llm_fix` (`actions::implement::llm`
/// adds the project, the spec, the request and the token budget to the
/// step's own `failure`).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct LlmFix {
    project: String,
    spec: mcp_types::spec::ProjectSpec,
    failure: peer::FixFailure,
    request_id: Option<String>,
    max_tokens: Option<u64>,
}

#[test]
fn every_contract_matches_its_callee() {
    let mut e = Vec::new();
    contract::<peer::GitCommitted>("servers/git", "git_commit", Dir::Reads, &mut e);
    contract::<peer::GitStatus>("servers/git", "git_status", Dir::Reads, &mut e);
    contract::<peer::GitLog>("servers/git", "git_log", Dir::Reads, &mut e);
    contract::<peer::GitTags>("servers/git", "git_tag", Dir::Reads, &mut e);
    contract::<peer::ShellRun>("servers/shell", "run", Dir::Reads, &mut e);
    contract::<peer::LintRunArgs>("servers/lint", "lint_run", Dir::Sends, &mut e);
    contract::<peer::LintReport>("servers/lint", "lint_run", Dir::Reads, &mut e);
    contract::<peer::TestRunArgs>("servers/test", "test_run", Dir::Sends, &mut e);
    contract::<peer::TestReport>("servers/test", "test_run", Dir::Reads, &mut e);
    contract_in::<LlmFix>("clients/llm-agent", "tools_list_openai.json", "llm_fix", Dir::Sends, &mut e);
    contract::<peer::NewMail>("servers/email", "wait_for_new", Dir::Reads, &mut e);
    contract::<peer::Reply>("servers/email", "reply", Dir::Sends, &mut e);
    contract::<peer::DecisionRecord>("servers/sql", "decision_record", Dir::Sends, &mut e);
    contract::<peer::MessageRecord>("servers/sql", "message_record", Dir::Sends, &mut e);
    contract::<plan::PlanStart>("clients/planner", "plan_start", Dir::Sends, &mut e);
    contract::<plan::RunRef>("clients/planner", "plan_start", Dir::Reads, &mut e);
    contract::<plan::RunRef>("clients/planner", "plan_status", Dir::Reads, &mut e);
    contract::<plan::TemplatesList>("clients/planner", "templates_list", Dir::Reads, &mut e);
    // The approval queue: what the gateway and the agent send and read.
    contract::<approval::ApprovalsList>("clients/planner", "approvals_list", Dir::Reads, &mut e);
    contract::<approval::ApprovalDetail>("clients/planner", "approval_get", Dir::Reads, &mut e);
    contract::<approval::Approval>("clients/planner", "approval_get", Dir::Reads, &mut e);
    contract::<approval::ApprovalDecide>("clients/planner", "approval_decide", Dir::Sends, &mut e);
    contract::<approval::Approval>("clients/planner", "approval_decide", Dir::Reads, &mut e);
    // Containers and deploys: what the planner and the gitlab server's local pipelines send and read.
    contract::<docker::ContainerRunArgs>("servers/docker", "container_run", Dir::Sends, &mut e);
    contract::<docker::ContainerRun>("servers/docker", "container_run", Dir::Reads, &mut e);
    contract::<docker::AppDeployArgs>("servers/docker", "app_deploy", Dir::Sends, &mut e);
    contract::<docker::AppState>("servers/docker", "app_deploy", Dir::Reads, &mut e);
    contract::<docker::AppState>("servers/docker", "app_status", Dir::Reads, &mut e);
    contract::<registry::ManifestInput>("servers/registry", "pin_dependencies", Dir::Sends, &mut e);
    contract::<registry::PinnedManifest>("servers/registry", "pin_dependencies", Dir::Reads, &mut e);
    contract::<documents::SpecGenerate>("servers/spec", "spec_generate", Dir::Sends, &mut e);
    contract::<documents::SpecGenerated>("servers/spec", "spec_generate", Dir::Reads, &mut e);
    contract::<browser::NavigateArgs>("servers/browser", "browser_navigate", Dir::Sends, &mut e);
    contract::<browser::Navigation>("servers/browser", "browser_navigate", Dir::Reads, &mut e);
    contract::<browser::ScreenshotArgs>("servers/browser", "browser_screenshot", Dir::Sends, &mut e);
    contract::<browser::Screenshot>("servers/browser", "browser_screenshot", Dir::Reads, &mut e);
    assert!(
        e.is_empty(),
        "contracts that no longer match their callee (fix the server, or the type in mcp-types and its callers, \
         then refresh the golden on purpose):\n  {}",
        e.join("\n  ")
    );
}

/// The check itself can fail: a renamed field, a dropped requirement and a
/// changed type are each caught.
#[test]
fn the_check_catches_renames_and_type_changes() {
    let callee = serde_json::json!({
        "type": "object", "required": ["id", "n"],
        "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}
    });
    let run = |c: Value, dir| {
        let mut e = Vec::new();
        check(&c, &c, &callee, &callee, "T", dir, &mut e);
        e
    };
    let same = serde_json::json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}});
    assert!(run(same.clone(), Dir::Reads).is_empty());
    let renamed =
        serde_json::json!({"type": "object", "required": ["ident"], "properties": {"ident": {"type": "string"}}});
    assert!(run(renamed, Dir::Reads)[0].contains("no such field"));
    let retyped = serde_json::json!({"type": "object", "properties": {"n": {"type": "string"}}});
    assert!(!run(retyped, Dir::Reads).is_empty());
    // Sending without a field the callee requires.
    assert!(run(same, Dir::Sends).iter().any(|e| e.contains("T.n: the callee requires it")));
}
