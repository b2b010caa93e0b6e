//! `monitoring/grafana`: Grafana cannot be installed here, so the dashboards
//! are checked the way Grafana would use them. The JSON is validated (uids,
//! panels, datasources, targets, every variable defined); the provisioning
//! YAML is parsed; and every panel's SQL, with the macros and variables
//! expanded as Grafana expands them, runs against a real PostgreSQL holding
//! the tables of the observer, the sql server and the log server, seeded with
//! a small fleet's worth of data. The PromQL half runs in `prometheus.rs`.

use std::collections::BTreeSet;
use std::process::Command;

use mcp_core::db::Db;
use serde_json::Value;

use crate::otlp::{PROTOBUF, S, now_ns, protobuf, trace_id};
use crate::{Obs, workspace};

const PG_UID: &str = "fleet-postgres";
const PROM_UID: &str = "fleet-prometheus";
const PG_TYPE: &str = "grafana-postgresql-datasource";

/// Every dashboard file, parsed.
pub fn dashboards() -> Vec<(String, Value)> {
    let dir = workspace().join("monitoring/grafana/dashboards");
    let mut out = Vec::new();
    for name in ["fleet.json", "traces.json", "agent.json"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        out.push((name.to_owned(), v));
    }
    out
}

/// Panels, rows' nested panels included.
fn panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner.iter());
        }
    }
    out
}

fn uid(v: &Value) -> &str {
    v["datasource"]["uid"].as_str().unwrap_or("")
}

/// `(where, expression)` of every PromQL query: panel targets and query variables.
pub fn prom_queries(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(d) {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push((p["title"].as_str().unwrap_or("").to_owned(), expand_promql(e)));
            }
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if v["type"] == "query" && uid(v) == PROM_UID {
            let q = v["query"]["query"].as_str().or(v["query"].as_str()).unwrap();
            // label_values(selector, label): the selector must match series.
            let inner = q.strip_prefix("label_values(").and_then(|r| r.rsplit_once(',')).map(|(sel, _)| sel).unwrap();
            out.push((format!("variable {}", v["name"].as_str().unwrap()), expand_promql(inner)));
        }
    }
    out
}

/// Template variables as Grafana substitutes them with "All" selected.
fn expand_promql(e: &str) -> String {
    e.replace("${program}", ".*")
        .replace("$program", ".*")
        .replace("${tool}", ".*")
        .replace("$tool", ".*")
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "5m")
}

/// `(where, SQL)` of every SQL query: panel targets and query variables.
fn sql_queries(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(d) {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(s) = t["rawSql"].as_str() {
                out.push((p["title"].as_str().unwrap_or("").to_owned(), s.to_owned()));
            }
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if v["type"] == "query" && uid(v) == PG_UID {
            out.push((format!("variable {}", v["name"].as_str().unwrap()), v["query"].as_str().unwrap().to_owned()));
        }
    }
    out
}

/// What the SQL expansion substitutes.
struct Expand<'a> {
    from_ms: i64,
    to_ms: i64,
    interval_s: i64,
    /// Single-value variables: `(name, value)`, inserted as they are.
    vars: &'a [(&'a str, &'a str)],
    /// Multi-value variables with some values selected: quoted and joined.
    multi: &'a [(&'a str, Vec<&'a str>)],
    /// Variables whose "All" is selected: `(name, allValue)`.
    all: &'a [(&'a str, &'a str)],
}

fn interval_secs(s: &str, dflt: i64) -> i64 {
    let s = s.trim().trim_matches('\'');
    if s == "$__interval" {
        return dflt;
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().unwrap();
    n * match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => panic!("interval unit {other}"),
    }
}

/// The argument list of the macro call starting right after `name(`.
fn macro_args(s: &str) -> (Vec<String>, usize) {
    let mut depth = 0;
    let mut args = vec![String::new()];
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return (args.into_iter().map(|a| a.trim().to_owned()).collect(), i + 1),
            ')' => depth -= 1,
            ',' if depth == 0 => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(a) = args.last_mut() {
            a.push(c);
        }
    }
    panic!("unclosed macro call: {s}");
}

