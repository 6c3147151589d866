//! Timing a whole `chainrule` process, shared by the benches that measure
//! what a user waits for.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Median wall seconds of three runs of the release binary with `args` in
/// `dir`, and its peak resident memory in MiB (from GNU time, when
/// present). `ok` says which exit statuses the run may end with.
pub(crate) fn measure(
    dir: &Path,
    args: &[&str],
    ok: &dyn Fn(Option<i32>) -> bool,
) -> (f64, Option<f64>) {
    let bin = env!("CARGO_BIN_EXE_chainrule");
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = Command::new(bin)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("chainrule runs");
        assert!(
            ok(out.status.code()),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let mem = Path::new("/usr/bin/time").exists().then(|| {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M", bin])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .output()
            .ok()?;
        let err = String::from_utf8_lossy(&out.stderr);
        err.lines()
            .last()?
            .trim()
            .parse::<f64>()
            .ok()
            .map(|kb| kb / 1024.0)
    });
    (times[1], mem.flatten())
}
