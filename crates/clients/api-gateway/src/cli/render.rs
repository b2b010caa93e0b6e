//! Human-readable output: each function takes the server's JSON and returns
//! the text to print, so rendering is tested without a gateway.
//!
//! Rendering is defensive: a missing field prints as `-`, an unknown one is
//! ignored, and a list that is not where it should be prints as empty
//! rather than failing — `--json` is there for the exact answer. Tables are
//! borderless (kubectl-style) so their lines stay easy to `grep` and `cut`.

use comfy_table::{Table, presets};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::api::excerpt;

/// Widest a free-text cell (a description, a summary, an error) gets.
const TEXT_CELL: usize = 60;

/// A field as text: strings as they are, numbers and booleans printed,
/// `-` for null or missing.
pub fn field(v: &Value, key: &str) -> String {
    text(v.get(key))
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A free-text field on one line, cut to [`TEXT_CELL`].
fn short(v: &Value, key: &str) -> String {
    let s = field(v, key);
    excerpt(&s.split_whitespace().collect::<Vec<_>>().join(" "), TEXT_CELL)
}

/// A timestamp field as `YYYY-MM-DD HH:MM:SS` UTC; left as is when it is not RFC 3339.
pub fn time_field(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_str) {
        Some(s) => short_time(s),
        None => field(v, key),
    }
}

/// An RFC 3339 timestamp as `YYYY-MM-DD HH:MM:SS` UTC (seconds are enough on a terminal).
pub fn short_time(s: &str) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| s.to_owned())
}

