//! The origin allow-list and the one decision every request goes through
//! ([`Policy::check`]): the Fetch-domain interceptor asks it for each
//! request the browser makes, and the navigation tools ask it before they
//! start, so a refusal can name its rule.
//!
//! URLs reaching here come from Chromium, which has already normalised
//! them (lower-case scheme and host, punycode, default ports dropped,
//! percent-encoding); the parser below only splits what Chromium wrote.

use std::path::{Path, PathBuf};

/// One allowed origin pattern: `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    /// `http` or `https`.
    pub scheme: String,
    /// What the host must be.
    pub host: HostPattern,
    /// `None`: any port.
    pub port: Option<u16>,
}

/// The host part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this host (lower case; IPv6 in brackets).
    Exact(String),
    /// A proper subdomain of this domain (`*.example.com`).
    SubdomainOf(String),
    /// `*`: any host name without a dot — the names of containers on a
    /// compose or docker network (`http://*:8080`) — never an IP address, a
    /// bracketed IPv6 literal or a dotted domain.
    AnyLabel,
}

impl std::fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match &self.host {
            HostPattern::Exact(h) => h.clone(),
            HostPattern::SubdomainOf(d) => format!("*.{d}"),
            HostPattern::AnyLabel => "*".to_owned(),
        };
        match self.port {
            Some(p) => write!(f, "{}://{host}:{p}", self.scheme),
            None => write!(f, "{}://{host}:*", self.scheme),
        }
    }
}

/// Parse a comma-separated list of patterns. An empty list is an error: a
/// browser that may open nothing is a configuration mistake.
pub fn parse_patterns(text: &str) -> Result<Vec<OriginPattern>, String> {
    let mut out = Vec::new();
    for p in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(parse_pattern(p)?);
    }
    if out.is_empty() {
        return Err("the allow-list is empty".into());
    }
    Ok(out)
}

fn parse_pattern(p: &str) -> Result<OriginPattern, String> {
    let bad = |why: &str| format!("{p:?}: {why} (use scheme://host[:port], e.g. http://127.0.0.1:*)");
    let (scheme, rest) = p.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad("only http and https origins can be allowed; file:// is governed by BROWSER_ROOTS"));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(bad("an origin has no path, query or user"));
    }
    let (host, port) = split_host_port(rest).ok_or_else(|| bad("bad host or port"))?;
    let port = match port {
        None => Some(default_port(&scheme)),
        Some("*") => None,
        Some(n) => Some(n.parse::<u16>().map_err(|_| bad("bad port"))?),
    };
    let host = host.to_ascii_lowercase();
    let host = if let Some(d) = host.strip_prefix("*.") {
        if d.is_empty() || d.contains('*') || !d.contains('.') {
            return Err(bad("a wildcard needs a domain with at least two labels after it (*.example.com)"));
        }
        HostPattern::SubdomainOf(d.to_owned())
    } else if host == "*" {
        if port.is_none() {
            return Err(bad("a `*` host needs a fixed port (http://*:8080)"));
        }
        HostPattern::AnyLabel
    } else {
        if host.is_empty() || host.contains('*') {
            return Err(bad(
                "the host must be named; only a leading `*.` label, a `*` host or a `*` port is a wildcard",
            ));
        }
        HostPattern::Exact(host)
    };
    Ok(OriginPattern { scheme, host, port })
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// Split `host[:port]`, IPv6 in brackets.
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    if s.starts_with('[') {
        let end = s.find(']')?;
        let host = &s[..=end];
        match &s[end + 1..] {
            "" => Some((host, None)),
            r => Some((host, Some(r.strip_prefix(':')?))),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => Some((h, Some(p))),
            Some(_) => None,
            None => Some((s, None)),
        }
    }
}

/// A URL's origin: scheme, host, port (defaulted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Lower-case scheme.
    pub scheme: String,
    /// Lower-case host.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// The origin of an `http(s)://` or `ws(s)://` URL.
