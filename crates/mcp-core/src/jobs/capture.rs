//! Output capture: every byte a command writes is kept (up to a cap) so it can
//! be read later in pages, while the first and last bytes stay in memory for
//! the call's own result. Nothing is silently dropped: the counts of bytes
//! seen, kept and dropped are part of every answer.
//!
//! Output starts in memory and moves to a spool file only once it outgrows
//! the in-memory excerpt: most commands print little, and creating the file
//! cost a quarter of a millisecond per run.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One stream's capture.
pub struct Capture {
    path: PathBuf,
    head_cap: usize,
    tail_cap: usize,
    spool_cap: u64,
    inner: Mutex<Inner>,
}

struct Inner {
    /// `None` until the output spills to disk (or after `close`).
    file: Option<std::fs::File>,
    /// Spilled to disk: reads come from the file.
    spilled: bool,
    /// Output kept in memory until it spills.
    mem: Vec<u8>,
    total: u64,
    spooled: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Bytes not yet reported through progress notifications.
    fresh: Vec<u8>,
}

/// A page read from the spool.
#[derive(Debug, Clone)]
pub struct Page {
    /// The bytes, lossily decoded.
    pub text: String,
    /// Offset of the next byte to read.
    pub next_offset: u64,
    /// True when the page reaches the end of what is spooled so far.
    pub at_end: bool,
}

