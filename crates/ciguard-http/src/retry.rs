//! Bounded retries with exponential backoff, for failures that are often passing (a reset
//! connection, a DNS hiccup, a 5xx).

use std::time::Duration;

/// `retries` more attempts after the first, waiting `base`, then twice as long each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub retries: u32,
}

impl Backoff {
    /// The wait before the next attempt after `failures` failed ones (1 for the first), or
    /// `None` when the retries are spent.
    pub fn delay(&self, failures: u32) -> Option<Duration> {
        if failures == 0 || failures > self.retries {
            return None;
        }
        Some(self.base.saturating_mul(2u32.saturating_pow(failures - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_stops() {
        let b = Backoff {
            base: Duration::from_millis(200),
            retries: 3,
        };
        let waits: Vec<_> = (1..=4).map(|n| b.delay(n)).collect();
        assert_eq!(
            waits,
            [
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(400)),
                Some(Duration::from_millis(800)),
                None
            ]
        );
        assert_eq!(b.delay(0), None);
    }
}
