//! The back-off after failed sign-ins. A few mistakes cost nothing; after that each failure
//! doubles the wait before the next attempt is even checked, up to a cap, so guessing a
//! password online takes years while a user who mistypes is never locked out for good (which
//! would let anyone lock out an officer on duty by guessing at their name).

/// Failures allowed before any wait.
pub const FREE_FAILURES: u32 = 5;
/// The first wait, in seconds.
pub const FIRST_WAIT_SECS: u64 = 30;
/// The longest wait, in seconds.
pub const MAX_WAIT_SECS: u64 = 3600;

/// A user's run of failed sign-ins, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockout {
    /// Failed attempts since the last success.
    pub failures: u32,
    /// When the last failure happened (Unix seconds).
    pub last_failure: u64,
}

impl Lockout {
    /// The wait after the current run of failures, in seconds.
    pub fn wait_secs(self) -> u64 {
        if self.failures < FREE_FAILURES {
            return 0;
        }
        // Past 2^16 the cap is long reached; stopping there keeps the shift from overflowing.
        let doublings = (self.failures - FREE_FAILURES).min(16);
        (FIRST_WAIT_SECS << doublings).min(MAX_WAIT_SECS)
    }

    /// Until when (Unix seconds) attempts are refused without being checked; `None`: an
    /// attempt may be checked at `now`.
    pub fn locked_until(self, now: u64) -> Option<u64> {
        let until = self.last_failure.saturating_add(self.wait_secs());
        (self.wait_secs() > 0 && now < until).then_some(until)
    }

    /// The run after one more failure at `now`.
    pub fn failed(self, now: u64) -> Self {
        Self {
            failures: self.failures.saturating_add(1),
            last_failure: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failures_cost_nothing() {
        let mut l = Lockout::default();
        for _ in 0..FREE_FAILURES - 1 {
            l = l.failed(1000);
            assert_eq!(l.locked_until(1000), None);
        }
    }

    #[test]
    fn each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap() {
        let at = |failures| Lockout {
            failures,
            last_failure: 0,
        };
        assert_eq!(at(FREE_FAILURES).wait_secs(), 30);
        assert_eq!(at(FREE_FAILURES + 1).wait_secs(), 60);
        assert_eq!(at(FREE_FAILURES + 3).wait_secs(), 240);
        assert_eq!(at(FREE_FAILURES + 10).wait_secs(), MAX_WAIT_SECS);
        assert_eq!(at(u32::MAX).wait_secs(), MAX_WAIT_SECS);
    }

    #[test]
    fn a_locked_user_may_try_again_once_the_wait_is_over() {
        let l = Lockout {
            failures: FREE_FAILURES,
            last_failure: 1000,
        };
        assert_eq!(l.locked_until(1010), Some(1030));
        assert_eq!(l.locked_until(1030), None);
    }
}
