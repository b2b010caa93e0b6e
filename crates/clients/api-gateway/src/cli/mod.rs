//! `mcp-fleet`, the command line client of the gateway's REST API, as a
//! library module so its parsing, rendering and exit codes are tested
//! without a process. `src/bin/mcp-fleet.rs` only calls [`main`].
//!
//! - `args` — the grammar (clap derive) and the environment variables.
//! - `api` — the HTTP client, the errors and their exit codes.
//! - `render` — the server's JSON as tables and text (pure functions).
//! - `waterfall` — `trace show`'s text waterfall (pure).
//! - `watch` — `request watch`: the event stream and the progress lines.
//!
//! Stdout carries the answer only (with `--json`, the server's JSON and
//! nothing else); warnings and errors go to stderr, so output can be piped.

pub mod api;
pub mod args;
pub mod render;
pub mod watch;
pub mod waterfall;

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde_json::{Map, Value, json};

pub use api::{CliError, exit};
pub use args::Cli;
use args::{ApiKey, Command, KeysCmd, RequestCmd, ToolsCmd, TraceCmd};

/// Run `mcp-fleet` with the process's arguments and return its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help and version on stdout (code 0) and errors on
        // stderr (code 2), as it would when exiting itself.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    let key_given = cli.key.is_some() || cli.key_file.is_some();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(run(cli, &mut stdout)) {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`mcp-fleet logs | head`) is not an error.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
        Err(e) => {
            report(&e, key_given);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Print an error on stderr, with a hint where one helps.
fn report(e: &CliError, key_given: bool) {
    eprintln!("error: {e}");
    let hint = match e {
        CliError::Problem(p) if p.status == 401 && !key_given => {
            Some(format!("no key was given: use --key, --key-file, {} or {}", args::KEY_ENV, args::KEY_FILE_ENV))
        }
        CliError::Connect { .. } => Some(format!("is the gateway running? (--url or {})", args::URL_ENV)),
        _ => None,
    };
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
}

/// Run a parsed command line, writing its output to `out`; the exit code
/// when it ran (a failed run or a tool's error is 1, not an `Err`).
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<u8, CliError> {
    let key = resolve_key(cli.key, cli.key_file.as_deref())?;
    let api = api::Api::new(cli.url, key.as_ref(), Duration::from_secs(cli.timeout))?;
    let json = cli.json;
    // Print the answer: the JSON itself with `--json`, else its rendering.
    let mut show = |v: &Value, render: &dyn Fn(&Value) -> String| -> Result<(), CliError> {
        if json {
            if !v.is_null() {
                writeln!(out, "{}", pretty(v))?;
            }
        } else {
            out.write_all(render(v).as_bytes())?;
        }
        Ok(())
    };
    match cli.command {
        Command::Request(cmd) => match cmd {
            RequestCmd::Submit { from, subject, text, file } => {
                let text = match (text, file) {
                    (Some(t), _) => t,
                    (None, Some(path)) => read_input(&path, "the request text")?,
                    // clap's required group makes this unreachable; say so rather than panic.
                    (None, None) => return Err(CliError::Usage("give the text with --text or --file".to_owned())),
                };
                if text.trim().is_empty() {
                    return Err(CliError::Usage("the request text is empty".to_owned()));
                }
                let v = api.post(&["requests"], &json!({"requester": from, "subject": subject, "text": text})).await?;
                show(&v, &render::request_submitted)?;
            }
            RequestCmd::List { state, limit } => {
                let v = api.get(&["requests"], &[("state", state), ("limit", limit.map(|n| n.to_string()))]).await?;
                show(&v, &render::requests)?;
            }
            RequestCmd::Show { id } => show(&api.get(&["requests", &id], &[]).await?, &render::request_detail)?,
            RequestCmd::Watch { id } => return watch::watch(&api, &id, json, out).await,
            RequestCmd::Cancel { id, reason } => {
                let v = api.post(&["requests", &id, "cancel"], &optional("reason", reason)).await?;
                show(&v, &|v| render::request_changed(v, "cancelled"))?;
            }
            RequestCmd::Retry { id } => {
                let v = api.post(&["requests", &id, "retry"], &json!({})).await?;
                show(&v, &|v| render::request_changed(v, "retried"))?;
            }
        },
        Command::Approve { id, reason } => {
            let v = api.post(&["approvals", &id, "approve"], &optional("reason", reason)).await?;
            show(&v, &render::approval_decided)?;
        }
        Command::Deny { id, reason } => {
            if reason.trim().is_empty() {
                return Err(CliError::Usage("a denial needs a --reason".to_owned()));
            }
            let v = api.post(&["approvals", &id, "deny"], &json!({"reason": reason})).await?;
            show(&v, &render::approval_decided)?;
        }
        Command::Approvals { state, limit } => {
            let v = api.get(&["approvals"], &[("state", state), ("limit", limit.map(|n| n.to_string()))]).await?;
            show(&v, &render::approvals)?;
        }
        Command::Tools(ToolsCmd::List { server }) => {
            let mut v = api.get(&["tools"], &[]).await?;
            if let Some(s) = server {
                v = render::filter_tools(v, &s);
            }
            show(&v, &render::tools)?;
        }
        Command::Tools(ToolsCmd::Call { name, args, args_file }) => {
            let arguments = tool_arguments(args, args_file.as_deref())?;
            let v = api.post(&["tools", &name, "call"], &json!({"arguments": arguments})).await?;
            show(&v, &render::tool_result)?;
            if v.get("is_error").and_then(Value::as_bool) == Some(true) {
                eprintln!("error: {}", render::tool_error_line(&v));
                return Ok(exit::FAILURE);
            }
        }
        Command::Servers => show(&api.get(&["servers"], &[]).await?, &render::servers)?,
        Command::Trace(TraceCmd::Show { trace_id }) => {
            show(&api.get(&["traces", &trace_id], &[]).await?, &waterfall::render)?;
        }
        Command::Logs(a) => {
            let q = [
                ("trace_id", a.trace_id),
                ("service", a.service),
                ("query", a.query),
                ("since", a.since),
                ("limit", a.limit.map(|n| n.to_string())),
            ];
            show(&api.get(&["logs"], &q).await?, &render::logs)?;
        }
        Command::Audit(a) => {
            let q = [
                ("subject", a.subject),
                ("tool", a.tool),
                ("decision", a.decision),
                ("limit", a.limit.map(|n| n.to_string())),
            ];
            show(&api.get(&["audit"], &q).await?, &render::audit)?;
        }
        Command::Keys(KeysCmd::Create { name, role, allow, deny, expires_in_days }) => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            body.insert("role".into(), role.as_str().into());
            if !allow.is_empty() {
                body.insert("allow".into(), allow.into());
            }
            if !deny.is_empty() {
                body.insert("deny".into(), deny.into());
            }
            if let Some(d) = expires_in_days {
                body.insert("expires_in_days".into(), d.into());
            }
            let v = api.post(&["keys"], &Value::Object(body)).await?;
            if json {
                // Stdout holds the JSON only, so the warning goes to stderr.
                eprintln!("{}", render::KEY_SHOWN_ONCE);
            }
            show(&v, &render::key_created)?;
        }
        Command::Keys(KeysCmd::List) => show(&api.get(&["keys"], &[]).await?, &render::keys)?,
        Command::Keys(KeysCmd::Revoke { id }) => {
            let v = api.delete(&["keys", &id]).await?;
            show(&v, &|_| render::key_revoked(&id))?;
        }
    }
    Ok(exit::OK)
}

