//! Work on all cores: the steps of a page are built and rendered in chunks,
//! one thread a chunk, while this thread does something else.

use std::sync::Mutex;

/// `work` on chunks of `items` on up to 8 threads (at least 64 items a
/// chunk), and `meanwhile` on this thread; the chunks' results in order, a
/// chunk whose thread panicked (a bug) as `None`. With one chunk, both run
/// here, one after the other: starting a thread would cost more.
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
    mut items: Vec<T>,
    work: impl Fn(&[T]) -> R + Sync,
    meanwhile: impl FnOnce() -> M,
) -> (Vec<Option<R>>, M)
where
    T: Send,
    R: Send,
{
    let len = chunk_len(items.len());
    let mut groups = Vec::new();
    while items.len() > len {
        let rest = items.split_off(len);
        groups.push(Mutex::new(std::mem::replace(&mut items, rest)));
    }
    groups.push(Mutex::new(items));
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

/// Items a chunk: the items over the cores (up to 8), at least 64.
fn chunk_len(items: usize) -> usize {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    items.div_ceil(workers).max(64)
}

/// `work(0)` … `work(n − 1)` each on a thread of its own (one alone runs
/// here), and `meanwhile` on this thread.
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
    let work = &work;
    std::thread::scope(|scope| {
        let tasks: Vec<_> = (0..n)
            .map(|i| super::run_scoped(scope, move || work(i)))
            .collect();
        let done = meanwhile();
        (tasks.into_iter().map(super::Task::join).collect(), done)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_item_once_in_order() {
        for n in [0, 1, 63, 64, 65, 1000] {
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
