//! Writing output files safely.
//!
//! A regular file is written to a temporary file beside it, created
//! exclusively under an unpredictable name (so no link planted in the
//! directory is ever followed), given the permissions of the file it
//! replaces, and renamed into place: a failed run leaves an existing file as
//! it was and creates none. A device, FIFO or `/dev/stdout` is written to
//! directly. The exam's directory is written as a whole into a fresh
//! directory beside it and swapped in. Temporary files and directories are
//! recorded while they exist, so that SIGINT and SIGTERM remove them before
//! the process ends.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, Context as _};

use super::Failure;

/// Temporary files and directories that exist right now.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn remember(path: &Path) {
    live().push(path.to_path_buf());
}

fn forget(path: &Path) {
    live().retain(|p| p != path);
}

/// Removes the temporary files and directories of this run, then ends the
/// process with 128 + the signal's number, on SIGINT or SIGTERM.
pub(crate) fn clean_up_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held to the end: a swap in progress finishes first, and
                // nothing new is started.
                let paths = live();
                for p in paths.iter() {
                    let _ = if p.is_dir() {
                        fs::remove_dir_all(p)
                    } else {
                        fs::remove_file(p)
                    };
                }
                std::process::exit(128 + signal);
            }
        });
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Refuses an output `out` (given with `option`) that is the input `input`:
/// writing it would overwrite the network.
pub(crate) fn refuse_input(out: &Path, option: &str, input: &Path) -> Result<(), Failure> {
    if input != Path::new("-") && (out == input || same_file(out, input)) {
        return Err(Failure::Input(format!(
            "chainrule: {option} {} is the input file; writing it would overwrite the network, so give another file\n",
            out.display()
        )));
    }
    Ok(())
}

