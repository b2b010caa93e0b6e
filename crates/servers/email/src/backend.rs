//! The two places mail can live, behind one set of operations the tools
//! use: a real IMAP server, or Maildir folders (the embedded mode).
//!
//! Each operation keeps the store in step with the backend: a move records
//! the new location, flags are written to both, a copy saved to Sent is
//! stored as a Sent message so `thread` shows the server's own replies.

use std::collections::HashSet;
use std::sync::Arc;

use mcp_core::{StartError, ToolError};
use tokio::sync::Mutex;

use crate::addr::check_mailbox_name;
use crate::config::{Config, Mode};
use crate::imap::{self, Imap, ImapError};
use crate::intake::RawMessage;
use crate::maildir::{Entry, Maildirs};
use crate::store::{Location, Stored};
use crate::{Email, db_error};

/// Maildir UIDVALIDITY: UIDs are the store's own and never reset.
pub const MAILDIR_UIDVALIDITY: i64 = 1;

/// Maildir folders with the lock that keeps UID assignment and insertion together.
pub struct MaildirBackend {
    /// The folders.
    pub dirs: Maildirs,
    lock: Mutex<()>,
}

/// Where the mail is.
pub enum Backend {
    /// Maildir folders.
    Maildir(MaildirBackend),
    /// An IMAP server (the shared connection of the tools).
    Imap(Box<Imap>),
}

impl Backend {
    /// The backend for `config`.
    pub fn new(config: &Config, tls: Arc<tokio_rustls::rustls::ClientConfig>) -> Result<Self, StartError> {
        match config.mode {
            Mode::Maildir => {
                let dirs = Maildirs::new(config.maildir.clone(), config.sent_maildir.clone()).map_err(|e| {
                    StartError::config(format!("{}={}: {e}", crate::config::EMAIL_MAILDIR, config.maildir.display()))
                })?;
                Ok(Self::Maildir(MaildirBackend { dirs, lock: Mutex::new(()) }))
            }
            Mode::Imap => {
                let (Some(endpoint), Some(password)) = (config.imap.clone(), config.password.clone()) else {
                    return Err(StartError::config("IMAP mode needs EMAIL_IMAP_URL and EMAIL_PASSWORD"));
                };
                Ok(Self::Imap(Box::new(Imap::new(imap::Settings {
                    endpoint,
                    username: config.username.clone(),
                    password,
                    tls,
                    timeout: config.network_timeout,
                }))))
            }
        }
    }
}

/// A tool error for an IMAP failure.
pub fn imap_error(e: ImapError) -> ToolError {
    match e {
        ImapError::Io(_) | ImapError::Timeout | ImapError::Login(_) => {
            ToolError::Unavailable(format!("{e}; the mail server is unreachable, retry later"))
        }
        ImapError::Stale(_) => ToolError::conflict(e.to_string()),
        ImapError::Gone(..) => ToolError::not_found(format!("{e}; it was moved or deleted by someone else")),
        ImapError::Refused(_) | ImapError::Unsupported(_) => ToolError::failed(e.to_string()),
    }
}

fn io_error(e: String) -> ToolError {
    ToolError::internal(std::io::Error::other(e))
}

/// Mailboxes with message and unseen counts.
pub async fn mailboxes(e: &Email) -> Result<Vec<(String, Option<u32>, Option<u32>)>, ToolError> {
    match &e.backend {
        Backend::Maildir(m) => {
            let dirs = m.dirs.clone();
            tokio::task::spawn_blocking(move || {
                dirs.list()
                    .into_iter()
                    .map(|name| {
                        let entries = dirs.scan(&name).unwrap_or_default();
                        let unseen = entries.iter().filter(|x| !x.seen).count() as u32;
                        (name, Some(entries.len() as u32), Some(unseen))
                    })
                    .collect()
            })
            .await
            .map_err(ToolError::internal)
        }
        Backend::Imap(imap) => imap
            .run(true, |c| {
                Box::pin(async move {
                    let names = c.list().await?;
                    let mut out = Vec::with_capacity(names.len());
                    for (i, n) in names.into_iter().enumerate() {
                        // STATUS per mailbox is a round trip each; a huge tree gets names only past 100.
                        let counts = if i < 100 { c.counts(&n).await.ok() } else { None };
                        out.push((n, counts.map(|x| x.0), counts.and_then(|x| x.1)));
                    }
                    Ok(out)
                })
            })
            .await
            .map_err(imap_error),
    }
}

