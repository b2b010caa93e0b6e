//! Log shipping: every JSON log line also goes, in batches, to the log
//! server's `POST /v1/logs` when `MCP_LOG_ENDPOINT` is set, so one query
//! there returns what every program said about one trace.
//!
//! The hot path only appends the line to a buffer. A thread of its own sends
//! the buffer every 200 ms (sooner when 256 KiB are waiting) from a
//! single-threaded runtime; lines logged on that thread (its HTTP client's
//! debug output) are not shipped, or each batch would produce the next.
//! (Switching tracing off on that thread with a scoped `NoSubscriber` was
//! tried and broke span context for the whole process: a second dispatcher
//! changes callsite interest, and the OpenTelemetry layer's per-layer filter
//! then missed spans. A thread-local flag is simpler and exact.) The
//! buffer is bounded (8 MiB): when the log server is down for long, the
//! oldest lines are dropped, counted, and reported on stderr, and the
//! program never blocks or grows without limit because of logging. Lines
//! are still written to stdout either way; shipping is a copy.

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// Most bytes waiting to be shipped.
const MAX_PENDING: usize = 8 << 20;
/// Send when this much is waiting, without waiting for the tick.
const SEND_AT: usize = 256 << 10;
/// The tick.
const EVERY: Duration = Duration::from_millis(200);

/// Where and how to ship.
#[derive(Clone)]
pub struct ShipOptions {
    /// The log server base URL or its `/v1/logs` URL.
    pub endpoint: String,
    /// Bearer token.
    pub token: Option<String>,
}

impl std::fmt::Debug for ShipOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShipOptions").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// Lines dropped since the last report.
    dropped: u64,
    /// Flush requests answered by the sender (a generation counter).
    flushed: u64,
    wanted: u64,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    done: Condvar,
}

static SHIPPER: OnceLock<Arc<Shared>> = OnceLock::new();

thread_local! {
    /// True on the shipper's own thread.
    static ON_SHIP_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Start the shipper (once per process) and return the line sink to add to
/// the log writer.
pub fn start(opts: ShipOptions) -> Option<crate::trace::LogWriter> {
    let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new(), done: Condvar::new() });
    if SHIPPER.set(shared.clone()).is_err() {
        return None;
    }
    let url = logs_url(&opts.endpoint);
    let s = shared.clone();
    std::thread::Builder::new().name("log-ship".into()).spawn(move || sender(&s, &url, opts.token)).ok()?;
    Some(Arc::new(move |line: &[u8]| {
        if !ON_SHIP_THREAD.with(std::cell::Cell::get) {
            push(&shared, line);
        }
    }))
}

fn logs_url(endpoint: &str) -> String {
    let e = endpoint.trim_end_matches('/');
    if e.ends_with("/v1/logs") { e.to_owned() } else { format!("{e}/v1/logs") }
}

fn push(shared: &Shared, line: &[u8]) {
    let Ok(mut st) = shared.state.lock() else { return };
    if st.pending.len() + line.len() > MAX_PENDING {
        // Drop the oldest half: whole lines, cut at a newline.
        let half = st.pending.len() / 2;
        let cut = st.pending[half..].iter().position(|&b| b == b'\n').map_or(st.pending.len(), |i| half + i + 1);
        let lost = st.pending[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
        st.pending.drain(..cut);
        st.dropped += lost;
    }
    st.pending.extend_from_slice(line);
    if st.pending.len() >= SEND_AT {
        shared.wake.notify_one();
    }
}

/// Ship everything buffered now and wait up to `timeout` for it to be sent
/// (shutdown calls this so the last lines are not lost).
pub fn flush(timeout: Duration) {
    let Some(shared) = SHIPPER.get() else { return };
    let Ok(mut st) = shared.state.lock() else { return };
    st.wanted += 1;
    let target = st.wanted;
    shared.wake.notify_one();
    let _ = shared.done.wait_timeout_while(st, timeout, |st| st.flushed < target);
}

fn sender(shared: &Shared, url: &str, token: Option<String>) {
    // Nothing logged on this thread is shipped (see the module docs).
    ON_SHIP_THREAD.with(|f| f.set(true));
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("log shipping disabled: cannot build an HTTP client: {e}");
            return;
        }
    };
    let mut failing_since_report = false;
    loop {
        let (batch, wanted, dropped) = {
            let Ok(st) = shared.state.lock() else { return };
            let Ok((mut st, _)) =
                shared.wake.wait_timeout_while(st, EVERY, |st| st.pending.len() < SEND_AT && st.wanted == st.flushed)
            else {
                return;
            };
            let dropped = std::mem::take(&mut st.dropped);
            (std::mem::take(&mut st.pending), st.wanted, dropped)
        };
        if dropped > 0 {
            eprintln!("log shipping: dropped {dropped} lines while {url} was unreachable");
        }
        if !batch.is_empty() {
            let sent = rt.block_on(send(&client, url, token.as_deref(), &batch));
            match sent {
                Ok(()) => failing_since_report = false,
                Err(e) => {
                    if !failing_since_report {
                        eprintln!("log shipping to {url} failed, will retry: {e}");
                        failing_since_report = true;
                    }
                    // Put the batch back in front; push() bounds the total.
                    if let Ok(mut st) = shared.state.lock() {
                        let newer = std::mem::take(&mut st.pending);
                        st.pending = batch;
                        for line in newer.split_inclusive(|&b| b == b'\n') {
                            push_locked(&mut st, line);
                        }
                    }
                    // Back off a little before the next attempt, unless a
                    // flush is waiting (shutdown gives up on the next failure).
                    if wanted == shared.state.lock().map(|s| s.flushed).unwrap_or(0) {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        }
        if let Ok(mut st) = shared.state.lock()
            && st.flushed < wanted
        {
            st.flushed = wanted;
            shared.done.notify_all();
        }
    }
}

fn push_locked(st: &mut State, line: &[u8]) {
    if st.pending.len() + line.len() > MAX_PENDING {
        st.dropped += 1;
        return;
    }
    st.pending.extend_from_slice(line);
}

async fn send(client: &reqwest::Client, url: &str, token: Option<&str>, batch: &[u8]) -> Result<(), String> {
    let mut rb = client.post(url).header("content-type", "application/x-ndjson").body(batch.to_vec());
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.map_err(|e| e.to_string())?;
    match r.status().as_u16() {
        // 207: some lines were refused for what they are; sending them
        // again would not change that.
        200..=299 => Ok(()),
        // A batch the server will never take (too big, unauthorised): drop
        // it rather than retry forever, and say so.
        400 | 401 | 403 | 413 => {
            eprintln!("log shipping: {url} refused a batch with {}; dropped", r.status());
            Ok(())
        }
        s => Err(format!("HTTP {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_bounds() {
        assert_eq!(logs_url("http://h:1/"), "http://h:1/v1/logs");
        assert_eq!(logs_url("http://h:1/v1/logs"), "http://h:1/v1/logs");
        let shared = Shared { state: Mutex::new(State::default()), wake: Condvar::new(), done: Condvar::new() };
        let line = vec![b'x'; 1023].into_iter().chain([b'\n']).collect::<Vec<u8>>();
        for _ in 0..(MAX_PENDING / 1024 + 10) {
            push(&shared, &line);
        }
        let st = shared.state.lock().unwrap();
        assert!(st.pending.len() <= MAX_PENDING);
        assert!(st.dropped > 0);
        assert_eq!(st.pending.len() % 1024, 0, "only whole lines are kept");
    }
}
