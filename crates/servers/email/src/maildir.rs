//! The embedded mail store: Maildir folders as mailboxes, so the fleet runs
//! with no mail server at all.
//!
//! `INBOX` is `EMAIL_MAILDIR`, `Sent` is `EMAIL_SENT_MAILDIR`, and other
//! mailboxes are Maildir++ subfolders of the inbox (`.Archive`). A message is
//! known by its unique name (the file name before `:2,`), which survives flag
//! changes; the store gives each name a UID. Flags live in the file name
//! (`S` seen, `F` flagged); reading never renames a file, so reading never
//! marks anything seen. Files are only ever renamed (flags, moves) or
//! written through `tmp/` and renamed (deliveries), as the format requires.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::addr::check_mailbox_name;

/// One message file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique name (before `:2,`).
    pub name: String,
    /// Current path.
    pub path: PathBuf,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
    /// Modification time, for ordering.
    pub mtime: SystemTime,
    /// Size in bytes.
    pub size: u64,
}

/// The Maildir folders.
#[derive(Debug, Clone)]
pub struct Maildirs {
    inbox: PathBuf,
    sent: PathBuf,
}

fn split_name(file: &str) -> (&str, &str) {
    match file.split_once(':') {
        Some((name, info)) => (name, info.strip_prefix("2,").unwrap_or("")),
        None => (file, ""),
    }
}

fn ensure(dir: &Path) -> io::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A unique Maildir name: time, pid, counter and randomness.
pub fn unique_name() -> String {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let r: String = crate::random_bytes(4).iter().map(|b| format!("{b:02x}")).collect();
    format!("{}.M{}P{}Q{n}R{r}.mcp-server-email", now.as_secs(), now.subsec_micros(), std::process::id())
}

impl Maildirs {
    /// The folders, created when missing.
    pub fn new(inbox: PathBuf, sent: PathBuf) -> io::Result<Self> {
        ensure(&inbox)?;
        ensure(&sent)?;
        Ok(Self { inbox, sent })
    }

    /// The folder of `mailbox`.
    pub fn dir(&self, mailbox: &str) -> Result<PathBuf, String> {
        if mailbox.eq_ignore_ascii_case("INBOX") {
            return Ok(self.inbox.clone());
        }
        if mailbox == "Sent" {
            return Ok(self.sent.clone());
        }
        check_mailbox_name(mailbox)?;
        if mailbox.contains('/') {
            return Err(format!("{mailbox:?}: Maildir subfolders are one level deep"));
        }
        let d = self.inbox.join(format!(".{mailbox}"));
        if d.join("cur").is_dir() {
            Ok(d)
        } else {
            Err(format!("no mailbox {mailbox:?}; existing: {}", self.list().join(", ")))
        }
    }