/// Expand Grafana's PostgreSQL macros and template variables as Grafana
/// does (see Grafana's `pkg/tsdb/grafana-postgresql-datasource/macros.go`).
fn expand_sql(sql: &str, x: &Expand<'_>) -> String {
    let rfc = |ms: i64| mcp_core::clock::rfc3339(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000);
    let mut s = sql.to_owned();
    // Variables first: a macro argument may be one ($__interval).
    s = s.replace("$__interval", &format!("'{}s'", x.interval_s));
    for (name, all_value) in x.all {
        s = s.replace(&format!("${{{name}}}"), all_value).replace(&format!("${name}"), all_value);
    }
    let quoted = |v: &str| format!("'{}'", v.replace('\'', "''"));
    for (name, value) in x.vars {
        s = s.replace(&format!("${{{name}:sqlstring}}"), &quoted(value));
        s = s.replace(&format!("${{{name}}}"), value).replace(&format!("${name}"), value);
    }
    for (name, values) in x.multi {
        let list = values.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(",");
        s = s.replace(&format!("${{{name}}}"), &list).replace(&format!("${name}"), &list);
    }
    while let Some(at) = s.find("$__") {
        let rest = &s[at + 3..];
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let name = &rest[..name_len];
        assert_eq!(&rest[name_len..name_len + 1], "(", "macro $__{name} without arguments in:\n{sql}");
        let (args, used) = macro_args(&rest[name_len + 1..]);
        let end = at + 3 + name_len + 1 + used;
        let replacement = match name {
            "unixEpochFrom" => (x.from_ms / 1000).to_string(),
            "unixEpochTo" => (x.to_ms / 1000).to_string(),
            "unixEpochNanoFrom" => (x.from_ms * 1_000_000).to_string(),
            "unixEpochNanoTo" => (x.to_ms * 1_000_000).to_string(),
            "timeFrom" => format!("'{}'", rfc(x.from_ms)),
            "timeTo" => format!("'{}'", rfc(x.to_ms)),
            "timeFilter" => format!("{} BETWEEN '{}' AND '{}'", args[0], rfc(x.from_ms), rfc(x.to_ms)),
            "unixEpochFilter" => format!("{} >= {} AND {} <= {}", args[0], x.from_ms / 1000, args[0], x.to_ms / 1000),
            "unixEpochNanoFilter" => {
                format!("{} >= {} AND {} <= {}", args[0], x.from_ms * 1_000_000, args[0], x.to_ms * 1_000_000)
            }
            "unixEpochGroup" | "unixEpochGroupAlias" => {
                let n = interval_secs(&args[1], x.interval_s);
                let alias = if name.ends_with("Alias") { " AS \"time\"" } else { "" };
                format!("floor(({})/{n})*{n}{alias}", args[0])
            }
            "timeGroup" | "timeGroupAlias" => {
                let n = interval_secs(&args[1], x.interval_s);
                let alias = if name.ends_with("Alias") { " AS \"time\"" } else { "" };
                format!("floor(extract(epoch from {})/{n})*{n}{alias}", args[0])
            }
            other => panic!("the test does not know Grafana macro $__{other}"),
        };
        s.replace_range(at..end, &replacement);
    }
    assert!(!s.contains('$'), "unexpanded variable left in:\n{s}");
    s
}

fn psql() -> std::path::PathBuf {
    for v in ["17", "16", "15", "14", "13"] {
        let p = std::path::PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/psql"));
        if p.exists() {
            return p;
        }
    }
    crate::need("psql", "postgresql-client")
}

/// Run `sql` on `url` and return its rows as JSON objects.
fn rows(url: &str, sql: &str) -> Result<Vec<Value>, String> {
    let wrapped = format!("SELECT COALESCE(json_agg(q), '[]'::json) FROM (\n{sql}\n) AS q");
    let out = Command::new(psql())
        .arg(url)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(&wrapped)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).map_err(|e| format!("{e}: {text}"))?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

