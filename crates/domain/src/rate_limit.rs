//! Attempts per address (sign-in, access-link codes), counted in fixed windows and judged
//! over a sliding one: the count of the current window plus the previous window's, weighted
//! by the share of it the sliding window still covers. Every instance adds to the same counts
//! (in the database), so the limit holds however many instances run. A refused attempt is
//! taken back out of the count, as it was never let through.

/// At most `attempts` per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub attempts: u32,
    pub window_secs: i64,
}

impl Limit {
    /// The start of the fixed window that `now` (Unix seconds) falls in.
    pub fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_secs.max(1))
    }

    /// Whether the attempt that brought the counts to `current` (itself included) and
    /// `previous` (the window before) may go on; if not, the seconds to wait before the next
    /// attempt would (with this one taken back out).
    pub fn judge(&self, now: i64, current: u32, previous: u32) -> Result<(), u64> {
        let window = self.window_secs.max(1);
        let elapsed = now - self.window_start(now);
        if self.fits(window, elapsed, current, previous) {
            return Ok(());
        }
        // The first second at which one more attempt would fit: later in this window, as the
        // previous window's weight fades, or else in the next one.
        let wait = (1..window - elapsed)
            .find(|&t| self.fits(window, elapsed + t, current, previous))
            .or_else(|| {
                (0..window).find(|&s| self.fits(window, s, 1, current.saturating_sub(1))).map(|s| window - elapsed + s)
            })
            .unwrap_or(2 * window - elapsed);
        Err(u64::try_from(wait.max(1)).unwrap_or(1))
    }

    /// `previous × (window − elapsed) / window + current ≤ attempts`, in integers.
    fn fits(&self, window: i64, elapsed: i64, current: u32, previous: u32) -> bool {
        let weighted = i64::from(previous) * (window - elapsed) + i64::from(current) * window;
        weighted <= i64::from(self.attempts) * window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_MINUTE: Limit = Limit { attempts: 3, window_secs: 60 };

    #[test]
    fn attempts_up_to_the_limit_pass_and_the_next_waits() {
        let now = 6_000; // a window start
        assert_eq!(PER_MINUTE.window_start(now + 59), now);
        assert!(PER_MINUTE.judge(now, 3, 0).is_ok());
        // The three are taken as spread over the window, so the fourth fits a third of the
        // way into the next.
        assert_eq!(PER_MINUTE.judge(now, 4, 0), Err(80));
        assert!(PER_MINUTE.judge(now + 80, 1, 3).is_ok());
    }

    #[test]
    fn the_previous_window_still_counts_for_a_while() {
        // Three attempts at the end of the last window: a fourth just after the boundary is
        // refused (a fixed window would allow a burst of six).
        assert!(PER_MINUTE.judge(6_001, 1, 3).is_err());
        // Once two thirds of the previous window have slid out, one more fits.
        assert!(PER_MINUTE.judge(6_040, 1, 3).is_ok());
    }

    #[test]
    fn the_wait_given_is_enough_and_not_more_than_needed() {
        let now = 6_010;
        let wait = i64::try_from(PER_MINUTE.judge(now, 1, 3).unwrap_err()).unwrap();
        assert_eq!(wait, 10);
        assert!(PER_MINUTE.judge(now + wait, 1, 3).is_ok());
        assert!(PER_MINUTE.judge(now + wait - 1, 1, 3).is_err());
    }

    #[test]
    fn a_full_window_makes_the_wait_run_into_the_next() {
        let wait = PER_MINUTE.judge(6_030, 4, 0).unwrap_err();
        assert!(wait > 30, "{wait}");
    }
}
