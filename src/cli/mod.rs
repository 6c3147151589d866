//! The command line: one file per subcommand, each with its clap arguments
//! and an `execute` that returns the exit status.

mod check;
mod exam;
mod example;
mod exercise;
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
        Err(Failure::Input(text)) => {
            eprint!("{text}");
            2
        }
        Err(Failure::Other(e)) => {
            eprintln!("chainrule: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
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
/// located error.
pub(crate) fn read_source(path: &Path) -> Result<Source, Failure> {
    let (name, bytes) = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| anyhow::anyhow!("reading standard input: {e}"))?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes =
            std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { name, text }),
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
/// so a failed run leaves an existing file as it was and creates none.
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

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}