#[test]
fn dashboards_are_valid_grafana_json() {
    let mut uids = BTreeSet::new();
    for (file, d) in dashboards() {
        let dash_uid = d["uid"].as_str().unwrap_or_else(|| panic!("{file}: no uid"));
        assert!(uids.insert(dash_uid.to_owned()), "{file}: duplicate uid {dash_uid}");
        assert!(dash_uid.len() <= 40 && dash_uid.starts_with("mcp-"), "{file}: uid {dash_uid}");
        assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()), "{file}: no title");
        assert!(d["schemaVersion"].as_i64().is_some_and(|v| v >= 36), "{file}: schemaVersion");
        assert!(d["time"]["from"].is_string() && d["time"]["to"].is_string(), "{file}: time");
        assert_eq!(d["editable"], false, "{file}: provisioned dashboards are code");
        let vars: Vec<&str> =
            d["templating"]["list"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
        for v in d["templating"]["list"].as_array().unwrap() {
            let kind = v["type"].as_str().unwrap();
            assert!(
                ["query", "custom", "textbox", "constant", "interval"].contains(&kind),
                "{file}: variable type {kind}"
            );
            if kind == "query" {
                assert!([PG_UID, PROM_UID].contains(&uid(v)), "{file}: variable {} datasource", v["name"]);
            }
        }
        let mut ids = BTreeSet::new();
        let mut types = BTreeSet::new();
        for p in panels(&d) {
            let title = p["title"].as_str().unwrap_or("?");
            let id = p["id"].as_i64().unwrap_or_else(|| panic!("{file}: {title} has no id"));
            assert!(ids.insert(id), "{file}: duplicate panel id {id}");
            let g = &p["gridPos"];
            let (x, w) = (g["x"].as_i64().unwrap(), g["w"].as_i64().unwrap());
            assert!(x >= 0 && w >= 1 && x + w <= 24 && g["h"].as_i64().unwrap() >= 1, "{file}: {title} gridPos {g}");
            let kind = p["type"].as_str().unwrap();
            types.insert(kind.to_owned());
            if kind == "row" {
                continue;
            }
            assert!(
                ["timeseries", "stat", "table", "state-timeline", "traces", "logs", "bargauge", "gauge"]
                    .contains(&kind),
                "{file}: {title}: panel type {kind}"
            );
            assert!(p["description"].as_str().is_some_and(|d| d.len() > 10), "{file}: {title} has no description");
            let ds = uid(p);
            assert!([PG_UID, PROM_UID].contains(&ds), "{file}: {title}: datasource uid {ds:?}");
            let targets = p["targets"].as_array().unwrap_or_else(|| panic!("{file}: {title} has no targets"));
            assert!(!targets.is_empty(), "{file}: {title} has no targets");
            let mut refs = BTreeSet::new();
            for t in targets {
                assert!(refs.insert(t["refId"].as_str().unwrap()), "{file}: {title}: duplicate refId");
                match uid(t) {
                    PG_UID => {
                        assert_eq!(t["datasource"]["type"], PG_TYPE);
                        let sql = t["rawSql"].as_str().unwrap_or_else(|| panic!("{file}: {title}: no rawSql"));
                        assert!(["table", "time_series"].contains(&t["format"].as_str().unwrap()), "{file}: {title}");
                        if t["format"] == "time_series" {
                            assert!(
                                sql.contains("AS \"time\"") || sql.contains("GroupAlias("),
                                "{file}: {title}: no time column"
                            );
                        }
                    }
                    PROM_UID => {
                        assert_eq!(t["datasource"]["type"], "prometheus");
                        assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()), "{file}: {title}: no expr");
                    }
                    other => panic!("{file}: {title}: target datasource {other:?}"),
                }
                // Every variable a query uses is defined (or one of Grafana's own).
                let text = t["rawSql"].as_str().or(t["expr"].as_str()).unwrap();
                for (i, _) in text.match_indices('$') {
                    let rest = text[i + 1..].trim_start_matches('{');
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if name.starts_with("__") || name.is_empty() {
                        continue;
                    }
                    assert!(
                        vars.contains(&name.as_str()),
                        "{file}: {title}: ${name} is not a variable of the dashboard"
                    );
                }
            }
        }
        if file == "traces.json" {
            assert!(types.contains("traces"), "the Traces dashboard has no waterfall");
        }
    }
    assert_eq!(uids.into_iter().collect::<Vec<_>>(), ["mcp-agent", "mcp-fleet", "mcp-traces"]);
}

