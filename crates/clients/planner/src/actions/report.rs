//! `report`: tell the requester what was and was not done (email), and
//! record the message and the run's outcome (sql). The engine runs it last,
//! whatever happened before, with the run's outcome already decided.
//!
//! Idempotent on the servers' side, each write with its own key:
//! - the email: `<run>/report` (the email server sends a key once);
//! - its record in the communication log: `mcp-client-planner/<run>/report`;
//! - the decision: `mcp-client-planner/<run>/decision/<decision>`.
//!
//! sql keys are database-wide per tool, hence the program's name in front.
//! The text and the outputs are rendered from the run's stored steps, so a
//! repeat normally sends the same arguments and gets the first result back.
//! Should they differ all the same, the server answers `conflict`
//! ("different arguments"), which here means the first write stands: the
//! email was sent, the message and the decision are recorded.

use mcp_core::ErrorKind;
use mcp_core::tracing::{info, warn};
use mcp_types::peer::{DecisionRecord, LintReport, MessageRecord, TestReport};
use mcp_types::request::Lang;
use serde::Serialize;
use serde_json::{Value, json};

use super::vars::vars;
use crate::exec::Ctx;
use crate::peers::StepError;
use crate::plan::Action;
use crate::spec::one_line;
use crate::store::{RunState, Step, StepState};
use crate::templates::render;