pub fn origin_of(url: &str) -> Option<Origin> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_host_port(authority)?;
    let default = match scheme.as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return None,
    };
    let port = match port {
        None | Some("") => default,
        Some(p) => p.parse().ok()?,
    };
    if host.is_empty() {
        return None;
    }
    Some(Origin { scheme, host: host.to_ascii_lowercase(), port })
}

impl OriginPattern {
    /// Does `o` match? WebSocket schemes match their HTTP counterparts.
    pub fn matches(&self, o: &Origin) -> bool {
        let scheme = match o.scheme.as_str() {
            "ws" => "http",
            "wss" => "https",
            s => s,
        };
        scheme == self.scheme
            && self.port.is_none_or(|p| p == o.port)
            && match &self.host {
                HostPattern::Exact(h) => *h == o.host,
                HostPattern::SubdomainOf(d) => {
                    o.host.len() > d.len() + 1
                        && o.host.ends_with(d.as_str())
                        && o.host[..o.host.len() - d.len()].ends_with('.')
                }
                HostPattern::AnyLabel => {
                    !o.host.is_empty()
                        && o.host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                        // All digits would be an IP address in another spelling.
                        && !o.host.bytes().all(|b| b.is_ascii_digit())
                }
            }
    }
}

/// What the policy says about one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// May load.
    Allow,
    /// Refused, with the rule that refused it.
    Deny(String),
}

/// The allow-list and the file roots, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Allowed origins.
    pub origins: Vec<OriginPattern>,
    /// `file://` roots (canonical).
    pub roots: Vec<PathBuf>,
}

impl Policy {
    /// The decision for a request to `url`.
    pub fn check(&self, url: &str) -> Verdict {
        let lower = url.get(..url.find(':').unwrap_or(0)).unwrap_or("").to_ascii_lowercase();
        match lower.as_str() {
            "http" | "https" | "ws" | "wss" => match origin_of(url) {
                Some(o) if self.origins.iter().any(|p| p.matches(&o)) => Verdict::Allow,
                Some(o) => Verdict::Deny(format!(
                    "allowed-origins: {}://{}:{} is not in BROWSER_ALLOWED_ORIGINS",
                    o.scheme, o.host, o.port
                )),
                None => Verdict::Deny("allowed-origins: the URL has no readable origin".into()),
            },
            "file" => self.check_file(url),
            // Inline and in-memory content the page itself made; anything
            // such a document loads is a request of its own and checked.
            "data" | "blob" => Verdict::Allow,
            "about" if url == "about:blank" => Verdict::Allow,
            "" => Verdict::Deny("scheme: the URL has no scheme".into()),
            s => Verdict::Deny(format!("scheme: {s}: URLs are never loaded")),
        }
    }

    /// A URL a caller asked to open (navigate, new tab): stricter than a
    /// request a page makes, since `data:`/`blob:`/`javascript:` documents
    /// opened by the caller would run with no origin to check.
    pub fn check_navigation(&self, url: &str) -> Verdict {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        match scheme.as_str() {
            "http" | "https" | "file" => self.check(url),
            "about" if url == "about:blank" => Verdict::Allow,
            "" => Verdict::Deny("scheme: give an absolute URL such as http://127.0.0.1:8080/".into()),
            s => Verdict::Deny(format!(
                "scheme: {s}: URLs cannot be opened; only http(s) on allowed origins and file:// under BROWSER_ROOTS"
            )),
        }
    }

