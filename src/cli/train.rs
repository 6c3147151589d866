//! `chainrule train FILE --steps N`: gradient descent over many steps, as a
//! table (md, html), CSV or JSON, and the loss curve as SVG.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::{eval_failure, output, read_source, write_atomic, write_output, Failure};
use crate::notation::latex_name;
use crate::number;
use crate::parse::parse_network;
use crate::render::{html, plot, templates};
use crate::train::{train, Run, TrainOptions};

/// Output formats of `train`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// A Markdown page with the table of steps.
    Md,
    /// A standalone HTML page with the loss curve.
    Html,
    /// CSV: step, E_total and the outputs.
    Csv,
    /// JSON: the history and the final state.
    Json,
}

/// Arguments of `train`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The network file (`-` for standard input).
    file: PathBuf,
    /// Number of steps.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    steps: u64,
    /// Record every K-th step (and step 0 and the last).
    #[arg(long, default_value_t = 0)]
    every: u64,
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "md")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Write the loss curve to this SVG file (Markdown pages reference it).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// A linear y axis for the loss curve (logarithmic by default).
    #[arg(long)]
    linear: bool,
    /// Update after each sample, in order, instead of after the whole batch.
    #[arg(long)]
    stochastic: bool,
    /// Decimals shown in tables.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(0..=17))]
    decimals: u8,
    /// Language of the fixed prose: en or ko.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Start Markdown with YAML front matter.
    #[arg(long)]
    front_matter: bool,
    #[command(flatten)]
    limits: super::Limits,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    if let Some(o) = &args.output {
        output::refuse_input(o, "-o", &args.file)?;
    }
    if let Some(p) = &args.plot {
        output::refuse_input(p, "--plot", &args.file)?;
        if let Some(o) = &args.output {
            output::refuse_same((o, "-o"), (p, "--plot"))?;
        }
    }
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net).saturating_mul(args.steps.max(1)),
        crate::parse::MAX_TRAIN_WORK,
        "params and neurons × samples × steps",
    )?;
    let steps = args.steps as usize;
    let every = if args.every == 0 {
        (steps / 10).max(1)
    } else {
        args.every as usize
    };
    // The recorded rows, the loss at every step, and their text.
    let rows = (steps / every) as u64 + 2;
    let cells = (net.outputs().len() * net.data.as_ref().map_or(1, |d| d.rows.len().max(1))) as u64;
    let estimate = rows
        .saturating_mul(cells.saturating_mul(32).saturating_add(64))
        .saturating_add((steps as u64 + 1).saturating_mul(8));
    args.limits.output(
        &src.name,
        estimate,
        &format!("the history of {rows} recorded steps"),
    )?;
    let opts = TrainOptions {
        steps,
        every,
        stochastic: args.stochastic,
    };
    let bar = std::io::stderr().is_terminal() && steps >= 2000;
    let mut shown = usize::MAX;
    let mut progress = |step: usize| {
        if !bar {
            return;
        }
        let pct = step * 100 / steps.max(1);
        if pct != shown {
            shown = pct;
            let filled = pct * 30 / 100;
            eprint!(
                "\r[{}{}] {pct:3}% step {step}/{steps}",
                "#".repeat(filled),
                " ".repeat(30 - filled)
            );
            if step == steps {
                eprintln!();
            }
        }
    };
    let run = train(&net, opts, &mut progress).map_err(|e| eval_failure(&src, e))?;
    let strings = templates::strings(&args.lang)?;
    let s = |k: &str| strings[k].as_str().unwrap_or(k).to_string();
    let curve = || {
        let log = !args.linear;
        plot::loss_curve(
            &run.curve,
            log,
            &s("plot_title"),
            &s("plot_y"),
            &s("plot_x"),
        )
    };
    let text = match args.format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&to_json(&net, &run)).unwrap_or_default();
            t.push('\n');
            t
        }
        Format::Csv => to_csv(&net, &run),
        Format::Md | Format::Html => {
            let d = args.decimals as usize;
            let mut page = page(&net, &run, d, strings.clone(), args.stochastic);
            if args.format == Format::Html {
                page["plot_html"] = json!(curve());
            } else {
                page["front_matter"] = json!(args.front_matter);
                if let Some(p) = &args.plot {
                    page["plot_src"] = json!(p.display().to_string());
                }
            }
            let hb = templates::registry(
                crate::render::page::Markup::Markdown,
                Some(("train.md.hbs", templates::TRAIN_MD)),
                d,
            )?;
            let md = hb
                .render("solution", &page)
                .map_err(|e| anyhow::anyhow!("template train.md.hbs: {e}"))?;
            if args.format == Format::Html {
                let body = html::body(&md)
                    .map_err(|e| anyhow::anyhow!("turning the page's math into MathML: {e}"))?;
                let title = page["title"].as_str().unwrap_or("").to_string();
                templates::html_page(&title, &args.lang, &body)?
            } else {
                md
            }
        }
    };
    write_output(args.output.as_ref(), &text)?;
    // The curve is written only once the main output is.
    if let Some(path) = &args.plot {
        write_atomic(path, curve().as_bytes()).map_err(Failure::Other)?;
    }
    Ok(0)
}

