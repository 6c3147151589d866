//! Work on all cores: the steps of a page are built and rendered in chunks,
//! one thread a chunk, while this thread does something else.

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
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = items.len().div_ceil(workers).max(64);
    if items.len() <= chunk {
        let done = meanwhile();
        return (vec![Some(work(items))], done);
    }
    let work = &work;
    std::thread::scope(|scope| {
        let tasks: Vec<_> = items
            .chunks(chunk)
            .map(|group| super::run_scoped(scope, move || work(group)))
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
        }
    }
}