impl Capture {
    /// A capture spooling to `path`, keeping `excerpt` bytes in memory (half
    /// from the start, half from the end) and at most `spool_cap` on disk.
    pub fn new(path: &Path, excerpt: usize, spool_cap: u64) -> std::io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            head_cap: excerpt,
            tail_cap: excerpt / 2,
            spool_cap,
            inner: Mutex::new(Inner {
                file: None,
                spilled: false,
                mem: Vec::new(),
                total: 0,
                spooled: 0,
                head: Vec::new(),
                tail: Vec::new(),
                fresh: Vec::new(),
            }),
        })
    }

    /// Record a chunk.
    pub fn write(&self, chunk: &[u8]) {
        let Ok(mut g) = self.inner.lock() else { return };
        g.total += chunk.len() as u64;
        let room = self.spool_cap.saturating_sub(g.spooled) as usize;
        if room > 0 {
            let n = room.min(chunk.len());
            if !g.spilled && g.mem.len() + n > self.head_cap.max(4096) {
                self.spill(&mut g);
            }
            if g.spilled {
                let ok = g.file.as_mut().is_some_and(|f| f.write_all(&chunk[..n]).is_ok());
                if ok {
                    g.spooled += n as u64;
                } else {
                    g.file = None;
                }
            } else {
                g.mem.extend_from_slice(&chunk[..n]);
                g.spooled += n as u64;
            }
        }
        if g.head.len() < self.head_cap {
            let n = (self.head_cap - g.head.len()).min(chunk.len());
            g.head.extend_from_slice(&chunk[..n]);
        }
        g.tail.extend_from_slice(chunk);
        if g.tail.len() > self.tail_cap * 2 {
            let cut = g.tail.len() - self.tail_cap;
            g.tail.drain(..cut);
        }
        if g.fresh.len() < 64 << 10 {
            let n = ((64 << 10) - g.fresh.len()).min(chunk.len());
            g.fresh.extend_from_slice(&chunk[..n]);
        }
    }

    /// Move the in-memory output to the spool file.
    fn spill(&self, g: &mut Inner) {
        g.spilled = true;
        let file = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::OpenOptions::new().create_new(true).write(true).open(&self.path));
        match file {
            Ok(mut f) => {
                if f.write_all(&g.mem).is_ok() {
                    g.file = Some(f);
                } else {
                    g.spooled -= g.mem.len() as u64;
                }
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot spool output; keeping only the excerpt");
                g.spooled -= g.mem.len() as u64;
            }
        }
        g.mem = Vec::new();
    }

    /// Bytes seen so far.
    pub fn total(&self) -> u64 {
        self.inner.lock().map(|g| g.total).unwrap_or(0)
    }

    /// Bytes kept on disk (the rest, beyond the spool cap, was dropped).
    pub fn spooled(&self) -> u64 {
        self.inner.lock().map(|g| g.spooled).unwrap_or(0)
    }

    /// Take what arrived since the last call (for progress notifications).
    pub fn take_fresh(&self) -> Vec<u8> {
        self.inner.lock().map(|mut g| std::mem::take(&mut g.fresh)).unwrap_or_default()
    }

    /// The whole output when it fits in `max` bytes, otherwise its start and
    /// end around a marker that says how much is missing and how to read it.
    pub fn excerpt(&self, max: usize, how_to_read: &str) -> (String, bool) {
        let Ok(g) = self.inner.lock() else { return (String::new(), false) };
        if g.total as usize <= max && g.head.len() as u64 == g.total {
            return (String::from_utf8_lossy(&g.head).into_owned(), false);
        }
        let half = max / 2;
        let head = &g.head[..g.head.len().min(half)];
        let tail_len = g.tail.len().min(max - head.len());
        let tail = &g.tail[g.tail.len() - tail_len..];
        let omitted = g.total.saturating_sub((head.len() + tail.len()) as u64);
        let mut s = String::from_utf8_lossy(head).into_owned();
        s.push_str(&format!(
            "\n[... {omitted} bytes omitted of {} in all ({} kept on the server); {how_to_read} ...]\n",
            g.total, g.spooled
        ));
        s.push_str(&String::from_utf8_lossy(tail));
        (s, true)
    }

    /// Read up to `max` spooled bytes from `offset`.
    pub fn read(&self, offset: u64, max: usize) -> std::io::Result<Page> {
        let (spooled, in_memory) = {
            let g = self.inner.lock().map_err(|_| std::io::Error::other("capture lock poisoned"))?;
            (g.spooled, (!g.spilled).then(|| g.mem.clone()))
        };
        if let Some(mem) = in_memory {
            let start = (offset as usize).min(mem.len());
            let end = (start + max).min(mem.len());
            return Ok(Page {
                text: String::from_utf8_lossy(&mem[start..end]).into_owned(),
                next_offset: end as u64,
                at_end: end >= mem.len(),
            });
        }
        let mut f = std::fs::File::open(&self.path)?;
        f.seek(SeekFrom::Start(offset.min(spooled)))?;
        let want = (spooled.saturating_sub(offset)).min(max as u64);
        let mut buf = Vec::with_capacity(want as usize);
        f.take(want).read_to_end(&mut buf)?;
        let next = offset + buf.len() as u64;
        Ok(Page { text: String::from_utf8_lossy(&buf).into_owned(), next_offset: next, at_end: next >= spooled })
    }

    /// Stop writing (the process ended); the spool stays readable.
    pub fn close(&self) {
        if let Ok(mut g) = self.inner.lock()
            && let Some(mut f) = g.file.take()
        {
            let _ = f.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let c = Capture::new(&dir.path().join("o"), 10, 25).unwrap();
        c.write(b"abc");
        assert_eq!(c.read(1, 100).unwrap().text, "bc", "small output is served from memory");
        let c = Capture::new(&dir.path().join("o"), 10, 25).unwrap();
        c.write(b"0123456789");
        assert_eq!(c.excerpt(10, "x"), ("0123456789".into(), false));
        c.write(b"abcdefghijklmnopqrstuvwxyz");
        let (e, cut) = c.excerpt(10, "call read_output");
        assert!(cut);
        assert!(e.starts_with("01234") && e.ends_with("vwxyz"), "{e}");
        assert!(e.contains("26 bytes omitted of 36") && e.contains("25 kept"), "{e}");
        assert_eq!(c.total(), 36);
        assert_eq!(c.spooled(), 25);
        let p = c.read(20, 100).unwrap();
        assert_eq!(p.text, "klmno");
        assert!(p.at_end);
    }
}
