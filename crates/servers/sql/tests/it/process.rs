//! The real binary: it confines itself (Landlock: the SQLite database's
//! directory and the system directories) before starting any thread, and
//! every kind of work still runs — writes, reads, and a sort big enough for
//! SQLite to want temporary storage (kept in memory: `/tmp` is out of reach).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mcp_test::raw::{RawClient, Reply};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-sql");

#[tokio::test]
async fn the_confined_binary_keeps_its_database_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .env_clear()
        .env("SQL_DATABASE_URL", format!("sqlite:{}/fleet.db", data.display()))
        .env("MCP_AUTH_TOKEN", mcp_test::TEST_TOKEN)
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raw = RawClient::new(&format!("http://127.0.0.1:{port}"), Some(mcp_test::TEST_TOKEN.into()));
    let ready = raw.get("/ready").await.body;
    let sandbox = ready["checks"].as_array().unwrap().iter().find(|c| c["name"] == "sandbox").unwrap().clone();
    assert_eq!(sandbox["ok"], true, "{ready}");
    assert!(sandbox["detail"].as_str().unwrap().contains(data.to_str().unwrap()), "{sandbox}");
    let ok = |r: Reply| {
        assert!(r.body.get("result").is_some_and(|v| v["isError"] != true), "{}", r.text);
        r
    };
    ok(raw.call("kb_put", json!({"title": "confined", "body": "still works"})).await);
    let found = ok(raw.call("kb_search", json!({"query": "confined"})).await);
    assert!(found.text.contains("still works"), "{}", found.text);
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) \
               SELECT x FROM c ORDER BY printf('%0200d', x) DESC";
    let sorted = ok(raw.call("sql_query", json!({"sql": sql})).await);
    assert!(sorted.text.contains("300000"), "{}", sorted.text);
    assert!(data.join("fleet.db").exists());
    let _ = child.kill();
    let _ = child.wait();
}