    /// INBOX, Sent, and the inbox's Maildir++ subfolders.
    pub fn list(&self) -> Vec<String> {
        let mut v = vec!["INBOX".to_owned(), "Sent".to_owned()];
        if let Ok(rd) = std::fs::read_dir(&self.inbox) {
            let mut subs: Vec<String> = rd
                .flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    let sub = n.strip_prefix('.')?.to_owned();
                    (!sub.is_empty() && e.path().join("cur").is_dir() && check_mailbox_name(&sub).is_ok())
                        .then_some(sub)
                })
                .collect();
            subs.sort();
            v.extend(subs);
        }
        v
    }

    /// Every message file of `mailbox` (in `new/` and `cur/`), oldest first.
    pub fn scan(&self, mailbox: &str) -> Result<Vec<Entry>, String> {
        let dir = self.dir(mailbox)?;
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let rd = match std::fs::read_dir(dir.join(sub)) {
                Ok(rd) => rd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("{}: {e}", dir.join(sub).display())),
            };
            for e in rd.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if file.starts_with('.') {
                    continue;
                }
                let Ok(md) = e.metadata() else { continue };
                if !md.is_file() {
                    continue;
                }
                let (name, flags) = split_name(&file);
                out.push(Entry {
                    name: name.to_owned(),
                    path: e.path(),
                    seen: sub == "cur" && flags.contains('S'),
                    flagged: sub == "cur" && flags.contains('F'),
                    mtime: md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    size: md.len(),
                });
            }
        }
        out.sort_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.name.cmp(&b.name)));
        Ok(out)
    }

    /// The current file of message `name` in `mailbox`.
    pub fn find(&self, mailbox: &str, name: &str) -> Result<Option<Entry>, String> {
        Ok(self.scan(mailbox)?.into_iter().find(|e| e.name == name))
    }

    /// Read up to `max` bytes of a message (and whether it was cut).
    pub fn read(entry: &Entry, max: usize) -> io::Result<(Vec<u8>, bool)> {
        use std::io::Read;
        let f = std::fs::File::open(&entry.path)?;
        let mut buf = Vec::with_capacity((entry.size as usize).min(max));
        let limit = if entry.size as usize > max { u64::from(crate::imap::PARTIAL_BYTES) } else { max as u64 + 1 };
        f.take(limit).read_to_end(&mut buf)?;
        let truncated = entry.size as usize > max;
        Ok((buf, truncated))
    }

    /// Set flags by renaming into `cur/` with the new info suffix.
    pub fn set_flags(&self, mailbox: &str, entry: &Entry, seen: bool, flagged: bool) -> Result<(), String> {
        let dir = self.dir(mailbox)?;
        let file = entry.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let (_, old) = split_name(&file);
        let mut flags: Vec<char> = old.chars().filter(|c| *c != 'S' && *c != 'F').collect();
        if seen {
            flags.push('S');
        }
        if flagged {
            flags.push('F');
        }
        flags.sort_unstable();
        flags.dedup();
        let target = dir.join("cur").join(format!("{}:2,{}", entry.name, flags.into_iter().collect::<String>()));
        if target != entry.path {
            std::fs::rename(&entry.path, &target).map_err(|e| format!("renaming {}: {e}", entry.path.display()))?;
        }
        Ok(())
    }

    /// Move a message file to another mailbox, keeping its name and flags.
    pub fn move_to(&self, entry: &Entry, target: &str) -> Result<(), String> {
        let dir = self.dir(target)?;
        let file = entry.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let sub = entry.path.parent().and_then(|p| p.file_name()).map(|s| s.to_string_lossy().into_owned());
        let sub = if sub.as_deref() == Some("new") { "new" } else { "cur" };
        std::fs::rename(&entry.path, dir.join(sub).join(&file)).map_err(|e| format!("moving to {target}: {e}"))
    }

    /// Deliver `bytes` into `mailbox` (through `tmp/`, synced), seen or not; returns the unique name.
    pub fn deliver(&self, mailbox: &str, bytes: &[u8], seen: bool) -> Result<String, String> {
        let dir = self.dir(mailbox)?;
        let name = unique_name();
        let tmp = dir.join("tmp").join(&name);
        write_synced(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let target = if seen { dir.join("cur").join(format!("{name}:2,S")) } else { dir.join("new").join(&name) };
        std::fs::rename(&tmp, &target).map_err(|e| format!("{}: {e}", target.display()))?;
        Ok(name)
    }
}

/// Write a file and fsync it (and its folder), so a delivered file survives a crash.
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    if let Some(parent) = path.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_scan_flag_move() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::new(dir.path().join("in"), dir.path().join("sent")).unwrap();
        let n = m.deliver("INBOX", b"Subject: x\r\n\r\nbody", false).unwrap();
        let e = m.find("INBOX", &n).unwrap().unwrap();
        assert!(!e.seen && !e.flagged);
        m.set_flags("INBOX", &e, true, false).unwrap();
        let e = m.find("INBOX", &n).unwrap().unwrap();
        assert!(e.seen && !e.flagged);
        assert!(e.path.to_string_lossy().ends_with(":2,S"));
        std::fs::create_dir_all(dir.path().join("in/.Archive/cur")).unwrap();
        assert_eq!(m.list(), ["INBOX", "Sent", "Archive"]);
        m.move_to(&e, "Archive").unwrap();
        assert!(m.find("INBOX", &n).unwrap().is_none());
        let moved = m.find("Archive", &n).unwrap().unwrap();
        assert!(moved.seen);
        assert_eq!(Maildirs::read(&moved, 1 << 20).unwrap().0, b"Subject: x\r\n\r\nbody");
        assert!(m.dir("Nope").unwrap_err().contains("existing: INBOX, Sent, Archive"));
        assert!(m.dir("../etc").is_err());
    }
}