/// Send the report and record it; the result says what was sent.
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    let mut v = vars(cx)?;
    let state = cx.run.state;
    let reason = cx.run.reason.clone().unwrap_or_default();
    let location = cx
        .result_of("git_init")
        .and_then(|r| r["path"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("projects/{}", cx.run.slug));
    // The project's last commit, the one the tag is on: the changelog's when one was committed after the work.
    let last = |field: &str| {
        ["changelog", "commit_work", "commit_scaffold"]
            .into_iter()
            .find_map(|k| cx.result_of(k).and_then(|r| r[field].as_str()).map(str::to_owned))
    };
    let commit = last("short_id").unwrap_or_else(|| "none".to_owned());
    let commit_full = last("commit");
    let tag = cx.result_of("tag").and_then(|r| r["tag"].as_str()).unwrap_or("not tagged").to_owned();
    let (_, checks) = cx.checks();
    let pl = cx.run.request.lang == Lang::Pl;
    let checks: Vec<String> = if pl { checks.iter().map(|c| polish_check(c)).collect() } else { checks };
    let line = |s: &Step| {
        // A lint or test step that ran but found problems succeeded as a step; to the requester it failed,
        // and the list must say so under a reason that says so.
        let checked_bad = s.result.as_ref().is_some_and(|r| r["passed"] == false);
        // A step that had nothing to run (a pipeline without .gitlab-ci.yml) did not do its work either.
        let not_run = s.result.as_ref().is_some_and(|r| r["ran"] == false);
        let state = match s.state {
            StepState::Succeeded if checked_bad => StepState::Failed,
            StepState::Succeeded if not_run => StepState::Skipped,
            other => other,
        };
        let mark = match (state, pl) {
            (StepState::Succeeded, false) => "done",
            (StepState::Failed, false) => "FAILED",
            (StepState::Succeeded, true) => "zrobione",
            (StepState::Failed, true) => "NIEUDANE",
            (StepState::Skipped, true) => "pominięte",
            (StepState::Pending, true) => "nierozpoczęte",
            (other, _) => other.as_str(),
        };
        let summary =
            s.result.as_ref().and_then(|r| r["summary"].as_str()).filter(|t| (checked_bad || not_run) && !t.is_empty());
        let why = s.error.as_deref().or(summary).map(|e| format!(" ({})", one_line(e, 200))).unwrap_or_default();
        let title = if pl { polish_title(&s.def.key, &s.def.title) } else { s.def.title.clone() };
        format!("- {title}: {mark}{why}")
    };
    let others: Vec<&Step> = cx.steps.iter().filter(|s| s.def.action != Action::Report).collect();
    v.insert("location", location.clone());
    v.insert("commit", commit_full.clone().map_or(commit.clone(), |f| format!("{commit} ({f})")));
    v.insert("tag", tag.clone());
    v.insert("checks", checks.join("\n"));
    v.insert("results", results(cx, pl));
    v.insert("steps", others.iter().map(|s| line(s)).collect::<Vec<_>>().join("\n"));
    v.insert("reason", one_line(&reason, 600));
    // Done means done: a check that ran and failed is listed under what was not done.
    let done = |s: &Step| {
        s.state == StepState::Succeeded && s.result.as_ref().is_none_or(|r| r["passed"] != false && r["ran"] != false)
    };
    v.insert("done", others.iter().filter(|s| done(s)).map(|s| line(s)).collect::<Vec<_>>().join("\n"));
    let not_done: Vec<String> = others.iter().filter(|s| !done(s)).map(|s| line(s)).collect();
    let nothing = if pl { "- nic" } else { "- nothing" };
    v.insert("not_done", if not_done.is_empty() { nothing.into() } else { not_done.join("\n") });
    let exists = match pl {
        true => format!("To, co powstało, jest w {location}."),
        false => format!("What exists is in {location}."),
    };
    v.insert("location_line", if cx.result_of("scaffold").is_some() { exists } else { String::new() });
    // Claim only what a recorded result shows: features are "built" only when
    // the model step that implements them succeeded.
    let implemented = cx.steps.iter().any(|s| s.def.action == Action::Implement && s.state == StepState::Succeeded);
    let built = if pl && implemented {
        format!(
            "Co zbudowano: {}\nModel floty zaimplementował funkcje, o które prosiłeś/prosiłaś:\n{}\nTesty, które \
             napisał, są w repozytorium, a sprawdzenia poniżej je uruchomiły.",
            v["summary"], v["features"]
        )
    } else if pl {
        format!(
            "Otrzymujesz szkielet projektu z szablonu {}: buduje się, przechodzi lint i testy startowe, ale jeszcze \
             nie robi tego, o co prosiłeś/prosiłaś. Otwarte prace (również w SPEC.md i jako oczekujące, pominięte \
             testy w tests/):\n{}\nAby je zaimplementować, \
             uruchom flotę z modelem językowym: LLM_PROVIDER=openai z LLM_BASE_URL i LLM_MODEL (zob. llm/README.md).",
            cx.run.template, v["features"]
        )
    } else if implemented {
        format!(
            "What was built: {}\nThe fleet's model implemented the features you asked for:\n{}\nThe tests it \
             wrote are in the repository, and the checks below ran them.",
            v["summary"], v["features"]
        )
    } else {
        format!(
            "What you get is a scaffold of the {} template: it builds, passes lint and its starter tests, but it \
             does not do what you asked yet. Open work (also listed in SPEC.md, and in tests/ as pending tests, \
             skipped until implemented):\n{}\nTo have these implemented, \
             run the fleet with a language model: LLM_PROVIDER=openai with LLM_BASE_URL and LLM_MODEL (see \
             llm/README.md).",
            cx.run.template, v["features"]
        )
    };
    v.insert("built", built);
    let which = if state == RunState::Succeeded { "completed" } else { "failed" };
    let which = if pl { format!("pl/{which}") } else { which.to_owned() };
    let text =
        render(&cx.p.templates.email[&which], &v).map_err(|e| StepError::fatal(format!("email/{which}.txt: {e}")))?;
    let subject = cx.run.request.subject.clone().unwrap_or_else(|| format!("Your project {}", cx.run.spec.name));
    let key = format!("{}/report", cx.run.id);
    let attachments = attachments(cx).await;
    let deployment = deployment(cx);
    let delivered = delivery(cx);
    let mut out = json!({"state": state, "reason": reason, "commit": commit_full, "tag": tag, "location": location,
                         "deployment": deployment, "delivery": delivered});
    // The email, once.
    let sent = match (&cx.p.peers.email, &cx.run.request.reply_to, &cx.run.request.requester) {
        (Some(email), Some(id), _) => Some(
            email
                .call(
                    "reply",
                    json!({"id": id, "text": text, "request_id": cx.run.request.request_id, "idempotency_key": key,
                           "attachments": attachments}),
                )
                .await,
        ),
        (Some(email), None, Some(to)) => Some(
            email
                .call(
                    "send",
                    json!({"to": [to], "subject": format!("Re: {subject}"), "text": text,
                           "request_id": cx.run.request.request_id, "idempotency_key": key,
                           "attachments": attachments}),
                )
                .await,
        ),
        _ => None,
    };
    match sent.transpose() {
        // Sent before under the key with another text: the first email went
        // out and stands. What it was (its Message-ID) is not known here, so
        // it is not recorded again; the attempt that sent it recorded it,
        // unless it crashed in between.
        Err(e) if e.kind == ErrorKind::Conflict => {
            info!(error = %e, "report email already sent");
            out["email"] = json!({"duplicate": true, "why": e.message});
        }
        Err(e) => return Err(e.into()),
        Ok(Some(s)) => {
            out["email"] = json!({"message_id": s["message_id"], "to": s["to"], "duplicate": s["duplicate"]});
            // Recorded on a duplicate send too: a crash between the send
            // and this record must not leave the email unrecorded.
            if let Some(sql) = &cx.p.peers.sql {
                let record = MessageRecord {
                    direction: "out".into(),
                    channel: "email".into(),
                    project: Some(cx.run.slug.clone()),
                    thread_id: Some(cx.run.request.request_id.clone()),
                    from_addr: None,
                    to_addr: s["to"][0].as_str().map(str::to_owned),
                    subject: s["subject"].as_str().map(str::to_owned),
                    body: Some(text.clone()),
                    message_id: s["message_id"].as_str().map(str::to_owned),
                    trace_id: cx.run.trace_id.clone(),
                    idempotency_key: Some(format!("{}/{}/report", crate::NAME, cx.run.id)),
                };
                // The log is a record, not the delivery: a failure here is
                // logged and does not fail the report.
                match sql.call("message_record", args(&record)?).await {
                    Ok(_) => {}
                    Err(e) if e.kind == ErrorKind::Conflict => info!(error = %e, "message already recorded"),
                    Err(e) => warn!(error = %e, "message not recorded"),
                }
            }
        }
        Ok(None) => {
            out["email"] = json!({"sent": false, "why": "no email server or nobody to answer; see plan_status"});
        }
    }
    out["text"] = json!(text);
    // The decision, once.
    if let Some(sql) = &cx.p.peers.sql {
        let decision = match state {
            RunState::Succeeded => "completed",
            other => other.as_str(),
        };
        let record = DecisionRecord {
            project: Some(cx.run.slug.clone()),
            trace_id: cx.run.trace_id.clone(),
            actor: crate::NAME.into(),
            decision: decision.into(),
            rationale: Some(reason),
            inputs: Some(json!({"request_id": cx.run.request.request_id, "run_id": cx.run.id})),
            outputs: Some(json!({"commit": commit_full, "tag": tag, "location": location, "checks": checks,
                                 "deployment": deployment, "delivery": delivered})),
            idempotency_key: Some(format!("{}/{}/decision/{decision}", crate::NAME, cx.run.id)),
        };
        match sql.call("decision_record", args(&record)?).await {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Conflict => info!(error = %e, "decision already recorded"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The checks' results as a short table: tests passed, failed, skipped and
/// errored with the names of the failures, lint findings by tool, coverage
/// when it was measured. Only what the lint and test servers recorded (the
/// fix loop's last round wins); with container isolation, a note that the
/// checks' record is their commands' exit codes and output. Then the local
/// pipeline's verdict, the delivery to GitLab and the deployment, when they
/// ran. Empty when nothing ran.
fn results(cx: &Ctx<'_>, pl: bool) -> String {
    let mut out = Vec::new();
    let test: Option<TestReport> =
        cx.check_result("test").and_then(|r| serde_json::from_value(r["tests"].clone()).ok());
    let lint: Option<LintReport> = cx.check_result("lint").and_then(|r| serde_json::from_value(r["lint"].clone()).ok());
    if let Some(t) = &test {
        let heads: [&str; 4] = if pl {
            ["zaliczone", "nieudane", "pominięte", "błędy"]
        } else {
            ["passed", "failed", "skipped", "errors"]
        };
        let n = [t.totals.passed, t.totals.failed, t.totals.skipped, t.totals.errors];
        out.push(if pl { "Testy:".to_owned() } else { "Tests:".to_owned() });
        out.push(format!("  {}", heads.iter().map(|h| format!("{h:>10}")).collect::<String>()));
        out.push(format!("  {}", n.iter().map(|v| format!("{v:>10}")).collect::<String>()));
        let failing: Vec<_> = t.cases.iter().filter(|c| matches!(c.status.as_str(), "failed" | "error")).collect();
        if !failing.is_empty() {
            out.push(if pl { "  Nieudane:".to_owned() } else { "  Failing:".to_owned() });
            for c in failing.iter().take(10) {
                let why = c.message.as_deref().map(|m| format!(" ({})", one_line(m, 120))).unwrap_or_default();
                out.push(format!("  - {}{why}", one_line(&c.id, 160)));
            }
            let more = (t.totals.failed + t.totals.errors).saturating_sub(failing.len().min(10) as u64);
            if more > 0 {
                out.push(if pl { format!("  ... i {more} więcej") } else { format!("  ... and {more} more") });
            }
        }
        if let Some(c) = &t.coverage {
            out.push(match pl {
                true => format!("Pokrycie linii: {:.1}% ({})", c.percent, c.tool),
                false => format!("Line coverage: {:.1}% ({})", c.percent, c.tool),
            });
        }
    }
    if let Some(l) = &lint {
        out.push(if pl { "Lint (uwagi wg narzędzia):".to_owned() } else { "Lint findings by tool:".to_owned() });
        let width = l.runs.iter().map(|r| r.tool.chars().count()).max().unwrap_or(4).max(4);
        for r in &l.runs {
            let what = match (r.status.as_str(), pl) {
                ("ok", _) => "0".to_owned(),
                ("findings", _) => r.findings.to_string(),
                (other, false) => format!("not checked: {other}"),
                (other, true) => format!("nie sprawdzono: {other}"),
            };
            out.push(format!("  {:<width$}  {what}", r.tool));
        }
        if l.runs.is_empty() {
            out.push(if pl {
                "  brak narzędzia dla tego projektu".into()
            } else {
                "  no lint tool for this project".into()
            });
        }
    }
    // Checks run in containers: their record is the commands' exit codes and output.
    if let Some(r) =
        cx.check_result("test").or_else(|| cx.check_result("lint")).filter(|r| r["isolation"] == "container")
    {
        let image = r["image"].as_str().unwrap_or("the toolchain image");
        out.push(match pl {
            true => format!(
                "Lint i testy działały w kontenerach ({image}, bez sieci): wynik to kody wyjścia i wyjście \
                 poleceń, bez wyników poszczególnych testów i uwag."
            ),
            false => format!(
                "Lint and tests ran in containers ({image}, no network): their result is the commands' exit \
                 codes and output, not per-test results or per-finding records."
            ),
        });
    }
    if let Some(r) = cx.result_of("pipeline").filter(|r| r["passed"].is_boolean()) {
        let summary = r["summary"].as_str().unwrap_or("");
        out.push(if pl {
            format!("Potok CI (lokalnie): {summary}")
        } else {
            format!("CI pipeline (run locally): {summary}")
        });
    }
    if let Some(d) =
        cx.steps.iter().find(|s| matches!(s.def.action, Action::Deliver { .. })).and_then(|s| cx.result_of(&s.def.key))
    {
        out.extend(delivery_lines(d, pl));
    }
    if let Some(d) =
        cx.steps.iter().find(|s| matches!(s.def.action, Action::Deploy { .. })).and_then(|s| cx.result_of(&s.def.key))
    {
        out.extend(deployment_lines(d, pl));
    }
    if let Some(r) = cx.result_of("screenshot").filter(|r| r["ran"] != false) {
        let summary = r["summary"].as_str().unwrap_or("");
        out.push(match (pl, r["passed"] == true) {
            (false, true) => format!("Screenshot of the deployed service: {summary}"),
            (true, true) => format!("Zrzut ekranu wdrożonej usługi (w załączniku): {summary}"),
            (false, false) => format!("Screenshot of the deployed service: not taken ({summary})"),
            (true, false) => format!("Zrzut ekranu wdrożonej usługi: nie wykonano ({summary})"),
        });
    }
    out.extend(documents_lines(cx, pl));
    out.extend(dependency_lines(cx, pl));
    out.join("\n")
}

/// The files the report carries: the deployed service's screenshot, when
/// the screenshot step took one. A file that cannot be read back is left
/// out (and logged): the report goes without it rather than not at all.
async fn attachments(cx: &Ctx<'_>) -> Vec<Value> {
    let Some(r) = cx.result_of("screenshot").filter(|r| r["passed"] == true && r["attach"] == true) else {
        return Vec::new();
    };
    let Some(rel) = r["file"].as_str() else { return Vec::new() };
    let path = format!("{}/{rel}", cx.run.slug);
    match cx.p.peers.fs.call("read_file", json!({"path": path, "binary": "base64"})).await {
        Ok(f) => match f["content"].as_str() {
            Some(b64) => vec![json!({"filename": format!("{}-{}", cx.run.slug, rel.rsplit('/').next().unwrap_or(rel)
                                        .trim_start_matches("screenshot-")),
                                     "content_type": "image/png", "content_base64": b64})],
            None => Vec::new(),
        },
        Err(e) => {
            warn!(error = %e, "the screenshot could not be read back; the report goes without it");
            Vec::new()
        }
    }
}

/// Who wrote SPEC.md, README.md and CHANGELOG.md: the spec server (with the
/// template it used) or the planner's own templates, as the steps recorded.
fn documents_lines(cx: &Ctx<'_>, pl: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = cx.result_of("scaffold") {
        for d in r["documents"].as_array().into_iter().flatten() {
            let file = d["file"].as_str().unwrap_or("?");
            let by = d["by"].as_str().unwrap_or("?");
            out.push(match pl {
                true => format!("{file}: {by}"),
                false => format!("{file}: {by}"),
            });
        }
    }
    if let Some(r) = cx.result_of("changelog") {
        let summary = r["summary"].as_str().unwrap_or("");
        out.push(match pl {
            true => format!("CHANGELOG: {summary}, serwer spec"),
            false => format!("CHANGELOG: {summary}, rendered by the spec server"),
        });
    }
    if !out.is_empty() {
        out.insert(0, if pl { "Dokumenty:".into() } else { "Documents:".into() });
    }
    out
}

/// The dependencies as the registry server pinned them: each with its
/// version and what was checked, or why it was not pinned.
fn dependency_lines(cx: &Ctx<'_>, pl: bool) -> Vec<String> {
    let Some(r) = cx.result_of("pin") else { return Vec::new() };
    let manifest = r["manifest"].as_str().unwrap_or("the manifest");
    let deps = r["dependencies"].as_array().cloned().unwrap_or_default();
    if deps.is_empty() {
        let summary = r["summary"].as_str().unwrap_or("");
        return vec![match pl {
            true => format!("Zależności: {summary}"),
            false => format!("Dependencies: {summary}"),
        }];
    }
    // A header claiming pins only when there are some: with none, the manifest keeps the template's constraints.
    let none_pinned = deps.iter().all(|d| d["pinned"].as_str().is_none());
    let mut out = vec![match (pl, none_pinned) {
        (true, false) => format!("Zależności (przypięte w {manifest} przez serwer rejestru):"),
        (false, false) => format!("Dependencies (pinned in {manifest} by the registry server):"),
        (true, true) => format!("Zależności: nie przypięto żadnej, {manifest} zachowuje wymagania szablonu:"),
        (false, true) => format!("Dependencies: none pinned, {manifest} keeps the template's constraints:"),
    }];
    for d in &deps {
        let name = d["name"].as_str().unwrap_or("?");
        let line = match d["pinned"].as_str() {
            Some(v) => {
                let mut facts = Vec::new();
                if d["latest"].as_str() == Some(v) {
                    facts.push(if pl { "najnowsza".to_owned() } else { "latest".to_owned() });
                }
                facts.push(if pl { "nie wycofana".to_owned() } else { "not yanked".to_owned() });
                facts.push(match (d["vulnerabilities_checked"] == true, pl) {
                    (true, false) => format!(
                        "no known vulnerabilities ({})",
                        d["vulnerability_source"].as_str().unwrap_or("checked")
                    ),
                    (true, true) => format!(
                        "bez znanych podatności ({})",
                        d["vulnerability_source"].as_str().unwrap_or("sprawdzone")
                    ),
                    (false, false) => "vulnerabilities not checked".to_owned(),
                    (false, true) => "podatności niesprawdzone".to_owned(),
                });
                let was = d["requested"].as_str().filter(|r| !r.is_empty()).map(|r| format!(", was {r}"));
                format!("  {name} {v} ({}{})", facts.join(", "), was.unwrap_or_default())
            }
            None => {
                let why = d["note"].as_str().or(d["status"].as_str()).unwrap_or("unknown");
                match pl {
                    true => format!("  {name}: nie przypięto ({why})"),
                    false => format!("  {name}: not pinned ({why})"),
                }
            }
        };
        out.push(line);
    }
    out
}

/// The delivery to GitLab as the git and gitlab servers reported it: what
/// was pushed, the pipeline's status and link, its failed jobs with the end
/// of their logs. Nothing they did not report.
fn delivery_lines(d: &Value, pl: bool) -> Vec<String> {
    let mut out = Vec::new();
    let pushed: Vec<String> = d["pushed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some(format!("{} ({})", r["ref"].as_str()?, r["status"].as_str().unwrap_or("?"))))
        .collect();
    if !pushed.is_empty() {
        let project = d["project"].as_str().unwrap_or("GitLab");
        out.push(match pl {
            true => format!("Wysłano do GitLab ({project}): {}", pushed.join(", ")),
            false => format!("Pushed to GitLab ({project}): {}", pushed.join(", ")),
        });
    }
    let p = &d["pipeline"];
    let status = p["status"].as_str().unwrap_or("unknown");
    let status = match d["finished"] == false {
        true if pl => format!("{status} (nadal trwa po czasie oczekiwania)"),
        true => format!("{status} (still going when the wait ended)"),
        false => status.to_owned(),
    };
    let link = p["web_url"].as_str().map(|u| format!(" ({u})")).unwrap_or_default();
    out.push(match pl {
        true => format!("Potok GitLab #{}: {status}{link}", p["id"]),
        false => format!("GitLab pipeline #{}: {status}{link}", p["id"]),
    });
    for j in d["failed_jobs"].as_array().into_iter().flatten() {
        let name = j["name"].as_str().unwrap_or("?");
        let mut how: Vec<String> = Vec::new();
        if let Some(stage) = j["stage"].as_str() {
            how.push(if pl { format!("etap {stage}") } else { format!("stage {stage}") });
        }
        if let Some(reason) = j["failure_reason"].as_str() {
            how.push(reason.to_owned());
        }
        if j["allow_failure"] == true {
            how.push(if pl { "może się nie udać".into() } else { "allowed to fail".into() });
        }
        out.push(match pl {
            true => format!("  Nieudane zadanie: {name} ({})", how.join(", ")),
            false => format!("  Failed job: {name} ({})", how.join(", ")),
        });
        for line in j["excerpt"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            out.push(format!("    {line}"));
        }
    }
    let shown = d["failed_jobs"].as_array().map_or(0, Vec::len) as u64;
    if let Some(total) = d["failed_total"].as_u64().filter(|t| *t > shown) {
        out.push(match pl {
            true => format!("  (nieudanych zadań: {total}, pokazano {shown})"),
            false => format!("  ({total} failed jobs, {shown} shown)"),
        });
    }
    out
}

/// The delivery for the report's record: the GitLab project and its pipeline, or null.
fn delivery(cx: &Ctx<'_>) -> Value {
    cx.steps
        .iter()
        .find(|s| matches!(s.def.action, Action::Deliver { .. }))
        .and_then(|s| cx.result_of(&s.def.key))
        .map(|d| {
            let failed: Vec<&Value> = d["failed_jobs"].as_array().into_iter().flatten().map(|j| &j["name"]).collect();
            json!({"project": d["project"], "branch": d["branch"], "pipeline": d["pipeline"], "passed": d["passed"],
                   "failed_jobs": failed})
        })
        .unwrap_or(Value::Null)
}

/// The deployment as the docker server reported it: status, where it is
/// published, what the health probe printed. Nothing it did not report.
fn deployment_lines(d: &Value, pl: bool) -> Vec<String> {
    let env = d["environment"].as_str().unwrap_or("dev");
    let status = d["status"].as_str().unwrap_or("unknown");
    let revision = &d["revision"];
    let mut out = vec![match pl {
        true => format!("Wdrożenie ({env}): {status}, rewizja {revision}"),
        false => format!("Deployment ({env}): {status}, revision {revision}"),
    }];
    let addresses: Vec<String> = d["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|a| format!("http://{a}/"))
        .collect();
    if !addresses.is_empty() {
        out.push(match pl {
            true => format!("  Adres (na hoście Dockera): {}", addresses.join(", ")),
            false => format!("  Answers at (on the Docker host): {}", addresses.join(", ")),
        });
    }
    match (d["health_output"].as_str(), pl) {
        (Some(o), false) => out.push(format!("  Health check returned: {o}")),
        (Some(o), true) => out.push(format!("  Sprawdzenie zdrowia zwróciło: {o}")),
        (None, false) => out.push("  Health check: no output recorded".into()),
        (None, true) => out.push("  Sprawdzenie zdrowia: brak zapisanego wyjścia".into()),
    }
    out
}

/// The deployment for the report's record: where and how healthy, or null.
fn deployment(cx: &Ctx<'_>) -> Value {
    cx.steps
        .iter()
        .find(|s| matches!(s.def.action, Action::Deploy { .. }))
        .and_then(|s| cx.result_of(&s.def.key))
        .map(|d| {
            json!({"environment": d["environment"], "status": d["status"], "revision": d["revision"],
                   "addresses": d["addresses"], "health_output": d["health_output"]})
        })
        .unwrap_or(Value::Null)
}

/// A step's title in Polish, by its key (the titles are made in English by
/// the plan; the key is stable).
pub(crate) fn polish_title(key: &str, english: &str) -> String {
    match key {
        "scaffold" => "Utworzenie projektu z szablonu i SPEC.md",
        "git_init" => "Inicjalizacja repozytorium git",
        "commit_scaffold" => "Commit szkieletu",
        "install" => "Instalacja zależności",
        "build" => "Budowanie",
        "implement" => "Implementacja funkcji",
        "lint" => "Lint",
        "test" => "Testy",
        "fix" => "Poprawki nieudanych sprawdzeń",
        "commit_work" => "Commit pracy",
        "pipeline" => "Lokalne uruchomienie potoku CI projektu",
        "tag" => "Tag v0.1.0 po udanym lincie i testach",
        "deploy" => "Wdrożenie usługi (dev)",
        "deliver" => "Wysłanie do GitLab i potok CI tam",
        "report" => "Raport dla zamawiającego",
        _ => english,
    }
    .to_owned()
}

/// A check line (`- lint: passed ...`) in Polish.
fn polish_check(line: &str) -> String {
    line.replacen(": passed", ": zaliczone", 1).replacen(": FAILED", ": NIEUDANE", 1).replacen(
        ": not run",
        ": nie uruchomione",
        1,
    )
}

/// A contract type as a call's arguments.
fn args(record: &impl Serialize) -> Result<Value, StepError> {
    serde_json::to_value(record).map_err(|e| StepError::of(ErrorKind::Internal, e.to_string()))
}