fn maildir_raw(entry: &Entry, max: usize) -> Result<RawMessage, String> {
    let (bytes, truncated) = Maildirs::read(entry, max).map_err(|e| format!("{}: {e}", entry.path.display()))?;
    Ok(RawMessage { bytes, size: entry.size, truncated, seen: entry.seen, flagged: entry.flagged })
}

async fn maildir_entry(e: &Email, m: &MaildirBackend, s: &Stored) -> Result<Entry, ToolError> {
    let uid = s.location.uid.ok_or_else(|| ToolError::not_found("the message's location is unknown"))?;
    let name = e
        .store
        .maildir_name(&s.location.mailbox, uid)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ToolError::not_found("the message's file is no longer known"))?;
    m.dirs
        .find(&s.location.mailbox, &name)
        .map_err(ToolError::not_found)?
        .ok_or_else(|| ToolError::not_found(format!("the message's file is no longer in {}", s.location.mailbox)))
}

/// The bytes of a stored message, read again from the backend.
pub async fn raw_of(e: &Email, s: &Stored) -> Result<RawMessage, ToolError> {
    let max = e.config.max_message_bytes;
    match &e.backend {
        Backend::Maildir(m) => {
            let entry = maildir_entry(e, m, s).await?;
            tokio::task::spawn_blocking(move || maildir_raw(&entry, max))
                .await
                .map_err(ToolError::internal)?
                .map_err(io_error)
        }
        Backend::Imap(imap) => {
            let uid = s.location.uid.ok_or_else(|| ToolError::not_found("the message's location is unknown"))?;
            let uid = u32::try_from(uid).map_err(|_| ToolError::not_found("bad UID"))?;
            let (mailbox, validity) = (s.location.mailbox.clone(), s.location.uidvalidity);
            let r = imap
                .run(true, move |c| {
                    let mailbox = mailbox.clone();
                    Box::pin(async move {
                        c.open_checked(&mailbox, validity, false).await?;
                        c.fetch_raw(uid, max).await
                    })
                })
                .await
                .map_err(imap_error)?;
            Ok(RawMessage {
                size: u64::from(r.size),
                bytes: r.bytes,
                truncated: r.truncated,
                seen: r.seen,
                flagged: r.flagged,
            })
        }
    }
}

