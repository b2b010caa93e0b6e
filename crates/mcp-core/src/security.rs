//! The HTTP guards in front of every endpoint: bearer-token auth, the `Host`
//! allow-list (DNS rebinding) and the `Origin` allow-list (cross-site requests).
//!
//! They are plain functions over headers so the middleware in `serve` stays a
//! thin adapter and each rule is unit-tested here. All of them are allow-lists:
//! anything not configured is refused.
//!
//! [`non_dumpable`] guards the process itself: every program calls it at start.

use http::HeaderMap;
use subtle::ConstantTimeEq;

/// Why a request was refused before reaching the MCP handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No `Authorization` header although a token is configured.
    MissingToken,
    /// A token that does not match.
    WrongToken,
    /// A `Host` not on the allow-list.
    Host,
    /// An `Origin` not on the allow-list.
    Origin,
}

impl Rejection {
    /// Label used in the `mcp_http_rejections_total` metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::WrongToken => "wrong_token",
            Self::Host => "host",
            Self::Origin => "origin",
        }
    }
}

/// Check `Authorization: Bearer <token>` in constant time.
///
/// The comparison runs over the whole presented value so timing reveals at most
/// the length of the expected token, never a matching prefix.
pub fn check_bearer(headers: &HeaderMap, expected: &str) -> Result<(), Rejection> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(Rejection::MissingToken);
    };
    let value = value.as_bytes();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => &value[7..],
        _ => return Err(Rejection::WrongToken),
    };
    if bool::from(token.ct_eq(expected.as_bytes())) { Ok(()) } else { Err(Rejection::WrongToken) }
}

/// Check the `Host` header against the allow-list. Entries are host names or
/// `host:port`; a bare host matches any port, because behind compose port
/// mappings the port a client used is not the port we bound.
pub fn check_host(headers: &HeaderMap, allowed: &[String]) -> Result<(), Rejection> {
    let Some(host) = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.1 requires Host; a request without one cannot be matched.
        return Err(Rejection::Host);
    };
    let (name, port) = split_authority(host).ok_or(Rejection::Host)?;
    let ok = allowed.iter().any(|entry| match split_authority(entry) {
        Some((n, None)) => n.eq_ignore_ascii_case(name),
        Some((n, Some(p))) => n.eq_ignore_ascii_case(name) && port == Some(p),
        None => false,
    });
    if ok { Ok(()) } else { Err(Rejection::Host) }
}

/// Check the `Origin` header. A request without `Origin` is not a browser's
/// cross-site request and passes; one with an `Origin` must match exactly
/// (scheme, host and effective port).
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), Rejection> {
    let Some(raw) = headers.get(http::header::ORIGIN) else {
        return Ok(());
    };
    let Some(origin) = raw.to_str().ok().and_then(Origin::parse) else {
        return Err(Rejection::Origin);
    };
    if allowed.iter().filter_map(|a| Origin::parse(a)).any(|a| a == origin) { Ok(()) } else { Err(Rejection::Origin) }
}

/// A parsed origin with its effective port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parse `scheme://host[:port]` (no path). `None` for anything else,
    /// including the opaque origin `null`, which is never allowed.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
            return None;
        }
        let (host, port) = split_authority(rest)?;
        Some(Self { scheme, host: host.to_ascii_lowercase(), port: port.unwrap_or(default_port) })
    }
}

/// Split `host[:port]`, handling bracketed IPv6 literals. `None` when malformed.
fn split_authority(s: &str) -> Option<(&str, Option<u16>)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    // An unbracketed IPv6 literal (as written in our own allow-list: `::1`).
    if s.matches(':').count() > 1 {
        return Some((s, None));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h, Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// Make this process non-dumpable (`PR_SET_DUMPABLE` 0): no other process of
/// the same user (a job the shell runs, a build script) can read its
/// `/proc/<pid>/environ`, `mem`, `maps` or attach with ptrace, so the tokens
/// in its environment and memory stay out of reach. `/proc/<pid>/*` files
/// become owned by root. Root with `CAP_SYS_PTRACE` is not stopped by this.
pub fn non_dumpable() -> std::io::Result<()> {
    Ok(rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer() {
        let t = "0123456789abcdef";
        assert_eq!(check_bearer(&headers(&[]), t), Err(Rejection::MissingToken));
        assert_eq!(check_bearer(&headers(&[("authorization", "Bearer 0123456789abcdef")]), t), Ok(()));
        assert_eq!(check_bearer(&headers(&[("authorization", "bearer 0123456789abcdef")]), t), Ok(()));
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Bearer 0123456789abcdeX")]), t),
            Err(Rejection::WrongToken)
        );
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Bearer 0123456789abcdef0")]), t),
            Err(Rejection::WrongToken)
        );
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Basic 0123456789abcdef")]), t),
            Err(Rejection::WrongToken)
        );
        assert_eq!(check_bearer(&headers(&[("authorization", "Bearer")]), t), Err(Rejection::WrongToken));
    }

    #[test]
    fn host() {
        let allowed: Vec<String> =
            ["localhost", "127.0.0.1", "::1", "mcp-server-fs", "api.example:8443"].map(String::from).into();
        for ok in
            ["localhost:8080", "127.0.0.1:1", "[::1]:80", "mcp-server-fs:8080", "MCP-SERVER-FS", "api.example:8443"]
        {
            assert_eq!(check_host(&headers(&[("host", ok)]), &allowed), Ok(()), "{ok}");
        }
        for bad in ["evil.example", "localhost.evil.example:80", "api.example:443", "mcp-server-fs:x", ":80"] {
            assert_eq!(check_host(&headers(&[("host", bad)]), &allowed), Err(Rejection::Host), "{bad}");
        }
        assert_eq!(check_host(&headers(&[]), &allowed), Err(Rejection::Host));
    }

    #[test]
    fn origin() {
        let allowed: Vec<String> = vec!["https://ui.example".into(), "http://localhost:3000".into()];
        assert_eq!(check_origin(&headers(&[]), &allowed), Ok(()));
        for ok in ["https://ui.example", "https://UI.example:443", "http://localhost:3000"] {
            assert_eq!(check_origin(&headers(&[("origin", ok)]), &allowed), Ok(()), "{ok}");
        }
        for bad in ["https://evil.example", "http://ui.example", "http://localhost:3001", "null", "garbage"] {
            assert_eq!(check_origin(&headers(&[("origin", bad)]), &allowed), Err(Rejection::Origin), "{bad}");
        }
        assert_eq!(check_origin(&headers(&[("origin", "https://ui.example")]), &[]), Err(Rejection::Origin));
    }
}
