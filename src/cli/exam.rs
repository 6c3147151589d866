//! `chainrule exam FILE -o DIR`: seeded variants of a network with question
//! sheets, answer keys, `answers.csv`, a Moodle quiz and each variant's file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::output::Staging;
use super::{read_source, Failure};
use crate::exam::{self, ExamError, VarySpec};
use crate::parse::parse_network;
use crate::render::flavor::{Flavor, FrontMatter};

/// Default bound on an exam's work: a variant's files are lighter than a
/// whole `solve` page, as only the asked params are derived in full.
const EXAM_WORK: u64 = 4 * crate::parse::MAX_WORK;

/// Arguments of `exam`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The network file (`-` for standard input).
    file: PathBuf,
    /// How many variants.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=exam::MAX_VARIANTS as u64))]
    variants: u64,
    /// The seed of the generator: the same seed gives the same files.
    #[arg(long)]
    seed: u64,
    /// Numbers to draw: `NAMES=a..b/step`, `NAMES={v1, v2}` or `NAMES=v`;
    /// NAMES is a glob over inputs, params, consts and targets (`t:o1` or
    /// `target_o1`). Repeatable; a later spec wins for names both match.
    #[arg(long, value_name = "SPEC")]
    vary: Vec<String>,
    /// The questions, comma-separated, named as `check` names them:
    /// `E_total, dE_total/dw5, w5+`. Default: E_total, one output-layer and
    /// one hidden-layer gradient, and their updates.
    #[arg(long, value_name = "LIST")]
    ask: Option<String>,
    /// The directory to write into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Language of the fixed prose: en or ko.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Significant figures of the answers (and so of the Moodle
    /// tolerances); an answer a classic mistake would also round to asks
    /// for up to 3 more.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=12), conflicts_with = "decimals")]
    sig: Option<u8>,
    /// Decimals of the answers instead of significant figures.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=12))]
    decimals: Option<u8>,
    /// Write into DIR even when it is not empty.
    #[arg(long)]
    force: bool,
    /// Start the Markdown sheets with YAML front matter instead of a `#` title.
    #[arg(long)]
    front_matter: bool,
    /// The Markdown engine the sheets are for: how math, anchors and front matter are written.
    #[arg(long, value_enum, default_value = "dollar")]
    flavor: Flavor,
    /// The `layout` of the Jekyll front matter (`--flavor jekyll`).
    #[arg(long, default_value = "post")]
    layout: String,
    /// Also write `exercises/NN.html`: each variant as a self-check page.
    #[arg(long)]
    exercise: bool,
    #[command(flatten)]
    limits: super::Limits,
}

