//! Bounded windows over a job log: the head, the tail, a line range, the
//! lines matching a pattern, or the lines around errors, with context and
//! line numbers. The raw log is cleaned first — ANSI colour codes and
//! GitLab's `section_start`/`section_end` markers removed, carriage-return
//! progress lines reduced to their last state — and masked by
//! [`crate::redact`], so what a model reads is plain, numbered and redacted.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// Characters of one line shown; longer lines are cut with a marker.
pub const MAX_LINE_CHARS: usize = 2000;

/// Which part of the log.
#[derive(Debug, Clone)]
pub enum Window {
    /// The first `n` lines.
    Head(usize),
    /// The last `n` lines.
    Tail(usize),
    /// Lines `start..=end` (1-based).
    Range(usize, usize),
    /// Lines matching the pattern, each with `context` lines around it.
    Grep(Regex, usize),
    /// Lines that look like errors, each with `context` lines around it;
    /// the tail when none do.
    Errors(usize),
}

/// A window's lines and where they are.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Excerpt {
    /// The lines, each `NNNN| text`; `-----` separates ranges that are not
    /// contiguous.
    pub text: String,
    /// The 1-based, inclusive line ranges shown.
    pub ranges: Vec<[usize; 2]>,
    /// Lines shown.
    pub shown_lines: usize,
    /// Lines in the whole (kept part of the) log.
    pub total_lines: usize,
    /// Lines that matched (grep and errors modes).
    pub matches: usize,
    /// More lines qualified than the line or byte limits let through.
    pub truncated: bool,
}

fn ansi() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
            .expect("pattern compiles")
    })
}

fn section() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"section_(?:start|end):\d+:[A-Za-z0-9_.\-\[\]=,]+\r?").expect("pattern compiles"))
}

/// Lines that usually carry a failure's cause.
pub fn error_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(\b(error|errors|err!|failed|failure|fatal|panic|panicked|exception|traceback|assertion|segmentation fault|permission denied|not found|no such file|cannot|could not|undefined reference|killed|timed out|timeout)\b|\b[A-Za-z]+(Error|Exception)\b|^E\s{2,}|^FAILED\b|\bexit (code|status) [1-9])",
        )
        .expect("pattern compiles")
    })
}

