//! `request watch`: follow a request's event stream until its run ends.
//!
//! Every `state` event carries the whole request-and-run snapshot; the
//! [`Progress`] tracker compares it with the previous one and yields a line
//! per change (request state, run state, each step's state or attempt), so
//! the stream's granularity does not matter and a reconnect that repeats the
//! current state prints nothing twice. `done` carries the final snapshot,
//! whose run state decides the exit code.
//!
//! A stream that ends or breaks before `done` is opened again a few times:
//! the gateway's restarts and proxies' idle cuts should not end a watch.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use sse_stream::SseStream;

use super::api::{Api, CliError, exit};
use super::render::field;

/// Times in a row the stream is opened again after it broke without `done`.
const RECONNECTS: u32 = 5;

/// What a snapshot says about the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not over yet.
    Running,
    /// The run succeeded.
    Succeeded,
    /// The run failed, was denied or cancelled, or the request never got a run.
    Failed,
}

/// Request states after which no run will come.
const REQUEST_DEAD_ENDS: &[&str] = &["refused", "gave_up", "failed", "cancelled"];

/// Where the snapshot says the request is.
pub fn outcome(snapshot: &Value) -> Outcome {
    let run_state = snapshot.get("run").and_then(|r| r.get("state")).and_then(Value::as_str);
    match run_state {
        Some("succeeded") => Outcome::Succeeded,
        Some("queued" | "running") => Outcome::Running,
        Some(_) => Outcome::Failed,
        None => {
            let req = snapshot.get("request").unwrap_or(snapshot);
            match req.get("state").and_then(Value::as_str) {
                Some(s) if REQUEST_DEAD_ENDS.contains(&s) => Outcome::Failed,
                _ => Outcome::Running,
            }
        }
    }
}

/// The exit code of a final snapshot (`done`'s data).
pub fn exit_code(final_snapshot: &Value) -> u8 {
    match outcome(final_snapshot) {
        Outcome::Succeeded => exit::OK,
        Outcome::Running | Outcome::Failed => exit::FAILURE,
    }
}

/// The last seen state of a request, its run and its steps.
#[derive(Debug, Default)]
pub struct Progress {
    request: Option<String>,
    run: Option<String>,
    run_id: String,
    steps: BTreeMap<String, (String, u64)>,
    /// Step names in the run's order, for the progress line.
    order: Vec<String>,
}

impl Progress {
    /// Take a snapshot in and return one line per change since the last
    /// one, each prefixed with `at` (the time it was seen).
    pub fn update(&mut self, snapshot: &Value, at: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let req = snapshot.get("request").unwrap_or(snapshot);
        let req_state = field(req, "state");
        if self.request.as_deref() != Some(req_state.as_str()) {
            lines.push(format!(
                "{at}  request {} {}",
                field(req, "request_id"),
                transition(self.request.as_deref(), &req_state)
            ));
            self.request = Some(req_state);
        }
        let Some(run) = snapshot.get("run").filter(|r| r.is_object()) else {
            return lines;
        };
        let run_state = field(run, "state");
        if self.run.as_deref() != Some(run_state.as_str()) {
            lines.push(format!("{at}  run {} {}", field(run, "run_id"), transition(self.run.as_deref(), &run_state)));
            self.run = Some(run_state);
        }
        self.run_id = field(run, "run_id");
        let steps = run.get("steps").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        self.order = steps.iter().map(|s| field(s, "name")).collect();
        for s in steps {
            let name = field(s, "name");
            let state = field(s, "state");
            let attempts = s.get("attempts").and_then(Value::as_u64).unwrap_or(0);
            let before = self.steps.get(&name).cloned();
            if before.as_ref() == Some(&(state.clone(), attempts)) {
                continue;
            }
            // A step that is merely pending when first seen is no news.
            if before.is_none() && state == "pending" {
                self.steps.insert(name, (state, attempts));
                continue;
            }
            let mut line = format!("{at}  step {name} {}", transition(before.as_ref().map(|b| b.0.as_str()), &state));
            if attempts > 1 {
                line.push_str(&format!(" (attempt {attempts})"));
            }
            if let Some(e) = s.get("error").and_then(Value::as_str).filter(|e| !e.is_empty()) {
                line.push_str(&format!(": {}", super::api::excerpt(e.lines().next().unwrap_or_default(), 100)));
            }
            if state == "awaiting_approval" {
                line.push_str(&match s.get("approval_id").and_then(Value::as_str) {
                    Some(id) => format!(" — mcp-fleet approve {id}"),
                    None => " — see mcp-fleet approvals --state pending".to_owned(),
                });
            }
            lines.push(line);
            self.steps.insert(name, (state, attempts));
        }
        lines
    }