/// `exercises/NN.html` for each `variants/NN.nn` of `files`.
fn exercise_pages(
    files: &[(String, String)],
    lang: &str,
) -> Result<Vec<(String, String)>, Failure> {
    let mut pages = Vec::new();
    for (path, text) in files {
        let Some(label) = path
            .strip_prefix("variants/")
            .and_then(|p| p.strip_suffix(".nn"))
        else {
            continue;
        };
        let net = parse_network(path, text)?;
        let (_, page) = crate::exercise::make(&net, text, lang, 9, true).map_err(|e| match e {
            crate::exercise::Error::Eval(e) => {
                Failure::Input(format!("chainrule: variant {label}: {e}\n"))
            }
            crate::exercise::Error::Other(e) => Failure::Other(e),
        })?;
        pages.push((format!("exercises/{label}.html"), page.unwrap_or_default()));
    }
    Ok(pages)
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    let specs = args
        .vary
        .iter()
        .map(|s| VarySpec::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Input(format!("chainrule: {e}\n")))?;
    let dir = &args.output;
    if !args.force && !is_empty_dir(dir)? {
        return Err(Failure::Input(format!(
            "chainrule: {} is not empty; give --force to write into it anyway\n",
            dir.display()
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::Input(format!(
            "chainrule: -o {} is not a directory; exam writes a directory of files\n",
            dir.display()
        )));
    }
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net).saturating_mul(args.variants),
        EXAM_WORK,
        "params and neurons × samples × variants",
    )?;
    // The sheets and keys are LaTeX too: a title pdflatex cannot set is
    // said now, with what to change.
    let title = net.title.clone().unwrap_or_default();
    if let Some(c) = crate::render::templates::untypesettable(&title, args.lang == "ko") {
        let fix = if crate::render::templates::has_hangul(&title) {
            "give --lang ko, or remove it from the title"
        } else {
            "remove it from the title"
        };
        return Err(Failure::Input(format!(
            "{}: the title has `{c}` (U+{:04X}), which pdflatex cannot typeset in the exam's .tex files; {fix}\n",
            src.name, c as u32
        )));
    }
    // The files are written into a fresh directory beside DIR, which then
    // replaces it whole: no run leaves a mix of two exams.
    let staging = Staging::new(dir).map_err(Failure::Other)?;
    let opts = exam::Options {
        variants: args.variants as usize,
        seed: args.seed,
        vary: specs,
        ask: args.ask.clone(),
        precision: match (args.sig, args.decimals) {
            (_, Some(d)) => exam::Precision::Decimals(d as usize),
            (s, None) => exam::Precision::Sig(s.unwrap_or(4) as usize),
        },
        lang: args.lang.clone(),
    };
    let mut bar = Progress::new();
    let made = exam::generate(&src.name, &src.text, &net, &opts, &mut |done, total| {
        bar.show(done, total)
    });
    bar.finish();
    let mut made = made.map_err(|e| match e {
        ExamError::Ask(d) => Failure::Input(d.to_string()),
        ExamError::Other(e) => Failure::Other(e),
        e => Failure::Input(format!("chainrule: {e}\n")),
    })?;
    let strings = crate::render::templates::strings(&args.lang)?;
    for (path, text) in &mut made.files {
        let key = match path.as_str() {
            "questions.md" => "exam_questions_title",
            "answers.md" => "exam_answers_title",
            _ => continue,
        };
        if args.front_matter {
            let title = format!(
                "{} — {}",
                net.title.as_deref().unwrap_or("Backpropagation"),
                strings[key].as_str().unwrap_or_default()
            );
            *text = with_front_matter(text, &args, &title);
        }
        if let std::borrow::Cow::Owned(converted) = args.flavor.convert(text) {
            *text = converted;
        }
    }

    if args.exercise {
        let pages = exercise_pages(&made.files, &args.lang)?;
        made.files.extend(pages);
    }
    staging.install(dir, &made.files).map_err(Failure::Other)?;
    eprintln!("chainrule: {}", made.summary);
    Ok(0)
}

/// A sheet with YAML front matter in place of its `# title` line.
fn with_front_matter(text: &str, args: &Args, title: &str) -> String {
    let yaml = args.flavor.front_matter(&FrontMatter {
        title,
        lang: &args.lang,
        layout: &args.layout,
    });
    let body = match text.strip_prefix("# ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b),
        None => text,
    };
    format!("---\n{yaml}---\n{body}")
}

/// Whether `dir` is missing or has no entries.
fn is_empty_dir(dir: &Path) -> Result<bool, Failure> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", dir.display()).into()),
    }
}

/// A progress bar on standard error, drawn only when it is a terminal and
/// the run has lasted long enough to be worth watching.
struct Progress {
    start: Instant,
    terminal: bool,
    drawn: Option<usize>,
}

impl Progress {
    const WIDTH: usize = 30;
    const AFTER: Duration = Duration::from_millis(300);

    fn new() -> Progress {
        Progress {
            start: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            drawn: None,
        }
    }

    fn show(&mut self, done: usize, total: usize) {
        if !self.terminal || self.start.elapsed() < Self::AFTER || total == 0 {
            return;
        }
        let percent = done * 100 / total;
        if self.drawn == Some(percent) {
            return;
        }
        self.drawn = Some(percent);
        let full = done * Self::WIDTH / total;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} variants",
            "#".repeat(full),
            "-".repeat(Self::WIDTH - full)
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.drawn.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(Self::WIDTH + 30));
            let _ = err.flush();
        }
    }
}
