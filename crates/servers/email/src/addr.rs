//! Addresses, allow-lists, Message-IDs and mailbox names: the small
//! validators every path in and out goes through.
//!
//! Outgoing headers are built from these values, so each validator refuses
//! anything that could smuggle a header (CR, LF, other controls) or confuse a
//! parser (spaces, brackets, commas in an address).

/// Parse a bare address `local@domain` (no display name), returning it with the domain lowercased. `None` when
/// it is not a plausible single address.
pub fn parse_address(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix('<').and_then(|x| x.strip_suffix('>')).unwrap_or(s);
    if s.len() > 254 || s.is_empty() {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.is_empty() || domain.len() > 253 {
        return None;
    }
    let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let domain_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    (local_ok && domain_ok).then(|| format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// An allow-list of addresses and `@domain` entries, compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    addresses: Vec<String>,
    domains: Vec<String>,
}

impl Allow {
    /// Parse entries such as `alice@example.com` and `@example.com`.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut a = Self::default();
        for e in entries {
            let e = e.trim();
            if let Some(d) = e.strip_prefix('@') {
                match parse_address(&format!("x@{d}")) {
                    Some(x) => a.domains.push(x[2..].to_owned()),
                    None => return Err(format!("{e:?} is not a domain (use @example.com)")),
                }
            } else {
                match parse_address(e) {
                    Some(x) => a.addresses.push(x.to_ascii_lowercase()),
                    None => return Err(format!("{e:?} is not an address or @domain")),
                }
            }
        }
        Ok(a)
    }

    /// Nobody is allowed.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.domains.is_empty()
    }

    /// Whether `address` is on the list: exact address, or its domain exactly (subdomains are not included).
    pub fn allows(&self, address: &str) -> bool {
        let a = address.to_ascii_lowercase();
        let Some((_, domain)) = a.rsplit_once('@') else { return false };
        self.addresses.contains(&a) || self.domains.iter().any(|d| d == domain)
    }

    /// The entries, for messages.
    pub fn describe(&self) -> String {
        let mut v: Vec<String> = self.addresses.clone();
        v.extend(self.domains.iter().map(|d| format!("@{d}")));
        if v.is_empty() { "(nobody)".into() } else { v.join(", ") }
    }
}

/// Normalise a Message-ID to `<id>`. `None` when it is empty, too long, or holds characters a Message-ID
/// cannot (whitespace, controls, brackets inside), so a hostile header can never be copied into ours.
pub fn normalize_message_id(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s.strip_prefix('<').and_then(|x| x.strip_suffix('>')).unwrap_or(s);
    let ok = !inner.is_empty()
        && inner.len() <= 250
        && inner.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'<' && b != b'>' && b != b'"' && b != b'\\');
    ok.then(|| format!("<{inner}>"))
}

/// Check a mailbox name given by configuration or a caller: printable, no wildcards or quoting, short.
pub fn check_mailbox_name(m: &str) -> Result<(), String> {
    if m.is_empty() || m.len() > 200 {
        return Err("a mailbox name has 1 to 200 characters".into());
    }
    if m.chars().any(|c| c.is_control() || matches!(c, '"' | '\\' | '*' | '%' | '{' | '}'))
        || !m.is_ascii()
        || m.starts_with(['.', '/'])
        || m.contains("..")
    {
        return Err(format!(
            "{m:?} is not an acceptable mailbox name: ASCII without quotes, backslashes, wildcards or braces"
        ));
    }
    Ok(())
}

/// Replace control characters (CR, LF, TAB, ...) with spaces and trim: for one-line values taken from mail.
pub fn one_line(s: &str) -> String {
    let v: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Replace every e-mail address in `s` with `[address]`, for log lines: servers echo addresses in their error
/// messages, and addresses stay out of logs.
pub fn redact(s: &str) -> String {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match RE.get_or_init(|| regex::Regex::new(r"[^\s<>()\[\]:;,\x22']+@[^\s<>()\[\]:;,\x22']+").ok()) {
        Some(re) => re.replace_all(s, "[address]").into_owned(),
        None => "[redacted]".into(),
    }
}

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_address("Alice@Example.COM").as_deref(), Some("Alice@example.com"));
        assert_eq!(parse_address("<bob+tag@x.test>").as_deref(), Some("bob+tag@x.test"));
        for bad in ["", "a", "a@", "@b", "a b@c.d", "a@b c", "a@b\r\nBcc: x@y", "a,b@c.d", "a@-b.c", "a..b@c.d"] {
            assert!(parse_address(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn allow_lists() {
        let a = Allow::parse(&["alice@example.com".into(), "@trusted.test".into()]).unwrap();
        assert!(a.allows("ALICE@example.com"));
        assert!(a.allows("anyone@Trusted.test"));
        assert!(!a.allows("anyone@sub.trusted.test"));
        assert!(!a.allows("mallory@example.com"));
        assert!(!a.allows("alice@example.com.evil.test"));
        assert!(Allow::parse(&["@".into()]).is_err());
        assert!(Allow::default().is_empty());
    }

    #[test]
    fn message_ids() {
        assert_eq!(normalize_message_id(" <a.b@c> ").as_deref(), Some("<a.b@c>"));
        assert_eq!(normalize_message_id("a.b@c").as_deref(), Some("<a.b@c>"));
        assert!(normalize_message_id("<a b@c>").is_none());
        assert!(normalize_message_id("<a@c>\r\nBcc: x").is_none());
        assert!(normalize_message_id("<>").is_none());
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("550 5.1.1 <bob@x.test>: Recipient rejected"), "550 5.1.1 <[address]>: Recipient rejected");
        assert_eq!(redact("no address here"), "no address here");
    }

    #[test]
    fn one_line_and_cut() {
        assert_eq!(one_line("Hi\r\nBcc: evil@x\t!"), "Hi Bcc: evil@x !");
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 10), "abc");
    }
}
