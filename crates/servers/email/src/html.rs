//! HTML mail to plain text, keeping the structure quote detection needs:
//! block elements start new lines, `<blockquote>` content is prefixed with
//! `> ` per level (as a plain-text client would quote), list items get `- `,
//! and scripts, styles and the head are dropped.
//!
//! A small linear scanner rather than a DOM: hostile markup (unclosed tags,
//! deep nesting, huge attributes) costs one pass and never recurses.

/// Tags after which (and before which) a line ends.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
];

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return Some(char::from_u32(code).filter(|c| !c.is_control() || *c == '\n').unwrap_or('\u{fffd}'));
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "bull" => '•',
        "middot" => '·',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        _ => return None,
    })
}

struct Out {
    text: String,
    depth: usize,
    line_start: bool,
    pending_space: bool,
}

impl Out {
    fn newline(&mut self) {
        if !self.line_start {
            self.text.push('\n');
            self.line_start = true;
        }
        self.pending_space = false;
    }
    fn blank_line(&mut self) {
        self.newline();
        if !self.text.ends_with("\n\n") && !self.text.is_empty() {
            self.text.push('\n');
        }
    }
    fn push_char(&mut self, c: char, pre: bool) {
        if !pre && c.is_whitespace() {
            if !self.line_start {
                self.pending_space = true;
            }
            return;
        }
        if pre && c == '\n' {
            self.text.push('\n');
            self.line_start = true;
            return;
        }
        if self.line_start {
            for _ in 0..self.depth {
                self.text.push_str("> ");
            }
            self.line_start = false;
        } else if self.pending_space {
            self.text.push(' ');
        }
        self.pending_space = false;
        self.text.push(c);
    }
}

/// Convert `html` to text.
pub fn to_text(html: &str) -> String {
    let mut out = Out { text: String::with_capacity(html.len() / 2), depth: 0, line_start: true, pending_space: false };
    let (mut skip_until, mut pre) = (None::<&str>, 0usize);
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        if bytes[i] == b'<' {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[1..end.saturating_sub(1).max(1)];
            i += end;
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(until) = skip_until {
                if closing && name == until {
                    skip_until = None;
                }
                continue;
            }
            match name.as_str() {
                "script" | "style" | "head" | "title" | "template" if !closing && !tag.ends_with('/') => {
                    skip_until = Some(match name.as_str() {
                        "script" => "script",
                        "style" => "style",
                        "head" => "head",
                        "title" => "title",
                        _ => "template",
                    });
                }
                "br" => out.newline_hard(),
                "blockquote" => {
                    out.newline();
                    if closing {
                        out.depth = out.depth.saturating_sub(1);
                    } else {
                        out.depth = (out.depth + 1).min(20);
                    }
                }
                "pre" => {
                    out.newline();
                    pre = if closing { pre.saturating_sub(1) } else { pre + 1 };
                }
                "li" if !closing => {
                    out.newline();
                    out.push_char('-', false);
                    out.pending_space = true;
                }
                "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" => out.blank_line(),
                "td" | "th" if closing => out.pending_space = true,
                n if BLOCK.contains(&n) => out.newline(),
                _ => {}
            }
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        if skip_until.is_some() {
            i += ch.len_utf8();
            continue;
        }
        if ch == '&'
            && let Some(semi) = rest[..rest.len().min(12)].find(';')
            && let Some(c) = entity(&rest[1..semi])
        {
            out.push_char(c, pre > 0);
            i += semi + 1;
            continue;
        }
        out.push_char(ch, pre > 0);
        i += ch.len_utf8();
    }
    let lines: Vec<&str> = out.text.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

impl Out {
    /// `<br>`: always a line break, even on an empty line.
    fn newline_hard(&mut self) {
        if self.line_start && self.depth > 0 {
            for _ in 0..self.depth {
                self.text.push('>');
            }
        }
        self.text.push('\n');
        self.line_start = true;
        self.pending_space = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_quotes_and_entities() {
        let html = "<html><head><title>x</title><style>p{}</style></head><body>\
            <div dir=\"ltr\">Hello &amp; welcome,<br>second&nbsp;line</div>\
            <div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Jan 1, 2024 at 10:00 Bob &lt;bob@x.test&gt; wrote:<br></div>\
            <blockquote>old text<br><blockquote>older</blockquote></blockquote></div>\
            <script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>";
        let t = to_text(html);
        assert!(
            t.starts_with("Hello & welcome,\nsecond line\nOn Mon, Jan 1, 2024 at 10:00 Bob <bob@x.test> wrote:"),
            "{t}"
        );
        assert!(t.contains("\n> old text\n"), "{t}");
        assert!(t.contains("> > older"), "{t}");
        assert!(t.contains("- one\n- two"), "{t}");
        assert!(!t.contains("alert") && !t.contains("p{}"), "{t}");
    }

    #[test]
    fn hostile_markup_does_not_hurt() {
        let deep = "<blockquote>".repeat(10_000) + "x" + &"</blockquote>".repeat(10_000);
        assert!(to_text(&deep).ends_with('x'));
        assert_eq!(to_text("<a href='x"), "");
        assert_eq!(to_text("&#xD800;&#1114112;&bogus; <"), "\u{fffd}\u{fffd}&bogus;");
    }
}
