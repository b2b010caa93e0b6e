//! Time as the fleet writes it: RFC 3339 in UTC, Unix milliseconds, and
//! `15m`-style spans back from now, so every program reads and writes time
//! the same way.

/// Now.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Unix milliseconds from RFC 3339 text.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A point in time given as RFC 3339 text, or as a span back from now such
/// as `30s`, `15m`, `2h`, `7d`: Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_rfc3339_ms(s) {
        return Some(ms);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(now_ms() - n.checked_mul(ms)?)
}

/// A Unix time (seconds and nanoseconds).
pub fn rfc3339(secs: i64, nanos: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        + time::Duration::nanoseconds(nanos);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Now, as RFC 3339 text and Unix milliseconds of the same instant (stored
/// side by side: the text for people, the number for ordering and ranges).
pub fn now_pair() -> (String, i64) {
    let ms = now_ms();
    (rfc3339_ms(ms), ms)
}

/// Unix seconds as RFC 3339 (whole seconds).
pub fn rfc3339_secs(secs: i64) -> String {
    rfc3339(secs, 0)
}

/// Unix milliseconds as RFC 3339.
pub fn rfc3339_ms(ms: i64) -> String {
    rfc3339(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000)
}

/// Unix nanoseconds as RFC 3339.
pub fn rfc3339_ns(ns: i64) -> String {
    rfc3339(ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
}

/// Now, as RFC 3339 in whole seconds: the form stored dates take where they
/// are compared as text.
pub fn now_rfc3339_secs() -> String {
    rfc3339_secs(now_ms().div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_agree_on_one_instant() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_ms(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(rfc3339_ns(-1), "1969-12-31T23:59:59.999999999Z");
        let (text, ms) = now_pair();
        assert_eq!(parse_rfc3339_ms(&text), Some(ms));
        assert!(!now_rfc3339_secs().contains('.'));
        assert_eq!(parse_time("2h").map(|t| (now_ms() - t) / 1000), Some(7200));
    }
}