#[test]
fn provisioning_is_valid() {
    let root = workspace().join("monitoring/grafana/provisioning");
    // Grafana's YAML, parsed by a real YAML parser (Debian's python3-yaml).
    let parse = |p: std::path::PathBuf| -> Value {
        let out = Command::new("/usr/bin/python3")
            .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let ds = parse(root.join("datasources/datasources.yml"));
    assert_eq!(ds["apiVersion"], 1);
    let list = ds["datasources"].as_array().unwrap();
    let pg = list.iter().find(|d| d["uid"] == PG_UID).expect("fleet-postgres");
    assert_eq!(pg["type"], PG_TYPE);
    for (field, value) in [
        ("url", &pg["url"]),
        ("user", &pg["user"]),
        ("database", &pg["jsonData"]["database"]),
        ("password", &pg["secureJsonData"]["password"]),
    ] {
        assert!(
            value.as_str().is_some_and(|v| v.contains("${POSTGRES_")),
            "{field} is not from ${{POSTGRES_*}}: {value}"
        );
    }
    let prom = list.iter().find(|d| d["uid"] == PROM_UID).expect("fleet-prometheus");
    assert_eq!(prom["type"], "prometheus");
    assert!(prom["url"].as_str().unwrap().starts_with("http://"));
    let dash = parse(root.join("dashboards/dashboards.yml"));
    let provider = &dash["providers"][0];
    assert_eq!(provider["type"], "file");
    assert!(provider["options"]["path"].as_str().unwrap().starts_with('/'));
}

/// One PostgreSQL database with the three programs' tables, as in compose,
/// seeded through their own migrations; returns its URL and a trace id that
/// has spans, decisions and log lines.
async fn seeded() -> (String, String, Obs) {
    let url = mcp_test::services::postgres_url();
    let obs = Obs::start(&url, "http://127.0.0.1:9/mcp").await;
    let sql = Db::connect(&url, "sql", mcp_server_sql::schema::MIGRATIONS).await.unwrap();
    let log = Db::connect(&url, "log", mcp_server_log::schema::MIGRATIONS).await.unwrap();

    let now_ms = (now_ns() / 1_000_000) as i64;
    let t0 = now_ns() - 20 * 60 * 1_000_000_000;
    let tr = trace_id();
    let root =
        S::new(&tr, "mcp-client-planner", "", t0, 0.0, 900.0).tool("plan").attr("gen_ai.conversation.id", "req-1");
    let fs = S::new(&tr, "mcp-server-fs", "", t0, 10.0, 40.0).tool("write_file").child_of(&root);
    let test = S::new(&tr, "mcp-server-test", "", t0, 60.0, 800.0).tool("run_tests").child_of(&root).failed();
    let other = trace_id();
    let o1 = S::new(&other, "mcp-client-llm-agent", "invoke_agent", t0 + 60_000_000_000, 0.0, 2500.0);
    let o2 = S::new(&other, "mcp-server-sql", "", t0 + 60_000_000_000, 5.0, 3.0).tool("decision_record").child_of(&o1);
    assert_eq!(obs.post(protobuf(&[root, fs, test, o1, o2]), PROTOBUF).await.0, 200);

    let at = |ago_min: i64| now_ms - ago_min * 60_000;
    let iso = |ms: i64| mcp_core::clock::rfc3339(ms / 1000, (ms % 1000) * 1_000_000);
    let decisions = [
        ("req-1", tr.as_str(), "llm-agent", "received", 180),
        ("req-1", tr.as_str(), "llm-agent", "asked", 179),
        ("req-1", tr.as_str(), "llm-agent", "proceeded", 150),
        ("req-1", tr.as_str(), "planner", "completed", 100),
        ("req-2", other.as_str(), "llm-agent", "received", 90),
        ("req-2", other.as_str(), "llm-agent", "refused", 89),
        ("req-3", "", "llm-agent", "received", 60),
        ("req-3", "", "llm-agent", "proceeded", 59),
        ("req-3", "", "planner", "failed", 30),
    ];
    for (project, trace, actor, decision, ago) in decisions {
        sql.query(
            "INSERT INTO decisions (project, trace_id, actor, decision, rationale, inputs, outputs, created_at, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(project)
        .bind(Some(trace).filter(|t| !t.is_empty()))
        .bind(actor)
        .bind(decision)
        .bind(format!("{decision} because the test says so"))
        .bind("{}")
        .bind("{}")
        .bind(iso(at(ago)))
        .bind(at(ago))
        .execute(sql.writer())
        .await
        .unwrap();
    }
    let messages = [
        ("req-1", "in", "email", 180),
        ("req-1", "out", "email", 179),
        ("req-1", "in", "email", 170),
        ("req-1", "out", "email", 100),
        ("req-3", "in", "rest", 60),
        ("req-3", "out", "rest", 58),
    ];
    for (project, direction, channel, ago) in messages {
        sql.query(
            "INSERT INTO messages (project, thread_id, direction, channel, from_addr, to_addr, subject, body, message_id, \
             in_reply_to, trace_id, created_at, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(project)
        .bind(format!("thread-{project}"))
        .bind(direction)
        .bind(channel)
        .bind("alice@example.test")
        .bind("agent@example.test")
        .bind("New project")
        .bind("Please")
        .bind(format!("<{project}-{ago}@example.test>"))
        .bind(Option::<String>::None)
        .bind(tr.as_str())
        .bind(iso(at(ago)))
        .bind(at(ago))
        .execute(sql.writer())
        .await
        .unwrap();
    }
    let lines = [
        ("INFO", 1, "mcp-server-fs", "wrote Cargo.toml"),
        ("ERROR", 4, "mcp-server-test", "2 tests failed"),
        ("WARN", 3, "mcp-client-planner", "retrying"),
    ];
    for (i, (level, num, service, message)) in lines.into_iter().enumerate() {
        let ms = ((t0 / 1_000_000) as i64) + 20 + i as i64;
        log.query(
            "INSERT INTO log_lines (ts, ts_ms, level, level_num, service, trace_id, span_id, target, message, fields) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(iso(ms))
        .bind(ms)
        .bind(level)
        .bind(num)
        .bind(service)
        .bind(tr.as_str())
        .bind("0123456789abcdef")
        .bind("test")
        .bind(message)
        .bind("{}")
        .execute(log.writer())
        .await
        .unwrap();
    }
    let tasks =
        [("t1", "running", 120, 60, None), ("t2", "succeeded", 100, 90, Some(90)), ("t3", "failed", 50, 40, Some(40))];
    for (id, state, started, beat, finished) in tasks {
        log.query(
            "INSERT INTO tasks (id, name, project, trace_id, state, started_ms, heartbeat_ms, finished_ms, detail, result) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind("cargo build")
        .bind("req-1")
        .bind(tr.as_str())
        .bind(state)
        .bind(at(started))
        .bind(at(beat))
        .bind(finished.map(at))
        .bind("building")
        .bind(Option::<String>::None)
        .execute(log.writer())
        .await
        .unwrap();
    }
    (url, tr, obs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_sql_runs_against_postgres() {
    let (url, tr, _obs) = seeded().await;
    let now_ms = (now_ns() / 1_000_000) as i64;
    let vars = [("trace_id", tr.as_str()), ("min_duration_ms", "0")];
    let all = [("service", "'__all__'")];
    let x = Expand {
        from_ms: now_ms - 6 * 3_600_000,
        to_ms: now_ms + 60_000,
        interval_s: 60,
        vars: &vars,
        multi: &[],
        all: &all,
    };
    let mut checked = 0;
    for (file, d) in dashboards() {
        for (panel, sql) in sql_queries(&d) {
            let expanded = expand_sql(&sql, &x);
            let r = rows(&url, &expanded).unwrap_or_else(|e| panic!("{file} / {panel}:\n{expanded}\n{e}"));
            assert!(!r.is_empty(), "{file} / {panel} returned no rows:\n{expanded}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} SQL queries found");

    // A selection of one service (a multi-value variable, quoted as Grafana
    // quotes it) narrows the traces.
    let slow = [("trace_id", tr.as_str()), ("min_duration_ms", "1000")];
    let one = [("service", vec!["mcp-client-llm-agent"])];
    let x1 = Expand { vars: &slow, multi: &one, all: &[], ..x };
    let (_, traces) = dashboards().into_iter().find(|(f, _)| f == "traces.json").unwrap();
    let recent = sql_queries(&traces).into_iter().find(|(p, _)| p == "Recent traces").unwrap().1;
    let r = rows(&url, &expand_sql(&recent, &x1)).unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_ne!(r[0]["trace_id"], tr.as_str());
    let two = [("service", vec!["mcp-server-fs", "mcp-server-test"])];
    let r = rows(&url, &expand_sql(&recent, &Expand { multi: &two, all: &[], ..x })).unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["trace_id"], tr.as_str());
    assert_eq!(r[0]["spans"], 3);
    assert_eq!(r[0]["errors"], 1);
    assert_eq!(r[0]["root"], "tools/call plan");

    // The waterfall: the data frame Grafana's traces panel reads.
    let waterfall = traces["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "traces")
        .map(|p| p["targets"][0]["rawSql"].as_str().unwrap().to_owned())
        .unwrap();
    let spans = rows(&url, &expand_sql(&waterfall, &x)).unwrap();
    assert_eq!(spans.len(), 3);
    for s in &spans {
        for field in
            ["traceID", "spanID", "parentSpanID", "operationName", "serviceName", "startTime", "duration", "tags"]
        {
            assert!(s.get(field).is_some(), "waterfall row lacks {field}: {s}");
        }
        assert_eq!(s["traceID"], tr.as_str());
        assert!(s["startTime"].as_f64().unwrap() > 1e12, "startTime in ms: {s}");
        assert!(s["tags"].as_array().unwrap().iter().all(|t| t["key"].is_string() && t.get("value").is_some()));
    }
    let root = spans.iter().find(|s| s["parentSpanID"].is_null()).expect("a root");
    assert_eq!(root["operationName"], "tools/call plan");
    assert_eq!(root["duration"], 900.0);
    let failed = spans.iter().find(|s| s["serviceName"] == "mcp-server-test").unwrap();
    assert_eq!(failed["parentSpanID"], root["spanID"]);
    assert_eq!(failed["statusCode"], 2);
    assert_eq!(failed["startTime"].as_f64().unwrap() - root["startTime"].as_f64().unwrap(), 60.0);
    let tags: Vec<&str> = failed["tags"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert!(tags.contains(&"gen_ai.tool.name"), "{tags:?}");

    // The Agent dashboard's figures from the seeded history.
    let (_, agent) = dashboards().into_iter().find(|(f, _)| f == "agent.json").unwrap();
    let q = |title: &str| sql_queries(&agent).into_iter().find(|(p, _)| p == title).unwrap().1;
    assert_eq!(rows(&url, &expand_sql(&q("Received"), &x)).unwrap()[0]["received"], 3);
    assert_eq!(rows(&url, &expand_sql(&q("Questions"), &x)).unwrap()[0]["questions"], 1);
    assert_eq!(rows(&url, &expand_sql(&q("Completed"), &x)).unwrap()[0]["completed"], 1);
    assert_eq!(rows(&url, &expand_sql(&q("Failed"), &x)).unwrap()[0]["failed"], 1);
    // First replies: req-1 after 60 s, req-3 after 120 s.
    let first = &rows(&url, &expand_sql(&q("Time to first reply"), &x)).unwrap()[0];
    assert_eq!(first["median"], 90.0, "{first}");
    // Done: req-1 after 80 min, req-3 after 30 min.
    let done = &rows(&url, &expand_sql(&q("Time to done"), &x)).unwrap()[0];
    assert_eq!(done["median"], 3300.0, "{done}");
    let projects = rows(&url, &expand_sql(&q("Projects"), &x)).unwrap();
    let req1 = projects.iter().find(|p| p["project"] == "req-1").unwrap();
    assert_eq!(req1["state"], "completed");
    assert_eq!(req1["questions"], 1);
    let tasks = rows(&url, &expand_sql(&q("Tasks"), &x)).unwrap();
    assert!(tasks.iter().any(|t| t["id"] == "t1" && t["state"] == "stalled"), "{tasks:?}");
}

#[test]
fn the_expansion_matches_grafana() {
    let vars = [("trace_id", "ab'c"), ("min", "5")];
    let multi = [("service", vec!["a", "b"])];
    let x = Expand { from_ms: 1_000_000, to_ms: 2_000_500, interval_s: 30, vars: &vars, multi: &multi, all: &[] };
    assert_eq!(
        expand_sql("SELECT $__unixEpochGroupAlias(start_ms / 1000, '1m') WHERE x = ${trace_id:sqlstring}", &x),
        "SELECT floor((start_ms / 1000)/60)*60 AS \"time\" WHERE x = 'ab''c'"
    );
    assert_eq!(expand_sql("$__unixEpochGroup(t, $__interval)", &x), "floor((t)/30)*30");
    assert_eq!(expand_sql("s IN ($service) AND d >= $min", &x), "s IN ('a','b') AND d >= 5");
    assert_eq!(expand_sql("t BETWEEN $__unixEpochFrom() AND $__unixEpochTo()", &x), "t BETWEEN 1000 AND 2000");
    assert_eq!(expand_sql("$__timeFilter(ts)", &x), "ts BETWEEN '1970-01-01T00:16:40Z' AND '1970-01-01T00:33:20.5Z'");
}