    /// One line summing up where the run is, for a terminal's status line.
    pub fn status_line(&self) -> String {
        let Some(run) = &self.run else {
            return format!("request {}", self.request.as_deref().unwrap_or("-"));
        };
        let settled =
            self.steps.values().filter(|(s, _)| matches!(s.as_str(), "succeeded" | "failed" | "skipped")).count();
        let total = self.order.len();
        let mut line = format!("run {} {run}  [{}] {settled}/{total} steps", self.run_id, bar(settled, total, 20));
        let active: Vec<&str> = self
            .order
            .iter()
            .filter(|n| self.steps.get(*n).is_some_and(|(s, _)| matches!(s.as_str(), "running" | "awaiting_approval")))
            .map(String::as_str)
            .collect();
        if !active.is_empty() {
            line.push_str(&format!("  now: {}", active.join(", ")));
        }
        line
    }
}

fn transition(before: Option<&str>, now: &str) -> String {
    match before {
        Some(b) => format!("{b} -> {now}"),
        None => now.to_owned(),
    }
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

/// The time a change was seen, `HH:MM:SS` UTC.
fn now() -> String {
    let f = time::macros::format_description!("[hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

/// Follow request `id` until `done`; the exit code says how the run ended.
/// With `json`, each event's data is printed as one compact JSON line.
pub async fn watch(api: &Api, id: &str, json: bool, out: &mut dyn Write) -> Result<u8, CliError> {
    let tty = !json && std::io::stdout().is_terminal();
    let mut progress = Progress::default();
    let mut last: Option<Value> = None;
    // Failures in a row: any event resets the count, so a long watch
    // survives occasional cuts while a dead gateway still ends it.
    let mut failures = 0;
    let mut connected_once = false;
    loop {
        let resp = match api.stream(&["requests", id, "events"]).await {
            Ok(r) => r,
            // Only a first connection failure ends the watch at once; a
            // later one is retried like a broken stream.
            Err(e @ CliError::Connect { .. }) if connected_once && failures < RECONNECTS => {
                failures += 1;
                eprintln!("warning: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(u64::from(failures))).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        connected_once = true;
        let mut events = SseStream::from_bytes_stream(resp.bytes_stream());
        let broke = loop {
            let Some(item) = events.next().await else { break "the stream ended".to_owned() };
            let sse = match item {
                Ok(sse) => sse,
                Err(e) => break format!("the stream broke: {e}"),
            };
            // Keep-alive comments and events without data carry nothing.
            let Some(data) = sse.data.as_deref() else { continue };
            let event = sse.event.as_deref().unwrap_or("message");
            if !matches!(event, "state" | "done") {
                continue;
            }
            let snapshot: Value = serde_json::from_str(data)
                .map_err(|e| CliError::Protocol(format!("event {event} is not JSON: {e}")))?;
            failures = 0;
            if json {
                writeln!(out, "{snapshot}")?;
            } else {
                if tty {
                    // Clear the status line before lines scroll past it.
                    write!(out, "\r\x1b[2K")?;
                }
                for line in progress.update(&snapshot, &now()) {
                    writeln!(out, "{line}")?;
                }
                if tty && event != "done" {
                    write!(out, "{}", progress.status_line())?;
                }
            }
            out.flush()?;
            if event == "done" {
                return Ok(finish(&snapshot, json, out)?);
            }
            last = Some(snapshot);
        };
        // The last snapshot may already be final, if only `done` was lost.
        if let Some(s) = &last
            && outcome(s) != Outcome::Running
        {
            return Ok(finish(s, json, out)?);
        }
        if failures >= RECONNECTS {
            return Err(CliError::Protocol(format!(
                "{broke} before the run ended (gave up after {RECONNECTS} reconnects)"
            )));
        }
        failures += 1;
        if tty {
            write!(out, "\r\x1b[2K")?;
        }
        eprintln!("warning: {broke}; reconnecting");
        tokio::time::sleep(Duration::from_secs(u64::from(failures))).await;
    }
}

fn finish(snapshot: &Value, json: bool, out: &mut dyn Write) -> std::io::Result<u8> {
    let code = exit_code(snapshot);
    if !json {
        let run = snapshot.get("run").filter(|r| r.is_object());
        let line = match run {
            Some(r) => format!("run {} {}", field(r, "run_id"), field(r, "state")),
            None => format!("request {}", field(snapshot.get("request").unwrap_or(snapshot), "state")),
        };
        writeln!(out, "{line}")?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(req: &str, run: Option<(&str, Value)>) -> Value {
        json!({
            "request": {"request_id": "req-1", "requester": "a@example.com", "subject": "s", "state": req},
            "run": run.map(|(state, steps)| json!({"run_id": "run-7", "state": state, "steps": steps})),
        })
    }

    #[test]
    fn changes_become_lines_once() {
        let mut p = Progress::default();
        let s1 = snapshot("new", None);
        assert_eq!(p.update(&s1, "10:00:00"), vec!["10:00:00  request req-1 new"]);
        assert_eq!(p.status_line(), "request new");
        assert!(p.update(&s1, "10:00:01").is_empty(), "a repeated snapshot prints nothing");

        let steps = json!([
            {"name": "scaffold", "state": "running", "attempts": 1},
            {"name": "build", "state": "pending", "attempts": 0},
            {"name": "deploy", "state": "pending", "attempts": 0}
        ]);
        assert_eq!(
            p.update(&snapshot("planned", Some(("running", steps))), "10:00:02"),
            vec![
                "10:00:02  request req-1 new -> planned",
                "10:00:02  run run-7 running",
                "10:00:02  step scaffold running",
            ]
        );
        assert_eq!(p.status_line(), "run run-7 running  [....................] 0/3 steps  now: scaffold");

        let steps = json!([
            {"name": "scaffold", "state": "succeeded", "attempts": 1},
            {"name": "build", "state": "running", "attempts": 2, "error": "cargo: exit 101\nmore"},
            {"name": "deploy", "state": "awaiting_approval", "attempts": 0, "approval_id": "apr-3"}
        ]);
        assert_eq!(
            p.update(&snapshot("planned", Some(("running", steps))), "10:00:09"),
            vec![
                "10:00:09  step scaffold running -> succeeded",
                "10:00:09  step build pending -> running (attempt 2): cargo: exit 101",
                "10:00:09  step deploy pending -> awaiting_approval — mcp-fleet approve apr-3",
            ]
        );
        assert_eq!(p.status_line(), "run run-7 running  [######..............] 1/3 steps  now: build, deploy");
    }

    #[test]
    fn outcomes_and_exit_codes() {
        let done = |state: &str| snapshot("planned", Some((state, json!([]))));
        assert_eq!(exit_code(&done("succeeded")), exit::OK);
        for s in ["failed", "cancelled", "budget_exhausted"] {
            assert_eq!(exit_code(&done(s)), exit::FAILURE, "{s}");
        }
        assert_eq!(outcome(&done("running")), Outcome::Running);
        assert_eq!(outcome(&snapshot("refused", None)), Outcome::Failed);
        assert_eq!(outcome(&snapshot("asking", None)), Outcome::Running);
        // `done` without a successful run is a failure, whatever the reason.
        assert_eq!(exit_code(&snapshot("asking", None)), exit::FAILURE);
    }

    #[test]
    fn final_line() {
        let mut out = Vec::new();
        let code = finish(&snapshot("planned", Some(("failed", json!([])))), false, &mut out).unwrap();
        assert_eq!((code, String::from_utf8(out).unwrap()), (exit::FAILURE, "run run-7 failed\n".to_owned()));
        let mut out = Vec::new();
        assert_eq!(finish(&snapshot("refused", None), true, &mut out).unwrap(), exit::FAILURE);
        assert!(out.is_empty(), "--json prints only the events");
    }
}
