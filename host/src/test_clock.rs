//! The test clock (`--test-clock`): a request may say which wall-clock time its instance sees,
//! so that integration tests reach deadlines, expiries and minute boundaries without waiting.
//! Never enabled in production: without the flag the header is an ordinary header.

use std::time::Duration;

use chrono::DateTime;
use wasmtime_wasi::HostWallClock;

/// The request header holding the instance's wall-clock time, in RFC 3339.
pub const TEST_NOW_HEADER: &str = "x-credit-test-now";

/// A wall clock stopped at one instant: everything a request does happens "at" that time.
/// The monotonic clock is left alone, so the host's deadlines still run in real time.
pub struct PinnedWallClock {
    since_unix_epoch: Duration,
}

impl PinnedWallClock {
    /// The clock an RFC 3339 header value asks for; `None` for anything else, including times
    /// before 1970 (the WASI wall clock cannot express them).
    pub fn from_header(value: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(value).ok()?;
        let at = DateTime::parse_from_rfc3339(text.trim()).ok()?;
        let seconds = u64::try_from(at.timestamp()).ok()?;
        Some(Self {
            since_unix_epoch: Duration::new(seconds, at.timestamp_subsec_nanos()),
        })
    }
}

impl HostWallClock for PinnedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.since_unix_epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_with_any_offset() {
        let china = PinnedWallClock::from_header(b"2026-03-02T09:00:00+08:00").unwrap();
        let utc = PinnedWallClock::from_header(b"2026-03-02T01:00:00.5Z").unwrap();
        assert_eq!(china.now(), Duration::from_secs(1_772_413_200));
        assert_eq!(utc.now(), Duration::from_millis(1_772_413_200_500));
    }

    #[test]
    fn refuses_what_is_not_an_rfc3339_time_after_1970() {
        for value in [
            &b""[..],
            b"2026-03-02",
            b"tomorrow",
            b"1969-12-31T23:59:59Z",
            b"\xff",
        ] {
            assert!(PinnedWallClock::from_header(value).is_none(), "{value:?}");
        }
    }
}
