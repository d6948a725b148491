//! Chain notifications, delivered in order on one thread of their own
//! (Core's validation-interface queue), so the node never calls a wallet
//! while it holds the chain or mempool lock, and a wallet may call back.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Sender, SyncSender};
use std::sync::{Arc, Mutex, RwLock};

use bitcoin::{BlockHash, Transaction};
use interfaces::{BlockInfo, ChainNotifications, CleanupHandler, Handler, RemovalReason};

/// One thing that happened, queued for every subscriber.
enum Event {
    TxAdded(Arc<Transaction>),
    TxRemoved(Arc<Transaction>, RemovalReason),
    BlockConnected(Arc<BlockInfo>),
    BlockDisconnected(Arc<BlockInfo>),
    TipUpdated,
    Flushed(BlockHash),
    /// Answered once everything before it has been delivered.
    Barrier(SyncSender<()>),
}

type Subscribers = Arc<RwLock<BTreeMap<u64, Arc<dyn ChainNotifications>>>>;

pub struct Notifier {
    queue: Mutex<Sender<Event>>,
    /// Events queued and events delivered: equal when nothing waits.
    queued: AtomicU64,
    delivered: Arc<AtomicU64>,
    subscribers: Subscribers,
    next_id: Mutex<u64>,
}

impl Default for Notifier {
    fn default() -> Notifier {
        Notifier::new()
    }
}

impl Notifier {
    /// Starts the delivery thread; it ends when the notifier is dropped.
    pub fn new() -> Notifier {
        let (queue, events) = channel::<Event>();
        let subscribers: Subscribers = Arc::default();
        let delivering = subscribers.clone();
        let delivered = Arc::new(AtomicU64::new(0));
        let counting = delivered.clone();
        std::thread::Builder::new()
            .name("c1pzo-notify".into())
            .spawn(move || {
                for event in events {
                    if let Event::Barrier(done) = event {
                        let _ = done.send(());
                        continue;
                    }
                    // A snapshot: a subscriber may unregister (or another
                    // register) from inside a callback.
                    let now: Vec<_> = delivering
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .values()
                        .cloned()
                        .collect();
                    for subscriber in now {
                        deliver(&*subscriber, &event);
                    }
                    counting.fetch_add(1, Ordering::SeqCst);
                }
            })
            .expect("spawning the notification thread");
        Notifier {
            queue: Mutex::new(queue),
            queued: AtomicU64::new(0),
            delivered,
            subscribers,
            next_id: Mutex::new(0),
        }
    }

    pub fn subscribe(&self, subscriber: Arc<dyn ChainNotifications>) -> Box<dyn Handler> {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        self.subscribers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, subscriber);
        let subscribers = self.subscribers.clone();
        Box::new(CleanupHandler::new(move || {
            subscribers
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }))
    }

    pub fn has_subscribers(&self) -> bool {
        !self
            .subscribers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Whether every event queued so far has been delivered.
    pub fn is_idle(&self) -> bool {
        self.delivered.load(Ordering::SeqCst) == self.queued.load(Ordering::SeqCst)
    }

    fn push(&self, event: Event) {
        if !matches!(event, Event::Barrier(_)) {
            self.queued.fetch_add(1, Ordering::SeqCst);
        }
        let _ = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(event);
    }

    pub fn tx_added(&self, tx: Transaction) {
        self.push(Event::TxAdded(Arc::new(tx)));
    }

    pub fn tx_removed(&self, tx: Transaction, reason: RemovalReason) {
        self.push(Event::TxRemoved(Arc::new(tx), reason));
    }

    pub fn block_connected(&self, block: BlockInfo) {
        self.push(Event::BlockConnected(Arc::new(block)));
    }

    pub fn block_disconnected(&self, block: BlockInfo) {
        self.push(Event::BlockDisconnected(Arc::new(block)));
    }

    pub fn tip_updated(&self) {
        self.push(Event::TipUpdated);
    }

    pub fn flushed(&self, tip: BlockHash) {
        self.push(Event::Flushed(tip));
    }

    /// Blocks until everything queued before this call was delivered
    /// (Core's `SyncWithValidationInterfaceQueue`). Must not be called
    /// from a callback.
    pub fn sync(&self) {
        let (done, wait) = sync_channel(1);
        self.push(Event::Barrier(done));
        let _ = wait.recv();
    }
}

fn deliver(subscriber: &dyn ChainNotifications, event: &Event) {
    match event {
        Event::TxAdded(tx) => subscriber.transaction_added_to_mempool(tx),
        Event::TxRemoved(tx, reason) => subscriber.transaction_removed_from_mempool(tx, *reason),
        Event::BlockConnected(block) => subscriber.block_connected(block),
        Event::BlockDisconnected(block) => subscriber.block_disconnected(block),
        Event::TipUpdated => subscriber.updated_block_tip(),
        Event::Flushed(tip) => subscriber.chain_state_flushed(tip),
        Event::Barrier(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl ChainNotifications for Recorder {
        fn transaction_added_to_mempool(&self, tx: &Transaction) {
            self.0
                .lock()
                .unwrap()
                .push(format!("added {}", tx.version.0));
        }
        fn updated_block_tip(&self) {
            self.0.lock().unwrap().push("tip".into());
        }
    }

    fn tx(version: i32) -> Transaction {
        Transaction {
            version: bitcoin::transaction::Version(version),
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![],
            output: vec![],
        }
    }

    #[test]
    fn delivers_in_order_and_stops_after_the_handler_is_dropped() {
        let notifier = Notifier::new();
        let recorder = Arc::new(Recorder::default());
        let handler = notifier.subscribe(recorder.clone());
        notifier.tx_added(tx(1));
        notifier.tip_updated();
        notifier.tx_added(tx(2));
        notifier.sync();
        assert_eq!(*recorder.0.lock().unwrap(), ["added 1", "tip", "added 2"]);
        drop(handler);
        assert!(!notifier.has_subscribers());
        notifier.tx_added(tx(3));
        notifier.sync();
        assert_eq!(recorder.0.lock().unwrap().len(), 3);
    }
}
