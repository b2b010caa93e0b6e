//! Whether a message may be acted on: the sender allow-list and, when
//! configured, authentication results — failing closed at every doubt.
//!
//! Only the topmost `Authentication-Results` header counts, and only when its
//! authserv-id is one the operator trusts: headers further down were written
//! by hops (or a forger) before the receiving MTA and prove nothing. DKIM and
//! SPF passes count only when their domain aligns with the `From` domain
//! (relaxed: equal, or one a subdomain of the other), as DMARC would have it;
//! a `dkim=pass` for `attacker.example` says nothing about `From: boss@corp`.

use crate::addr::Allow;

/// One `method=result` with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// `dkim`, `spf`, `dmarc`, ... (lowercase, without version).
    pub method: String,
    /// `pass`, `fail`, `none`, ... (lowercase).
    pub result: String,
    /// `ptype.property` → value, e.g. `header.d` → `example.com`.
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    fn prop(&self, key: &str) -> Option<&str> {
        self.props.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A parsed `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The authserv-id (lowercase).
    pub authserv_id: String,
    /// The results.
    pub results: Vec<MethodResult>,
}

/// Remove RFC 5322 comments (nested parentheses) outside quoted strings.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Split on `sep` outside quoted strings.
fn split_outside_quotes(s: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut parts = vec![String::new()];
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
            continue;
        } else if c == '"' {
            quoted = !quoted;
            continue;
        } else if !quoted && sep(c) {
            parts.push(String::new());
            continue;
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect()
}

/// Parse one header value. `None` when it has no authserv-id.
pub fn parse(value: &str) -> Option<AuthResults> {
    let clean = strip_comments(value);
    let segments = split_outside_quotes(&clean, |c| c == ';');
    let mut segs = segments.into_iter();
    let first = segs.next()?;
    let authserv_id = first.split_whitespace().next()?.to_ascii_lowercase();
    let mut results = Vec::new();
    for seg in segs {
        // `method = result` may be written with spaces around `=`.
        let compact = seg.replace(" =", "=").replace("= ", "=");
        let mut tokens = split_outside_quotes(&compact, char::is_whitespace).into_iter();
        let Some(head) = tokens.next() else { continue };
        let Some((method, result)) = head.split_once('=') else { continue };
        let method = method.split('/').next().unwrap_or(method).to_ascii_lowercase();
        let props = tokens
            .filter_map(|t| t.split_once('=').map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())))
            .filter(|(k, _)| k.contains('.'))
            .collect();
        results.push(MethodResult { method, result: result.to_ascii_lowercase(), props });
    }
    Some(AuthResults { authserv_id, results })
}

/// Relaxed alignment without a public-suffix list: equal, or one a subdomain of the other. (Getting a valid
/// signature for a public suffix such as `co.uk` is not possible, so the approximation does not open a hole.)
fn aligned(domain: &str, from_domain: &str) -> bool {
    let (d, f) = (domain.trim().trim_end_matches('.').to_ascii_lowercase(), from_domain.to_ascii_lowercase());
    !d.is_empty() && (d == f || f.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{f}")))
}

fn domain_of(v: &str) -> &str {
    v.rsplit_once('@').map_or(v, |(_, d)| d)
}

/// Did `method` pass, aligned with `from_domain`? `Err(description)` when not.
fn method_passes(ar: &AuthResults, method: &str, from_domain: &str) -> Result<String, String> {
    let found: Vec<&MethodResult> = ar.results.iter().filter(|r| r.method == method).collect();
    if found.is_empty() {
        return Err(format!("no {method} result"));
    }
    for r in &found {
        if r.result != "pass" {
            continue;
        }
        let ok = match method {
            "dkim" => r
                .prop("header.d")
                .or_else(|| r.prop("header.i").map(domain_of))
                .is_some_and(|d| aligned(d, from_domain)),
            "spf" => r.prop("smtp.mailfrom").map(domain_of).is_some_and(|d| aligned(d, from_domain)),
            "dmarc" => r.prop("header.from").is_none_or(|d| d.eq_ignore_ascii_case(from_domain)),
            _ => true,
        };
        if ok {
            return Ok(format!("{method}=pass"));
        }
    }
    let seen: Vec<String> = found
        .iter()
        .map(|r| {
            let d = r.prop("header.d").or(r.prop("smtp.mailfrom")).or(r.prop("header.from"));
            match d {
                Some(d) => format!("{method}={} ({d})", r.result),
                None => format!("{method}={}", r.result),
            }
        })
        .collect();
    Err(format!("{} does not pass aligned with {from_domain}", seen.join(", ")))
}

/// The operator's trust policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Trusted senders.
    pub allow: Allow,
    /// The server's own address (mail from it is never acted on: loop guard).
    pub own_address: String,
    /// Methods that must pass.
    pub require: Vec<String>,
    /// Believed authserv-ids.
    pub trusted_ids: Vec<String>,
}

/// What the policy decided about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// May be acted on.
    pub trusted: bool,
    /// Why, in words.
    pub reason: String,
}

/// The facts of a message the policy looks at.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// The `From` address, when there is exactly one usable one.
    pub from: Option<&'a str>,
    /// More than one `From` address (or a group).
    pub multiple_from: bool,
    /// Why the message looks automatic, if it does (see `parse::automatic`).
    pub automatic: Option<&'a str>,
    /// `Authentication-Results` values, top to bottom.
    pub auth_results: &'a [String],
}

impl Policy {
    /// Decide.
    pub fn judge(&self, f: &Facts<'_>) -> Verdict {
        let no = |reason: String| Verdict { trusted: false, reason };
        if f.multiple_from {
            return no("the message has several From addresses; not acted on".into());
        }
        let Some(from) = f.from else {
            return no("the message has no usable From address; not acted on".into());
        };
        if from.eq_ignore_ascii_case(&self.own_address) {
            return no("sent from this server's own address (loop guard); not acted on".into());
        }
        if !self.allow.allows(from) {
            return no(format!(
                "sender {from} is not on the allow-list (EMAIL_ALLOWED_SENDERS); recorded, not acted on"
            ));
        }
        if let Some(why) = f.automatic {
            return no(format!("automatic message ({}); not acted on", crate::addr::one_line(why)));
        }
        let mut reason = format!("sender {from} is allow-listed");
        if !self.require.is_empty() {
            let from_domain = domain_of(from);
            let Some(top) = f.auth_results.first() else {
                return no(format!(
                    "sender {from} is allow-listed but the message has no Authentication-Results header, and {} \
                     is required (failing closed)",
                    self.require.join("+")
                ));
            };
            let Some(ar) = parse(top) else {
                return no("the topmost Authentication-Results header cannot be parsed (failing closed)".into());
            };
            if !self.trusted_ids.contains(&ar.authserv_id) {
                return no(format!(
                    "the topmost Authentication-Results header is from {:?}, which is not a trusted authserv-id \
                     (EMAIL_TRUSTED_AUTHSERV_IDS); failing closed",
                    ar.authserv_id
                ));
            }
            let mut passed = Vec::new();
            for m in &self.require {
                match method_passes(&ar, m, from_domain) {
                    Ok(p) => passed.push(p),
                    Err(e) => {
                        return no(format!(
                            "From: {from} failed authentication: {e} according to {} (possible spoofing); not acted on",
                            ar.authserv_id
                        ));
                    }
                }
            }
            reason.push_str(&format!("; {} verified by {}", passed.join(", "), ar.authserv_id));
        }
        Verdict { trusted: true, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(require: &[&str]) -> Policy {
        Policy {
            allow: Allow::parse(&["alice@example.com".into(), "@corp.test".into()]).unwrap(),
            own_address: "agent@example.test".into(),
            require: require.iter().map(|s| (*s).to_owned()).collect(),
            trusted_ids: vec!["mx.example.test".into()],
        }
    }

    fn judge(p: &Policy, from: &str, ar: &[&str]) -> Verdict {
        let ar: Vec<String> = ar.iter().map(|s| (*s).to_owned()).collect();
        p.judge(&Facts { from: Some(from), auth_results: &ar, ..Default::default() })
    }

    #[test]
    fn parses_real_headers() {
        let ar = parse(
            "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abc;\r\n       \
             spf=pass (google.com: domain of a@example.com designates 1.2.3.4 as permitted sender) \
             smtp.mailfrom=a@example.com;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.google.com");
        assert_eq!(ar.results.len(), 3);
        assert_eq!(ar.results[0].prop("header.i"), Some("@example.com"));
        assert_eq!(ar.results[1].prop("smtp.mailfrom"), Some("a@example.com"));
        assert_eq!(ar.results[2].result, "pass");
        let ar = parse("mx.example.test 1; none").unwrap();
        assert!(ar.results.is_empty());
        let ar = parse("x; dkim = fail reason=\"bad; sig\" header.d=example.com").unwrap();
        assert_eq!(ar.results[0].result, "fail");
        assert_eq!(ar.results[0].prop("header.d"), Some("example.com"));
        assert!(parse("").is_none());
    }

    #[test]
    fn allow_list_without_auth() {
        let p = policy(&[]);
        assert!(judge(&p, "alice@example.com", &[]).trusted);
        assert!(judge(&p, "bob@corp.test", &[]).trusted);
        let v = judge(&p, "mallory@evil.test", &[]);
        assert!(!v.trusted && v.reason.contains("not on the allow-list"), "{v:?}");
        let v = judge(&p, "agent@example.test", &[]);
        assert!(!v.trusted && v.reason.contains("loop guard"));
    }

    #[test]
    fn auth_results_fail_closed() {
        let p = policy(&["dmarc"]);
        let good = "mx.example.test; dmarc=pass header.from=example.com";
        assert!(judge(&p, "alice@example.com", &[good]).trusted);
        // Missing header.
        assert!(!judge(&p, "alice@example.com", &[]).trusted);
        // Failing.
        let v = judge(&p, "alice@example.com", &["mx.example.test; dmarc=fail header.from=example.com"]);
        assert!(!v.trusted && v.reason.contains("dmarc=fail"), "{v:?}");
        // A forged pass below the real (failing) topmost header does not count.
        let v = judge(&p, "alice@example.com", &["mx.example.test; dmarc=fail header.from=example.com", good]);
        assert!(!v.trusted);
        // Topmost from an untrusted authserv-id.
        let v = judge(&p, "alice@example.com", &["evil.test; dmarc=pass header.from=example.com", good]);
        assert!(!v.trusted && v.reason.contains("not a trusted authserv-id"), "{v:?}");
        // Pass for another domain.
        let v = judge(&p, "alice@example.com", &["mx.example.test; dmarc=pass header.from=evil.test"]);
        assert!(!v.trusted);
    }

    #[test]
    fn dkim_and_spf_must_align() {
        let p = policy(&["dkim", "spf"]);
        let ok = "mx.example.test; dkim=pass header.d=mail.example.com; spf=pass smtp.mailfrom=bounce@example.com";
        assert!(judge(&p, "alice@example.com", &[ok]).trusted);
        let v = judge(
            &p,
            "alice@example.com",
            &["mx.example.test; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=x@example.com"],
        );
        assert!(!v.trusted && v.reason.contains("dkim=pass (evil.test)"), "{v:?}");
        let v = judge(&p, "alice@example.com", &["mx.example.test; dkim=pass header.d=example.com"]);
        assert!(!v.trusted && v.reason.contains("no spf result"), "{v:?}");
    }

    #[test]
    fn auto_replies_and_multiple_from_are_not_trusted() {
        let p = policy(&[]);
        let v = p.judge(&Facts {
            from: Some("alice@example.com"),
            automatic: Some("Auto-Submitted: auto-replied"),
            ..Default::default()
        });
        assert!(!v.trusted && v.reason.contains("Auto-Submitted"));
        let v = p.judge(&Facts { from: Some("alice@example.com"), automatic: None, ..Default::default() });
        assert!(v.trusted);
        let v = p.judge(&Facts { from: Some("alice@example.com"), multiple_from: true, ..Default::default() });
        assert!(!v.trusted);
    }
}
