//! PostgreSQL least privilege, as compose sets it up: the real
//! `docker/postgres/initdb/05-fleet-roles.sh` runs against a real cluster,
//! the server runs as its own role (`fleet_sql`, not a superuser) and
//! `sql_query` as `fleet_query`, which may only SELECT the sql server's
//! tables. Statements that get past the classifier (called here straight on
//! the executor) are refused by the database: no server files, no programs,
//! no other sessions ended, no superuser catalogs. The same statements run as
//! the superuser succeed — the role is what stops them.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mcp_core::db::Db;
use mcp_server_sql::{Config, server};
use mcp_test::TestServer;
use serde_json::json;

use crate::ok;

/// `postgres://user@127.0.0.1:port/db` → (port, db).
fn parts(url: &str) -> (String, String) {
    let rest = url.rsplit_once('@').map_or(url, |(_, r)| r);
    let (hostport, db) = rest.split_once('/').unwrap();
    (hostport.rsplit_once(':').unwrap().1.to_owned(), db.to_owned())
}

fn as_role(url: &str, role: &str) -> String {
    let (port, db) = parts(url);
    format!("postgres://{role}@127.0.0.1:{port}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_untrusted_queries_run_as_a_select_only_role() {
    let superuser = mcp_test::services::postgres_url();
    let (port, db) = parts(&superuser);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../docker/postgres/initdb/05-fleet-roles.sh");
    let out = Command::new("sh")
        .arg(&script)
        .env("POSTGRES_USER", "fleet")
        .env("POSTGRES_DB", &db)
        .env("POSTGRES_PASSWORD", "")
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", &port)
        .output()
        .unwrap();
    assert!(out.status.success(), "the roles script failed: {}", String::from_utf8_lossy(&out.stderr));

    // The server as compose runs it.
    let mut c = Config::for_url(&as_role(&superuser, "fleet_sql"));
    c.query_database_url = Some(as_role(&superuser, "fleet_query"));
    let s = TestServer::start(server(c).await.unwrap()).await;
    ok(&s.raw().call("kb_put", json!({"title": "Roles", "body": "least privilege"})).await);
    let r = s.raw().call("sql_query", json!({"sql": "SELECT title FROM kb_entries"})).await;
    assert_eq!(ok(&r)["rows"][0][0], "Roles", "{}", r.text);
    let ready = s.raw().get("/ready").await;
    assert!(ready.text.contains("SELECT-only role"), "{}", ready.text);

    // Past the classifier, straight at the executor.
    let mut guarded = Db::connect(&as_role(&superuser, "fleet_sql"), "sql", &[]).await.unwrap();
    guarded.use_query_role(&as_role(&superuser, "fleet_query")).await.unwrap();
    let unguarded = Db::connect(&superuser, "sql", &[]).await.unwrap();
    let attacks = [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_ls_dir('.')",
        "SELECT count(*) FROM pg_authid",
        // Another service's sessions (the sql server's own pool is connected as fleet_sql).
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'fleet_sql'",
    ];
    for sql in attacks {
        let r = guarded.query_read_only(sql, &[], 10, Duration::from_secs(5)).await;
        let e = format!("{:?}", r.as_ref().err());
        assert!(r.is_err() && (e.contains("permission denied") || e.contains("must be")), "{sql}: {r:?}");
    }
    // What a program that is no superuser cannot do in a read-only session either.
    for sql in ["SELECT lo_import('/etc/hostname')", "COPY (SELECT 1) TO PROGRAM 'true'"] {
        assert!(guarded.query_read_only(sql, &[], 10, Duration::from_secs(5)).await.is_err(), "{sql}");
    }
    // The superuser can: the role is what stops it.
    let r = unguarded.query_read_only("SELECT pg_ls_dir('.')", &[], 10, Duration::from_secs(5)).await;
    assert!(r.is_ok(), "the superuser reads server files: {r:?}");
    // The query role sees the sql server's tables, and only reads them.
    let r = guarded.query_read_only("SELECT count(*) FROM kb_entries", &[], 10, Duration::from_secs(5)).await;
    assert!(r.is_ok(), "{r:?}");
    let r = guarded.query_read_only("DELETE FROM kb_entries", &[], 10, Duration::from_secs(5)).await;
    assert!(r.is_err(), "{r:?}");
}
