//! Runs a dependency graph of jobs on threads: every job whose dependencies
//! are done starts at once, so independent packages build concurrently.
//! How many actually compile at a time is the jobserver's business, not
//! the scheduler's.

use std::sync::{Condvar, Mutex};

/// How one job ended.
#[derive(Debug)]
pub enum Outcome<T, E> {
    Done(T),
    Failed(E),
    /// Not run because the named dependency (an index) did not finish.
    Skipped(usize),
    /// The job panicked (a bug); its dependents are skipped, never stuck.
    Panicked(String),
}

enum Slot<T> {
    Pending,
    Done(T),
    NotDone,
}

/// Runs the jobs `todo` of a graph of `deps.len()` nodes. Nodes not in
/// `todo` must already be in `done` (their results). `prepare(i)` runs for
/// every job immediately, in parallel (downloads); `work(i, prepared,
/// results)` runs once all of node `i`'s dependencies have results.
pub fn run<T, E, R, P, W>(
    deps: &[Vec<usize>],
    done: Vec<Option<T>>,
    todo: &[usize],
    prepare: P,
    work: W,
) -> Vec<(usize, Outcome<T, E>)>
where
    T: Clone + Send + Sync,
    E: Send,
    R: Send,
    P: Fn(usize) -> Result<R, E> + Sync,
    W: Fn(usize, R, &[Option<T>]) -> Result<T, E> + Sync,
{
    let slots: Vec<Slot<T>> = done
        .into_iter()
        .map(|r| r.map_or(Slot::Pending, Slot::Done))
        .collect();
    let state = Mutex::new(slots);
    let changed = Condvar::new();

    let wait_for_deps = |node: usize| -> Result<Vec<Option<T>>, usize> {
        let mut slots = state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(&bad) = deps[node]
                .iter()
                .find(|&&d| matches!(slots[d], Slot::NotDone))
            {
                return Err(bad);
            }
            if deps[node]
                .iter()
                .all(|&d| matches!(slots[d], Slot::Done(_)))
            {
                return Ok(slots
                    .iter()
                    .map(|s| match s {
                        Slot::Done(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect());
            }
            slots = changed.wait(slots).unwrap_or_else(|e| e.into_inner());
        }
    };
    let finish = |node: usize, result: Option<T>| {
        let mut slots = state.lock().unwrap_or_else(|e| e.into_inner());
        slots[node] = result.map_or(Slot::NotDone, Slot::Done);
        changed.notify_all();
    };

    std::thread::scope(|scope| {
        let handles: Vec<_> = todo
            .iter()
            .map(|&node| {
                let (prepare, work, wait_for_deps, finish) =
                    (&prepare, &work, &wait_for_deps, &finish);
                scope.spawn(move || {
                    let job = || match prepare(node) {
                        Err(e) => Outcome::Failed(e),
                        Ok(prepared) => match wait_for_deps(node) {
                            Err(dep) => Outcome::Skipped(dep),
                            Ok(results) => match work(node, prepared, &results) {
                                Ok(t) => Outcome::Done(t),
                                Err(e) => Outcome::Failed(e),
                            },
                        },
                    };
                    // A panic must still mark the node finished, or its
                    // dependents would wait forever.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                        .unwrap_or_else(|panic| Outcome::Panicked(panic_message(&*panic)));
                    let result = match &outcome {
                        Outcome::Done(t) => Some(t.clone()),
                        _ => None,
                    };
                    finish(node, result);
                    (node, outcome)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a build thread panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn independent_jobs_overlap_and_dependents_wait() {
        // 0 and 1 are independent; 2 needs both.
        let deps = vec![vec![], vec![], vec![0, 1]];
        let running = AtomicUsize::new(0);
        let max_running = AtomicUsize::new(0);
        let results = run::<usize, String, _, _, _>(
            &deps,
            vec![None, None, None],
            &[0, 1, 2],
            |_| Ok(()),
            |node, (), results| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max_running.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(50));
                running.fetch_sub(1, Ordering::SeqCst);
                if node == 2 {
                    assert_eq!(results[0], Some(0));
                    assert_eq!(results[1], Some(10));
                }
                Ok(node * 10)
            },
        );
        assert_eq!(max_running.load(Ordering::SeqCst), 2);
        assert!(results.iter().all(|(_, o)| matches!(o, Outcome::Done(_))));
    }

    #[test]
    fn a_failure_skips_dependents_but_not_others() {
        let deps = vec![vec![], vec![0], vec![]];
        let results = run::<usize, String, _, _, _>(
            &deps,
            vec![None, None, None],
            &[0, 1, 2],
            |_| Ok(()),
            |node, (), _| {
                if node == 0 {
                    Err("boom".into())
                } else {
                    Ok(node)
                }
            },
        );
        let by_node: std::collections::BTreeMap<_, _> = results.into_iter().collect();
        assert!(matches!(by_node[&0], Outcome::Failed(_)));
        assert!(matches!(by_node[&1], Outcome::Skipped(0)));
        assert!(matches!(by_node[&2], Outcome::Done(2)));
    }

    #[test]
    fn a_panic_fails_the_job_and_skips_its_dependents() {
        let deps = vec![vec![], vec![0]];
        let results = run::<usize, String, _, _, _>(
            &deps,
            vec![None, None],
            &[0, 1],
            |_| Ok(()),
            |node, (), _| if node == 0 { panic!("bug") } else { Ok(node) },
        );
        let by_node: std::collections::BTreeMap<_, _> = results.into_iter().collect();
        assert!(matches!(&by_node[&0], Outcome::Panicked(m) if m == "bug"));
        assert!(matches!(by_node[&1], Outcome::Skipped(0)));
    }

    #[test]
    fn already_done_nodes_feed_their_dependents() {
        let deps = vec![vec![], vec![0]];
        let results = run::<&str, String, _, _, _>(
            &deps,
            vec![Some("cached"), None],
            &[1],
            |_| Ok(()),
            |_, (), results| Ok(results[0].unwrap_or("missing")),
        );
        assert!(matches!(results[0], (1, Outcome::Done("cached"))));
    }
}
