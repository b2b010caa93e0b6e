//! The intake watchers, run beside the server until shutdown.
//!
//! IMAP: its own connection (the tools' one stays free), `EXAMINE` of the
//! inbox (read-only: nothing is marked), a sync of every UID above the stored
//! position, then IDLE until the server announces a change, re-issued every
//! `EMAIL_IDLE_REFRESH_SECS` (which also notices a silently dropped
//! connection); without IDLE, polling. Any failure drops the connection and
//! reconnects with exponential backoff (1 s doubling to 60 s, with jitter).
//! A changed UIDVALIDITY re-reads the mailbox from the start; the store
//! matches known messages by Message-ID so nothing is delivered twice.
//!
//! Maildir: a scan of `new/` and `cur/` every `EMAIL_MAILDIR_POLL_MS`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_core::tracing;

use crate::Email;
use crate::backend::{self, Backend};
use crate::config::Mode;
use crate::imap::{Conn, ImapError, Settings};
use crate::intake::RawMessage;
use crate::store::Location;

/// Longest one IDLE command runs before it is ended and re-issued.
const IDLE_MAX: Duration = Duration::from_secs(25 * 60);

/// The watcher's health, for `/ready`.
#[derive(Debug, Default)]
pub struct Status {
    inner: Mutex<(bool, String)>,
}

impl Status {
    /// Record the current state.
    pub fn set(&self, ok: bool, detail: impl Into<String>) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (ok, detail.into());
        }
    }

    /// The current state.
    pub fn get(&self) -> (bool, String) {
        self.inner.lock().map(|g| g.clone()).unwrap_or((false, "status unavailable".into()))
    }

    /// The readiness check: the Maildir is readable, or the IMAP watcher is connected.
    pub async fn check(&self, e: &Email) -> Result<String, String> {
        match e.config.mode {
            Mode::Maildir => std::fs::read_dir(e.config.maildir.join("new"))
                .map(|_| format!("maildir {} readable", e.config.maildir.display()))
                .map_err(|err| format!("maildir {}: {err}", e.config.maildir.display())),
            Mode::Imap => {
                let (ok, detail) = self.get();
                if ok {
                    Ok(detail)
                } else if detail.is_empty() {
                    Err("the IMAP watcher has not connected yet".into())
                } else {
                    Err(detail)
                }
            }
        }
    }
}

/// Scan the inbox Maildir forever.
pub async fn maildir_loop(e: Arc<Email>) {
    let mut known: HashSet<String> = HashSet::new();
    let mut last_error = String::new();
    loop {
        if known.is_empty()
            && let Ok(names) = e.store.maildir_names("INBOX").await
        {
            known = names.into_iter().map(|(n, _)| n).collect();
        }
        match backend::sync_maildir(&e, "INBOX", true, &mut known).await {
            Ok(_) => {
                e.status.set(true, "maildir scanned");
                last_error.clear();
            }
            Err(err) => {
                if err != last_error {
                    tracing::warn!(error = %crate::addr::redact(&err), "maildir scan failed");
                    last_error = err.clone();
                }
                e.status.set(false, err);
            }
        }
        tokio::time::sleep(e.config.maildir_poll).await;
    }
}

/// Watch the IMAP inbox forever, reconnecting with backoff.
pub async fn imap_loop(e: Arc<Email>) {
    let Backend::Imap(imap) = &e.backend else { return };
    let settings = imap.settings.clone();
    let mut delay = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let err = session(&e, &settings).await;
        if started.elapsed() > Duration::from_secs(60) {
            delay = Duration::from_secs(1);
        }
        let jitter = Duration::from_millis(u64::from(crate::random_bytes(1)[0]) * 2);
        tracing::warn!(
            error = %crate::addr::redact(&err.to_string()),
            retry_in_ms = (delay + jitter).as_millis() as u64,
            "IMAP watcher disconnected"
        );
        e.status.set(false, format!("{err}; reconnecting"));
        tokio::time::sleep(delay + jitter).await;
        delay = (delay * 2).min(Duration::from_secs(60));
    }
}

async fn timed<T>(t: Duration, f: impl Future<Output = Result<T, ImapError>>) -> Result<T, ImapError> {
    tokio::time::timeout(t, f).await.unwrap_or(Err(ImapError::Timeout))
}

/// One connection's life; returns why it ended.
async fn session(e: &Email, s: &Settings) -> ImapError {
    let mut conn = match Conn::open(s).await {
        Ok(c) => c,
        Err(err) => return err,
    };
    let use_idle = e.config.idle && conn.caps.idle;
    tracing::info!(idle = use_idle, "IMAP watcher connected");
    loop {
        if let Err(err) = sync(e, &mut conn, s.timeout).await {
            conn.logout().await;
            return err;
        }
        e.status.set(true, if use_idle { "IMAP connected, waiting with IDLE" } else { "IMAP connected, polling" });
        if !use_idle {
            tokio::time::sleep(e.config.poll).await;
            continue;
        }
        let (session, caps) = conn.into_session();
        let mut handle = session.idle();
        if let Err(err) = timed(s.timeout, async { Ok(handle.init().await?) }).await {
            return err;
        }
        {
            // Dropping the stop source would interrupt the wait, so it lives until the wait ends. The refresh
            // timer restarts on every server keepalive; the outer limit re-issues IDLE within the 29 minutes
            // RFC 2177 allows even when keepalives keep coming.
            let (wait, _stop) = handle.wait_with_timeout(e.config.idle_refresh);
            if let Ok(Err(err)) = tokio::time::timeout(IDLE_MAX, wait).await {
                return err.into();
            }
        }
        match timed(s.timeout, async { Ok(handle.done().await?) }).await {
            Ok(session) => conn = Conn::from_session(session, caps),
            Err(err) => return err,
        }
    }
}

fn db(e: crate::store::StoreError) -> ImapError {
    ImapError::Io(format!("storing failed: {e}"))
}

/// Store every message above the stored position of the inbox.
async fn sync(e: &Email, conn: &mut Conn, t: Duration) -> Result<(), ImapError> {
    let inbox = e.config.inbox.as_str();
    let st = timed(t, conn.open_mailbox(inbox, false)).await?;
    let validity = i64::from(st.uidvalidity);
    let last = match e.store.sync_state(inbox).await.map_err(db)? {
        Some((v, last)) if v == validity => last,
        Some((v, _)) => {
            tracing::warn!(
                old = v,
                new = validity,
                "UIDVALIDITY changed: re-reading the mailbox; known messages are matched by Message-ID, not delivered again"
            );
            e.store.set_sync(inbox, validity, 0).await.map_err(db)?;
            0
        }
        None => {
            e.store.set_sync(inbox, validity, 0).await.map_err(db)?;
            0
        }
    };
    if st.exists == 0 {
        return Ok(());
    }
    let metas = timed(t, conn.fetch_meta(&format!("{}:*", last + 1))).await?;
    for m in metas.into_iter().filter(|m| i64::from(m.uid) > last) {
        // Big messages get time in proportion (at least 0.5 MB/s).
        let budget = t + Duration::from_secs(u64::from(m.size) / 500_000);
        let r = timed(budget, conn.fetch_raw(m.uid, e.config.max_message_bytes)).await?;
        let raw = RawMessage {
            size: u64::from(r.size),
            bytes: r.bytes,
            truncated: r.truncated,
            seen: r.seen,
            flagged: r.flagged,
        };
        let loc = Location { mailbox: inbox.to_owned(), uidvalidity: validity, uid: Some(i64::from(m.uid)) };
        e.intake.ingest(loc, true, &raw, true, None, false).await.map_err(db)?;
    }
    Ok(())
}
