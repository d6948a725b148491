//! A registration that ends when its handle is dropped or disconnected.

/// Returned by every `handle_*` call: keep it to stay registered.
pub trait Handler: Send {
    /// Unregisters now. Dropping the handler does the same.
    fn disconnect(&mut self);
}

/// A [`Handler`] that runs one cleanup closure, once.
pub struct CleanupHandler(Option<Box<dyn FnOnce() + Send>>);

impl CleanupHandler {
    pub fn new(cleanup: impl FnOnce() + Send + 'static) -> CleanupHandler {
        CleanupHandler(Some(Box::new(cleanup)))
    }
}

impl Handler for CleanupHandler {
    fn disconnect(&mut self) {
        if let Some(cleanup) = self.0.take() {
            cleanup();
        }
    }
}

impl Drop for CleanupHandler {
    fn drop(&mut self) {
        self.disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn cleanup_runs_once_whether_disconnected_or_dropped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let mut handler = CleanupHandler::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        handler.disconnect();
        handler.disconnect();
        drop(handler);
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        let counter = runs.clone();
        drop(CleanupHandler::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
