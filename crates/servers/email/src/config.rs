//! Configuration of `mcp-server-email`: every variable it reads.
//!
//! Policy (allow-lists, authentication rules, caps, the reply-token secret)
//! is fixed here at start-up; no tool can change it and no tool accepts
//! credentials. Secrets are kept in [`Secret`], whose `Debug` never shows them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

use crate::addr::{self, Allow};

/// `maildir` (embedded: a Maildir folder is the inbox, replies go to an outbox folder) or `imap` (a real mail
/// server). Default: `imap` when `EMAIL_IMAP_URL` is set, `maildir` otherwise.
pub const EMAIL_MODE: &str = "EMAIL_MODE";
/// Folder for the server's own state (database, embedded mail folders). Default `.data/email`.
pub const EMAIL_DATA_DIR: &str = "EMAIL_DATA_DIR";
/// Database URL: `sqlite:PATH` or `postgres://...`. Default `sqlite:<EMAIL_DATA_DIR>/email.db`.
pub const EMAIL_DATABASE_URL: &str = "EMAIL_DATABASE_URL";
/// Maildir mode: the inbox Maildir (`new/`, `cur/`, `tmp/` are created when missing). Default
/// `<EMAIL_DATA_DIR>/mail/inbox`. Deliver into it the Maildir way: write in `tmp/`, then rename into `new/`.
pub const EMAIL_MAILDIR: &str = "EMAIL_MAILDIR";
/// Maildir mode: the Maildir that keeps a copy of every message sent (the "Sent" mailbox). Default
/// `<EMAIL_DATA_DIR>/mail/sent`.
pub const EMAIL_SENT_MAILDIR: &str = "EMAIL_SENT_MAILDIR";
/// Folder where outgoing mail is written as `.eml` files when no `EMAIL_SMTP_URL` is set. Default
/// `<EMAIL_DATA_DIR>/mail/outbox`.
pub const EMAIL_OUTBOX: &str = "EMAIL_OUTBOX";
/// IMAP server: `imaps://host[:993]` (TLS), `imap+starttls://host[:143]`, or `imap://host[:143]` (plain; loopback
/// hosts only unless `EMAIL_ALLOW_INSECURE`).
pub const EMAIL_IMAP_URL: &str = "EMAIL_IMAP_URL";
/// SMTP server: `smtps://host[:465]` (TLS), `smtp+starttls://host[:587]`, or `smtp://host[:25]` (plain; loopback
/// hosts only unless `EMAIL_ALLOW_INSECURE`). Unset: outgoing mail goes to `EMAIL_OUTBOX`.
pub const EMAIL_SMTP_URL: &str = "EMAIL_SMTP_URL";
/// Login name for IMAP and SMTP (default: `EMAIL_ADDRESS`).
pub const EMAIL_USERNAME: &str = "EMAIL_USERNAME";
/// Password for IMAP and SMTP. Never echoed in results or logs.
pub const EMAIL_PASSWORD: &str = "EMAIL_PASSWORD";
/// File holding the password (compose secrets); used when `EMAIL_PASSWORD` is unset.
pub const EMAIL_PASSWORD_FILE: &str = "EMAIL_PASSWORD_FILE";
/// The server's own address (`From` of what it sends; the base of signed `Reply-To` addresses). Required.
pub const EMAIL_ADDRESS: &str = "EMAIL_ADDRESS";
/// Display name on outgoing mail (default none).
pub const EMAIL_FROM_NAME: &str = "EMAIL_FROM_NAME";
/// Secret key of the signed reply tokens (HMAC-SHA256), at least 32 bytes. Required.
pub const EMAIL_TOKEN_SECRET: &str = "EMAIL_TOKEN_SECRET";
/// File holding the token secret; used when `EMAIL_TOKEN_SECRET` is unset.
pub const EMAIL_TOKEN_SECRET_FILE: &str = "EMAIL_TOKEN_SECRET_FILE";
/// Comma-separated senders whose mail is trusted: addresses (`alice@example.com`) and domains (`@example.com`).
/// Mail from anyone else is recorded and shown with `trusted: false`, never acted on. Default: nobody.
pub const EMAIL_ALLOWED_SENDERS: &str = "EMAIL_ALLOWED_SENDERS";
/// Comma-separated recipients the server may send to, same syntax. Default: `EMAIL_ALLOWED_SENDERS`.
pub const EMAIL_ALLOWED_RECIPIENTS: &str = "EMAIL_ALLOWED_RECIPIENTS";
/// Authentication methods that must be `pass` in the topmost `Authentication-Results` header for a sender to
/// be trusted: a comma-separated subset of `dkim,spf,dmarc`, or `true` for all three. Default: none required.
pub const EMAIL_REQUIRE_AUTH_RESULTS: &str = "EMAIL_REQUIRE_AUTH_RESULTS";
/// Comma-separated authserv-ids (your receiving MTA's names) whose `Authentication-Results` are believed.
/// Required when `EMAIL_REQUIRE_AUTH_RESULTS` is set.
pub const EMAIL_TRUSTED_AUTHSERV_IDS: &str = "EMAIL_TRUSTED_AUTHSERV_IDS";
/// IMAP mailbox watched for new mail (default `INBOX`).
pub const EMAIL_INBOX: &str = "EMAIL_INBOX";
/// IMAP mailbox that receives a copy of every message sent (default `Sent`).
pub const EMAIL_SENT_MAILBOX: &str = "EMAIL_SENT_MAILBOX";
/// Use IMAP IDLE when the server offers it (default true); otherwise poll every `EMAIL_POLL_SECS`.
pub const EMAIL_IDLE: &str = "EMAIL_IDLE";
/// Polling interval in seconds for servers without IDLE (default 15).
pub const EMAIL_POLL_SECS: &str = "EMAIL_POLL_SECS";
/// Seconds after which an IDLE is ended and re-issued, which also detects silently dropped connections
/// (default 300).
pub const EMAIL_IDLE_REFRESH_SECS: &str = "EMAIL_IDLE_REFRESH_SECS";
/// Maildir mode: how often the inbox folder is scanned, in milliseconds (default 200).
pub const EMAIL_MAILDIR_POLL_MS: &str = "EMAIL_MAILDIR_POLL_MS";
/// Time limit of one IMAP or SMTP exchange, in seconds (default 30).
pub const EMAIL_NETWORK_TIMEOUT_SECS: &str = "EMAIL_NETWORK_TIMEOUT_SECS";
/// PEM file of extra certificate authorities trusted for IMAP and SMTP TLS (besides the public roots).
pub const EMAIL_TLS_CA_FILE: &str = "EMAIL_TLS_CA_FILE";
/// Allow plain-text IMAP/SMTP to hosts other than loopback (default false).
pub const EMAIL_ALLOW_INSECURE: &str = "EMAIL_ALLOW_INSECURE";
/// Largest message read whole, in bytes (default 100M). Bigger ones are recorded from their first 256 KiB,
/// marked `oversized`, and their attachments are not served.
pub const EMAIL_MAX_MESSAGE_BYTES: &str = "EMAIL_MAX_MESSAGE_BYTES";
/// Most bytes of new text a message summary carries (default 8K).
pub const EMAIL_MAX_TEXT_BYTES: &str = "EMAIL_MAX_TEXT_BYTES";
/// Most body bytes one `get_message` call returns (default 64K; page with `offset`).
pub const EMAIL_MAX_BODY_BYTES: &str = "EMAIL_MAX_BODY_BYTES";
/// Largest attachment `get_attachment` returns, in bytes before base64 (default 256K; the result, base64 adding a
/// third and text attachments appearing twice, must fit `MCP_MAX_OUTPUT_BYTES`).
pub const EMAIL_MAX_ATTACHMENT_BYTES: &str = "EMAIL_MAX_ATTACHMENT_BYTES";
/// Largest text `send` and `reply` accept, in bytes (default 256K).
pub const EMAIL_MAX_SEND_BYTES: &str = "EMAIL_MAX_SEND_BYTES";