/// Milliseconds as a short duration: `0.42ms`, `12.3ms`, `4.21s`, `3m07s`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".to_owned();
    }
    if ms < 10.0 {
        format!("{ms:.2}ms")
    } else if ms < 1000.0 {
        format!("{ms:.1}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        let secs = (ms / 1000.0).round() as u64;
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// The array under `key`, or nothing.
pub fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// `v[key]` when it is an object, else `v` itself: single-object answers may
/// come wrapped (`{"approval": {...}}`) or bare.
fn unwrap<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v.get(key) {
        Some(inner @ Value::Object(_)) => inner,
        _ => v,
    }
}

fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = Table::new();
    // Deterministic: no terminal width detection, no colours.
    t.load_style(presets::NOTHING).force_no_tty().set_header(header.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    t.trim_fmt() + "\n"
}

fn empty(what: &str) -> String {
    format!("no {what}\n")
}

/// `POST /requests`'s answer.
pub fn request_submitted(v: &Value) -> String {
    let id = field(v, "request_id");
    format!("request {id} accepted (state: {})\nfollow it with: mcp-fleet request watch {id}\n", field(v, "state"))
}

/// `GET /requests`.
pub fn requests(v: &Value) -> String {
    let rows = list(v, "requests");
    if rows.is_empty() {
        return empty("requests");
    }
    table(
        &["ID", "STATE", "REQUESTER", "SUBJECT", "RUN", "UPDATED"],
        rows.iter().map(|r| {
            vec![
                field(r, "request_id"),
                field(r, "state"),
                field(r, "requester"),
                short(r, "subject"),
                field(r, "run_id"),
                time_field(r, "updated_at"),
            ]
        }),
    )
}

/// `GET /requests/{id}`: the request, then its run's steps.
pub fn request_detail(v: &Value) -> String {
    let req = unwrap(v, "request");
    let mut out = String::new();
    let mut line = |k: &str, val: String| out.push_str(&format!("{k:<10}{val}\n"));
    line("request", field(req, "request_id"));
    line("state", field(req, "state"));
    line("from", field(req, "requester"));
    line("subject", field(req, "subject"));
    line("created", time_field(req, "created_at"));
    line("updated", time_field(req, "updated_at"));
    match v.get("run") {
        Some(run @ Value::Object(_)) => {
            line("run", format!("{} ({})", field(run, "run_id"), field(run, "state")));
            if let Some(e) = run.get("error").filter(|e| !e.is_null()) {
                line("error", text(Some(e)));
            }
            let steps = list(run, "steps");
            if !steps.is_empty() {
                out.push('\n');
                out.push_str(&table(
                    &["STEP", "STATE", "ATTEMPTS", "ERROR"],
                    steps
                        .iter()
                        .map(|s| vec![field(s, "name"), field(s, "state"), field(s, "attempts"), short(s, "error")]),
                ));
            }
        }
        _ => line("run", "none yet".to_owned()),
    }
    out
}

/// The answer of `cancel` or `retry`: what the request is now.
pub fn request_changed(v: &Value, verb: &str) -> String {
    let req = unwrap(v, "request");
    format!("request {} {verb} (state: {})\n", field(req, "request_id"), field(req, "state"))
}

/// `GET /approvals`.
pub fn approvals(v: &Value) -> String {
    let rows = list(v, "approvals");
    if rows.is_empty() {
        return empty("approvals");
    }
    table(
        &["ID", "STATE", "REQUEST", "STEP", "ACTION", "REQUESTED", "EXPIRES", "SUMMARY"],
        rows.iter().map(|a| {
            vec![
                field(a, "id"),
                field(a, "state"),
                field(a, "request_id"),
                field(a, "step"),
                field(a, "action"),
                time_field(a, "requested_at"),
                time_field(a, "expires_at"),
                short(a, "summary"),
            ]
        }),
    )
}

/// The answer of `approve` or `deny`.
pub fn approval_decided(v: &Value) -> String {
    let a = unwrap(v, "approval");
    let mut out = format!("approval {} {}", field(a, "id"), field(a, "state"));
    if let Some(by) = a.get("decided_by").and_then(Value::as_str) {
        out.push_str(&format!(" by {by}"));
    }
    out.push('\n');
    out
}

/// `GET /tools`, optionally only one upstream's tools.
pub fn tools(v: &Value) -> String {
    let rows = list(v, "tools");
    if rows.is_empty() {
        return empty("tools");
    }
    table(
        &["NAME", "SERVER", "HINTS", "DESCRIPTION"],
        rows.iter().map(|t| {
            let first_line = t.get("description").and_then(Value::as_str).and_then(|d| d.lines().next()).unwrap_or("-");
            vec![field(t, "name"), field(t, "server"), hints(t.get("annotations")), excerpt(first_line, TEXT_CELL)]
        }),
    )
}

/// A tool's annotations in a word: what a caller must know before calling it.
fn hints(a: Option<&Value>) -> String {
    let flag = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_bool);
    let mut out = Vec::new();
    if flag("readOnlyHint") == Some(true) {
        out.push("read-only");
    } else if flag("destructiveHint") == Some(true) {
        out.push("destructive");
    }
    if flag("idempotentHint") == Some(true) {
        out.push("idempotent");
    }
    if flag("openWorldHint") == Some(true) {
        out.push("open-world");
    }
    if out.is_empty() { "-".to_owned() } else { out.join(",") }
}

/// Keep only the tools of upstream `server` (the API lists every server's).
pub fn filter_tools(mut v: Value, server: &str) -> Value {
    if let Some(tools) = v.get_mut("tools").and_then(Value::as_array_mut) {
        tools.retain(|t| t.get("server").and_then(Value::as_str) == Some(server));
    }
    v
}

/// `POST /tools/{name}/call`: the text, or the structured result when there is no text.
pub fn tool_result(v: &Value) -> String {
    let mut out = match v.get("text").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => match v.get("structured") {
            Some(s) if !s.is_null() => serde_json::to_string_pretty(s).unwrap_or_default(),
            _ => String::new(),
        },
    };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The line for a tool result with `is_error`, for stderr.
pub fn tool_error_line(v: &Value) -> String {
    match v.get("error_kind").and_then(Value::as_str) {
        Some(kind) => format!("the tool reported an error ({kind})"),
        None => "the tool reported an error".to_owned(),
    }
}

/// `GET /servers`.
pub fn servers(v: &Value) -> String {
    let rows = list(v, "servers");
    if rows.is_empty() {
        return empty("servers");
    }
    table(
        &["NAME", "STATE", "VERSION", "TOOLS", "URL", "REFRESHED", "LAST ERROR"],
        rows.iter().map(|s| {
            vec![
                field(s, "name"),
                field(s, "state"),
                field(s, "version"),
                field(s, "tool_count"),
                field(s, "url"),
                time_field(s, "refreshed_at"),
                short(s, "last_error"),
            ]
        }),
    )
}