    fn check_file(&self, url: &str) -> Verdict {
        if self.roots.is_empty() {
            return Verdict::Deny("file-roots: file:// URLs are refused (BROWSER_ROOTS is empty)".into());
        }
        let Some(rest) = url.get(7..) else { return Verdict::Deny("file-roots: malformed file URL".into()) };
        // `file://host/path`: only the local host (empty or localhost).
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => return Verdict::Deny("file-roots: malformed file URL".into()),
        };
        if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
            return Verdict::Deny("file-roots: only local files".into());
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        let Some(decoded) = percent_decode(path) else {
            return Verdict::Deny("file-roots: malformed percent-encoding".into());
        };
        let p = Path::new(&decoded);
        // Resolve symlinks and `..`: a link under a root pointing out of it
        // is outside. A path that does not exist cannot be read anyway.
        let Ok(canon) = std::fs::canonicalize(p) else {
            return Verdict::Deny(format!("file-roots: {decoded} does not exist or is not readable"));
        };
        if self.roots.iter().any(|r| canon.starts_with(r)) {
            Verdict::Allow
        } else {
            Verdict::Deny(format!("file-roots: {decoded} is outside BROWSER_ROOTS"))
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('\0')).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(p: &str) -> Policy {
        Policy { origins: parse_patterns(p).unwrap(), roots: Vec::new() }
    }

    #[test]
    fn patterns_match_what_they_say() {
        let p = policy("http://127.0.0.1:*,https://*.example.com,http://app:8080,http://[::1]:*,http://*:9000");
        assert_eq!(p.check("http://web-1:9000/"), Verdict::Allow);
        for bad in ["http://evil.com:9000/", "http://10.0.0.1:9000/", "http://2130706433:9000/", "http://web:9001/"] {
            assert!(matches!(p.check(bad), Verdict::Deny(_)), "{bad}");
        }
        assert_eq!(p.check("http://127.0.0.1:9999/x"), Verdict::Allow);
        assert_eq!(p.check("http://127.0.0.1/x"), Verdict::Allow);
        assert_eq!(p.check("ws://127.0.0.1:5/ws"), Verdict::Allow);
        assert_eq!(p.check("https://a.example.com/"), Verdict::Allow);
        assert_eq!(p.check("https://a.b.example.com/"), Verdict::Allow);
        assert_eq!(p.check("http://app:8080/"), Verdict::Allow);
        assert_eq!(p.check("http://[::1]:3000/"), Verdict::Allow);
        for bad in [
            "https://example.com/",
            "https://evilexample.com/",
            "http://a.example.com/",
            "http://app:8081/",
            "http://127.0.0.2:80/",
            "http://127.0.0.1.evil.com/",
            "http://127.0.0.1@evil.com/",
            "javascript:alert(1)",
            "chrome://settings",
            "view-source:http://127.0.0.1:1/",
            "file:///etc/passwd",
            "ftp://127.0.0.1/",
        ] {
            assert!(matches!(p.check(bad), Verdict::Deny(_)), "{bad}");
        }
        assert!(matches!(p.check_navigation("data:text/html,hi"), Verdict::Deny(_)));
        assert_eq!(p.check_navigation("about:blank"), Verdict::Allow);
    }

    #[test]
    fn patterns_refused() {
        for bad in ["*", "http://*:*", "http://*.com", "file:///tmp", "http://a/b", "http://a:x", "http://u@a", ""] {
            assert!(parse_patterns(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_urls_stay_under_roots() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a b.html"), "x").unwrap();
        std::fs::write(d.path().join("out.html"), "x").unwrap();
        std::os::unix::fs::symlink(d.path().join("out.html"), root.join("link.html")).unwrap();
        let root = std::fs::canonicalize(&root).unwrap();
        let p = Policy { origins: parse_patterns("http://127.0.0.1:*").unwrap(), roots: vec![root.clone()] };
        let url = |p: &Path| format!("file://{}", p.display().to_string().replace(' ', "%20"));
        assert_eq!(p.check(&url(&root.join("a b.html"))), Verdict::Allow);
        assert!(matches!(p.check(&url(&root.join("link.html"))), Verdict::Deny(_)));
        assert!(matches!(p.check(&url(&root.join("../out.html"))), Verdict::Deny(_)));
        assert!(matches!(p.check("file:///etc/passwd"), Verdict::Deny(_)));
        assert!(matches!(p.check("file://evil/x"), Verdict::Deny(_)));
    }
}
