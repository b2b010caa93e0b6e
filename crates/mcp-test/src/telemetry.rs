//! The test process's telemetry: installed once, shared by every test.
//! Log lines are captured in memory (and echoed to stderr when
//! `MCP_TEST_LOG=1`); spans go over real OTLP/HTTP to an in-process [`Collector`].

use std::sync::OnceLock;

use mcp_core::config::LogFormat;
use mcp_core::trace::{CapturedLogs, Telemetry, TelemetryOptions};

use crate::collector::Collector;

struct Installed {
    logs: CapturedLogs,
    collector: Collector,
    telemetry: Telemetry,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

fn get() -> &'static Installed {
    INSTALLED.get_or_init(|| {
        mcp_core::install_crypto_provider();
        let logs = CapturedLogs::default();
        let collector = Collector::start();
        let echo = std::env::var("MCP_TEST_LOG").is_ok_and(|v| v == "1");
        let telemetry = mcp_core::trace::init(TelemetryOptions {
            service_name: "mcp-test".into(),
            format: LogFormat::Json,
            filter: "info,rmcp=warn".into(),
            otlp_endpoint: Some(collector.endpoint()),
            otlp_token: None,
            writer: Some(logs.writer(echo)),
            ship: None,
        })
        .expect("telemetry");
        Installed { logs, collector, telemetry }
    })
}

/// Install (once).
pub fn init() {
    get();
}

/// Captured log lines.
pub fn logs() -> Vec<String> {
    get().logs.lines()
}

/// The span collector.
pub fn collector() -> &'static Collector {
    &get().collector
}

/// Export finished spans now. Runs on a blocking thread: the exporter blocks.
pub async fn flush() {
    let t = get().telemetry.clone();
    let _ = tokio::task::spawn_blocking(move || t.flush()).await;
}