/// A secret value whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the server reaches its mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A Maildir folder is the inbox; no mail server needed.
    Maildir,
    /// A real IMAP server.
    Imap,
}

/// Transport security of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`imaps`, `smtps`).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// No encryption (loopback, or `EMAIL_ALLOW_INSECURE`).
    Plain,
}

/// A parsed `imap://` or `smtp://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Transport security.
    pub security: Security,
}

impl Endpoint {
    /// Parse `scheme://host[:port][/]` for the protocol `proto` (`imap` or `smtp`).
    pub fn parse(url: &str, proto: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url:?} is not a URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        let (security, default_port) = match (proto, scheme.as_str()) {
            ("imap", "imaps") => (Security::Tls, 993),
            ("imap", "imap+starttls") => (Security::StartTls, 143),
            ("imap", "imap") => (Security::Plain, 143),
            ("smtp", "smtps") => (Security::Tls, 465),
            ("smtp", "smtp+starttls") => (Security::StartTls, 587),
            ("smtp", "smtp") => (Security::Plain, 25),
            _ => {
                return Err(format!(
                    "unknown scheme {scheme:?}; use {proto}s://, {proto}+starttls:// or {proto}:// (loopback)"
                ));
            }
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains(['/', '@', '?', '#']) {
            return Err("give only scheme://host[:port]; credentials go in EMAIL_USERNAME/EMAIL_PASSWORD".into());
        }
        let (host, port) = if let Some(h) = rest.strip_prefix('[') {
            let (h, p) = h.split_once(']').ok_or("unclosed [ in IPv6 address")?;
            (h.to_owned(), p.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c)) {
            return Err(format!("{host:?} is not a host name"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("{p:?} is not a port"))?,
            None => default_port,
        };
        Ok(Self { host: host.to_ascii_lowercase(), port, security })
    }

    /// True for `localhost` and loopback addresses.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            || self.host.ends_with(".localhost")
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Maildir or IMAP.
    pub mode: Mode,
    /// State folder.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Maildir inbox.
    pub maildir: PathBuf,
    /// Maildir for sent copies.
    pub sent_maildir: PathBuf,
    /// Outbox folder for `.eml` files.
    pub outbox: PathBuf,
    /// IMAP server.
    pub imap: Option<Endpoint>,
    /// SMTP server.
    pub smtp: Option<Endpoint>,
    /// Login name.
    pub username: String,
    /// Password.
    pub password: Option<Secret>,
    /// Own address.
    pub address: String,
    /// Display name.
    pub from_name: Option<String>,
    /// Reply-token key.
    pub token_secret: Secret,
    /// Trusted senders.
    pub allowed_senders: Allow,
    /// Allowed recipients.
    pub allowed_recipients: Allow,
    /// Methods that must pass (`dkim`, `spf`, `dmarc`).
    pub require_auth: Vec<String>,
    /// Believed authserv-ids (lowercase).
    pub trusted_authserv_ids: Vec<String>,
    /// IMAP inbox name.
    pub inbox: String,
    /// IMAP Sent name.
    pub sent_mailbox: String,
    /// Use IDLE.
    pub idle: bool,
    /// Poll interval without IDLE.
    pub poll: Duration,
    /// IDLE re-issue interval.
    pub idle_refresh: Duration,
    /// Maildir scan interval.
    pub maildir_poll: Duration,
    /// Network exchange limit.
    pub network_timeout: Duration,
    /// Extra CA file.
    pub tls_ca_file: Option<PathBuf>,
    /// Message size cap.
    pub max_message_bytes: usize,
    /// Summary text cap.
    pub max_text_bytes: usize,
    /// Body page cap.
    pub max_body_bytes: usize,
    /// Attachment cap.
    pub max_attachment_bytes: usize,
    /// Outgoing text cap.
    pub max_send_bytes: usize,
}

impl Config {
    /// Read from the environment (or a test map), collecting every problem.
    pub fn read(r: &mut Reader<'_>) -> Self {
        let data_dir = PathBuf::from(r.string(EMAIL_DATA_DIR, ".data/email"));
        let database_url =
            r.optional(EMAIL_DATABASE_URL).unwrap_or_else(|| format!("sqlite:{}", data_dir.join("email.db").display()));
        let imap = r.optional(EMAIL_IMAP_URL).and_then(|u| match Endpoint::parse(&u, "imap") {
            Ok(e) => Some(e),
            Err(e) => {
                r.error(format!("{EMAIL_IMAP_URL}: {e}"));
                None
            }
        });
        let imap_set = r.raw(EMAIL_IMAP_URL).is_some();
        let smtp = r.optional(EMAIL_SMTP_URL).and_then(|u| match Endpoint::parse(&u, "smtp") {
            Ok(e) => Some(e),
            Err(e) => {
                r.error(format!("{EMAIL_SMTP_URL}: {e}"));
                None
            }
        });
        let mode = match r.optional(EMAIL_MODE).map(|m| m.trim().to_ascii_lowercase()) {
            None if imap_set => Mode::Imap,
            None => Mode::Maildir,
            Some(m) if m == "maildir" => Mode::Maildir,
            Some(m) if m == "imap" => Mode::Imap,
            Some(m) => {
                r.error(format!("{EMAIL_MODE}={m:?}: use maildir or imap"));
                Mode::Maildir
            }
        };
        if mode == Mode::Imap && !imap_set {
            r.error(format!("{EMAIL_MODE}=imap needs {EMAIL_IMAP_URL}"));
        }
        let allow_insecure = r.bool(EMAIL_ALLOW_INSECURE, false);
        for (key, e) in [(EMAIL_IMAP_URL, &imap), (EMAIL_SMTP_URL, &smtp)] {
            if let Some(e) = e
                && e.security == Security::Plain
                && !e.is_loopback()
                && !allow_insecure
            {
                r.error(format!(
                    "{key}: plain text to {} would expose the password and mail; use TLS or STARTTLS, or set \
                     {EMAIL_ALLOW_INSECURE}=true",
                    e.host
                ));
            }
        }

        let address = r.required(EMAIL_ADDRESS).trim().to_owned();
        if !address.is_empty() && addr::parse_address(&address).is_none() {
            r.error(format!("{EMAIL_ADDRESS}={address:?} is not an e-mail address (local@domain)"));
        }
        let address = addr::parse_address(&address).unwrap_or(address);
        let from_name = r.optional(EMAIL_FROM_NAME).map(|n| n.trim().to_owned());
        if from_name.as_ref().is_some_and(|n| n.chars().any(char::is_control)) {
            r.error(format!("{EMAIL_FROM_NAME}: must be one line without control characters"));
        }
        let username = r.optional(EMAIL_USERNAME).unwrap_or_else(|| address.clone());
        let password = r.secret(EMAIL_PASSWORD, EMAIL_PASSWORD_FILE);
        if password.as_ref().is_some_and(|p| p.chars().any(|c| c == '\r' || c == '\n' || c == '\0')) {
            r.error(format!("{EMAIL_PASSWORD}: the password contains line breaks or NUL"));
        }
        if mode == Mode::Imap && password.is_none() {
            r.error(format!("{EMAIL_MODE}=imap needs {EMAIL_PASSWORD} or {EMAIL_PASSWORD_FILE}"));
        }
        let token_secret = match r.secret(EMAIL_TOKEN_SECRET, EMAIL_TOKEN_SECRET_FILE) {
            Some(s) if s.len() >= 32 => s,
            Some(_) => {
                r.error(format!("{EMAIL_TOKEN_SECRET}: must be at least 32 bytes"));
                String::new()
            }
            None => {
                r.error(format!(
                    "{EMAIL_TOKEN_SECRET} (or {EMAIL_TOKEN_SECRET_FILE}) is required: at least 32 random bytes"
                ));
                String::new()
            }
        };

        let senders = r.list(EMAIL_ALLOWED_SENDERS);
        let allowed_senders = Allow::parse(&senders).unwrap_or_else(|e| {
            r.error(format!("{EMAIL_ALLOWED_SENDERS}: {e}"));
            Allow::default()
        });
        let allowed_recipients = if r.raw(EMAIL_ALLOWED_RECIPIENTS).is_some() {
            let list = r.list(EMAIL_ALLOWED_RECIPIENTS);
            Allow::parse(&list).unwrap_or_else(|e| {
                r.error(format!("{EMAIL_ALLOWED_RECIPIENTS}: {e}"));
                Allow::default()
            })
        } else {
            allowed_senders.clone()
        };

        let mut require_auth: Vec<String> =
            r.list(EMAIL_REQUIRE_AUTH_RESULTS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        match require_auth.as_slice() {
            [one] if one == "true" || one == "all" => {
                require_auth = vec!["dkim".into(), "spf".into(), "dmarc".into()];
            }
            [one] if one == "false" || one == "none" => require_auth.clear(),
            _ => {}
        }
        for m in &require_auth {
            if !["dkim", "spf", "dmarc"].contains(&m.as_str()) {
                r.error(format!("{EMAIL_REQUIRE_AUTH_RESULTS}: unknown method {m:?}; use dkim, spf, dmarc or true"));
            }
        }
        let trusted_authserv_ids: Vec<String> =
            r.list(EMAIL_TRUSTED_AUTHSERV_IDS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        if !require_auth.is_empty() && trusted_authserv_ids.is_empty() {
            r.error(format!("{EMAIL_REQUIRE_AUTH_RESULTS} needs {EMAIL_TRUSTED_AUTHSERV_IDS}"));
        }

        let inbox = r.string(EMAIL_INBOX, "INBOX");
        let sent_mailbox = r.string(EMAIL_SENT_MAILBOX, "Sent");
        for (key, m) in [(EMAIL_INBOX, &inbox), (EMAIL_SENT_MAILBOX, &sent_mailbox)] {
            if let Err(e) = addr::check_mailbox_name(m) {
                r.error(format!("{key}: {e}"));
            }
        }
        let tls_ca_file = r.optional(EMAIL_TLS_CA_FILE).map(PathBuf::from);
        if let Some(p) = &tls_ca_file
            && !p.is_file()
        {
            r.error(format!("{EMAIL_TLS_CA_FILE}={}: not a readable file", p.display()));
        }
        let maildir = r.optional(EMAIL_MAILDIR).map(PathBuf::from).unwrap_or_else(|| data_dir.join("mail/inbox"));
        let sent_maildir =
            r.optional(EMAIL_SENT_MAILDIR).map(PathBuf::from).unwrap_or_else(|| data_dir.join("mail/sent"));
        let outbox = r.optional(EMAIL_OUTBOX).map(PathBuf::from).unwrap_or_else(|| data_dir.join("mail/outbox"));
        let maildir_poll_ms: u64 = r.parse(EMAIL_MAILDIR_POLL_MS, 200);
        if !(10..=60_000).contains(&maildir_poll_ms) {
            r.error(format!("{EMAIL_MAILDIR_POLL_MS}: between 10 and 60000"));
        }
        Self {
            mode,
            data_dir,
            database_url,
            maildir,
            sent_maildir,
            outbox,
            imap,
            smtp,
            username,
            password: password.map(Secret),
            address,
            from_name,
            token_secret: Secret(token_secret),
            allowed_senders,
            allowed_recipients,
            require_auth,
            trusted_authserv_ids,
            inbox,
            sent_mailbox,
            idle: r.bool(EMAIL_IDLE, true),
            poll: r.secs(EMAIL_POLL_SECS, Duration::from_secs(15)),
            idle_refresh: r.secs(EMAIL_IDLE_REFRESH_SECS, Duration::from_secs(300)),
            maildir_poll: Duration::from_millis(maildir_poll_ms),
            network_timeout: r.secs(EMAIL_NETWORK_TIMEOUT_SECS, Duration::from_secs(30)),
            tls_ca_file,
            max_message_bytes: r.bytes(EMAIL_MAX_MESSAGE_BYTES, 100 << 20),
            max_text_bytes: r.bytes(EMAIL_MAX_TEXT_BYTES, 8 << 10),
            max_body_bytes: r.bytes(EMAIL_MAX_BODY_BYTES, 64 << 10),
            max_attachment_bytes: r.bytes(EMAIL_MAX_ATTACHMENT_BYTES, 256 << 10),
            max_send_bytes: r.bytes(EMAIL_MAX_SEND_BYTES, 256 << 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)]) -> Result<Config, mcp_core::ConfigErrors> {
        mcp_core::config::read_vars(env, Config::read)
    }

    const BASE: [(&str, &str); 2] =
        [(EMAIL_ADDRESS, "agent@example.test"), (EMAIL_TOKEN_SECRET, "0123456789abcdef0123456789abcdef")];

    #[test]
    fn defaults_are_maildir_under_the_data_dir() {
        let c = check(&BASE).unwrap();
        assert_eq!(c.mode, Mode::Maildir);
        assert_eq!(c.database_url, "sqlite:.data/email/email.db");
        assert_eq!(c.maildir, PathBuf::from(".data/email/mail/inbox"));
        assert_eq!(c.outbox, PathBuf::from(".data/email/mail/outbox"));
        assert!(c.allowed_senders.is_empty());
        assert!(c.require_auth.is_empty());
    }

    #[test]
    fn an_imap_url_selects_imap_mode() {
        let mut env = BASE.to_vec();
        env.extend([(EMAIL_IMAP_URL, "imap://127.0.0.1:1143"), (EMAIL_PASSWORD, "pw")]);
        let c = check(&env).unwrap();
        assert_eq!(c.mode, Mode::Imap);
        assert_eq!(c.imap, Some(Endpoint { host: "127.0.0.1".into(), port: 1143, security: Security::Plain }));
        assert_eq!(c.username, "agent@example.test");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let err = check(&[
            (EMAIL_ADDRESS, "not an address"),
            (EMAIL_TOKEN_SECRET, "short"),
            (EMAIL_IMAP_URL, "imap://mail.example.com"),
            (EMAIL_SMTP_URL, "ftp://x"),
            (EMAIL_REQUIRE_AUTH_RESULTS, "dmarc,arc"),
            (EMAIL_ALLOWED_SENDERS, "alice@example.com,not-an-address"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            EMAIL_ADDRESS,
            EMAIL_TOKEN_SECRET,
            "plain text to mail.example.com",
            EMAIL_SMTP_URL,
            "unknown method \"arc\"",
            EMAIL_TRUSTED_AUTHSERV_IDS,
            EMAIL_ALLOWED_SENDERS,
            EMAIL_PASSWORD,
        ] {
            assert!(text.contains(needle), "{needle} not reported: {text}");
        }
    }

    #[test]
    fn urls_parse() {
        let e = Endpoint::parse("imaps://mail.example.com", "imap").unwrap();
        assert_eq!((e.port, e.security), (993, Security::Tls));
        let e = Endpoint::parse("smtp+starttls://[::1]:2525", "smtp").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.security), ("::1", 2525, Security::StartTls));
        assert!(e.is_loopback());
        assert!(Endpoint::parse("imaps://user:pw@host", "imap").is_err());
        assert!(Endpoint::parse("smtps://host", "imap").is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut env = BASE.to_vec();
        env.push((EMAIL_PASSWORD, "hunter2-password"));
        let c = check(&env).unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2") && !d.contains("0123456789abcdef"), "{d}");
    }

    #[test]
    fn auth_requirements() {
        let mut env = BASE.to_vec();
        env.extend([(EMAIL_REQUIRE_AUTH_RESULTS, "true"), (EMAIL_TRUSTED_AUTHSERV_IDS, "MX.Example.Test")]);
        let c = check(&env).unwrap();
        assert_eq!(c.require_auth, ["dkim", "spf", "dmarc"]);
        assert_eq!(c.trusted_authserv_ids, ["mx.example.test"]);
    }
}
