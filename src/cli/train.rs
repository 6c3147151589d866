//! `chainrule train FILE --steps N`: gradient descent over many steps, as a
//! table (md, html), CSV or JSON, and the loss curve as SVG.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::{eval_failure, output, read_source, write_atomic, write_output, Failure};
use crate::notation::latex_name;
use crate::number;
use crate::parse::parse_network;
use crate::render::flavor::{relative_link, Flavor, FrontMatter};
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
    /// Start Markdown with YAML front matter instead of a `#` title.
    #[arg(long)]
    front_matter: bool,
    /// Train with each of these optimizers from the same start and compare
    /// them: `sgd,momentum(0.9),adam`; `adam@0.05` also sets its rate η (the
    /// network's `weight_decay` is kept).
    #[arg(long, value_name = "OPTIMIZERS")]
    compare: Option<String>,
    /// The Markdown engine the page is for: how math and front matter are written.
    #[arg(long, value_enum, default_value = "dollar")]
    flavor: Flavor,
    /// The `layout` of the Jekyll front matter (`--flavor jekyll`).
    #[arg(long, default_value = "post")]
    layout: String,
    #[command(flatten)]
    limits: super::Limits,
}

/// Splits `sgd,momentum(0.9),adam(0.9, 0.999, 1e-8)` at the commas outside
/// parentheses.
fn split_specs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// `train --compare`: one run per optimizer, one plot, a table of how far
/// each got.
fn compare(
    args: &Args,
    net: &crate::model::Network,
    src: &super::Source,
    list: &str,
) -> Result<u8, Failure> {
    let specs = split_specs(list);
    if specs.is_empty() || specs.len() > 6 {
        return Err(Failure::Input(format!(
            "chainrule: --compare takes 1 to 6 optimizers, like `sgd,momentum(0.9),adam`; got {}\n",
            specs.len()
        )));
    }
    let mut runs = Vec::new();
    for spec in &specs {
        let (spec, rate) = match spec.rsplit_once('@') {
            Some((s, r)) => match r.trim().parse::<f64>() {
                Ok(r) if r > 0.0 && r.is_finite() => (s, Some(r)),
                _ => {
                    return Err(Failure::Input(format!(
                        "chainrule: --compare: `{r}` is not a learning rate; write `adam@0.05`\n"
                    )))
                }
            },
            None => (spec.as_str(), None),
        };
        let opt = crate::optimizer::Optimizer::parse(spec)
            .map_err(|m| Failure::Input(format!("chainrule: --compare: {m}\n")))?;
        let mut n = net.clone();
        n.optimizer = opt;
        if let Some(r) = rate {
            n.rate = r;
        }
        let steps = args.steps as usize;
        let opts = TrainOptions {
            steps,
            every: if args.every == 0 {
                (steps / 10).max(1)
            } else {
                args.every as usize
            },
            stochastic: args.stochastic,
        };
        let run = train(&n, opts, &mut |_| {}).map_err(|e| eval_failure(src, e))?;
        runs.push((format!("{}, η = {}", opt.spec(), n.rate), run));
    }
    let strings = templates::strings(&args.lang)?;
    let s = |k: &str| strings[k].as_str().unwrap_or(k).to_string();
    let curves: Vec<(&str, &[f64])> = runs
        .iter()
        .map(|(n, r)| (n.as_str(), r.curve.as_slice()))
        .collect();
    let svg = plot::loss_curves(
        &curves,
        !args.linear,
        &s("plot_title"),
        &s("plot_y"),
        &s("plot_x"),
    );
    if let Some(path) = &args.plot {
        write_atomic(path, svg.as_bytes()).map_err(Failure::Other)?;
    }
    let d = args.decimals as usize;
    let text = match args.format {
        Format::Json => {
            let list: Vec<Value> = runs
                .iter()
                .map(|(spec, run)| json!({ "optimizer": spec, "run": to_json(net, run) }))
                .collect();
            let mut t =
                serde_json::to_string_pretty(&json!({ "compare": list })).unwrap_or_default();
            t.push('\n');
            t
        }
        Format::Csv => {
            let mut out = String::from("step");
            for (spec, _) in &runs {
                out.push_str(&format!(",\"E_total {}\"", spec.replace('"', "")));
            }
            out.push('\n');
            let len = runs.iter().map(|(_, r)| r.curve.len()).max().unwrap_or(0);
            for i in 0..len {
                out.push_str(&i.to_string());
                for (_, r) in &runs {
                    out.push_str(&format!(",{}", r.curve.get(i).copied().unwrap_or(f64::NAN)));
                }
                out.push('\n');
            }
            out
        }
        Format::Md | Format::Html => {
            let rows: Vec<String> = runs
                .iter()
                .map(|(spec, r)| {
                    format!(
                        "| `{spec}` | {} | {} |",
                        number::format(r.curve.first().copied().unwrap_or(f64::NAN), d),
                        number::format(r.last().total, d)
                    )
                })
                .collect();
            let title = net.title.clone().unwrap_or_else(|| "Training".into());
            let figure = match (args.format, &args.plot) {
                (Format::Html, _) => format!("<figure class=\"diagram\">{svg}</figure>\n\n"),
                (_, Some(p)) => format!(
                    "![{}](<{}>)\n\n",
                    s("plot_title"),
                    match &args.output {
                        Some(out) => relative_link(out, p),
                        None => p.display().to_string(),
                    }
                ),
                _ => String::new(),
            };
            let md = format!(
                "# {}\n\n## {}\n\n{} $\\eta = {}$: ${}$ {}.\n\n{figure}| {} | $E_{{total}}$ ({} 0) | $E_{{total}}$ ({} {}) |\n| --- | ---: | ---: |\n{}\n",
                templates::escape_markdown(&title),
                s("compare_heading"),
                s("compare_intro"),
                number::format(net.rate, d),
                args.steps,
                s("train_steps"),
                s("update_rule"),
                s("step"),
                s("step"),
                args.steps,
                rows.join("\n")
            );
            if args.format == Format::Html {
                let body = html::body(&md)
                    .map_err(|e| anyhow::anyhow!("turning the page's math into MathML: {e}"))?;
                templates::html_page(&title, &args.lang, &body)?
            } else {
                args.flavor.convert(&md).into_owned()
            }
        }
    };
    write_output(args.output.as_ref(), &text)?;
    Ok(0)
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
    if let Some(list) = &args.compare {
        return compare(&args, &net, &src, list);
    }
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
                if args.front_matter {
                    let title = page["title"].as_str().unwrap_or("").to_string();
                    page["front_matter_yaml"] = json!(args.flavor.front_matter(&FrontMatter {
                        title: &title,
                        lang: &args.lang,
                        layout: &args.layout,
                    }));
                }
                if let Some(p) = &args.plot {
                    page["plot_src"] = json!(match &args.output {
                        Some(out) => relative_link(out, p),
                        None => p.display().to_string(),
                    });
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
                args.flavor.convert(&md).into_owned()
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
        "front_matter_yaml": "",
        "plot_html": null,
        "plot_src": null,
    })
}