/// Set or clear \Seen and \Flagged; returns the new (seen, flagged).
pub async fn set_flags(
    e: &Email,
    s: &Stored,
    seen: Option<bool>,
    flagged: Option<bool>,
) -> Result<(bool, bool), ToolError> {
    let (new_seen, new_flagged) = (seen.unwrap_or(s.m.seen), flagged.unwrap_or(s.m.flagged));
    match &e.backend {
        Backend::Maildir(m) => {
            let _g = m.lock.lock().await;
            let entry = maildir_entry(e, m, s).await?;
            m.dirs.set_flags(&s.location.mailbox, &entry, new_seen, new_flagged).map_err(io_error)?;
        }
        Backend::Imap(imap) => {
            let uid = s.location.uid.ok_or_else(|| ToolError::not_found("the message's location is unknown"))?;
            let uid = u32::try_from(uid).map_err(|_| ToolError::not_found("bad UID"))?;
            let (mailbox, validity) = (s.location.mailbox.clone(), s.location.uidvalidity);
            imap.run(true, move |c| {
                let mailbox = mailbox.clone();
                Box::pin(async move {
                    c.open_checked(&mailbox, validity, true).await?;
                    if let Some(v) = seen {
                        c.store(uid, v, "\\Seen").await?;
                    }
                    if let Some(v) = flagged {
                        c.store(uid, v, "\\Flagged").await?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(imap_error)?;
        }
    }
    e.store.set_flags(s.seq, new_seen, new_flagged).await.map_err(db_error)?;
    Ok((new_seen, new_flagged))
}

/// Move a message to `target`; returns its new location.
pub async fn move_to(e: &Email, s: &Stored, target: &str) -> Result<Location, ToolError> {
    check_mailbox_name(target).map_err(ToolError::invalid)?;
    if target == s.location.mailbox {
        return Ok(s.location.clone());
    }
    let loc = match &e.backend {
        Backend::Maildir(m) => {
            let _g = m.lock.lock().await;
            m.dirs.dir(target).map_err(ToolError::not_found)?;
            let entry = maildir_entry(e, m, s).await?;
            m.dirs.move_to(&entry, target).map_err(io_error)?;
            let uid = e.store.next_maildir_uid(target).await.map_err(db_error)?;
            e.store.move_maildir_name(&s.location.mailbox, &entry.name, target, uid).await.map_err(db_error)?;
            Location { mailbox: target.to_owned(), uidvalidity: MAILDIR_UIDVALIDITY, uid: Some(uid) }
        }
        Backend::Imap(imap) => {
            let uid = s.location.uid.ok_or_else(|| ToolError::not_found("the message's location is unknown"))?;
            let uid = u32::try_from(uid).map_err(|_| ToolError::not_found("bad UID"))?;
            let (mailbox, validity, target2) = (s.location.mailbox.clone(), s.location.uidvalidity, target.to_owned());
            imap.run(false, move |c| {
                let (mailbox, target) = (mailbox.clone(), target2.clone());
                Box::pin(async move {
                    c.open_checked(&mailbox, validity, true).await?;
                    c.move_uid(uid, &target).await
                })
            })
            .await
            .map_err(imap_error)?;
            let (target2, mid) = (target.to_owned(), s.m.message_id.clone());
            let found = if mid.ends_with("@mcp-server-email.invalid>") {
                None
            } else {
                imap.run(true, move |c| {
                    let (target, mid) = (target2.clone(), mid.clone());
                    Box::pin(async move { c.find_message_id(&target, &mid).await })
                })
                .await
                .ok()
                .flatten()
            };
            match found {
                Some((v, u)) => Location { mailbox: target.to_owned(), uidvalidity: v, uid: Some(i64::from(u)) },
                None => Location { mailbox: target.to_owned(), uidvalidity: 0, uid: None },
            }
        }
    };
    e.store.set_location(s.seq, &loc).await.map_err(db_error)?;
    Ok(loc)
}

/// Save a copy of a sent message in the Sent mailbox and store it. Returns whether the copy was saved.
pub async fn save_sent(e: &Email, bytes: &[u8], message_id: &str) -> Result<bool, ToolError> {
    let raw =
        RawMessage { bytes: bytes.to_vec(), size: bytes.len() as u64, truncated: false, seen: true, flagged: false };
    match &e.backend {
        Backend::Maildir(m) => {
            let _g = m.lock.lock().await;
            let saved = m.dirs.deliver("Sent", bytes, true);
            match saved {
                Ok(name) => {
                    let uid = e.store.next_maildir_uid("Sent").await.map_err(db_error)?;
                    let loc = Location { mailbox: "Sent".into(), uidvalidity: MAILDIR_UIDVALIDITY, uid: Some(uid) };
                    e.intake.ingest(loc, false, &raw, false, Some(&name), true).await.map_err(db_error)?;
                    Ok(true)
                }
                Err(err) => {
                    mcp_core::tracing::warn!(error = %crate::addr::redact(&err), "could not save a sent message to the Sent maildir");
                    let loc = Location { mailbox: "Sent".into(), uidvalidity: 0, uid: None };
                    e.intake.ingest(loc, false, &raw, false, None, true).await.map_err(db_error)?;
                    Ok(false)
                }
            }
        }
        Backend::Imap(imap) => {
            let sent = e.config.sent_mailbox.clone();
            let (b, s2, mid) = (bytes.to_vec(), sent.clone(), message_id.to_owned());
            let r = imap
                .run(false, move |c| {
                    let (b, sent, mid) = (b.clone(), s2.clone(), mid.clone());
                    Box::pin(async move {
                        c.append(&sent, "(\\Seen)", &b).await?;
                        c.find_message_id(&sent, &mid).await
                    })
                })
                .await;
            let (loc, saved) = match r {
                Ok(Some((v, u))) => (Location { mailbox: sent, uidvalidity: v, uid: Some(i64::from(u)) }, true),
                Ok(None) => (Location { mailbox: sent, uidvalidity: 0, uid: None }, true),
                Err(err) => {
                    mcp_core::tracing::warn!(
                        error = %crate::addr::redact(&err.to_string()),
                        "could not append a sent message to the Sent mailbox"
                    );
                    (Location { mailbox: sent, uidvalidity: 0, uid: None }, false)
                }
            };
            e.intake.ingest(loc, false, &raw, false, None, true).await.map_err(db_error)?;
            Ok(saved)
        }
    }
}

/// Store every not-yet-stored file of a Maildir mailbox, oldest first. `known` caches names already stored
/// (the watcher keeps it between scans); the database is checked before anything is inserted. Returns how many
/// messages were stored.
pub async fn sync_maildir(
    e: &Email,
    mailbox: &str,
    intake: bool,
    known: &mut HashSet<String>,
) -> Result<usize, String> {
    let Backend::Maildir(m) = &e.backend else { return Ok(0) };
    let dirs = m.dirs.clone();
    let mb = mailbox.to_owned();
    let entries = tokio::task::spawn_blocking(move || dirs.scan(&mb)).await.map_err(|e| e.to_string())??;
    let fresh: Vec<Entry> = entries.into_iter().filter(|x| !known.contains(&x.name)).collect();
    if fresh.is_empty() {
        return Ok(0);
    }
    let _g = m.lock.lock().await;
    let mut stored = 0;
    for entry in fresh {
        if e.store.maildir_known(mailbox, &entry.name).await.map_err(|e| e.to_string())? {
            known.insert(entry.name);
            continue;
        }
        let max = e.config.max_message_bytes;
        let entry2 = entry.clone();
        let raw = match tokio::task::spawn_blocking(move || maildir_raw(&entry2, max))
            .await
            .map_err(|e| e.to_string())?
        {
            Ok(raw) => raw,
            // Moved away between the scan and the read: the next scan sees where it went.
            Err(err) if !entry.path.exists() => {
                mcp_core::tracing::debug!(error = %crate::addr::redact(&err), "maildir file vanished before it was read");
                continue;
            }
            Err(err) => return Err(err),
        };
        let uid = e.store.next_maildir_uid(mailbox).await.map_err(|e| e.to_string())?;
        let loc = Location { mailbox: mailbox.to_owned(), uidvalidity: MAILDIR_UIDVALIDITY, uid: Some(uid) };
        e.intake
            .ingest(loc, intake, &raw, false, Some(&entry.name), mailbox == "Sent")
            .await
            .map_err(|e| e.to_string())?;
        known.insert(entry.name);
        stored += 1;
    }
    Ok(stored)
}

/// Filters of `list_messages`.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Mailbox.
    pub mailbox: String,
    /// On or after this date.
    pub since: Option<time::Date>,
    /// Before this date.
    pub before: Option<time::Date>,
    /// Sender contains.
    pub from: Option<String>,
    /// Subject contains.
    pub subject: Option<String>,
    /// Seen or not.
    pub seen: Option<bool>,
    /// Flagged or not.
    pub flagged: Option<bool>,
    /// Skip this many (newest first).
    pub offset: usize,
    /// Return at most this many.
    pub limit: usize,
}

fn search_string(key: &str, v: &str, literal_plus: bool) -> Result<(String, bool), ToolError> {
    if v.chars().any(|c| c.is_control()) || v.len() > 200 {
        return Err(ToolError::invalid(format!("{key}: one line of at most 200 bytes")));
    }
    if v.is_ascii() && !v.contains(['"', '\\']) {
        return Ok((format!("{key} {}", imap::quoted(v)), false));
    }
    if !literal_plus {
        return Err(ToolError::invalid(format!(
            "{key}: this IMAP server cannot search for non-ASCII text or quotes (no LITERAL+); use ASCII"
        )));
    }
    Ok((format!("{key} {{{}+}}\r\n{v}", v.len()), true))
}

fn imap_query(q: &Query, literal_plus: bool) -> Result<String, ToolError> {
    let mut parts = Vec::new();
    let mut utf8 = false;
    if let Some(d) = q.since {
        parts.push(format!("SINCE {}", imap::imap_date(d)));
    }
    if let Some(d) = q.before {
        parts.push(format!("BEFORE {}", imap::imap_date(d)));
    }
    for (key, v) in [("FROM", &q.from), ("SUBJECT", &q.subject)] {
        if let Some(v) = v {
            let (p, u) = search_string(key, v, literal_plus)?;
            parts.push(p);
            utf8 |= u;
        }
    }
    match q.seen {
        Some(true) => parts.push("SEEN".into()),
        Some(false) => parts.push("UNSEEN".into()),
        None => {}
    }
    match q.flagged {
        Some(true) => parts.push("FLAGGED".into()),
        Some(false) => parts.push("UNFLAGGED".into()),
        None => {}
    }
    if parts.is_empty() {
        parts.push("ALL".into());
    }
    let body = parts.join(" ");
    Ok(if utf8 { format!("CHARSET UTF-8 {body}") } else { body })
}

fn matches_locally(s: &Stored, q: &Query) -> bool {
    let day = s.m.date.get(..10).unwrap_or_default().to_owned();
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    q.since.is_none_or(|d| day >= fmt(d))
        && q.before.is_none_or(|d| day < fmt(d))
        && q.from
            .as_ref()
            .is_none_or(|f| contains(&s.m.from, f) || s.m.from_name.as_ref().is_some_and(|n| contains(n, f)))
        && q.subject.as_ref().is_none_or(|x| contains(&s.m.subject, x))
        && q.seen.is_none_or(|v| s.m.seen == v)
        && q.flagged.is_none_or(|v| s.m.flagged == v)
}

/// Messages of a mailbox matching `q`, newest first, and how many match in all. Messages not yet stored are
/// read and stored on the way (those of the watched inbox as intake messages).
pub async fn list(e: &Email, q: &Query) -> Result<(Vec<Stored>, usize), ToolError> {
    let intake_box = match e.config.mode {
        Mode::Maildir => "INBOX",
        Mode::Imap => e.config.inbox.as_str(),
    };
    let intake = q.mailbox == intake_box || (e.config.mode == Mode::Maildir && q.mailbox.eq_ignore_ascii_case("INBOX"));
    match &e.backend {
        Backend::Maildir(m) => {
            let mailbox = if q.mailbox.eq_ignore_ascii_case("INBOX") { "INBOX".to_owned() } else { q.mailbox.clone() };
            m.dirs.dir(&mailbox).map_err(ToolError::not_found)?;
            let mut known: HashSet<String> =
                e.store.maildir_names(&mailbox).await.map_err(db_error)?.into_iter().map(|(n, _)| n).collect();
            sync_maildir(e, &mailbox, intake, &mut known).await.map_err(io_error)?;
            let dirs = m.dirs.clone();
            let mb = mailbox.clone();
            let entries = tokio::task::spawn_blocking(move || dirs.scan(&mb))
                .await
                .map_err(ToolError::internal)?
                .map_err(io_error)?;
            let uids = e.store.maildir_names(&mailbox).await.map_err(db_error)?;
            let mut rows = Vec::new();
            for entry in entries {
                let Some((_, uid)) = uids.iter().find(|(n, _)| *n == entry.name) else { continue };
                let Some(mut s) = e.store.at(&mailbox, MAILDIR_UIDVALIDITY, *uid).await.map_err(db_error)? else {
                    continue;
                };
                if (s.m.seen, s.m.flagged) != (entry.seen, entry.flagged) {
                    e.store.set_flags(s.seq, entry.seen, entry.flagged).await.map_err(db_error)?;
                    (s.m.seen, s.m.flagged) = (entry.seen, entry.flagged);
                }
                if matches_locally(&s, q) {
                    rows.push(s);
                }
            }
            rows.sort_by_key(|s| std::cmp::Reverse(s.location.uid));
            let total = rows.len();
            Ok((rows.into_iter().skip(q.offset).take(q.limit).collect(), total))
        }
        Backend::Imap(imap) => {
            // Validate the arguments first (as if the server took literals), then build the query for the server.
            imap_query(q, true)?;
            let (mailbox, q2) = (q.mailbox.clone(), q.clone());
            let (validity, uids) = imap
                .run(true, move |c| {
                    let (mailbox, q) = (mailbox.clone(), q2.clone());
                    Box::pin(async move {
                        let query = imap_query(&q, c.caps.literal_plus)
                            .map_err(|_| ImapError::Unsupported("LITERAL+, needed to search for non-ASCII text"))?;
                        let st = c.open_mailbox(&mailbox, false).await?;
                        let uids = c.search(&query).await?;
                        Ok((i64::from(st.uidvalidity), uids))
                    })
                })
                .await
                .map_err(imap_error)?;
            let total = uids.len();
            let page: Vec<u32> = uids.into_iter().rev().skip(q.offset).take(q.limit).collect();
            if page.is_empty() {
                return Ok((Vec::new(), total));
            }
            let set = page.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let mailbox = q.mailbox.clone();
            let metas = imap
                .run(true, move |c| {
                    let (mailbox, set) = (mailbox.clone(), set.clone());
                    Box::pin(async move {
                        c.open_checked(&mailbox, validity, false).await?;
                        c.fetch_meta(&set).await
                    })
                })
                .await
                .map_err(imap_error)?;
            let mut rows = Vec::new();
            for uid in page {
                let Some(meta) = metas.iter().find(|m| m.uid == uid) else { continue };
                let existing = e.store.at(&q.mailbox, validity, i64::from(uid)).await.map_err(db_error)?;
                let s = match existing {
                    Some(mut s) => {
                        if (s.m.seen, s.m.flagged) != (meta.seen, meta.flagged) {
                            e.store.set_flags(s.seq, meta.seen, meta.flagged).await.map_err(db_error)?;
                            (s.m.seen, s.m.flagged) = (meta.seen, meta.flagged);
                        }
                        s
                    }
                    None => {
                        let (mailbox, max) = (q.mailbox.clone(), e.config.max_message_bytes);
                        let r = imap
                            .run(true, move |c| {
                                let mailbox = mailbox.clone();
                                Box::pin(async move {
                                    c.open_checked(&mailbox, validity, false).await?;
                                    c.fetch_raw(uid, max).await
                                })
                            })
                            .await
                            .map_err(imap_error)?;
                        let raw = RawMessage {
                            size: u64::from(r.size),
                            bytes: r.bytes,
                            truncated: r.truncated,
                            seen: r.seen,
                            flagged: r.flagged,
                        };
                        let sent = q.mailbox == e.config.sent_mailbox;
                        let loc =
                            Location { mailbox: q.mailbox.clone(), uidvalidity: validity, uid: Some(i64::from(uid)) };
                        e.intake.ingest(loc, intake, &raw, false, None, sent).await.map_err(db_error)?;
                        match e.store.at(&q.mailbox, validity, i64::from(uid)).await.map_err(db_error)? {
                            Some(s) => s,
                            None => continue,
                        }
                    }
                };
                rows.push(s);
            }
            Ok((rows, total))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_queries() {
        let d = time::Date::from_calendar_date(2024, time::Month::January, 2).unwrap();
        let q = Query { since: Some(d), from: Some("alice".into()), seen: Some(false), ..Default::default() };
        assert_eq!(imap_query(&q, true).unwrap(), "SINCE 2-Jan-2024 FROM \"alice\" UNSEEN");
        let q = Query { subject: Some("café".into()), ..Default::default() };
        assert_eq!(imap_query(&q, true).unwrap(), "CHARSET UTF-8 SUBJECT {5+}\r\ncafé");
        assert!(imap_query(&q, false).is_err());
        let q = Query { subject: Some("a\r\nb".into()), ..Default::default() };
        assert!(imap_query(&q, true).is_err());
        assert_eq!(imap_query(&Query::default(), true).unwrap(), "ALL");
    }
}