fn output_names(net: &crate::model::Network) -> Vec<String> {
    net.outputs()
        .map(|x| net.neurons[x as usize].name.clone())
        .collect()
}

/// `{"o1": …}`, or with several samples a list of them.
fn outputs_json(net: &crate::model::Network, outputs: &[Vec<f64>]) -> Value {
    let names = output_names(net);
    let one = |vals: &Vec<f64>| {
        let mut m = Map::new();
        for (n, v) in names.iter().zip(vals) {
            m.insert(n.clone(), json!(v));
        }
        Value::Object(m)
    };
    if net.data.is_some() {
        Value::Array(outputs.iter().map(one).collect())
    } else {
        outputs.first().map(one).unwrap_or(Value::Null)
    }
}

fn to_json(net: &crate::model::Network, run: &Run) -> Value {
    let history: Vec<Value> = run
        .history
        .iter()
        .map(|r| json!({ "step": r.step, "E_total": r.total, "outputs": outputs_json(net, &r.outputs) }))
        .collect();
    let last = run.last();
    let mut params = Map::new();
    for (p, v) in net.params.iter().zip(&run.params) {
        params.insert(p.name.clone(), json!(v));
    }
    json!({
        "history": history,
        "final": {
            "step": last.step,
            "E_total": last.total,
            "outputs": outputs_json(net, &last.outputs),
            "params": params,
        }
    })
}

fn to_csv(net: &crate::model::Network, run: &Run) -> String {
    let names = output_names(net);
    let samples = run.history.first().map_or(1, |r| r.outputs.len());
    let mut header = vec!["step".to_string(), "E_total".to_string()];
    for k in 0..samples {
        for n in &names {
            header.push(if net.data.is_some() {
                format!("out_{n}[{}]", k + 1)
            } else {
                format!("out_{n}")
            });
        }
    }
    let mut out = header.join(",") + "\n";
    for r in &run.history {
        let mut row = vec![r.step.to_string(), format!("{}", r.total)];
        for vals in &r.outputs {
            row.extend(vals.iter().map(|v| format!("{v}")));
        }
        out += &(row.join(",") + "\n");
    }
    out
}

/// The data of the training page.
fn page(net: &crate::model::Network, run: &Run, d: usize, t: Value, stochastic: bool) -> Value {
    let names = output_names(net);
    let mut columns = Vec::new();
    match &net.data {
        Some(data) => {
            for (xs, _) in &data.rows {
                let inputs: Vec<String> = xs.iter().map(|x| number::format(*x, d)).collect();
                for n in &names {
                    columns.push(format!(
                        "${}$ ({})",
                        latex_name(&format!("out_{n}")),
                        inputs.join(", ")
                    ));
                }
            }
        }
        None => {
            for n in &names {
                columns.push(format!("${}$", latex_name(&format!("out_{n}"))));
            }
        }
    }
    let history: Vec<Value> = run
        .history
        .iter()
        .map(|r| {
            let outs: Vec<String> = r
                .outputs
                .iter()
                .flatten()
                .map(|v| number::format(*v, d))
                .collect();
            json!({ "step": r.step, "total": number::format(r.total, d), "outputs": outs })
        })
        .collect();
    let params: Vec<Value> = net
        .params
        .iter()
        .zip(&run.params)
        .map(|(p, v)| json!({ "latex": latex_name(&p.name), "old": number::format(p.value, d), "new": number::format(*v, d) }))
        .collect();
    json!({
        "title": net.title.clone().unwrap_or_else(|| "Training".into()),
        "t": t,
        "rate": number::format(net.rate, d),
        "steps": run.last().step,
        "samples": net.data.as_ref().map_or(0, |d| d.rows.len()),
        "mean": net.batch == crate::model::Batch::Mean,
        "stochastic": stochastic,
        "columns": columns,
        "history": history,
        "params": params,
        "front_matter": false,
        "plot_html": null,
        "plot_src": null,
    })
}
