//! Output formats. Each reads the [`crate::solution::Solution`]; none
//! computes anything of its own.

pub mod flavor;
pub mod html;
pub mod json;
pub mod latex;
pub mod layout;
pub mod page;
pub(crate) mod parallel;
pub mod picture;
pub mod plot;
pub mod svg;
pub mod templates;
pub(crate) mod update;

/// Runs `work` on a scoped thread with a large stack (expressions are trees,
/// walked recursively), or right here if no thread can be had.
pub(crate) fn run_scoped<'scope, 'env, T, F>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    work: F,
) -> Task<'scope, T>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + Copy + 'scope,
{
    match std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn_scoped(scope, work)
    {
        Ok(handle) => Task::Running(handle),
        Err(_) => Task::Done(work()),
    }
}

/// Work started by [`run_scoped`].
pub(crate) enum Task<'scope, T> {
    /// On its own thread.
    Running(std::thread::ScopedJoinHandle<'scope, T>),
    /// Done already, here.
    Done(T),
}

impl<T> Task<'_, T> {
    /// The result; `None` if the thread panicked (a bug).
    pub(crate) fn join(self) -> Option<T> {
        match self {
            Task::Running(h) => h.join().ok(),
            Task::Done(t) => Some(t),
        }
    }
}
pub mod topology;
