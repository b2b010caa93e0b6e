//! IMAP through `async-imap` (tokio): connecting (TLS, STARTTLS or plain on
//! loopback), and the few commands the server needs, each written so that
//! reading never marks mail as seen (`BODY.PEEK`), deleting only happens
//! through `UID MOVE` or UIDPLUS `UID EXPUNGE` of the one message moved, and
//! every caller-supplied string reaching a command was validated first.
//!
//! [`Imap`] is the shared connection the tools use: one session behind a
//! lock, opened on first use, dropped and reopened after a broken exchange,
//! every exchange under a deadline. The watcher opens its own [`Conn`] for
//! IDLE.

use std::sync::Arc;
use std::time::Duration;

use async_imap::types::{Fetch, Flag, NameAttribute};
use futures::TryStreamExt;
use tokio::sync::Mutex;
use tokio_rustls::rustls::ClientConfig;

use crate::config::{Endpoint, Secret, Security};
use crate::net::{self, Stream};

/// An IMAP session over our stream.
pub type Session = async_imap::Session<Stream>;

/// IMAP failures.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The connection broke or could not be made.
    #[error("IMAP connection failed: {0}")]
    Io(String),
    /// The server refused (NO/BAD) a command; the connection is still usable.
    #[error("the IMAP server refused: {0}")]
    Refused(String),
    /// Login failed.
    #[error("IMAP login failed: {0}")]
    Login(String),
    /// An exchange ran out of time.
    #[error("the IMAP server did not answer in time")]
    Timeout,
    /// The server lacks what an operation needs.
    #[error("the IMAP server does not support {0}")]
    Unsupported(&'static str),
    /// The mailbox was re-created (UIDVALIDITY changed) since the message was seen.
    #[error("mailbox {0} changed its UIDVALIDITY since the message was recorded; its location is stale")]
    Stale(String),
    /// The message is no longer there.
    #[error("message UID {1} is no longer in {0}")]
    Gone(String, u32),
}

impl ImapError {
    /// Whether the session must be dropped after this error.
    pub fn breaks_connection(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Timeout | Self::Login(_))
    }
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        match e {
            E::No(m) | E::Bad(m) => Self::Refused(crate::addr::one_line(&m)),
            E::Validate(v) => Self::Refused(v.to_string()),
            other => Self::Io(other.to_string()),
        }
    }
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// How to reach and log in to the server.
#[derive(Clone)]
pub struct Settings {
    /// Server.
    pub endpoint: Endpoint,
    /// Login.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// TLS client configuration.
    pub tls: Arc<ClientConfig>,
    /// Deadline of one exchange.
    pub timeout: Duration,
}

/// What the server offers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    /// IDLE (RFC 2177).
    pub idle: bool,
    /// MOVE (RFC 6851).
    pub mv: bool,
    /// UIDPLUS (RFC 4315).
    pub uidplus: bool,
    /// LITERAL+ (RFC 7888).
    pub literal_plus: bool,
}

/// A mailbox's state after SELECT/EXAMINE.
#[derive(Debug, Clone, Copy)]
pub struct MailboxState {
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// Messages in it.
    pub exists: u32,
}

/// Per-message facts from a FETCH without the body.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// UID.
    pub uid: u32,
    /// RFC822.SIZE.
    pub size: u32,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
}

/// A message's bytes.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The bytes (the whole message, or its first part when `truncated`).
    pub bytes: Vec<u8>,
    /// Full size.
    pub size: u32,
    /// Only the start was read.
    pub truncated: bool,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
}

/// How much of an oversized message is read.
pub const PARTIAL_BYTES: u32 = 256 << 10;

/// Quote a mailbox name or search string already checked to hold no quotes, backslashes or controls.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn meta_of(f: &Fetch) -> Option<Meta> {
    let uid = f.uid?;
    let (mut seen, mut flagged) = (false, false);
    for fl in f.flags() {
        match fl {
            Flag::Seen => seen = true,
            Flag::Flagged => flagged = true,
            _ => {}
        }
    }
    Some(Meta { uid, size: f.size.unwrap_or(0), seen, flagged })
}

/// One logged-in connection.
pub struct Conn {
    session: Session,
    /// Capabilities.
    pub caps: Caps,
    selected: Option<(String, bool)>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("caps", &self.caps).field("selected", &self.selected).finish_non_exhaustive()
    }
}

impl Conn {
    /// Connect and log in.
    pub async fn open(s: &Settings) -> Result<Self, ImapError> {
        tokio::time::timeout(s.timeout, Self::open_inner(s)).await.map_err(|_| ImapError::Timeout)?
    }

