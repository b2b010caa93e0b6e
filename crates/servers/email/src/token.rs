//! Signed reply tokens: a request id carried in the `Reply-To` address
//! (`<local>+<token>@<domain>`) so a reply maps back to its request by
//! cryptography, not by who claims to have sent it.
//!
//! The token is the request id followed by a 16-character MAC, both in
//! characters that survive a mail system lowercasing the local part:
//! - `l<id><mac>` when the id is already lowercase letters, digits and `-`
//!   (UUIDs stay short enough for the 64-byte local-part limit);
//! - `b<base32(id)><mac>` otherwise (lowercase base32, no padding).
//!
//! The MAC is HMAC-SHA256 over a domain-separation label and the id,
//! truncated to 80 bits (brute force needs 2^80 online guesses), and is
//! compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const LABEL: &[u8] = b"mcp-server-email/reply-token/v1\0";
const MAC_BYTES: usize = 10;
const MAC_CHARS: usize = 16;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Largest request id accepted, in bytes (the address must also fit 64 bytes of local part).
pub const MAX_REQUEST_ID: usize = 64;

/// Why a token could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// The id is empty, too long or has characters outside the allowed set.
    #[error("request_id must be 1 to {MAX_REQUEST_ID} characters of letters, digits, '-', '_', '.' or ':'")]
    BadId,
    /// The whole address would exceed the 64-byte local-part limit.
    #[error("request_id is too long for a reply address ({0} bytes of local part, the limit is 64); use a shorter id")]
    TooLong(usize),
}

/// Signs and verifies tokens with one secret, for one address.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    local: String,
    domain: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("local", &self.local).field("domain", &self.domain).finish_non_exhaustive()
    }
}

fn base32(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buf: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buf: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_lowercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    // Leftover bits must be zero padding, or the encoding was altered.
    if bits >= 5 || (buf & ((1 << bits) - 1)) != 0 {
        return None;
    }
    Some(out)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

impl Signer {
    /// A signer for `address` (`local@domain`) with `key`.
    pub fn new(key: &[u8], address: &str) -> Self {
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
        Self { key: key.to_vec(), local: local.to_owned(), domain: domain.to_ascii_lowercase() }
    }

    fn mac(&self, id: &str) -> Option<Hmac<Sha256>> {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).ok()?;
        m.update(LABEL);
        m.update(id.as_bytes());
        Some(m)
    }

    /// The token for `request_id`.
    pub fn token(&self, request_id: &str) -> Result<String, TokenError> {
        if !valid_id(request_id) {
            return Err(TokenError::BadId);
        }
        let tag = self.mac(request_id).ok_or(TokenError::BadId)?.finalize().into_bytes();
        let mac = base32(&tag[..MAC_BYTES]);
        let literal = request_id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        Ok(if literal { format!("l{request_id}{mac}") } else { format!("b{}{mac}", base32(request_id.as_bytes())) })
    }

    /// The `Reply-To` address carrying the token for `request_id`.
    pub fn reply_address(&self, request_id: &str) -> Result<String, TokenError> {
        let local = format!("{}+{}", self.local, self.token(request_id)?);
        if local.len() > 64 {
            return Err(TokenError::TooLong(local.len()));
        }
        Ok(format!("{local}@{}", self.domain))
    }

    /// The request id of a token, or `None` when it is malformed, forged or altered.
    pub fn verify(&self, token: &str) -> Option<String> {
        let token = token.to_ascii_lowercase();
        if token.len() <= MAC_CHARS + 1 || !token.is_ascii() {
            return None;
        }
        let (body, mac) = token.split_at(token.len() - MAC_CHARS);
        let id = match body.split_at(1) {
            ("l", id) => id.to_owned(),
            ("b", enc) => String::from_utf8(unbase32(enc)?).ok()?,
            _ => return None,
        };
        if !valid_id(&id) {
            return None;
        }
        let tag = unbase32(mac)?;
        if tag.len() != MAC_BYTES {
            return None;
        }
        self.mac(&id)?.verify_truncated_left(&tag).ok()?;
        Some(id)
    }

    /// If `address` is this server's address with a `+token`, the token's verdict: `Some(Ok(id))` for a valid
    /// token, `Some(Err(()))` for a forged or damaged one, `None` when the address carries no token for us.
    pub fn check_address(&self, address: &str) -> Option<Result<String, ()>> {
        let (local, domain) = address.trim().trim_matches(['<', '>']).rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let prefix_len = self.local.len() + 1;
        if local.len() <= prefix_len
            || !local.is_char_boundary(prefix_len)
            || !local[..self.local.len()].eq_ignore_ascii_case(&self.local)
            || local.as_bytes()[self.local.len()] != b'+'
        {
            return None;
        }
        Some(self.verify(&local[prefix_len..]).ok_or(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(b"0123456789abcdef0123456789abcdef", "agent@Example.test")
    }

    #[test]
    fn base32_round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0xff, 0, 7, 200]] {
            assert_eq!(unbase32(&base32(data)).unwrap(), data);
        }
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn round_trip_survives_lowercasing() {
        let s = signer();
        for id in ["req-42", "550e8400-e29b-41d4-a716-446655440000", "Req_42:Upper.Case"] {
            let addr = s.reply_address(id).unwrap();
            assert!(addr.len() <= 64 + 1 + 12, "{addr}");
            assert!(addr.starts_with("agent+") && addr.ends_with("@example.test"), "{addr}");
            assert_eq!(s.check_address(&addr), Some(Ok(id.to_owned())));
            assert_eq!(s.check_address(&addr.to_ascii_lowercase()), Some(Ok(id.to_owned())));
            assert_eq!(s.check_address(&addr.to_ascii_uppercase()), Some(Ok(id.to_owned())));
        }
    }

    #[test]
    fn forged_or_altered_tokens_are_rejected() {
        let s = signer();
        let addr = s.reply_address("req-42").unwrap();
        let token = addr.split_once('+').unwrap().1.split_once('@').unwrap().0.to_owned();
        // Another id with the same MAC.
        assert_eq!(s.verify(&token.replacen("req-42", "req-43", 1)), None);
        // A flipped MAC character.
        let mut chars: Vec<char> = token.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'a' { 'b' } else { 'a' };
        assert_eq!(s.verify(&chars.into_iter().collect::<String>()), None);
        // Signed with another key.
        let other = Signer::new(b"another-secret-another-secret-xx", "agent@example.test");
        assert_eq!(s.check_address(&other.reply_address("req-42").unwrap()), Some(Err(())));
        // Garbage and unrelated addresses.
        assert_eq!(s.verify("lreq"), None);
        assert_eq!(s.check_address("agent+zzzzzzzzzzzzzzzzzzzzzz@example.test"), Some(Err(())));
        assert_eq!(s.check_address("agent@example.test"), None);
        assert_eq!(s.check_address("other+x@example.test"), None);
        assert_eq!(s.check_address(&addr.replace("example.test", "evil.test")), None);
    }

    #[test]
    fn bad_ids_are_refused() {
        let s = signer();
        assert_eq!(s.token(""), Err(TokenError::BadId));
        assert_eq!(s.token("a b"), Err(TokenError::BadId));
        assert_eq!(s.token("a\r\nb"), Err(TokenError::BadId));
        assert!(matches!(s.reply_address(&"x".repeat(60)), Err(TokenError::TooLong(_))));
    }
}
