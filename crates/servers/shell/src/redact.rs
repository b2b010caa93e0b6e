//! Redaction for the audit log and results: commands are shown, secrets in
//! them are not. Values of options whose names suggest a secret, credentials
//! in URLs, and long token-looking strings become `***`.

const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "token",
    "secret",
    "apikey",
    "api-key",
    "api_key",
    "auth",
    "credential",
    "private-key",
    "key",
];

fn looks_secret_name(s: &str) -> bool {
    let l = s.trim_start_matches('-').to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| {
        l == *w
            || l.ends_with(&format!("-{w}"))
            || l.ends_with(&format!("_{w}"))
            || l.starts_with(&format!("{w}-"))
            || l.starts_with(&format!("{w}_"))
    })
}

fn looks_like_token(s: &str) -> bool {
    s.len() >= 32
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-.".contains(&b))
        && s.bytes().any(|b| b.is_ascii_digit())
}

fn url_credentials(s: &str) -> String {
    match (s.find("://"), s.find('@')) {
        (Some(i), Some(j)) if j > i + 3 && !s[i + 3..j].contains('/') => format!("{}***@{}", &s[..i + 3], &s[j + 1..]),
        _ => s.to_owned(),
    }
}

/// One argument, redacted in isolation.
pub fn arg(a: &str) -> String {
    if let Some((k, _)) = a.split_once('=')
        && looks_secret_name(k)
    {
        return format!("{k}=***");
    }
    if looks_like_token(a) {
        return "***".into();
    }
    url_credentials(a)
}

/// An argv for display: each argument redacted, the value after a secret-named
/// option hidden, and arguments with spaces quoted.
pub fn argv(args: &[String]) -> String {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push("***".to_owned());
            hide_next = false;
            continue;
        }
        if a.starts_with('-') && !a.contains('=') && looks_secret_name(a) {
            hide_next = true;
        }
        let r = arg(a);
        out.push(if r.contains([' ', '\'', '"']) || r.is_empty() {
            format!("'{}'", r.replace('\'', "'\\''"))
        } else {
            r
        });
    }
    out.join(" ")
}

/// POSIX single-quoting, for the command line a remote shell will read.
pub fn quote(a: &str) -> String {
    if !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b)) {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn secrets_are_hidden() {
        assert_eq!(argv(&v(&["curl", "--token", "abc", "x"])), "curl --token *** x");
        assert_eq!(argv(&v(&["tool", "--password=hunter2"])), "tool --password=***");
        assert_eq!(argv(&v(&["git", "clone", "https://u:p@host/r.git"])), "git clone https://***@host/r.git");
        assert_eq!(argv(&v(&["x", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"])), "x ***");
        assert_eq!(argv(&v(&["echo", "a b"])), "echo 'a b'");
        assert_eq!(argv(&v(&["pytest", "-k", "test_key_rotation"])), "pytest -k test_key_rotation");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("plain-1.0"), "plain-1.0");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(id)"), "'$(id)'");
        assert_eq!(quote(""), "''");
    }
}