/// The credential from `--key` or `--key-file` (clap already refuses both;
/// this holds for callers that build a [`Cli`] by hand too).
pub fn resolve_key(key: Option<ApiKey>, key_file: Option<&Path>) -> Result<Option<ApiKey>, CliError> {
    match (key, key_file) {
        (Some(_), Some(_)) => Err(CliError::Usage("give --key or --key-file, not both".to_owned())),
        (Some(k), None) => Ok(Some(k)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Usage(format!("cannot read the key file {}: {e}", path.display())))?;
            // The parse error names what is wrong, never the content.
            text.parse::<ApiKey>().map(Some).map_err(|e| CliError::Usage(format!("key file {}: {e}", path.display())))
        }
        (None, None) => Ok(None),
    }
}

/// `tools call`'s arguments: `--args`, `--args-file` (`-` for stdin) or `{}`;
/// a JSON object either way.
pub fn tool_arguments(args: Option<String>, args_file: Option<&Path>) -> Result<Value, CliError> {
    let (text, from) = match (args, args_file) {
        (Some(a), _) => (a, "--args".to_owned()),
        (None, Some(p)) => (read_input(p, "the arguments")?, p.display().to_string()),
        (None, None) => return Ok(json!({})),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(CliError::Usage(format!("{from}: the arguments must be a JSON object"))),
        Err(e) => Err(CliError::Usage(format!("{from}: not JSON: {e}"))),
    }
}

