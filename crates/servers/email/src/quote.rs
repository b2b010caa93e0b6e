//! Separating the new text of a message from quoted history and the
//! signature, so an agent reads only what the sender just wrote (quoted
//! history is where old instructions and injected text hide).
//!
//! Recognised history: `>` quoted lines, attribution lines ("On ... wrote:"
//! and its French, German, Spanish, Italian, Dutch and Portuguese forms, also
//! wrapped over two lines), Outlook's "-----Original Message-----" and
//! underscore separators, and Outlook header blocks (From:/Sent:/Subject:).
//! Top-posted replies keep what is above the history; interleaved replies
//! keep every unquoted line. Signatures: the `-- ` delimiter and common
//! "Sent from my ..." footers. Forwarded content is not history: it is what
//! the sender is sharing, so it stays.

/// The split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// What the sender wrote now.
    pub new_text: String,
    /// Quoted history was found and removed.
    pub has_quoted: bool,
    /// A signature was found and removed.
    pub has_signature: bool,
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

const WROTE: &[&str] =
    &["wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "ha scritto:", "schreef:", "escreveu:"];
const ON: &[&str] = &["on ", "le ", "am ", "el ", "il ", "op ", "em "];

fn ends_with_wrote(s: &str) -> bool {
    let l = s.trim_end().to_lowercase();
    WROTE.iter().any(|w| l.ends_with(w))
}

/// An attribution starting at `i`; returns how many lines it spans.
fn attribution(lines: &[&str], i: usize) -> Option<usize> {
    let l = lines[i].trim().to_lowercase();
    if !ON.iter().any(|on| l.starts_with(on)) || l.len() > 300 {
        return None;
    }
    if ends_with_wrote(lines[i]) {
        return Some(1);
    }
    // Clients wrap long attributions: "On Mon, 1 Jan 2024, Bob Smith\n<bob@example.com> wrote:".
    match lines.get(i + 1) {
        Some(next) if ends_with_wrote(next) && !is_quoted(next) => Some(2),
        _ => None,
    }
}

fn is_separator(line: &str) -> bool {
    let t = line.trim().to_lowercase();
    (t.starts_with("-----") && t.contains("original message"))
        || (t.starts_with("-----") && t.contains("ursprüngliche nachricht"))
        || (t.starts_with("-----") && t.contains("message d'origine"))
        || (t.len() >= 20 && t.chars().all(|c| c == '_'))
}

/// An Outlook header block: "From:" followed within a few lines by "Sent:"/"Date:" and "Subject:".
fn outlook_block(lines: &[&str], i: usize) -> bool {
    let head = |l: &str, keys: &[&str]| {
        let t = l.trim_start().trim_start_matches('*').to_lowercase();
        keys.iter().any(|k| t.starts_with(k))
    };
    if !head(lines[i], &["from:", "von:", "de :", "de:"]) {
        return false;
    }
    let window = &lines[i + 1..lines.len().min(i + 6)];
    window.iter().any(|l| head(l, &["sent:", "date:", "gesendet:", "envoyé :", "enviado:"]))
        && window.iter().any(|l| head(l, &["subject:", "betreff:", "objet :", "asunto:"]))
}

fn is_forward_marker(line: &str) -> bool {
    let t = line.trim().to_lowercase();
    t.contains("forwarded message") || t.starts_with("begin forwarded message")
}

fn signature_start(lines: &[&str]) -> Option<usize> {
    if let Some(i) = lines.iter().rposition(|l| *l == "-- " || l.trim_end() == "--") {
        return Some(i);
    }
    // Mobile footers, only among the last few non-blank lines.
    let last: Vec<usize> = (0..lines.len()).rev().filter(|&i| !lines[i].trim().is_empty()).take(2).collect();
    last.into_iter().rev().find(|&i| {
        let t = lines[i].trim().to_lowercase();
        t.starts_with("sent from my ")
            || t.starts_with("get outlook for ")
            || t.starts_with("envoyé de mon ")
            || t.starts_with("von meinem ")
            || t.starts_with("enviado desde mi ")
    })
}

fn tidy(lines: &[&str]) -> String {
    let text = lines.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n");
    text.trim_matches('\n').trim_end().to_owned()
}

/// Split `text` into the new part, dropping history and signature.
pub fn split(text: &str) -> Split {
    let normalized = text.replace("\r\n", "\n");
    let lines: Vec<&str> = normalized.lines().collect();
    let mut history: Option<(usize, bool)> = None; // (start, everything after is history)
    let mut attribution_lines = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if is_forward_marker(lines[i]) {
            break;
        }
        if is_separator(lines[i]) || outlook_block(&lines, i) {
            history.get_or_insert((i, true));
            break;
        }
        if let Some(n) = attribution(&lines, i) {
            attribution_lines.extend(i..i + n);
            history.get_or_insert((i, false));
            i += n;
            continue;
        }
        if is_quoted(lines[i]) {
            history.get_or_insert((i, false));
        }
        i += 1;
    }
    let (kept, has_quoted): (Vec<&str>, bool) = match history {
        None => (lines.clone(), false),
        Some((start, true)) => {
            // Everything after a separator is the old message; unquoted lines before it may still hold
            // quotes of their own (rare), which are dropped too.
            (lines[..start].iter().copied().filter(|l| !is_quoted(l)).collect(), true)
        }
        Some((start, false)) => {
            let interleaved = lines[start..]
                .iter()
                .enumerate()
                .any(|(k, l)| !l.trim().is_empty() && !is_quoted(l) && !attribution_lines.contains(&(start + k)));
            if interleaved {
                let kept = lines
                    .iter()
                    .enumerate()
                    .filter(|(k, l)| !is_quoted(l) && !attribution_lines.contains(k))
                    .map(|(_, l)| *l)
                    .collect();
                (kept, true)
            } else {
                (lines[..start].to_vec(), true)
            }
        }
    };
    let (kept, has_signature) = match signature_start(&kept) {
        Some(s) => (kept[..s].to_vec(), true),
        None => (kept, false),
    };
    Split { new_text: tidy(&kept), has_quoted, has_signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_posted_reply() {
        let s =
            split("Yes, go ahead.\n\nOn Mon, 1 Jan 2024 at 10:00, Bot <bot@x.test> wrote:\n> Shall I?\n> -- \n> bot\n");
        assert_eq!(s.new_text, "Yes, go ahead.");
        assert!(s.has_quoted);
    }

    #[test]
    fn wrapped_attribution_and_signature() {
        let s = split(
            "Python 3.12 please.\n\n-- \nAlice\nACME\n\nOn Mon, 1 Jan 2024 at 10:00, A Very Long Name\n<bot@x.test> wrote:\n> Which version?\n",
        );
        assert_eq!(s.new_text, "Python 3.12 please.");
        assert!(s.has_quoted && s.has_signature);
    }

    #[test]
    fn interleaved_reply_keeps_answers() {
        let s = split("On Tue, Bot wrote:\n> Name?\nwidget\n> Language?\nRust\n");
        assert_eq!(s.new_text, "widget\nRust");
        assert!(s.has_quoted);
    }

    #[test]
    fn outlook_styles() {
        let s = split("Approved.\n\n-----Original Message-----\nFrom: Bot\nSent: Monday\nSubject: x\n\nold\n");
        assert_eq!(s.new_text, "Approved.");
        let s = split(
            "Approved.\n________________________________\nFrom: Bot <bot@x.test>\nSent: Monday\nTo: me\nSubject: x\nold\n",
        );
        assert_eq!(s.new_text, "Approved.");
        let s =
            split("Approved.\n\nFrom: Bot <bot@x.test>\nSent: Monday, 1 January\nTo: me\nSubject: Re: x\n\nold text\n");
        assert_eq!(s.new_text, "Approved.");
    }

    #[test]
    fn localized_and_mobile() {
        let s = split("D'accord.\n\nLe lun. 1 janv. 2024 à 10:00, Bot <bot@x.test> a écrit :\n> Question ?\n");
        assert_eq!(s.new_text, "D'accord.");
        let s = split("Ok\n\nSent from my iPhone\n");
        assert_eq!(s.new_text, "Ok");
        assert!(s.has_signature && !s.has_quoted);
    }

    #[test]
    fn plain_and_forwarded_text_stay() {
        let s = split("Please build a CLI.\nIt should greet.\n");
        assert_eq!(s.new_text, "Please build a CLI.\nIt should greet.");
        assert!(!s.has_quoted && !s.has_signature);
        let s = split("FYI\n\n---------- Forwarded message ---------\nFrom: Carol\nDate: x\nSubject: y\n\nthe spec\n");
        assert!(s.new_text.contains("the spec"), "{s:?}");
    }
}