/// `GET /logs`: one line per log line, oldest first as the server sent them.
pub fn logs(v: &Value) -> String {
    let lines = list(v, "lines");
    if lines.is_empty() {
        return empty("log lines");
    }
    let mut out = String::new();
    for l in lines {
        let level = field(l, "level").to_uppercase();
        out.push_str(&format!(
            "{} {level:<5} {:<22} {}",
            time_field(l, "timestamp"),
            field(l, "service"),
            field(l, "message")
        ));
        if let Some(t) = l.get("trace_id").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            out.push_str(&format!("  trace={t}"));
        }
        out.push('\n');
    }
    out
}

/// `GET /audit`.
pub fn audit(v: &Value) -> String {
    let rows = list(v, "entries");
    if rows.is_empty() {
        return empty("audit entries");
    }
    table(
        &["AT", "SUBJECT", "ROLE", "TOOL", "DECISION", "OUTCOME", "DURATION", "TRACE"],
        rows.iter().map(|e| {
            vec![
                time_field(e, "at"),
                field(e, "subject"),
                field(e, "role"),
                field(e, "tool"),
                field(e, "decision"),
                field(e, "outcome"),
                e.get("duration_ms").and_then(Value::as_f64).map_or_else(|| "-".to_owned(), duration_ms),
                field(e, "trace_id"),
            ]
        }),
    )
}

/// `POST /keys`: the new key, once, with the warning that it will not be shown again.
pub fn key_created(v: &Value) -> String {
    let mut out = format!("created key {} ({}, role {})\n", field(v, "id"), field(v, "name"), field(v, "role"));
    if let Some(e) = v.get("expires_at").and_then(Value::as_str) {
        out.push_str(&format!("expires {}\n", short_time(e)));
    }
    out.push_str(&format!(
        "\n    {}\n\nThis is the only time the key is shown: store it now (e.g. in a file for --key-file).\n",
        field(v, "key")
    ));
    out
}

/// The warning printed on stderr when `keys create --json` puts the key on stdout.
pub const KEY_SHOWN_ONCE: &str = "warning: the key in this answer is shown only now; store it";

/// `GET /keys`.
pub fn keys(v: &Value) -> String {
    let rows = list(v, "keys");
    if rows.is_empty() {
        return empty("keys");
    }
    table(
        &["ID", "NAME", "ROLE", "CREATED", "LAST USED", "EXPIRES", "REVOKED"],
        rows.iter().map(|k| {
            vec![
                field(k, "id"),
                field(k, "name"),
                field(k, "role"),
                time_field(k, "created_at"),
                time_field(k, "last_used_at"),
                time_field(k, "expires_at"),
                time_field(k, "revoked_at"),
            ]
        }),
    )
}

