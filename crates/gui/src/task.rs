//! Work the UI must not wait for (every call on `Node` or `Wallet` may
//! cross a process boundary): run on a thread of its own, its result
//! picked up by a later frame, which the finished work asks for.

use std::sync::mpsc;

pub struct Task<T> {
    result: mpsc::Receiver<T>,
}

pub enum Poll<T> {
    Ready(T),
    Pending,
    /// The work panicked; nothing will come.
    Lost,
}

impl<T: Send + 'static> Task<T> {
    pub fn spawn(ctx: &egui::Context, work: impl FnOnce() -> T + Send + 'static) -> Task<T> {
        let (sender, result) = mpsc::channel();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("c1pzo-gui-task".into())
            .spawn(move || {
                let _ = sender.send(work());
                ctx.request_repaint();
            })
            .expect("spawning a GUI task thread");
        Task { result }
    }

    pub fn poll(&self) -> Poll<T> {
        match self.result.try_recv() {
            Ok(value) => Poll::Ready(value),
            Err(mpsc::TryRecvError::Empty) => Poll::Pending,
            Err(mpsc::TryRecvError::Disconnected) => Poll::Lost,
        }
    }
}

/// An optional task in a page's state: the result once, then `None`.
pub fn take<T: Send + 'static>(slot: &mut Option<Task<T>>) -> Option<Result<T, String>> {
    let polled = slot.as_ref()?.poll();
    match polled {
        Poll::Pending => None,
        Poll::Ready(value) => {
            *slot = None;
            Some(Ok(value))
        }
        Poll::Lost => {
            *slot = None;
            Some(Err("the request failed unexpectedly (see the log)".into()))
        }
    }
}
