//! The queue that hands a call from one thread to another: the loop to a
//! server worker, the loop to a client thread waiting for its reply.
//!
//! Why not `std::sync::mpsc`: its sender wakes the receiver while still
//! holding the channel's internal lock. With both threads on one core the
//! woken receiver runs at once, finds that lock taken, and sleeps again
//! until the sender is scheduled to release it: two extra context
//! switches per hand-off, a third of an IPC call's time when pinned
//! (seen in `perf` as `SyncWaker::register` in `lock_contended`). Here
//! the lock is released before anyone is woken, and nobody is woken when
//! no receiver sleeps.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

struct Shared<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receiver_gone: bool,
    /// Receivers asleep in `recv`; a send wakes one only if this is not 0.
    sleeping: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic elsewhere cannot leave the queue half-updated.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Puts values in; cloneable, usable from any thread.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Takes values out. Shared (behind an `Arc`) by the threads of a pool,
/// each value goes to whichever asks first.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A new, empty mailbox.
pub fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receiver_gone: false,
            sleeping: 0,
        }),
        ready: Condvar::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `value`; gives it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), T> {
        let mut state = self.shared.lock();
        if state.receiver_gone {
            return Err(value);
        }
        state.queue.push_back(value);
        let wake = state.sleeping > 0;
        drop(state);
        if wake {
            self.shared.ready.notify_one();
        }
        Ok(())
    }

    /// Whether the receiver still exists.
    pub fn is_connected(&self) -> bool {
        !self.shared.lock().receiver_gone
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.ready.notify_all();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value, waiting for one; `None` once every sender is gone
    /// and the queue is empty.
    pub fn recv(&self) -> Option<T> {
        let mut state = self.shared.lock();
        loop {
            if let Some(value) = state.queue.pop_front() {
                return Some(value);
            }
            if state.senders == 0 {
                return None;
            }
            state.sleeping += 1;
            state = self
                .shared
                .ready
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
            state.sleeping -= 1;
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        let queued = std::mem::take(&mut state.queue);
        drop(state);
        // Dropped unlocked: a queued value's drop may send again.
        drop(queued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_arrive_in_order_across_threads() {
        let (tx, rx) = mailbox();
        let sender = std::thread::spawn(move || {
            for i in 0..10_000 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..10_000 {
            assert_eq!(rx.recv(), Some(i));
        }
        sender.join().unwrap();
        assert_eq!(rx.recv(), None, "every sender is gone");
    }

    #[test]
    fn a_pool_shares_one_queue_and_ends_with_the_last_sender() {
        let (tx, rx) = mailbox();
        let rx = Arc::new(rx);
        let takers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv() {
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        for v in 1..=1000u64 {
            tx.clone().send(v).unwrap();
        }
        drop(tx);
        let total: u64 = takers.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(total, 500_500);
    }

    #[test]
    fn sending_to_a_dropped_receiver_gives_the_value_back() {
        let (tx, rx) = mailbox();
        tx.send(1).unwrap();
        assert!(tx.is_connected());
        drop(rx);
        assert!(!tx.is_connected());
        assert_eq!(tx.send(2), Err(2));
    }
}
