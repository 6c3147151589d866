//! Work on all cores: the steps of a page are built and rendered in chunks,
//! taken in turn by one thread a core and, once it has done something else,
//! by this thread: a chunk whose steps cost more does not keep the others
//! waiting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `work` on chunks of `items` on up to 8 threads, and `meanwhile` on this
/// thread, which then takes chunks too; the chunks' results in order, a
/// chunk whose thread panicked (a bug) as `None`. Up to 64 items are one
/// chunk, and both run here, one after the other: starting a thread would
/// cost more.
pub(crate) fn chunks<T, R, M>(
    items: &[T],
    work: impl Fn(&[T]) -> R + Sync,
    meanwhile: impl FnOnce() -> M,
) -> (Vec<Option<R>>, M)
where
    T: Sync,
    R: Send,
{
    let groups: Vec<&[T]> = if items.is_empty() {
        vec![items]
    } else {
        items.chunks(chunk_len(items.len())).collect()
    };
    spread(groups.len(), |i| work(groups[i]), meanwhile)
}

/// As [`chunks`], but each chunk's items are handed to its thread, which
/// frees them when its work is done: freeing the steps of a large page
/// costs a tenth of rendering them (56 ms of the 0.7 s of a 21 210-param
/// page), and is spread over the threads this way.
pub(crate) fn chunks_owned<T, R, M>(
    items: Vec<T>,
    work: impl Fn(&[T]) -> R + Sync,
    meanwhile: impl FnOnce() -> M,
) -> (Vec<Option<R>>, M)
where
    T: Send,
    R: Send,
{
    let len = chunk_len(items.len());
    let mut groups = Vec::with_capacity(items.len().div_ceil(len).max(1));
    let mut items = items.into_iter();
    loop {
        let group: Vec<T> = items.by_ref().take(len).collect();
        if group.is_empty() && !groups.is_empty() {
            break;
        }
        groups.push(Mutex::new(group));
    }
    spread(
        groups.len(),
        |i| {
            let group = groups[i]
                .lock()
                .map(|mut g| std::mem::take(&mut *g))
                .unwrap_or_default();
            work(&group)
        },
        meanwhile,
    )
}

/// Threads to start: one a core, up to 8.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// Items a chunk: all of up to 64; else about an eighth of a core's share,
/// from 8 to 64, so that the threads finish together.
fn chunk_len(items: usize) -> usize {
    if items <= 64 {
        return items.max(1);
    }
    items.div_ceil(workers() * 8).clamp(8, 64)
}

/// `work(0)` … `work(n − 1)`, each taken in turn by a thread a core (up to
/// `n`) and, after `meanwhile`, by this thread; all here when `n` ≤ 1.
fn spread<R, M>(
    n: usize,
    work: impl Fn(usize) -> R + Sync,
    meanwhile: impl FnOnce() -> M,
) -> (Vec<Option<R>>, M)
where
    R: Send,
{
    if n <= 1 {
        let done = meanwhile();
        return ((0..n).map(|i| Some(work(i))).collect(), done);
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let take = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let r = work(i);
        if let Ok(mut slot) = results[i].lock() {
            *slot = Some(r);
        }
    };
    let take = &take;
    let done = std::thread::scope(|scope| {
        let tasks: Vec<_> = (0..workers().min(n))
            .map(|_| super::run_scoped(scope, take))
            .collect();
        let done = meanwhile();
        // A panic here (a bug) leaves its chunk empty, as on a thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(take));
        for t in tasks {
            t.join();
        }
        done
    });
    let results = results
        .into_iter()
        .map(|r| r.into_inner().ok().flatten())
        .collect();
    (results, done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_item_once_in_order() {
        for n in [0, 1, 63, 64, 65, 1000, 5000] {
            let items: Vec<usize> = (0..n).collect();
            let (parts, side) = super::chunks(&items, |g| g.to_vec(), || 7);
            let joined: Vec<usize> = parts.into_iter().flat_map(Option::unwrap).collect();
            assert_eq!(joined, items);
            assert_eq!(side, 7);
            let (parts, _) = super::chunks_owned(items.clone(), |g| g.to_vec(), || ());
            let joined: Vec<usize> = parts.into_iter().flat_map(Option::unwrap).collect();
            assert_eq!(joined, items);
        }
    }
}