/// The log as clean lines.
pub fn clean_lines(raw: &str) -> Vec<String> {
    let mut lines: Vec<String> = raw
        .split('\n')
        .map(|l| {
            let l = section().replace_all(l, "");
            let l = ansi().replace_all(&l, "");
            let l = l.trim_end_matches('\r');
            // A progress line redrawn with `\r`: keep what was last drawn.
            let l = l.rsplit('\r').find(|s| !s.trim().is_empty()).unwrap_or("");
            l.to_owned()
        })
        .collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn cut(line: &str) -> String {
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(MAX_LINE_CHARS).collect();
    s.push_str(" …[line cut]");
    s
}

/// Merge `[start, end]` windows (0-based, inclusive) that overlap or touch.
fn merge(mut w: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    w.sort();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in w {
        match out.last_mut() {
            Some(last) if s <= last.1 + 1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The windows around lines matching `re`: `(ranges, matches, truncated)`.
/// For errors the last windows matter most (the failure is near the end),
/// so the budget is spent from the end backwards, and a log with no match
/// gives its tail; grep spends it from the start, like grep.
fn around(
    lines: &[String],
    re: &Regex,
    ctx: usize,
    errors: bool,
    max_lines: usize,
) -> (Vec<(usize, usize)>, usize, bool) {
    let total = lines.len();
    let hits: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| re.is_match(l)).map(|(i, _)| i).collect();
    if hits.is_empty() {
        if errors {
            let n = max_lines.min(total).min(40);
            return (vec![(total - n, total - 1)], 0, false);
        }
        return (Vec::new(), 0, false);
    }
    let merged = merge(hits.iter().map(|&i| (i.saturating_sub(ctx), (i + ctx).min(total - 1))).collect());
    let ordered: Vec<(usize, usize)> = if errors { merged.into_iter().rev().collect() } else { merged };
    let mut kept = Vec::new();
    let mut used = 0;
    let mut truncated = false;
    for (s, e) in ordered {
        let len = e - s + 1;
        if used + len <= max_lines {
            kept.push((s, e));
            used += len;
            continue;
        }
        truncated = true;
        let room = max_lines - used;
        if room > 0 {
            kept.push(if errors { (e + 1 - room, e) } else { (s, s + room - 1) });
        }
        break;
    }
    (merge(kept), hits.len(), truncated)
}

/// The window `w` of `lines`, at most `max_lines` lines and about
/// `max_bytes` bytes of text.
pub fn window(lines: &[String], w: &Window, max_lines: usize, max_bytes: usize) -> Excerpt {
    let total = lines.len();
    let max_lines = max_lines.max(1);
    let mut truncated = false;
    let mut matches = 0;
    let ranges: Vec<(usize, usize)> = if total == 0 {
        Vec::new()
    } else {
        match w {
            Window::Head(n) => {
                let n = (*n).max(1);
                truncated = n > max_lines && total > max_lines;
                vec![(0, n.min(max_lines).min(total) - 1)]
            }
            Window::Tail(n) => {
                let n = (*n).max(1);
                truncated = n > max_lines && total > max_lines;
                let n = n.min(max_lines).min(total);
                vec![(total - n, total - 1)]
            }
            Window::Range(s, e) => {
                let s = (*s).max(1) - 1;
                if s >= total {
                    Vec::new()
                } else {
                    let e = (*e).max(s + 1).min(total) - 1;
                    let e2 = e.min(s + max_lines - 1);
                    truncated = e2 < e;
                    vec![(s, e2)]
                }
            }
            Window::Grep(re, ctx) => {
                let (r, m, t) = around(lines, re, *ctx, false, max_lines);
                (matches, truncated) = (m, t);
                r
            }
            Window::Errors(ctx) => {
                let (r, m, t) = around(lines, error_pattern(), *ctx, true, max_lines);
                (matches, truncated) = (m, t);
                r
            }
        }
    };
    let mut text = String::new();
    let mut shown = 0;
    let mut out_ranges = Vec::new();
    'outer: for (k, (s, e)) in ranges.iter().enumerate() {
        if k > 0 {
            text.push_str("-----\n");
        }
        let mut last = *s;
        for (i, line) in lines.iter().enumerate().take(e + 1).skip(*s) {
            let l = format!("{:>5}| {}\n", i + 1, cut(line));
            if text.len() + l.len() > max_bytes && shown > 0 {
                truncated = true;
                if i > *s {
                    out_ranges.push([s + 1, i]);
                }
                break 'outer;
            }
            text.push_str(&l);
            shown += 1;
            last = i;
        }
        out_ranges.push([s + 1, last + 1]);
    }
    Excerpt { text, ranges: out_ranges, shown_lines: shown, total_lines: total, matches, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("line {i}")).collect()
    }

    #[test]
    fn cleans_ansi_sections_and_carriage_returns() {
        let raw =
            "section_start:1700000000:step_script\r\x1b[0K\x1b[32;1mRunning\x1b[0;m\nprogress 10%\rprogress 100%\n";
        assert_eq!(clean_lines(raw), ["Running", "progress 100%"]);
    }

    #[test]
    fn head_tail_range_are_bounded() {
        let l = log(100);
        let h = window(&l, &Window::Head(5), 50, 1 << 20);
        assert_eq!((h.ranges.clone(), h.shown_lines, h.total_lines), (vec![[1, 5]], 5, 100));
        let t = window(&l, &Window::Tail(500), 20, 1 << 20);
        assert_eq!((t.ranges.clone(), t.truncated), (vec![[81, 100]], true));
        let r = window(&l, &Window::Range(10, 12), 50, 1 << 20);
        assert_eq!(r.ranges, vec![[10, 12]]);
        assert!(r.text.starts_with("   10| line 10\n"));
        let past = window(&l, &Window::Range(500, 600), 50, 1 << 20);
        assert_eq!(past.shown_lines, 0);
    }

    #[test]
    fn errors_mode_keeps_context_and_prefers_the_end() {
        let mut l = log(200);
        l[20] = "error: first".into();
        l[150] = "AssertionError: boom".into();
        l[199] = "ERROR: Job failed: exit code 1".into();
        let e = window(&l, &Window::Errors(2), 8, 1 << 20);
        assert_eq!(e.matches, 3);
        assert!(e.text.contains("AssertionError"), "{}", e.text);
        assert!(e.text.contains("Job failed"));
        assert!(e.truncated);
        let all = window(&l, &Window::Errors(1), 100, 1 << 20);
        assert_eq!(all.ranges, vec![[20, 22], [150, 152], [199, 200]]);
    }

    #[test]
    fn grep_and_byte_cap() {
        let l = log(1000);
        let g = window(&l, &Window::Grep(Regex::new("^line 99").unwrap(), 0), 100, 1 << 20);
        assert_eq!(g.matches, 11);
        let b = window(&l, &Window::Head(1000), 1000, 200);
        assert!(b.text.len() <= 200 && b.truncated);
    }
}