/// A file's text, or stdin's for `-`.
fn read_input(path: &Path, what: &str) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Usage(format!("cannot read {what} from stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {what} from {}: {e}", path.display())))
}

/// `{key: value}` when there is a value, `{}` otherwise.
fn optional(key: &str, value: Option<String>) -> Value {
    let mut m = Map::new();
    if let Some(v) = value {
        m.insert(key.to_owned(), v.into());
    }
    Value::Object(m)
}

fn pretty(v: &Value) -> String {
    // Serialising a `Value` cannot fail; the fallback only avoids an unwrap.
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mcp-fleet").chain(args.iter().copied()))
    }

    fn parses(args: &[&str]) -> Cli {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn refused(args: &[&str]) -> ErrorKind {
        match parse(args) {
            Ok(c) => panic!("{args:?} parsed: {c:?}"),
            Err(e) => {
                assert_eq!(e.exit_code(), i32::from(exit::USAGE), "{args:?}");
                e.kind()
            }
        }
    }

    #[test]
    fn global_options_anywhere() {
        let c =
            parses(&["--url", "http://gw:9000/", "request", "list", "--json", "--state", "running", "--limit", "5"]);
        assert_eq!(c.url.as_str(), "http://gw:9000/");
        assert!(c.json);
        assert_eq!(c.timeout, 30);
        assert!(
            matches!(c.command, Command::Request(RequestCmd::List { state: Some(ref s), limit: Some(5) }) if s == "running")
        );
    }

    #[test]
    fn every_command_parses() {
        for args in [
            &["request", "submit", "--from", "a@example.com", "--subject", "s", "--text", "t"][..],
            &["request", "submit", "--from", "a@example.com", "--subject", "s", "--file", "-"],
            &["request", "show", "r1"],
            &["request", "watch", "r1"],
            &["request", "cancel", "r1", "--reason", "not needed"],
            &["request", "retry", "r1"],
            &["approve", "apr-1"],
            &["approve", "apr-1", "--reason", "looks right"],
            &["deny", "apr-1", "--reason", "wrong image"],
            &["approvals", "--state", "pending"],
            &["tools", "list", "--server", "fs"],
            &["tools", "call", "fs.read_file", "--args", r#"{"path":"README.md"}"#],
            &["tools", "call", "fs.read_file", "--args-file", "args.json"],
            &["servers"],
            &["trace", "show", "4bf92f3577b34da6a3ce929d0e0e4736"],
            &["logs", "--trace", "abc", "--service", "planner", "--query", "error", "--since", "15m", "--limit", "50"],
            &["audit", "--subject", "key:ci", "--tool", "git.*", "--decision", "denied", "--limit", "10"],
            &[
                "keys", "create", "--name", "ci", "--role", "operator", "--allow", "git.*", "--allow", "fs.*",
                "--deny", "shell.*",
            ],
            &["keys", "create", "--name", "ci", "--role", "viewer", "--expires-in-days", "30"],
            &["keys", "list"],
            &["keys", "revoke", "key-5"],
            &["--timeout", "5", "--key", "k", "servers"],
        ] {
            parses(args);
        }
        let c = parses(&["keys", "create", "--name", "ci", "--role", "admin", "--allow", "a", "--allow", "b"]);
        assert!(
            matches!(c.command, Command::Keys(KeysCmd::Create { role: args::Role::Admin, ref allow, .. }) if allow.len() == 2)
        );
    }

    #[test]
    fn usage_errors() {
        assert_eq!(refused(&["--key", "k", "--key-file", "/k", "servers"]), ErrorKind::ArgumentConflict);
        assert_eq!(
            refused(&["request", "submit", "--from", "a", "--subject", "s"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["request", "submit", "--from", "a", "--subject", "s", "--text", "t", "--file", "f"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(refused(&["deny", "apr-1"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(refused(&["tools", "call", "x", "--args", "{}", "--args-file", "f"]), ErrorKind::ArgumentConflict);
        assert_eq!(refused(&["keys", "create", "--name", "n", "--role", "root"]), ErrorKind::InvalidValue);
        assert_eq!(refused(&["--url", "ftp://x", "servers"]), ErrorKind::ValueValidation);
        assert_eq!(refused(&["--timeout", "0", "servers"]), ErrorKind::ValueValidation);
        assert_eq!(refused(&["request", "list", "--limit", "0"]), ErrorKind::ValueValidation);
        assert_eq!(refused(&["--key", " ", "servers"]), ErrorKind::ValueValidation);
        assert_eq!(refused(&["bogus"]), ErrorKind::InvalidSubcommand);
        assert_eq!(refused(&[]), ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
    }

    #[test]
    fn the_key_never_shows() {
        let c = parses(&["--key", "sekrit-123", "servers"]);
        assert!(!format!("{c:?}").contains("sekrit-123"));
        assert_eq!(c.key.as_ref().map(ApiKey::expose), Some("sekrit-123"));
        // A bad key file's error names the file, not its content.
        let dir = std::env::temp_dir().join(format!("mcp-fleet-key-{}", std::process::id()));
        std::fs::write(&dir, "  sekrit-456\n").unwrap();
        let k = resolve_key(None, Some(&dir)).unwrap();
        assert_eq!(k.as_ref().map(ApiKey::expose), Some("sekrit-456"));
        std::fs::write(&dir, "sek\u{7}rit").unwrap();
        let e = resolve_key(None, Some(&dir)).unwrap_err();
        assert!(!e.to_string().contains("sek"), "{e}");
        assert_eq!(e.exit_code(), exit::USAGE);
        std::fs::remove_file(&dir).unwrap();
        let e = resolve_key(Some("a".parse().unwrap()), Some(Path::new("/k"))).unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        let e = resolve_key(None, Some(Path::new("/nonexistent/key"))).unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
    }

    #[test]
    fn tool_arguments_must_be_an_object() {
        assert_eq!(tool_arguments(None, None).unwrap(), json!({}));
        assert_eq!(tool_arguments(Some(r#"{"path":"a"}"#.into()), None).unwrap(), json!({"path": "a"}));
        for bad in ["[1]", "{", "\"x\""] {
            assert_eq!(tool_arguments(Some(bad.into()), None).unwrap_err().exit_code(), exit::USAGE, "{bad}");
        }
    }

    #[tokio::test]
    async fn unreachable_gateway_is_exit_3() {
        // Port 9 (discard) on localhost: nothing listens in a test sandbox.
        let cli = parses(&["--url", "http://127.0.0.1:9", "--timeout", "2", "servers"]);
        let mut out = Vec::new();
        let e = run(cli, &mut out).await.unwrap_err();
        assert_eq!(e.exit_code(), exit::CONNECT, "{e}");
        assert!(out.is_empty());
    }
}
