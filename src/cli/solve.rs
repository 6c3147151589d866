//! `chainrule solve FILE`: the worked solution in md, tex, html or json.

use std::path::PathBuf;

use super::{eval_failure, output, read_source, write_output, Failure};
use crate::derivation::Options;
use crate::notation::Notation;
use crate::parse::parse_network;
use crate::render;
use crate::render::flavor::{relative_link, Flavor, FrontMatter};
use crate::render::page::{self, Markup, PageOptions};
use crate::render::templates;
use crate::render::{html, svg};
use crate::solution::Solution;

/// Output formats of `solve`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Markdown with $…$ math, for blogs.
    Md,
    /// A LaTeX document (or body, with --fragment).
    Tex,
    /// One standalone HTML page: MathML, inline SVG, no JavaScript.
    Html,
    /// JSON for machines.
    Json,
}

/// Notations of `--notation`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotationArg {
    /// net_h1 / out_h1
    NetOut,
    /// sum_h1 / output_h1
    SumOutput,
    /// z_h1 / a_h1
    #[value(name = "z-a")]
    ZA,
}

impl From<NotationArg> for Notation {
    fn from(n: NotationArg) -> Notation {
        match n {
            NotationArg::NetOut => Notation::NetOut,
            NotationArg::SumOutput => Notation::SumOutput,
            NotationArg::ZA => Notation::ZA,
        }
    }
}