    async fn open_inner(s: &Settings) -> Result<Self, ImapError> {
        let e = &s.endpoint;
        let tcp = net::tcp(&e.host, e.port, s.timeout).await?;
        let stream = match e.security {
            Security::Tls => net::tls(tcp, &e.host, s.tls.clone(), s.timeout).await?,
            _ => Stream::Plain(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        client.read_response().await?.ok_or_else(|| ImapError::Io("the server closed before its greeting".into()))?;
        if e.security == Security::StartTls {
            client.run_command_and_check_ok("STARTTLS", None).await?;
            let Stream::Plain(tcp) = client.into_inner() else {
                return Err(ImapError::Io("STARTTLS on a TLS stream".into()));
            };
            client = async_imap::Client::new(net::tls(tcp, &e.host, s.tls.clone(), s.timeout).await?);
        }
        let mut session = client
            .login(&s.username, &s.password.0)
            .await
            .map_err(|(e, _)| ImapError::Login(crate::addr::one_line(&e.to_string())))?;
        let c = session.capabilities().await?;
        let caps = Caps {
            idle: c.has_str("IDLE"),
            mv: c.has_str("MOVE"),
            uidplus: c.has_str("UIDPLUS"),
            literal_plus: c.has_str("LITERAL+"),
        };
        Ok(Self { session, caps, selected: None })
    }

    /// Take the session out (for IDLE), with the capabilities.
    pub fn into_session(self) -> (Session, Caps) {
        (self.session, self.caps)
    }

    /// Put a session back after IDLE.
    pub fn from_session(session: Session, caps: Caps) -> Self {
        Self { session, caps, selected: None }
    }

    /// EXAMINE (read-only) or SELECT `mailbox`; re-issued every time so the counts are fresh.
    pub async fn open_mailbox(&mut self, mailbox: &str, write: bool) -> Result<MailboxState, ImapError> {
        let m = if write { self.session.select(mailbox).await? } else { self.session.examine(mailbox).await? };
        self.selected = Some((mailbox.to_owned(), write));
        Ok(MailboxState { uidvalidity: m.uid_validity.unwrap_or(0), exists: m.exists })
    }

    /// SELECT `mailbox` and check its UIDVALIDITY is still `uidvalidity`.
    pub async fn open_checked(&mut self, mailbox: &str, uidvalidity: i64, write: bool) -> Result<(), ImapError> {
        let st = self.open_mailbox(mailbox, write).await?;
        if i64::from(st.uidvalidity) != uidvalidity {
            return Err(ImapError::Stale(mailbox.to_owned()));
        }
        Ok(())
    }

    /// NOOP (keeps the connection alive, collects updates).
    pub async fn noop(&mut self) -> Result<(), ImapError> {
        Ok(self.session.noop().await?)
    }

    /// Selectable mailboxes.
    pub async fn list(&mut self) -> Result<Vec<String>, ImapError> {
        let names: Vec<_> = self.session.list(Some(""), Some("*")).await?.try_collect().await?;
        let mut out: Vec<String> = names
            .iter()
            .filter(|n| !n.attributes().iter().any(|a| matches!(a, NameAttribute::NoSelect)))
            .map(|n| n.name().to_owned())
            .collect();
        out.sort();
        Ok(out)
    }

    /// (messages, unseen) of a mailbox.
    pub async fn counts(&mut self, mailbox: &str) -> Result<(u32, Option<u32>), ImapError> {
        let m = self.session.status(mailbox, "(MESSAGES UNSEEN)").await?;
        Ok((m.exists, m.unseen))
    }

    /// UID SEARCH in the selected mailbox; ascending UIDs.
    pub async fn search(&mut self, query: &str) -> Result<Vec<u32>, ImapError> {
        let mut uids: Vec<u32> = self.session.uid_search(query).await?.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// UID, size and flags of the messages in `set` (e.g. `5:*`).
    pub async fn fetch_meta(&mut self, set: &str) -> Result<Vec<Meta>, ImapError> {
        let fetches: Vec<Fetch> = self.session.uid_fetch(set, "(UID RFC822.SIZE FLAGS)").await?.try_collect().await?;
        let mut v: Vec<Meta> = fetches.iter().filter_map(meta_of).collect();
        v.sort_by_key(|m| m.uid);
        Ok(v)
    }

    /// The bytes of message `uid` in the selected mailbox: whole when at most `max` bytes, else the first
    /// [`PARTIAL_BYTES`]. `BODY.PEEK` so the message is not marked seen.
    pub async fn fetch_raw(&mut self, uid: u32, max: usize) -> Result<Raw, ImapError> {
        let mailbox = self.selected.as_ref().map(|(m, _)| m.clone()).unwrap_or_default();
        let meta = self.fetch_meta(&uid.to_string()).await?;
        let meta = meta.into_iter().find(|m| m.uid == uid).ok_or(ImapError::Gone(mailbox.clone(), uid))?;
        let truncated = meta.size as usize > max;
        let query =
            if truncated { format!("(UID BODY.PEEK[]<0.{PARTIAL_BYTES}>)") } else { "(UID BODY.PEEK[])".to_owned() };
        let fetches: Vec<Fetch> = self.session.uid_fetch(uid.to_string(), query).await?.try_collect().await?;
        let bytes = fetches
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
            .ok_or(ImapError::Gone(mailbox, uid))?;
        Ok(Raw { bytes, size: meta.size, truncated, seen: meta.seen, flagged: meta.flagged })
    }

    /// Add or remove flags on `uid` in the selected (read-write) mailbox.
    pub async fn store(&mut self, uid: u32, add: bool, flags: &str) -> Result<(), ImapError> {
        let op = if add { "+FLAGS.SILENT" } else { "-FLAGS.SILENT" };
        let _: Vec<Fetch> =
            self.session.uid_store(uid.to_string(), format!("{op} ({flags})")).await?.try_collect().await?;
        Ok(())
    }

    /// Move `uid` from the selected (read-write) mailbox to `target`: `UID MOVE`, or UIDPLUS copy + expunge of
    /// that one UID. Never a bare EXPUNGE, which would remove other messages marked deleted.
    pub async fn move_uid(&mut self, uid: u32, target: &str) -> Result<(), ImapError> {
        if self.caps.mv {
            self.session.run_command_and_check_ok(format!("UID MOVE {uid} {}", quoted(target))).await?;
        } else if self.caps.uidplus {
            self.session.run_command_and_check_ok(format!("UID COPY {uid} {}", quoted(target))).await?;
            self.store(uid, true, "\\Deleted").await?;
            self.session.run_command_and_check_ok(format!("UID EXPUNGE {uid}")).await?;
        } else {
            return Err(ImapError::Unsupported("MOVE or UIDPLUS, needed to move one message safely"));
        }
        Ok(())
    }

    /// APPEND `bytes` to `mailbox` with `flags` (e.g. `(\Seen)`).
    pub async fn append(&mut self, mailbox: &str, flags: &str, bytes: &[u8]) -> Result<(), ImapError> {
        Ok(self.session.append(mailbox, Some(flags), None, bytes).await?)
    }

    /// The newest UID in `mailbox` whose Message-ID header is `message_id` (already validated).
    pub async fn find_message_id(&mut self, mailbox: &str, message_id: &str) -> Result<Option<(i64, u32)>, ImapError> {
        let st = self.open_mailbox(mailbox, false).await?;
        let uids = self.search(&format!("HEADER Message-ID {}", quoted(message_id))).await?;
        Ok(uids.last().map(|u| (i64::from(st.uidvalidity), *u)))
    }

    /// LOGOUT, ignoring errors.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.session.logout()).await;
    }
}

/// The tools' shared connection.
pub struct Imap {
    /// Settings.
    pub settings: Settings,
    conn: Mutex<Option<Conn>>,
}

impl Imap {
    /// Not connected until first used.
    pub fn new(settings: Settings) -> Self {
        Self { settings, conn: Mutex::new(None) }
    }

    /// Run `op` on the shared connection under the deadline, connecting first when needed. A broken
    /// connection is dropped and, for idempotent operations (`retry`), the operation is tried once more on a
    /// fresh one (the server may have restarted since the last use).
    pub async fn run<T, F>(&self, retry: bool, op: F) -> Result<T, ImapError>
    where
        F: for<'c> Fn(&'c mut Conn) -> futures::future::BoxFuture<'c, Result<T, ImapError>>,
    {
        let mut guard = self.conn.lock().await;
        let attempts = if retry { 2 } else { 1 };
        let mut last = ImapError::Timeout;
        for _ in 0..attempts {
            if guard.is_none() {
                *guard = Some(Conn::open(&self.settings).await?);
            }
            let Some(conn) = guard.as_mut() else { continue };
            let r = match tokio::time::timeout(self.settings.timeout, op(conn)).await {
                Ok(r) => r,
                Err(_) => Err(ImapError::Timeout),
            };
            match r {
                Ok(v) => return Ok(v),
                Err(e) if e.breaks_connection() => {
                    *guard = None;
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

/// IMAP date (`1-Jan-2024`) of a `YYYY-MM-DD` date.
pub fn imap_date(d: time::Date) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{}-{}-{}", d.day(), MONTHS[usize::from(u8::from(d.month())) - 1], d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_quoting() {
        let d = time::Date::from_calendar_date(2024, time::Month::March, 5).unwrap();
        assert_eq!(imap_date(d), "5-Mar-2024");
        assert_eq!(quoted("Sent Items"), "\"Sent Items\"");
    }
}