/// `DELETE /keys/{id}` (204, no body).
pub fn key_revoked(id: &str) -> String {
    format!("key {id} revoked\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use serde_json::json;

    fn check(actual: String, expected: Expect) {
        expected.assert_eq(&actual);
    }

    #[test]
    fn request_list_is_a_table() {
        let v = json!({"requests": [
            {"request_id": "req-01J9Z", "requester": "alice@example.com", "subject": "Build the billing   service\nplease",
             "state": "planned", "created_at": "2026-03-01T09:58:00Z", "updated_at": "2026-03-01T10:00:01.123456Z",
             "run_id": "run-7", "lang": "en"},
            {"request_id": "req-01J9Y", "requester": "bob@example.com", "subject": "Add a lint job",
             "state": "asking", "created_at": "2026-03-01T09:00:00+02:00", "updated_at": "2026-03-01T09:10:00+02:00"}
        ]});
        check(
            requests(&v),
            expect![[r#"
                ID         STATE    REQUESTER          SUBJECT                           RUN    UPDATED
                req-01J9Z  planned  alice@example.com  Build the billing service please  run-7  2026-03-01 10:00:01
                req-01J9Y  asking   bob@example.com    Add a lint job                    -      2026-03-01 07:10:00
            "#]],
        );
        check(
            requests(&json!({"requests": []})),
            expect![[r#"
            no requests
        "#]],
        );
    }

    #[test]
    fn request_detail_shows_the_run_steps() {
        let v = json!({
            "request": {"request_id": "req-01J9Z", "requester": "alice@example.com", "subject": "Build billing",
                        "state": "planned", "created_at": "2026-03-01T09:58:00Z", "updated_at": "2026-03-01T10:00:00Z",
                        "run_id": "run-7"},
            "run": {"run_id": "run-7", "state": "running", "steps": [
                {"name": "scaffold", "state": "succeeded", "attempts": 1},
                {"name": "build", "state": "failed", "attempts": 3, "error": "cargo build: exit status 101\nerror[E0425]"},
                {"name": "deploy", "state": "awaiting_approval", "attempts": 0, "error": null}
            ]}
        });
        check(
            request_detail(&v),
            expect![[r#"
                request   req-01J9Z
                state     planned
                from      alice@example.com
                subject   Build billing
                created   2026-03-01 09:58:00
                updated   2026-03-01 10:00:00
                run       run-7 (running)

                STEP      STATE              ATTEMPTS  ERROR
                scaffold  succeeded          1         -
                build     failed             3         cargo build: exit status 101 error[E0425]
                deploy    awaiting_approval  0         -
            "#]],
        );
        let v = json!({"request": {"request_id": "r1", "state": "asking"}, "run": null});
        assert!(request_detail(&v).ends_with("run       none yet\n"));
    }

    #[test]
    fn approvals_table_and_decision() {
        let v = json!({"approvals": [{
            "id": "apr-3", "run_id": "run-7", "request_id": "req-01J9Z", "step": "deploy", "action": "docker.push",
            "summary": "Push image registry.local/billing:1.4.0 to production", "state": "pending",
            "requested_at": "2026-03-01T10:05:00Z", "expires_at": "2026-03-02T10:05:00Z"
        }]});
        check(
            approvals(&v),
            expect![[r#"
                ID     STATE    REQUEST    STEP    ACTION       REQUESTED            EXPIRES              SUMMARY
                apr-3  pending  req-01J9Z  deploy  docker.push  2026-03-01 10:05:00  2026-03-02 10:05:00  Push image registry.local/billing:1.4.0 to production
            "#]],
        );
        let decided = json!({"approval": {"id": "apr-3", "state": "approved", "decided_by": "key:ops"}});
        assert_eq!(approval_decided(&decided), "approval apr-3 approved by key:ops\n");
        assert_eq!(approval_decided(&json!({"id": "apr-4", "state": "denied"})), "approval apr-4 denied\n");
    }

    #[test]
    fn tools_show_hints_and_filter_by_server() {
        let v = json!({"tools": [
            {"name": "fs.read_file", "server": "fs", "description": "Read a file.\nLong explanation.",
             "annotations": {"readOnlyHint": true, "openWorldHint": false}, "input_schema": {"type": "object"}},
            {"name": "shell.run", "server": "shell", "description": "Run a command in the sandbox",
             "annotations": {"readOnlyHint": false, "destructiveHint": true}, "input_schema": {}},
            {"name": "git.commit", "server": "git", "description": "", "annotations": {"idempotentHint": true}}
        ]});
        check(
            tools(&v),
            expect![[r#"
                NAME          SERVER  HINTS        DESCRIPTION
                fs.read_file  fs      read-only    Read a file.
                shell.run     shell   destructive  Run a command in the sandbox
                git.commit    git     idempotent   -
            "#]],
        );
        let only = filter_tools(v, "shell");
        assert_eq!(list(&only, "tools").len(), 1);
        assert_eq!(tools(&filter_tools(only, "nope")), "no tools\n");
    }

    #[test]
    fn tool_results_prefer_text() {
        assert_eq!(tool_result(&json!({"is_error": false, "text": "hello"})), "hello\n");
        assert_eq!(tool_result(&json!({"is_error": false, "text": "", "structured": {"n": 1}})), "{\n  \"n\": 1\n}\n");
        let err = json!({"is_error": true, "error_kind": "not_found", "text": "no such file"});
        assert_eq!(tool_error_line(&err), "the tool reported an error (not_found)");
    }

    #[test]
    fn servers_table() {
        let v = json!({"servers": [
            {"name": "fs", "program": "mcp-server-fs", "url": "http://fs:8080/mcp", "state": "up", "version": "0.4.0",
             "tool_count": 9, "refreshed_at": "2026-03-01T10:00:00Z"},
            {"name": "docker", "program": "mcp-server-docker", "url": "http://docker:8080/mcp", "state": "down",
             "tool_count": 0, "last_error": "connection refused"}
        ]});
        check(
            servers(&v),
            expect![[r#"
                NAME    STATE  VERSION  TOOLS  URL                     REFRESHED            LAST ERROR
                fs      up     0.4.0    9      http://fs:8080/mcp      2026-03-01 10:00:00  -
                docker  down   -        0      http://docker:8080/mcp  -                    connection refused
            "#]],
        );
    }

    #[test]
    fn logs_are_lines() {
        let v = json!({"lines": [
            {"timestamp": "2026-03-01T10:00:00.5Z", "level": "info", "service": "mcp-client-planner",
             "message": "step build started", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
            {"timestamp": "2026-03-01T10:00:02Z", "level": "error", "service": "mcp-server-shell", "message": "exit 101"}
        ]});
        check(
            logs(&v),
            expect![[r#"
                2026-03-01 10:00:00 INFO  mcp-client-planner     step build started  trace=4bf92f3577b34da6a3ce929d0e0e4736
                2026-03-01 10:00:02 ERROR mcp-server-shell       exit 101
            "#]],
        );
    }

    #[test]
    fn audit_table() {
        let v = json!({"entries": [{
            "at": "2026-03-01T10:00:00Z", "subject": "key:ci", "role": "operator", "tool": "git.commit",
            "decision": "allowed", "outcome": "ok", "duration_ms": 42.5, "trace_id": "4bf92f35",
            "args_shape": {"message": "string"}
        }]});
        check(
            audit(&v),
            expect![[r#"
                AT                   SUBJECT  ROLE      TOOL        DECISION  OUTCOME  DURATION  TRACE
                2026-03-01 10:00:00  key:ci   operator  git.commit  allowed   ok       42.5ms    4bf92f35
            "#]],
        );
    }

    #[test]
    fn keys_created_and_listed() {
        let v = json!({"id": "key-5", "key": "mcpf_live_abc123", "name": "ci", "role": "operator",
                       "expires_at": "2026-06-01T00:00:00Z"});
        check(
            key_created(&v),
            expect![[r#"
                created key key-5 (ci, role operator)
                expires 2026-06-01 00:00:00

                    mcpf_live_abc123

                This is the only time the key is shown: store it now (e.g. in a file for --key-file).
            "#]],
        );
        let v = json!({"keys": [
            {"id": "key-5", "name": "ci", "role": "operator", "created_at": "2026-03-01T10:00:00Z",
             "last_used_at": null, "expires_at": "2026-06-01T00:00:00Z"},
            {"id": "key-1", "name": "old", "role": "admin", "created_at": "2025-01-01T00:00:00Z",
             "revoked_at": "2025-02-01T00:00:00Z"}
        ]});
        check(
            keys(&v),
            expect![[r#"
                ID     NAME  ROLE      CREATED              LAST USED  EXPIRES              REVOKED
                key-5  ci    operator  2026-03-01 10:00:00  -          2026-06-01 00:00:00  -
                key-1  old   admin     2025-01-01 00:00:00  -          -                    2025-02-01 00:00:00
            "#]],
        );
    }

    #[test]
    fn durations_and_odd_values() {
        assert_eq!(duration_ms(0.4213), "0.42ms");
        assert_eq!(duration_ms(12.34), "12.3ms");
        assert_eq!(duration_ms(4210.0), "4.21s");
        assert_eq!(duration_ms(187_000.0), "3m07s");
        assert_eq!(duration_ms(f64::NAN), "-");
        assert_eq!(short_time("yesterday"), "yesterday");
        assert_eq!(field(&json!({"n": 3, "b": true, "e": ""}), "n"), "3");
        assert_eq!(field(&json!({"e": ""}), "e"), "-");
        // Not the shape expected: nothing to list, no panic.
        assert_eq!(requests(&json!({"requests": "oops"})), "no requests\n");
        assert_eq!(request_submitted(&json!({"request_id": "r1", "state": "new"})).lines().count(), 2);
    }
}
