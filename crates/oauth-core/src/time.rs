//! Points in time, as whole seconds since the Unix epoch.
//!
//! The domain never reads the clock: callers pass `now` in. Seconds are the
//! precision of every lifetime in OAuth (`expires_in`, `exp`, `iat`), and an
//! integer stores the same way on SQLite and PostgreSQL.

use std::fmt;
use std::time::Duration;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Reads a system time; for the edges of the program, which own the
    /// clock. Times before the epoch clamp to it.
    pub fn from_system(time: std::time::SystemTime) -> Self {
        let secs = time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// `self + duration`, saturating instead of overflowing.
    pub fn plus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(secs))
    }

    /// `self - duration`, saturating instead of overflowing.
    pub fn minus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(secs))
    }

    /// Seconds from `self` until `later`; zero when `later` is not later.
    pub fn seconds_until(self, later: Timestamp) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix(100);
        assert_eq!(t.plus(Duration::from_secs(20)).unix(), 120);
        assert_eq!(t.minus(Duration::from_secs(20)).unix(), 80);
        assert_eq!(
            Timestamp::from_unix(i64::MAX)
                .plus(Duration::from_secs(1))
                .unix(),
            i64::MAX
        );
        assert_eq!(t.seconds_until(Timestamp::from_unix(130)), 30);
        assert_eq!(t.seconds_until(Timestamp::from_unix(10)), 0);
    }

    #[test]
    fn system_time_before_epoch_clamps() {
        let before = std::time::UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(Timestamp::from_system(before).unix(), 0);
    }
}
