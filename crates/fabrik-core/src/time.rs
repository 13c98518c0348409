//! Wall-clock timestamps as RFC 3339 UTC strings.

use std::time::SystemTime;

/// The current time as RFC 3339 UTC with milliseconds, e.g. `2026-11-24T13:06:17.123Z`.
#[must_use]
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// Formats `t` as RFC 3339 UTC with milliseconds.
#[must_use]
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Parses an RFC 3339 timestamp written by [`rfc3339`].
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// Seconds between two RFC 3339 timestamps (0 when either is unparseable or out of order).
#[must_use]
pub fn seconds_between(start: &str, end: &str) -> f64 {
    match (parse_rfc3339(start), parse_rfc3339(end)) {
        (Some(a), Some(b)) => b.duration_since(a).map(|d| d.as_secs_f64()).unwrap_or(0.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = now_rfc3339();
        assert!(s.ends_with('Z'), "{s}");
        assert!(parse_rfc3339(&s).is_some());
        assert!(
            (seconds_between("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:02.500Z") - 2.5).abs()
                < 1e-9
        );
    }
}