/// Arguments of `solve`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The network file (`-` for standard input).
    file: PathBuf,
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "md")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Decimals shown (trailing zeros dropped).
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(0..=17))]
    decimals: u8,
    /// Names of net inputs and outputs.
    #[arg(long, value_enum, default_value = "net-out")]
    notation: NotationArg,
    /// Round each shown value before the next step uses it, as with a calculator.
    #[arg(long)]
    hand: bool,
    /// Only these params' derivations (comma-separated), plus what they need.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Start Markdown with YAML front matter (title, and what --flavor's engine reads) instead of a `#` title.
    #[arg(long)]
    front_matter: bool,
    /// The Markdown engine the page is for: how math, anchors and front matter are written.
    #[arg(long, value_enum, default_value = "dollar")]
    flavor: Flavor,
    /// The `layout` of the Jekyll front matter (`--flavor jekyll`).
    #[arg(long, default_value = "post")]
    layout: String,
    /// LaTeX: the body only, without preamble.
    #[arg(long)]
    fragment: bool,
    /// A handlebars template to use instead of the built-in one.
    #[arg(long, value_name = "FILE.hbs")]
    template: Option<PathBuf>,
    /// Language of the fixed prose: en or ko.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Derive every param even for large networks (over 100 params show a summary).
    #[arg(long)]
    full: bool,
    /// Take K consecutive updates with the network's optimizer, its state
    /// carried from step to step (the first is derived in full).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    steps: u32,
    /// Also write the network drawing to this SVG file (Markdown pages reference it).
    #[arg(long, value_name = "FILE.svg")]
    diagram: Option<PathBuf>,
    #[command(flatten)]
    limits: super::Limits,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    if let Some(o) = &args.output {
        output::refuse_input(o, "-o", &args.file)?;
    }
    if let Some(d) = &args.diagram {
        output::refuse_input(d, "--diagram", &args.file)?;
        if let Some(o) = &args.output {
            output::refuse_same((o, "-o"), (d, "--diagram"))?;
        }
    }
    // The built-in templates are read back (compiled when chainrule was
    // built) while the network is read, solved and laid out.
    let compiling = (args.template.is_none() && args.format != Format::Json)
        .then(|| {
            let markup = markup_of(args.format);
            let decimals = args.decimals as usize;
            std::thread::Builder::new()
                .spawn(move || templates::registry(markup, None, decimals))
                .ok()
        })
        .flatten();
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    // A full page (every derivation written out) takes about twice the
    // memory of the JSON or of the summary page, and four times in HTML
    // (the Markdown, the MathML and the page at once).
    let weight = match (args.full, args.format) {
        (_, Format::Json) | (false, _) => 1,
        (true, Format::Html) => 6,
        (true, _) => 2,
    };
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net).saturating_mul(weight),
        crate::parse::MAX_WORK,
        &match weight {
            1 => "params and neurons × samples".to_string(),
            w => format!("params and neurons × samples × {w} for a full page"),
        },
    )?;
    if args.steps > 1 {
        args.limits.work(
            &src.name,
            crate::parse::solution_work(&net).saturating_mul(u64::from(args.steps)),
            crate::parse::MAX_TRAIN_WORK,
            "params and neurons × samples × steps",
        )?;
    }
    let mut opts = Options::default();
    if args.hand {
        opts = opts.with_hand_rounding(args.decimals as usize);
    }
    let sol = Solution::new(&net, opts, args.notation.into()).map_err(|e| eval_failure(&src, e))?;
    let only: Vec<String> = args
        .only
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for name in &only {
        if !net.params.iter().any(|p| &p.name == name) {
            let names: Vec<&str> = net.params.iter().map(|p| p.name.as_str()).collect();
            let hint = crate::parse::closest_name(name, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(Failure::Input(format!(
                "chainrule: --only: `{name}` is not a param of {}{hint}\n",
                src.name
            )));
        }
    }
    let steps = if args.steps > 1 {
        crate::steps::run(&net, &sol.derivation, args.steps).map_err(|e| eval_failure(&src, e))?
    } else {
        Vec::new()
    };
    // The drawing is written only once the page is.
    let mut side: Option<(PathBuf, String)> = None;
    let text = match args.format {
        Format::Json => render::json::render_steps(&sol, &steps),
        Format::Md | Format::Tex | Format::Html => {
            let markup = markup_of(args.format);
            let user = match &args.template {
                Some(path) => {
                    let t = super::read_text(path, templates::MAX_TEMPLATE_BYTES, "a template")?;
                    Some((t.name, t.text))
                }
                None => None,
            };
            let mut strings = templates::strings(&args.lang)?;
            if args.format == Format::Tex {
                let title = sol.title();
                // Hangul in an English page: the Korean set-up too.
                let kotex = args.lang == "ko" || templates::has_hangul(&title);
                if kotex && args.lang != "ko" {
                    strings["tex_preamble"] = serde_json::json!("\\usepackage{kotex}");
                }
                if let Some(c) = templates::untypesettable(&title, kotex) {
                    return Err(Failure::Input(format!(
                        "{}: the title has `{c}` (U+{:04X}), which pdflatex cannot typeset; remove it from the title for -f tex (-f md and -f html show it)\n",
                        src.name, c as u32
                    )));
                }
            }
            let opts = PageOptions {
                decimals: args.decimals as usize,
                only,
                front_matter: args.front_matter && args.format == Format::Md,
                fragment: args.fragment,
                full: args.full,
                steps,
            };
            let mut page = page::build(&sol, &opts, markup, &args.lang, strings);
            let flavor = if args.format == Format::Md {
                args.flavor
            } else {
                Flavor::Dollar
            };
            if opts.front_matter {
                page.front_matter_yaml = flavor.front_matter(&FrontMatter {
                    title: &page.title,
                    lang: &args.lang,
                    layout: &args.layout,
                });
            }
            let drawing = (args.format == Format::Html || args.diagram.is_some())
                .then(|| svg::diagram(&sol, args.decimals as usize));
            if args.format == Format::Html {
                page.diagram_html = drawing.clone();
            } else if let Some(path) = &args.diagram {
                page.diagram_src = Some(match &args.output {
                    Some(out) => relative_link(out, path),
                    None => path.display().to_string(),
                });
            }
            let hb = match (compiling, &user) {
                (Some(thread), _) => thread.join().map_err(|_| {
                    anyhow::anyhow!("compiling the templates failed (this is a bug in chainrule)")
                })??,
                (None, Some((name, text))) => {
                    templates::user_registry(markup, name, text, args.decimals as usize)?
                }
                (None, None) => templates::registry(markup, None, args.decimals as usize)?,
            };
            let name = match (&user, markup) {
                (Some((name, _)), _) => name.as_str(),
                (None, Markup::Markdown) => "solution.md.hbs",
                (None, Markup::Latex) => "solution.tex.hbs",
            };
            // The steps, most of a large page, are freed by the threads that
            // render them (56 ms of the 0.7 s of a 21 210-param page with
            // --full, spread over the cores); what is freed after writing
            // (the rest of the page, the text, the solution, the network)
            // costs 5 ms there.
            let text = templates::render(&hb, &mut page, name)?;
            // Freeing the compiled templates (0.56 M instructions, 7 % of a
            // small page's thread) is left to the end of the process.
            std::mem::forget(hb);
            side = args.diagram.clone().zip(drawing);
            let out = if args.format == Format::Html {
                let body = html::body(&text)
                    .map_err(|e| anyhow::anyhow!("turning the page's math into MathML: {e}"))?;
                templates::html_page(&page.title, &args.lang, &body)?
            } else {
                match flavor.convert(&text) {
                    std::borrow::Cow::Borrowed(_) => text,
                    std::borrow::Cow::Owned(converted) => converted,
                }
            };
            out
        }
    };
    write_output(args.output.as_ref(), &text)?;
    if let Some((path, svg)) = side {
        super::write_atomic(&path, svg.as_bytes()).map_err(Failure::Other)?;
    }
    Ok(0)
}

/// The markup a format's page is written in (HTML is rendered from Markdown).
fn markup_of(format: Format) -> Markup {
    if format == Format::Tex {
        Markup::Latex
    } else {
        Markup::Markdown
    }
}
