//! Points in time as people and models write them: RFC 3339
//! (`2026-11-21T10:00:00Z`), relative to now (`15m`, `1h`, `7d`: that long
//! ago), `now`, or Unix milliseconds.

pub use mcp_core::clock::now_ms;

/// Parse `s` into Unix ms, relative forms counted back from `now`.
pub fn parse(s: &str, now: i64) -> Result<i64, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().map_err(|e| format!("{s:?}: {e}"));
    }
    let rel = t.strip_prefix('-').unwrap_or(t);
    let rel = rel.strip_suffix(" ago").unwrap_or(rel).trim();
    let split = rel.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rel.len());
    let (num, unit) = rel.split_at(split);
    if !num.is_empty() && !unit.is_empty() && unit.trim().bytes().all(|b| b.is_ascii_alphabetic()) {
        let unit_ms: f64 = match unit.trim() {
            "ms" => 1.0,
            "s" | "sec" | "secs" => 1e3,
            "m" | "min" | "mins" => 60e3,
            "h" | "hour" | "hours" => 3_600e3,
            "d" | "day" | "days" => 86_400e3,
            "w" | "week" | "weeks" => 604_800e3,
            _ => return Err(bad(s)),
        };
        let n: f64 = num.parse().map_err(|_| bad(s))?;
        let back = n * unit_ms;
        if !back.is_finite() || back > 1e14 {
            return Err(bad(s));
        }
        return Ok(now - back as i64);
    }
    let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|_| bad(s))?;
    Ok((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn bad(s: &str) -> String {
    format!(
        "{s:?} is not a time: use RFC 3339 (2026-11-21T10:00:00Z), a span back from now (15m, 1h, 7d), `now`, or Unix ms"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now = 1_000_000_000_000;
        assert_eq!(parse("now", now), Ok(now));
        assert_eq!(parse("1h", now), Ok(now - 3_600_000));
        assert_eq!(parse("-15m", now), Ok(now - 900_000));
        assert_eq!(parse("2 days ago", now), Ok(now - 2 * 86_400_000));
        assert_eq!(parse("1.5s", now), Ok(now - 1_500));
        assert_eq!(parse("1700000000000", now), Ok(1_700_000_000_000));
        assert_eq!(parse("2023-11-14T22:13:20Z", now), Ok(1_700_000_000_000));
        assert!(parse("yesterday", now).is_err());
        assert!(parse("5 parsecs", now).is_err());
    }
}
