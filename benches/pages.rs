//! Page benchmark: parse, derive, build the view model and render Markdown
//! and LaTeX for deep networks; prints time per stage and page size, so
//! linear growth with the connections shows.
//!
//! `cargo bench --bench pages`

use std::time::{Duration, Instant};

use chainrule::derivation::Options;
use chainrule::parse::parse_network;
use chainrule::render::page::{self, Markup, PageOptions};
use chainrule::render::templates;
use chainrule::solution::Solution;

/// A `layers` × `width` sigmoid network on 4 inputs, explicit neuron lines.
fn network(layers: usize, width: usize) -> String {
    let inputs = 4;
    let mut s = String::from("network \"bench\"\n");
    let ins: Vec<String> = (1..=inputs).map(|i| format!("x{i} = 0.{i}")).collect();
    s += &format!("input {}\n", ins.join(", "));
    let mut prev: Vec<String> = (1..=inputs).map(|i| format!("x{i}")).collect();
    let mut params = Vec::new();
    for l in 1..=layers {
        s += &format!("layer L{l} sigmoid {{\n");
        let mut names = Vec::new();
        for n in 1..=width {
            let mut terms = Vec::new();
            for (k, p) in prev.iter().enumerate() {
                let w = format!("w{l}_{n}_{}", k + 1);
                params.push(format!(
                    "{w} = {}",
                    ((l * 31 + n * 7 + k * 3) % 19) as f64 / 40.0 - 0.2
                ));
                terms.push(format!("{w}*{p}"));
            }
            let b = format!("b{l}_{n}");
            params.push(format!("{b} = 0.1"));
            terms.push(b);
            s += &format!("  n{l}_{n} = {}\n", terms.join(" + "));
            names.push(format!("n{l}_{n}"));
        }
        s += "}\n";
        prev = names;
    }
    s += &format!("param {}\n", params.join(", "));
    let t: Vec<String> = prev.iter().map(|n| format!("{n} = 0.5")).collect();
    s += &format!("target {}\n", t.join(", "));
    s
}

fn time<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:8.1}", d.as_secs_f64() * 1e3)
}

fn main() -> anyhow::Result<()> {
    println!(
        "{:<10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "network", "params", "parse", "derive", "view", "md", "tex", "md bytes", "ns/param"
    );
    for (layers, width) in [(2, 2), (5, 25), (5, 50), (10, 25), (10, 50)] {
        let src = network(layers, width);
        let (net, t_parse) = time(|| parse_network("bench", &src));
        let net = net.map_err(|d| anyhow::anyhow!("{d}"))?;
        let (sol, t_derive) = time(|| Solution::new(&net, Options::default(), Default::default()));
        let sol = sol.map_err(|e| anyhow::anyhow!("{e}"))?;
        let opts = PageOptions {
            decimals: 9,
            full: true,
            ..Default::default()
        };
        let strings = templates::strings("en")?;
        let (pg, t_view) =
            time(|| page::build(&sol, &opts, Markup::Markdown, "en", strings.clone()));
        let hb = templates::registry(Markup::Markdown, None, 9)?;
        let mut pg = pg;
        let (md, t_md) = time(|| templates::render(&hb, &mut pg, "solution.md.hbs"));
        let md = md?;
        let mut pg_tex = page::build(&sol, &opts, Markup::Latex, "en", strings);
        let hb_tex = templates::registry(Markup::Latex, None, 9)?;
        let (_tex, t_tex) = time(|| templates::render(&hb_tex, &mut pg_tex, "solution.tex.hbs"));
        let params = net.params.len();
        let total = t_parse + t_derive + t_view + t_md;
        println!(
            "{:<10} {:>7} {} {} {} {} {} {:>9} {:>8.0}",
            format!("{layers}x{width}"),
            params,
            ms(t_parse),
            ms(t_derive),
            ms(t_view),
            ms(t_md),
            ms(t_tex),
            md.len(),
            total.as_nanos() as f64 / params as f64
        );
    }
    println!("(times in ms; ns/param is parse + derive + view + md)");
    Ok(())
}
