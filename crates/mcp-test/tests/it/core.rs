//! mcp-core behaviour through HTTP: limits, errors, shutdown, and the client's
//! retries, breaker and trace propagation.

use std::time::{Duration, Instant};

use mcp_core::{ClientError, ClientOptions, CoreConfig, McpClient};
use mcp_test::{TEST_TOKEN, TestServer, telemetry};
use serde_json::{Value, json};

async fn start() -> TestServer {
    TestServer::start(crate::echo_server()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_tool_is_contained() {
    let s = start().await;
    let r = s.raw().call("boom", json!({"text": "x"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.result()["isError"], true, "{}", r.text);
    assert!(r.result()["content"][0]["text"].as_str().unwrap().contains("internal error"));
    // The server is still alive.
    let r = s.raw().call("echo", json!({"text": "after"})).await;
    assert_eq!(r.result()["structuredContent"]["text"], "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_a_tool_error_that_says_what_to_change() {
    let s = start().await;
    let r = s.raw().call("echo", json!({"txt": "typo"})).await;
    assert_eq!(r.result()["isError"], true);
    let msg = r.result()["content"][0]["text"].as_str().unwrap();
    assert!(msg.contains("missing field `text`"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_time_out_with_an_error_result() {
    let mut core = CoreConfig::defaults("mcp-server-echo");
    core.auth_token = Some(TEST_TOKEN.into());
    core.call_timeout = Duration::from_millis(200);
    let s = TestServer::start_with(crate::echo_server(), core).await;
    let t = Instant::now();
    let r = s.raw().call("sleep", json!({"ms": 5000})).await;
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(r.result()["isError"], true);
    assert!(r.result()["content"][0]["text"].as_str().unwrap().contains("timed out"));
    let m = s.raw().get("/metrics").await.text;
    assert!(m.contains(r#"outcome="timeout",tool="sleep""#), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_output_is_truncated_visibly() {
    let mut core = CoreConfig::defaults("mcp-server-echo");
    core.auth_token = Some(TEST_TOKEN.into());
    core.max_output_bytes = 1000;
    let s = TestServer::start_with(crate::echo_server(), core).await;
    let r = s.raw().call("big", json!({"ms": 5000})).await;
    let text = r.result()["content"][0]["text"].as_str().unwrap();
    assert!(text.len() < 1400, "{}", text.len());
    assert!(text.contains("output truncated") && text.contains("4000 more bytes"), "{text}");
    assert_eq!(r.result()["isError"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_have_the_right_codes() {
    let s = start().await;
    let c = s.raw();
    let batch = c.post_raw(r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#, &[]).await;
    assert_eq!(batch.body["error"]["code"], -32600, "{}", batch.text);
    let not_obj = c.post_raw("42", &[]).await;
    assert_eq!(not_obj.body["error"]["code"], -32600, "{}", not_obj.text);
    let no_name = c.request("tools/call", json!({"arguments": {}}), json!({}), &[]).await;
    assert!([-32602, -32600].contains(&no_name.body["error"]["code"].as_i64().unwrap_or(0)), "{}", no_name.text);
    let unknown_method = c.request("no/such/method", json!({}), json!({}), &[]).await;
    assert_eq!(unknown_method.body["error"]["code"], -32601, "{}", unknown_method.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_body_limits() {
    let mut core = CoreConfig::defaults("mcp-server-echo");
    core.auth_token = Some(TEST_TOKEN.into());
    core.max_body_bytes = 10_000;
    let s = TestServer::start_with(crate::echo_server(), core).await;
    let http = reqwest::Client::new();
    let r = http
        .post(s.url())
        .header("host", "evil.example")
        .bearer_auth(TEST_TOKEN)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The compose service name is accepted by default.
    let r = http
        .get(format!("{}/ready", s.base()))
        .header("host", "mcp-server-echo:8080")
        .bearer_auth(TEST_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{}"}}}}}}"#,
        "a".repeat(20_000)
    );
    let r = s.raw().post_raw(big, &[]).await;
    assert_eq!(r.status, 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_calls_finish() {
    let s = start().await;
    let raw = s.raw();
    let call = tokio::spawn(async move { raw.call("sleep", json!({"ms": 600})).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let t = Instant::now();
    s.stop().await;
    let r = call.await.unwrap();
    assert_eq!(r.result()["content"][0]["text"], "slept", "{}", r.text);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_notifications_reach_the_client() {
    let s = start().await;
    let c = s.client();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = c.call_with_progress("sleep", json!({"ms": 100}), tx).await.unwrap();
    assert_eq!(r.text, "slept");
    let mut seen = Vec::new();
    while let Ok(p) = rx.try_recv() {
        seen.push(p.progress);
    }
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1] > w[0]), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_propagates_trace_context_in_meta_and_header() {
    let s = start().await;
    let c = s.client();
    telemetry::init();
    let span = mcp_core::tracing::info_span!("test-root");
    let trace_id = mcp_core::trace::trace_id_of_span(&span).expect("a trace id");
    {
        use mcp_core::tracing::Instrument;
        let r = c.call("echo", json!({"text": "traced"})).instrument(span).await.unwrap();
        assert_eq!(r.structured.unwrap()["text"], "traced");
    }
    let found = telemetry::logs().iter().any(|l| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|v| v["trace_id"] == trace_id.as_str() && v["fields"]["gen_ai.tool.name"] == "echo")
    });
    assert!(found, "the server's log lines do not carry the client's trace {trace_id}");
    // Client span and server span in one trace, server span a child of the client span.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        telemetry::flush().await;
        let spans = telemetry::collector().trace(&trace_id);
        let client = spans.iter().find(|s| s.name == "tools/call echo" && s.kind == 3);
        let server = spans.iter().find(|s| s.name == "tools/call echo" && s.kind == 2);
        if let (Some(cs), Some(ss)) = (client, server) {
            assert_eq!(ss.parent_span_id, cs.span_id);
            break;
        }
        assert!(Instant::now() < deadline, "spans missing: {spans:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_retries_transient_failures_then_opens_the_breaker() {
    telemetry::init();
    // Nothing listens on this port: connection refused, a transient failure.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut opts = ClientOptions::new(format!("http://127.0.0.1:{port}/mcp"));
    opts.max_attempts = 3;
    opts.base_backoff = Duration::from_millis(20);
    opts.breaker_threshold = 3;
    opts.breaker_cooldown = Duration::from_secs(30);
    let c = McpClient::new(opts).unwrap();
    let t = Instant::now();
    let e = c.call("echo", json!({"text": "x"})).await.unwrap_err();
    // The attempts of this call opened the breaker; either error is honest.
    assert!(matches!(e, ClientError::Transport { .. } | ClientError::CircuitOpen(_)), "{e:?}");
    // The next call fails fast: the breaker is open.
    let t2 = Instant::now();
    let e = c.call("echo", json!({"text": "x"})).await.unwrap_err();
    assert!(matches!(e, ClientError::CircuitOpen(_)), "{e:?}");
    assert!(t2.elapsed() < Duration::from_millis(50), "{:?}", t2.elapsed());
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_recovers_when_the_server_comes_up() {
    telemetry::init();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let mut opts = ClientOptions::new(format!("http://{addr}/mcp")).token(Some(TEST_TOKEN.into()));
    opts.max_attempts = 20;
    opts.base_backoff = Duration::from_millis(50);
    opts.max_backoff = Duration::from_millis(200);
    opts.breaker_threshold = 100;
    let c = McpClient::new(opts).unwrap();
    let call = tokio::spawn(async move { c.call("echo", json!({"text": "late"})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut core = CoreConfig::defaults("mcp-server-echo");
    core.auth_token = Some(TEST_TOKEN.into());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let server = crate::echo_server();
    tokio::spawn(async move { mcp_core::serve(server, &core, listener, std::future::pending()).await });
    let r = call.await.unwrap().unwrap();
    assert_eq!(r.structured.unwrap()["text"], "late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_error_is_a_result_not_a_client_error() {
    let s = start().await;
    let c = s.client();
    let r = c.call("echo", json!({})).await.unwrap();
    assert_eq!(r.error_kind(), Some(mcp_core::ErrorKind::InvalidInput), "missing text is invalid input: {r:?}");
    let e = c.call("no_such_tool", json!({})).await.unwrap_err();
    assert!(matches!(e, ClientError::Protocol { code: -32602, .. }), "{e:?}");
    assert_eq!(e.kind(), mcp_core::ErrorKind::InvalidInput);
    let tools = c.list_tools().await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["big", "boom", "echo", "fail", "sleep"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_kinds_round_trip_through_meta() {
    use mcp_core::ErrorKind;
    let s = start().await;
    let c = s.client();
    for kind in ErrorKind::ALL {
        let r = c.call("fail", json!({"kind": kind.as_str()})).await.unwrap();
        assert!(r.is_error(), "{kind}");
        // Cancelled has no ToolError of its own: a tool reports it as a timeout.
        let expected = if kind == ErrorKind::Cancelled { ErrorKind::TimedOut } else { kind };
        assert_eq!(r.error_kind(), Some(expected), "{kind}: {r:?}");
        assert_eq!(r.is_transient_error(), expected.is_transient(), "{kind}");
    }
    // On the wire: `_meta` carries the kind next to `isError`.
    let reply = s.raw().call("fail", json!({"kind": "rate_limited"})).await;
    mcp_test::raw::err(&reply);
    let result = reply.result();
    assert_eq!(result["_meta"][ErrorKind::META_KEY], "rate_limited", "{result}");
    // The server's own failures carry kinds too: a panic is internal.
    let r = c.call("boom", json!({"text": "x"})).await.unwrap();
    assert_eq!(r.error_kind(), Some(ErrorKind::Internal), "{r:?}");
    // A success has none.
    let r = c.call("echo", json!({"text": "x"})).await.unwrap();
    assert_eq!(r.error_kind(), None);
}

/// A program's own authenticator (the gateway's kind: a key per person, with
/// a role) replaces the fleet token: the guard names the caller for the
/// tool (`Ctx::caller`), the metrics count the role, and a request it refuses
/// never reaches a tool — on `/mcp` and on `/metrics` alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pluggable_authenticator_names_the_caller_for_tools_and_metrics() {
    use std::sync::Arc;

    use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role};
    use mcp_core::{Annotations, Ctx, Tool, ToolError, ToolResponse};
    use schemars::JsonSchema;
    use serde::Deserialize;

    struct Keys;
    impl Authenticator for Keys {
        fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
            match headers.get("x-api-key").map(|v| v.as_bytes()) {
                None => Err(Refusal::Missing),
                Some(b"alice-key") => {
                    Ok(Caller { subject: "alice".into(), role: Role::Viewer, key_id: Some("k1".into()) })
                }
                Some(_) => Err(Refusal::Invalid),
            }
        }
    }
    #[derive(Deserialize, JsonSchema)]
    struct NoArgs {}
    let whoami = Tool::new(
        "whoami",
        "Who is calling.",
        Annotations::read_only(),
        |_: Arc<()>, _: NoArgs, ctx: Ctx| async move {
            let c = ctx.caller().cloned().ok_or_else(|| ToolError::internal("no caller"))?;
            Ok(ToolResponse::text(json!({"subject": c.subject, "role": c.role, "key_id": c.key_id}).to_string()))
        },
    );
    let server = mcp_core::Server::builder("mcp-server-keys", "0", Arc::new(()))
        .authenticator(Arc::new(Keys))
        .tool(whoami)
        .build();
    let s = TestServer::start(server).await;

    // The fleet token means nothing here.
    let r = s.raw().call("whoami", json!({})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = s
        .raw()
        .request("tools/call", json!({"name": "whoami", "arguments": {}}), json!({}), &[("x-api-key", "mallory")])
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = s
        .raw()
        .request("tools/call", json!({"name": "whoami", "arguments": {}}), json!({}), &[("x-api-key", "alice-key")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let who: Value = serde_json::from_str(r.result()["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(who, json!({"subject": "alice", "role": "viewer", "key_id": "k1"}));

    assert_eq!(s.raw().get("/metrics").await.status, 401, "/metrics is guarded by the same authenticator");
    let m = s.raw().with_token(None).get("/health").await;
    assert_eq!(m.status, 200, "/health stays open");
}

/// Tools from a [`mcp_core::ToolSource`] (the gateway's catalogue): listed
/// after the program's own, per caller — a tool a caller may not use is
/// neither listed nor callable for them — and called with the same limits
/// as the program's own tools; a name the program registered itself wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_source_lists_and_calls_per_caller() {
    use std::sync::Arc;

    use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role};
    use mcp_core::tool::{BoxFuture, Handler, ToolDef};
    use mcp_core::{Annotations, ToolResponse, ToolSource};

    struct Keys;
    impl Authenticator for Keys {
        fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
            let role = match headers.get("x-api-key").map(|v| v.as_bytes()) {
                Some(b"viewer") => Role::Viewer,
                Some(b"admin") => Role::Admin,
                _ => return Err(Refusal::Missing),
            };
            Ok(Caller { subject: role.as_str().into(), role, key_id: None })
        }
    }
    fn def(name: &str, annotations: Annotations) -> ToolDef {
        let mut input_schema = serde_json::Map::new();
        input_schema.insert("type".into(), json!("object"));
        ToolDef {
            name: name.into(),
            title: None,
            description: format!("{name}, from the source"),
            annotations,
            input_schema,
            output_schema: None,
            timeout: Some(Duration::from_millis(300)),
        }
    }
    struct Upstream;
    impl Upstream {
        fn visible(caller: &Caller) -> Vec<ToolDef> {
            let mut v = vec![
                def("up__read", Annotations::read_only()),
                def("echo", Annotations::read_only()),
                def("up__hang", Annotations::read_only()),
            ];
            if caller.role == Role::Admin {
                v.push(def("up__delete", Annotations::destructive(false)));
            }
            v
        }
    }
    impl ToolSource for Upstream {
        fn list(&self, caller: &Caller) -> BoxFuture<'_, Vec<ToolDef>> {
            let v = Self::visible(caller);
            Box::pin(async move { v })
        }
        fn resolve(&self, caller: &Caller, name: &str) -> BoxFuture<'_, Option<(ToolDef, Handler)>> {
            let found = Self::visible(caller).into_iter().find(|d| d.name == name);
            Box::pin(async move {
                let d = found?;
                let n = d.name.clone();
                let h: Handler = Arc::new(move |args, _ctx| {
                    let n = n.clone();
                    Box::pin(async move {
                        if n == "up__hang" {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                        ToolResponse::text(format!("{n} called with {args}"))
                    })
                });
                Some((d, h))
            })
        }
    }
    let server = crate::echo_server_builder().authenticator(Arc::new(Keys)).tool_source(Arc::new(Upstream)).build();
    let s = TestServer::start(server).await;
    let as_role = |key: &'static str| {
        let raw = s.raw();
        async move {
            let list = raw.request("tools/list", json!({}), json!({}), &[("x-api-key", key)]).await;
            let names: Vec<String> = list.result()["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect();
            names
        }
    };
    let viewer = as_role("viewer").await;
    let admin = as_role("admin").await;
    assert!(viewer.contains(&"up__read".to_owned()) && !viewer.contains(&"up__delete".to_owned()), "{viewer:?}");
    assert!(admin.contains(&"up__delete".to_owned()), "{admin:?}");
    assert_eq!(viewer.iter().filter(|n| *n == "echo").count(), 1, "the program's own echo wins: {viewer:?}");
    let call = |key: &'static str, name: &'static str| {
        let raw = s.raw();
        async move {
            raw.request("tools/call", json!({"name": name, "arguments": {"x": 1}}), json!({}), &[("x-api-key", key)])
                .await
        }
    };
    let r = call("viewer", "up__read").await;
    assert_eq!(r.result()["content"][0]["text"], "up__read called with {\"x\":1}", "{}", r.text);
    // Hidden from the viewer: not callable either, the same answer as a tool that does not exist.
    let r = call("viewer", "up__delete").await;
    assert_eq!(r.body["error"]["code"], -32602, "{}", r.text);
    let r = call("admin", "up__delete").await;
    assert_eq!(r.result()["isError"], false, "{}", r.text);
    // The program's own tool, not the source's, answers to its name.
    let r = s
        .raw()
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "own"}}),
            json!({}),
            &[("x-api-key", "viewer")],
        )
        .await;
    assert_eq!(r.result()["structuredContent"]["text"], "own", "{}", r.text);
    // The source's tools get the server's limits: its 300 ms timeout ends a hanging call.
    let t = Instant::now();
    let r = call("viewer", "up__hang").await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(r.result()["content"][0]["text"].as_str().unwrap().contains("timed out"), "{}", r.text);
}

/// The edge rate limit of a program's authenticator (`admit`): a caller
/// over its budget gets 429 with `Retry-After` and the RateLimit headers —
/// a JSON-RPC error on `/mcp`, a problem elsewhere — before any tool runs.
/// Public paths pass without a caller; everything else still needs one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_callers_get_429_and_public_paths_need_no_caller() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use mcp_core::auth::{Authenticator, Caller, HeaderMap, Refusal, Role, Throttled};

    struct OneCall(AtomicU32);
    impl Authenticator for OneCall {
        fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
            headers.get("x-api-key").ok_or(Refusal::Missing)?;
            Ok(Caller { subject: "alice".into(), role: Role::Viewer, key_id: Some("k1".into()) })
        }
        fn admit(&self, _caller: &Caller) -> Result<(), Throttled> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                Ok(())
            } else {
                Err(Throttled { retry_after: Duration::from_millis(1500), limit: 1, window_secs: 60 })
            }
        }
    }
    let server = crate::echo_server_builder()
        .authenticator(Arc::new(OneCall(AtomicU32::new(0))))
        .sign_in_page("/private", "/signin")
        .public_path("/assets/")
        .build();
    let routes = axum::Router::new()
        .route("/signin", axum::routing::get(|| async { "sign in here" }))
        .route("/assets/app.css", axum::routing::get(|| async { "body{}" }))
        .route("/private", axum::routing::get(|| async { "secret page" }));
    let s = TestServer::start_program(mcp_core::Program { server, routes: Some(routes), background: None }).await;
    let key = [("x-api-key", "k")];
    let first =
        s.raw().request("tools/call", json!({"name": "echo", "arguments": {"text": "a"}}), json!({}), &key).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second =
        s.raw().request("tools/call", json!({"name": "echo", "arguments": {"text": "a"}}), json!({}), &key).await;
    assert_eq!(second.status, 429, "{}", second.text);
    assert_eq!(second.headers["retry-after"], "2", "whole seconds, rounded up");
    assert!(second.headers.contains_key("ratelimit-policy") && second.headers.contains_key("ratelimit"));
    assert_eq!(second.body["error"]["data"]["errorKind"], "rate_limited", "{}", second.text);
    let anon = s.raw().with_token(None);
    assert_eq!(anon.get("/signin").await.status, 200);
    assert_eq!(anon.get("/assets/app.css").await.status, 200);
    assert_eq!(anon.get("/private").await.status, 401, "a path next to a public one is not public");
    assert_eq!(anon.get("/signin/../private").await.status, 401);
    // A browser is sent to the sign-in page instead.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/private", s.base()))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/signin");
}

/// A server with a tool source says its list changes and reaches its
/// session callers (`notifications/tools/list_changed`); stateless callers
/// are not sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_source_server_tells_its_sessions_when_tools_change() {
    use std::sync::Arc;

    use mcp_core::Sessions;
    use mcp_core::auth::Caller;
    use mcp_core::tool::{BoxFuture, Handler, ToolDef};

    struct Nothing;
    impl mcp_core::ToolSource for Nothing {
        fn list(&self, _: &Caller) -> BoxFuture<'_, Vec<ToolDef>> {
            Box::pin(async { Vec::new() })
        }
        fn resolve(&self, _: &Caller, _: &str) -> BoxFuture<'_, Option<(ToolDef, Handler)>> {
            Box::pin(async { None })
        }
    }
    let sessions = Sessions::default();
    let server = crate::echo_server_builder().tool_source(Arc::new(Nothing)).sessions(sessions.clone()).build();
    let s = TestServer::start(server).await;
    let _ = s.raw().list_tools().await;
    assert_eq!(sessions.open(), 0, "a stateless request is not a session");
    let mut c = s.raw();
    let init = c.open_session().await;
    assert_eq!(init.result()["capabilities"]["tools"]["listChanged"], true, "{}", init.text);
    // `initialized` is handled asynchronously by the session's task.
    let t = Instant::now();
    while sessions.open() == 0 && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sessions.open(), 1);
    assert_eq!(sessions.notify_tools_changed().await, 1);
    // A server without a source does not claim a changing list.
    let plain = TestServer::start(crate::echo_server()).await;
    let mut c = plain.raw();
    let init = c.open_session().await;
    assert!(init.result()["capabilities"]["tools"].get("listChanged").is_none_or(|v| v != true), "{}", init.text);
}