/// Refuses two outputs that are the same file.
pub(crate) fn refuse_same(a: (&Path, &str), b: (&Path, &str)) -> Result<(), Failure> {
    if a.0 == b.0 || same_file(a.0, b.0) {
        return Err(Failure::Input(format!(
            "chainrule: {} and {} both name {}; give two different files\n",
            a.1,
            b.1,
            a.0.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` to `path`: a device or FIFO directly, a regular file
/// through a temporary file renamed into place (keeping the permissions of
/// the file it replaces, and a link at `path` pointing to it).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let context = || format!("writing {}", path.display());
    // `/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/1`: written to, never
    // replaced, whatever they point to.
    let special = [Path::new("/dev"), Path::new("/proc")]
        .iter()
        .any(|d| path.starts_with(d));
    if special && path.exists() {
        return write_in_place(path, bytes).with_context(context);
    }
    let target = match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(anyhow!("{} is a directory", path.display())).with_context(context)
        }
        Ok(meta) if !meta.is_file() => {
            // A terminal, device, FIFO or socket: write to it.
            return write_in_place(path, bytes).with_context(context);
        }
        Ok(_) => {
            let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if link {
                fs::canonicalize(path).with_context(context)?
            } else {
                path.to_path_buf()
            }
        }
        Err(_) => path.to_path_buf(),
    };
    write_replacing(&target, bytes).with_context(context)
}

/// The directory a file `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The mode a new file gets: that of the file it replaces, or 0666 less
/// the umask.
fn mode_for(path: &Path) -> Option<fs::Permissions> {
    fs::metadata(path).ok().map(|m| m.permissions())
}

fn write_replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.file_name().is_none() {
        return Err(anyhow!("{} is not a file name", path.display()));
    }
    let dir = parent_of(path);
    let old = mode_for(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".chainrule.").suffix(".tmp").rand_bytes(10);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir)?;
    let tmp_path = tmp.path().to_path_buf();
    remember(&tmp_path);
    let result = (|| -> anyhow::Result<()> {
        if let Some(perms) = old {
            // Set exactly, whatever the umask: a 0600 key stays 0600.
            tmp.as_file().set_permissions(perms)?;
        }
        tmp.write_all(bytes)?;
        tmp.flush()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    })();
    forget(&tmp_path);
    result
}

/// The files of an exam, by path relative to its directory.
pub(crate) type Files = [(String, String)];

/// Whether the exam's run owns `rel` (a path relative to its directory):
/// the files it writes, and numbered variant files of earlier runs.
fn owned(rel: &str, files: &Files) -> bool {
    let numbered = rel.strip_prefix("variants/").is_some_and(|name| {
        name.strip_suffix(".nn")
            .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
    });
    numbered || files.iter().any(|(p, _)| p == rel)
}

/// A fresh directory beside the exam's directory, where its files are
/// written before it replaces the old set as a whole.
pub(crate) struct Staging {
    path: PathBuf,
    done: bool,
    /// Made inside DIR, whose parent could not be written to.
    inside: bool,
}

impl Staging {
    /// Creates the staging directory for `dir` (whose parent is created
    /// if missing).
    pub(crate) fn new(dir: &Path) -> anyhow::Result<Staging> {
        let dir = resolve_dir(dir);
        let parent = parent_of(&dir);
        fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".chainrule-exam.").rand_bytes(10);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder
                .permissions(mode_for(&dir).unwrap_or_else(|| fs::Permissions::from_mode(0o777)));
        }
        // Recorded before it is made, so that no signal can leave it.
        let mut guard = live();
        let (made, inside) = match builder.tempdir_in(&parent) {
            Ok(made) => (made, false),
            // A parent that cannot be written to: staged inside DIR, and
            // installed file by file.
            Err(_) if dir.is_dir() => (
                builder
                    .tempdir_in(&dir)
                    .with_context(|| format!("creating a directory in {}", dir.display()))?,
                true,
            ),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("creating a directory in {}", parent.display()))
            }
        };
        let path = made.keep();
        guard.push(path.clone());
        drop(guard);
        Ok(Staging {
            path,
            done: false,
            inside,
        })
    }

    /// Writes `files` into the staging directory, then puts it in the place
    /// of `dir`: files of `dir` the exam does not own are moved along, the
    /// old exam's files removed.
    pub(crate) fn install(mut self, dir: &Path, files: &Files) -> anyhow::Result<()> {
        let dir = resolve_dir(dir);
        self.write_all(&dir, files)?;
        if self.inside || holds_cwd(&dir) {
            // `-o .`: the files are renamed into place one by one.
            return self.install_in_place(&dir, files);
        }
        let moved = self.move_foreign(&dir, files)?;
        let result = self.swap(&dir);
        if result.is_err() {
            // Put the user's files back where they were.
            for rel in moved.iter().rev() {
                let _ = fs::rename(self.path.join(rel), dir.join(rel));
            }
        }
        result
    }

    /// Writes `files` into the staging directory, each with the mode of the
    /// file it replaces in `dir`. Copying an exam's 40 MB into the page
    /// cache is most of its install (0.1 s of the 0.2 s for 1000
    /// variants), so the files are shared out by size between this thread
    /// and one more, the largest first.
    fn write_all(&self, dir: &Path, files: &Files) -> anyhow::Result<()> {
        let mut parents: Vec<PathBuf> = files
            .iter()
            .filter_map(|(rel, _)| self.path.join(rel).parent().map(Path::to_path_buf))
            .collect();
        parents.sort();
        parents.dedup();
        for p in &parents {
            fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        }
        let write = |(rel, text): &(String, String)| -> anyhow::Result<()> {
            let to = self.path.join(rel);
            fs::write(&to, text).with_context(|| format!("writing {}", dir.join(rel).display()))?;
            if let Some(perms) = mode_for(&dir.join(rel)) {
                fs::set_permissions(&to, perms)?;
            }
            Ok(())
        };
        let mut by_size: Vec<&(String, String)> = files.iter().collect();
        by_size.sort_by_key(|(_, text)| std::cmp::Reverse(text.len()));
        let (mut here, mut there) = (Vec::new(), Vec::new());
        let (mut here_bytes, mut there_bytes) = (0, 0);
        for f in by_size {
            if here_bytes <= there_bytes {
                here_bytes += f.1.len();
                here.push(f);
            } else {
                there_bytes += f.1.len();
                there.push(f);
            }
        }
        std::thread::scope(|scope| {
            let other = scope.spawn(|| there.into_iter().try_for_each(write));
            let mine = here.into_iter().try_for_each(write);
            let theirs = other.join().unwrap_or_else(|_| {
                Err(anyhow!(
                    "a writing thread failed (this is a bug in chainrule)"
                ))
            });
            mine.and(theirs)
        })
    }

    /// Renames the staged files into `dir` one by one, then removes the
    /// numbered variant files of an earlier, larger run.
    fn install_in_place(mut self, dir: &Path, files: &Files) -> anyhow::Result<()> {
        for (rel, _) in files {
            let to = dir.join(rel);
            if let Some(p) = to.parent() {
                fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
            }
            fs::rename(self.path.join(rel), &to)
                .with_context(|| format!("writing {}", to.display()))?;
        }
        if let Ok(entries) = fs::read_dir(dir.join("variants")) {
            for entry in entries.flatten() {
                let rel = format!("variants/{}", entry.file_name().to_string_lossy());
                if owned(&rel, files) && !files.iter().any(|(p, _)| *p == rel) {
                    fs::remove_file(entry.path())
                        .with_context(|| format!("removing {}", entry.path().display()))?;
                }
            }
        }
        let _ = fs::remove_dir_all(&self.path);
        forget(&self.path);
        self.done = true;
        Ok(())
    }

    /// Moves the entries of `dir` the exam does not own into the staging
    /// directory, returning their relative paths.
    fn move_foreign(&self, dir: &Path, files: &Files) -> anyhow::Result<Vec<String>> {
        let mut moved: Vec<String> = Vec::new();
        let mut pending = vec![String::new()];
        let result = (|| -> anyhow::Result<()> {
            while let Some(sub) = pending.pop() {
                let here = if sub.is_empty() {
                    dir.to_path_buf()
                } else {
                    dir.join(&sub)
                };
                let entries = match fs::read_dir(&here) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e).with_context(|| format!("reading {}", here.display())),
                };
                for entry in entries {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let rel = if sub.is_empty() {
                        name.clone()
                    } else {
                        format!("{sub}/{name}")
                    };
                    let is_dir = entry.file_type()?.is_dir();
                    if rel == "variants" && is_dir {
                        pending.push(rel);
                    } else if !owned(&rel, files) {
                        let to = self.path.join(&rel);
                        if to.exists() {
                            return Err(anyhow!(
                                "{} is in the way of the exam's files",
                                dir.join(&rel).display()
                            ));
                        }
                        if let Some(p) = to.parent() {
                            fs::create_dir_all(p)?;
                        }
                        fs::rename(entry.path(), &to)
                            .with_context(|| format!("moving {}", entry.path().display()))?;
                        moved.push(rel);
                    }
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(moved),
            Err(e) => {
                for rel in moved.iter().rev() {
                    let _ = fs::rename(self.path.join(rel), dir.join(rel));
                }
                Err(e)
            }
        }
    }

    /// Puts the staging directory in the place of `dir`; the old one is
    /// removed after.
    fn swap(&mut self, dir: &Path) -> anyhow::Result<()> {
        let fail = || format!("replacing {}", dir.display());
        let mut guard = live();
        let old = if dir.exists() {
            let mut builder = tempfile::Builder::new();
            builder.prefix(".chainrule-old.").rand_bytes(10);
            let old = builder
                .tempdir_in(parent_of(dir))
                .with_context(fail)?
                .keep();
            guard.push(old.clone());
            fs::rename(dir, &old).with_context(fail)?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = fs::rename(&self.path, dir) {
            if let Some(old) = &old {
                let _ = fs::rename(old, dir);
            }
            return Err(e).with_context(fail);
        }
        guard.retain(|p| *p != self.path);
        self.done = true;
        drop(guard);
        if let Some(old) = old {
            let _ = fs::remove_dir_all(&old);
            forget(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.path);
            forget(&self.path);
        }
    }
}

/// `dir` as an absolute path, links resolved (`.` is the current
/// directory's own name, so that its parent is where it can be swapped).
fn resolve_dir(dir: &Path) -> PathBuf {
    fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

/// Whether the process runs inside `dir`: it cannot be swapped away then.
fn holds_cwd(dir: &Path) -> bool {
    match (
        std::env::current_dir().and_then(fs::canonicalize),
        fs::canonicalize(dir),
    ) {
        (Ok(cwd), Ok(dir)) => cwd.starts_with(dir),
        _ => false,
    }
}

/// Writes `bytes` into what `path` already is (a device, a FIFO, a
/// descriptor under `/dev/fd`), never replacing it.
fn write_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
}
