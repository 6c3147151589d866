//! The command line: one file per subcommand, each with its clap arguments
//! and an `execute` that returns the exit status.

mod check;
mod exam;
mod example;
mod exercise;
mod output;
mod solve;
mod train;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::derivation::EvalError;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Worked backpropagation solutions, derived symbolically and evaluated exactly.
#[derive(Parser, Debug)]
#[command(name = "chainrule", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve a network: forward pass, loss, chain-rule derivation, update.
    Solve(solve::Args),
    /// Check a hand derivation: one claim a line, ✓ or ✗ and the likely mistake.
    Check(check::Args),
    /// Train: gradient descent over many steps, with the loss curve.
    Train(train::Args),
    /// Exam variants: question sheets, answer keys, CSV, Moodle XML.
    Exam(exam::Args),
    /// A self-check exercise page: a box for every quantity, marked as you type.
    Exercise(exercise::Args),
    /// Print a bundled example network.
    Example(example::Args),
}

/// What ended a command with a status other than 0.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: diagnostics already formatted, exit 2.
    Input(String),
    /// Any other error (I/O), exit 2.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Failure {
        Failure::Input(d.to_string())
    }
}

/// Runs the command line and returns the exit status.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    output::clean_up_on_signals();
    let result = match cli.command {
        Command::Solve(a) => solve::execute(a),
        Command::Check(a) => check::execute(a),
        Command::Exam(a) => exam::execute(a),
        Command::Example(a) => example::execute(a),
        Command::Exercise(a) => exercise::execute(a),
        Command::Train(a) => train::execute(a),
    };
    match result {
        Ok(code) => code,
        // Whatever came from the input is shown escaped: no control
        // character reaches the terminal.
        Err(Failure::Input(text)) => {
            eprint!("{}", crate::diagnostic::escape_lines_for_terminal(&text));
            2
        }
        Err(Failure::Other(e)) => {
            let safe = |t: String| crate::diagnostic::escape_lines_for_terminal(&t);
            eprintln!("chainrule: {}", safe(e.to_string()));
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {}", safe(cause.to_string()));
            }
            2
        }
    }
}

/// A source text and the name used for it in messages.
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// Reads `path` (`-` for standard input) as UTF-8 text; invalid UTF-8 is a
/// located error. At most [`crate::parse::MAX_SOURCE_BYTES`] are read.
pub(crate) fn read_source(path: &Path) -> Result<Source, Failure> {
    read_text(path, crate::parse::MAX_SOURCE_BYTES, "an input file")
}

/// Reads at most `limit` bytes of `path` (`-` for standard input): a longer
/// input (`/dev/zero`, `yes |`) is refused once `limit` bytes are read,
/// never read to its end.
pub(crate) fn read_bounded(
    path: &Path,
    limit: usize,
    what: &str,
) -> Result<(String, Vec<u8>), Failure> {
    let (name, reader): (String, Box<dyn Read>) = if path == Path::new("-") {
        ("<stdin>".to_string(), Box::new(std::io::stdin().lock()))
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(anyhow::anyhow!("reading {}: it is a directory", path.display()).into());
        }
        (path.display().to_string(), Box::new(f))
    };
    let mut buf = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| anyhow::anyhow!("reading {name}: {e}"))?;
    if buf.len() > limit {
        return Err(Failure::Input(format!(
            "{name}: more than {}, the limit of {what}; nothing was read past it\n",
            bytes_in_words(limit)
        )));
    }
    Ok((name, buf))
}

/// [`read_bounded`] as UTF-8 text.
pub(crate) fn read_text(path: &Path, limit: usize, what: &str) -> Result<Source, Failure> {
    let (name, bytes) = read_bounded(path, limit, what)?;
    decode_utf8(name, bytes)
}

/// `bytes` as UTF-8 text named `name`; invalid UTF-8 is a located error.
pub(crate) fn decode_utf8(name: String, bytes: Vec<u8>) -> Result<Source, Failure> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source {
            name,
            text: lone_cr_to_lf(text),
        }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let text = String::from_utf8_lossy(&bytes[..at]).into_owned()
                + &String::from_utf8_lossy(&bytes[at..]);
            let d = Diagnostic::new(
                crate::diagnostic::Span::new(at, at + 1),
                "the file is not valid UTF-8 text",
            );
            Err(Diagnostics::new(&name, &text, vec![d]).into())
        }
    }
}

/// Text with old Mac line ends (a CR alone) read with LF line ends, byte
/// for byte, so that comments end and lines are counted where they should.
fn lone_cr_to_lf(text: String) -> String {
    let b = text.as_bytes();
    let lone = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    if !(0..b.len()).any(lone) {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only ASCII bytes changed: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// An evaluation error as a located diagnostic when it has a place.
pub(crate) fn eval_failure(src: &Source, e: EvalError) -> Failure {
    match e.span {
        Some(span) => {
            let d = Diagnostic::new(span, e.to_string());
            Diagnostics::new(&src.name, &src.text, vec![d]).into()
        }
        None => Failure::Input(format!("{}: {e}\n", src.name)),
    }
}

/// Writes `text` to `out`, or to standard output when `out` is `None`.
///
/// A file is written to a temporary file beside it and renamed into place,
/// so a failed run leaves an existing file as it was and creates none. A
/// closed standard output (`| head -c 0`) ends the run quietly.
pub(crate) fn write_output(out: Option<&PathBuf>, text: &str) -> Result<(), Failure> {
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| anyhow::anyhow!("writing standard output: {e}"))?;
            Ok(())
        }
        Some(path) => write_atomic(path, text.as_bytes()).map_err(Failure::Other),
    }
}

/// Writes `bytes` to `path` safely (see the `output` module).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    output::write_file(path, bytes)
}

/// `64 MiB`, `1 KiB` or `1000 bytes`.
pub(crate) fn bytes_in_words(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The options that raise the bounds on a run's work and output, checked
/// before the work is done.
#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most work of one run, in param·samples (`solve`, `check`; for `exam`
    /// times the variants, for `train` times the steps). Past it the run is
    /// refused before it starts.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    max_work: Option<u64>,
    /// Most bytes of output one run may make (estimated before it starts).
    #[arg(long, value_name = "BYTES", value_parser = parse_count)]
    max_output: Option<u64>,
}

/// A count written `250000`, `2.5e5` or `1_000_000`.
fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.replace('_', "");
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => Ok(x as u64),
        _ => Err(format!("`{s}` is not a whole number")),
    }
}

impl Limits {
    /// Refuses work `work` (in the units of `unit`) past `--max-work`, or
    /// past `default` without it.
    pub(crate) fn work(
        &self,
        src: &str,
        work: u64,
        default: u64,
        what: &str,
    ) -> Result<(), Failure> {
        let limit = self.max_work.unwrap_or(default);
        if work > limit {
            return Err(Failure::Input(format!(
                "{src}: this run is {work} {what}, more than the limit of {limit} (the work limit); give --max-work {work} to run it anyway, if the machine has the memory and time\n",
            )));
        }
        Ok(())
    }

    /// Refuses an estimated output of `bytes` past `--max-output`.
    pub(crate) fn output(&self, src: &str, bytes: u64, what: &str) -> Result<(), Failure> {
        let limit = self.max_output.unwrap_or(crate::parse::MAX_OUTPUT_BYTES);
        if bytes > limit {
            return Err(Failure::Input(format!(
                "{src}: {what} would be about {bytes} bytes, more than the limit of {limit} bytes (the output limit); give --max-output {bytes} to make it anyway\n",
            )));
        }
        Ok(())
    }
}
