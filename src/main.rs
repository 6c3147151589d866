//! The `chainrule` command: parses the arguments and maps the outcome to the
//! exit status (0 success, 1 `check` found a wrong answer, 2 bad input).

use std::process::ExitCode;

fn main() -> ExitCode {
    // Deeply nested input is bounded by the parser's limits; the large stack
    // is a second line of defence for the recursive tree walks.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(chainrule::cli::run);
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("chainrule: internal error (this is a bug in chainrule)");
            101
        }
    };
    ExitCode::from(code)
}
