//! A count of a wallet's changes that a front end can wait on: every
//! commit of the wallet's state (a transaction added or updated, a block
//! connected or disconnected) moves it on, and `wait_past` returns as soon
//! as it has moved past what the caller saw.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Revision {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Revision {
    pub fn bump(&self) {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        *count += 1;
        self.changed.notify_all();
    }

    pub fn current(&self) -> u64 {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The count once it differs from `seen`, or after `timeout`.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        while *count == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            count = self
                .changed
                .wait_timeout(count, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_waiter_wakes_on_a_change_and_not_before() {
        let revision = Arc::new(Revision::default());
        // Nothing changed: the wait runs out and says so.
        assert_eq!(revision.wait_past(0, Duration::from_millis(20)), 0);
        // Already past what the caller saw: no wait at all.
        revision.bump();
        assert_eq!(revision.wait_past(0, Duration::from_secs(3600)), 1);
        let bumper = {
            let revision = revision.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                revision.bump();
            })
        };
        assert_eq!(revision.wait_past(1, Duration::from_secs(3600)), 2);
        bumper.join().unwrap();
    }
}
