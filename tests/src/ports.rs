//! Ports a test process owns. Every node a test starts gets RPC, P2P and
//! IPC ports from here, never the defaults and never from the kernel's
//! ephemeral range: a port there can be taken by any outgoing connection
//! between the moment a test picks it and the moment its node binds it
//! (a node restarted on its old port lost it that way).
//!
//! Concurrent test processes, of one run or of two runs at once, are kept
//! apart the way Bitcoin Core's test framework keeps them apart with its
//! port seed, but without its chance of collision: the usable range is
//! cut into blocks, and a process takes a block by holding an exclusive
//! lock on that block's file under the temp folder. The kernel releases
//! the lock when the process ends, however it ends.

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Mutex;

/// Ports in one process's block.
const BLOCK_SIZE: u16 = 400;
/// The lowest port handed out: below it are well-known services.
const LOWEST: u16 = 11_000;
/// Bitcoin Core's and c1pzo's default ports on every chain (RPC, P2P,
/// onion, IPC-over-TCP examples): skipped even when nothing listens, so a
/// node a user starts later never meets a test's node on them.
const DEFAULTS: &[u16] = &[
    8332, 8333, 8334, 18332, 18333, 18334, 18443, 18444, 18445, 38332, 38333, 38334, 48332, 48333,
    48334,
];

struct Allocator {
    /// The held lock files, one per block this process owns.
    _locks: Vec<File>,
    blocks: Vec<Range<u16>>,
    next: u16,
}

static ALLOCATOR: Mutex<Option<Allocator>> = Mutex::new(None);

/// A port on 127.0.0.1 (and ::1) that nothing listens on, outside the
/// ephemeral range, owned by this process for its whole life.
pub fn free_port() -> u16 {
    let mut guard = ALLOCATOR.lock().unwrap_or_else(|e| e.into_inner());
    let allocator = guard.get_or_insert_with(|| Allocator {
        _locks: Vec::new(),
        blocks: Vec::new(),
        next: 0,
    });
    loop {
        if let Some(block) = allocator.blocks.last() {
            while allocator.next < block.end {
                let port = allocator.next;
                allocator.next += 1;
                if !DEFAULTS.contains(&port) && bindable(port) {
                    return port;
                }
            }
        }
        let (lock, block) = claim_block(&allocator.blocks);
        allocator.next = block.start;
        allocator.blocks.push(block);
        allocator._locks.push(lock);
    }
}

/// Whether `port` can be bound on both loopback addresses right now.
fn bindable(port: u16) -> bool {
    let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok();
    // A machine without IPv6 has nothing on ::1 to collide with.
    let v6 = match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::AddrNotAvailable,
    };
    v4 && v6
}

/// Takes the first block no other process holds.
fn claim_block(owned: &[Range<u16>]) -> (File, Range<u16>) {
    let dir = std::env::temp_dir().join("c1pzo-test-ports");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("creating the port lock folder {}: {e}", dir.display()));
    let blocks = usable_blocks();
    for block in &blocks {
        if owned.contains(block) {
            continue;
        }
        let path: PathBuf = dir.join(format!("{}-{}.lock", block.start, block.end));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        if file.try_lock().is_ok() {
            return (file, block.clone());
        }
    }
    panic!(
        "every one of the {} port blocks in {} is held by another test process; \
         wait for the other runs to finish",
        blocks.len(),
        dir.display()
    )
}

/// The blocks of `BLOCK_SIZE` ports between `LOWEST` and 65535 that lie
/// wholly outside the kernel's ephemeral range.
fn usable_blocks() -> Vec<Range<u16>> {
    let (low, high) = ephemeral_range();
    let mut blocks = Vec::new();
    let mut start = LOWEST;
    while let Some(end) = start.checked_add(BLOCK_SIZE) {
        let overlaps = start <= high && end > low;
        if !overlaps {
            blocks.push(start..end);
            start = end;
        } else {
            start = high.saturating_add(1).max(end);
        }
    }
    blocks
}

/// The kernel's ephemeral port range, from
/// `/proc/sys/net/ipv4/ip_local_port_range` (Linux's default when it
/// cannot be read: 32768-60999).
pub fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut numbers = text
        .split_whitespace()
        .filter_map(|n| n.parse::<u16>().ok());
    match (numbers.next(), numbers.next()) {
        (Some(low), Some(high)) if low <= high => (low, high),
        _ => (32_768, 60_999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_outside_the_ephemeral_range_and_not_defaults() {
        let (low, high) = ephemeral_range();
        for _ in 0..50 {
            let port = free_port();
            assert!(port < low || port > high, "{port} in {low}-{high}");
            assert!(port >= LOWEST && !DEFAULTS.contains(&port), "{port}");
        }
    }

    #[test]
    fn blocks_do_not_overlap_the_ephemeral_range() {
        let (low, high) = ephemeral_range();
        let blocks = usable_blocks();
        assert!(blocks.len() >= 10, "{blocks:?}");
        for block in blocks {
            assert!(block.end <= low || block.start > high, "{block:?}");
        }
    }

    #[test]
    fn a_held_block_is_skipped_by_another_claimant() {
        // The first claim in this process is a block; a second claim that
        // is not told about it still cannot take it, because the lock is
        // held (flock locks are per open file description).
        let (_first, a) = claim_block(&[]);
        let (_second, b) = claim_block(&[]);
        assert_ne!(a, b);
    }
}
