//! A `data` block: its header and its rows, one sample a line.

use pest::Parser;

use super::resolve::rows_of;
use super::*;
use crate::parse::NnParser;

/// The names of one side of a header, each with its place.
type Names = Vec<(String, Span)>;

/// The two sides of a header or row read by the grammar's `line` rule
/// (`data_header`, `data_row`), each side (`side`: `data_names`,
/// `data_nums`) as the items `item` reads; `None` when the grammar or an
/// item does not read it.
fn sides<T>(
    line: Rule,
    side: Rule,
    text: &str,
    item: impl Fn(pest::iterators::Pair<'_, Rule>) -> Option<T>,
) -> Option<(Vec<T>, Vec<T>)> {
    let pairs = NnParser::parse(line, text).ok()?;
    let mut sides = pairs
        .flatten()
        .filter(|p| p.as_rule() == side)
        .map(|s| s.into_inner().map(&item).collect::<Option<Vec<T>>>());
    Some((sides.next()??, sides.next()??))
}

/// The header `i1, i2 -> o1` at byte `at`: each name with its place.
fn read_header(text: &str, at: usize) -> Option<(Names, Names)> {
    sides(Rule::data_header, Rule::data_names, text, |n| {
        let s = n.as_span();
        Some((
            n.as_str().to_string(),
            Span::new(at + s.start(), at + s.end()),
        ))
    })
}

/// A row `0.5, 1 -> 0`: its inputs' values and its targets.
fn read_row(text: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    sides(Rule::data_row, Rule::data_nums, text, |n| {
        n.as_str().parse::<f64>().ok().filter(|x| x.is_finite())
    })
}

impl Lowerer<'_> {
    /// Reads a `data` block: a header `i1, i2 -> o1` and one row a line.
    /// Inputs named in the header that no `input` line declares are
    /// declared here; the first row gives every input and target its value.
    pub(super) fn data(&mut self, body: &str, offset: usize, block: Span, layers: usize) {
        // Counted before any row is read, so that a long block is refused
        // without the memory of its rows.
        let count = body
            .split('\n')
            .filter(|l| !l.split('#').next().unwrap_or("").trim().is_empty())
            .count();
        if count > MAX_DATA_ROWS + 1 {
            self.errors.push(
                Diagnostic::new(
                    Span::new(block.start, block.start + 4),
                    format!(
                        "the `data` block has {} rows, more than the limit of {MAX_DATA_ROWS} rows",
                        count - 1
                    ),
                )
                .with_note("split the data into several files"),
            );
            return;
        }
        let mut lines = Vec::new();
        let mut pos = offset;
        for line in body.split_inclusive('\n') {
            let text = line.split('#').next().unwrap_or("").trim_end();
            let lead = text.len() - text.trim_start().len();
            if !text.trim().is_empty() {
                lines.push((text.trim().to_string(), pos + lead));
            }
            pos += line.len();
        }
        let Some(((header, hpos), body_rows)) = lines.split_first() else {
            self.error(block, "the `data` block is empty");
            return;
        };
        let (in_names, out_names) = match read_header(header, *hpos) {
            Some(names) => names,
            None => match self.header_problem(header, *hpos) {
                Some(names) => names,
                None => return,
            },
        };
        let (inputs, outputs) = self.data_columns(&in_names, &out_names, layers);
        let mut rows = Vec::new();
        let mut spans = Vec::new();
        for (text, p) in rows_of(body_rows) {
            let span = Span::new(p, p + text.len());
            let read = match read_row(text) {
                Some((xs, ts)) => {
                    let xs = self.row_count(xs, text, p, in_names.len(), "inputs");
                    let ts = self.row_count(ts, text, p, out_names.len(), "targets");
                    xs.zip(ts)
                }
                None => self.row_problem(text, p, &in_names, &out_names),
            };
            if let Some(row) = read {
                rows.push(row);
                spans.push(span);
            }
        }
        if rows.is_empty() {
            self.error(block, "the `data` block has no rows");
            return;
        }
        if inputs.len() == in_names.len() && outputs.len() == out_names.len() {
            for (k, &i) in inputs.iter().enumerate() {
                self.net.inputs[i as usize].value = rows[0].0[k];
            }
            self.net.data = Some(Data {
                inputs,
                outputs,
                rows,
                spans,
            });
        }
    }

    /// A header `data_header` does not read: why, located; the names as
    /// far as they go when it has the arrow.
    fn header_problem(&mut self, header: &str, hpos: usize) -> Option<(Names, Names)> {
        let Some((ins, outs)) = header.split_once("->") else {
            self.errors.push(
                Diagnostic::new(
                    Span::new(hpos, hpos + header.len()),
                    "the first line of `data` names inputs and outputs",
                )
                .with_note("write it like `i1, i2 -> o1`"),
            );
            return None;
        };
        let names = |side: &str, base: usize| -> Vec<(String, Span)> {
            let mut out = Vec::new();
            let mut p = base;
            for part in side.split(',') {
                let t = part.trim();
                let lead = part.len() - part.trim_start().len();
                out.push((
                    t.to_string(),
                    Span::new(p + lead, p + lead + t.len().max(1)),
                ));
                p += part.len() + 1;
            }
            out
        };
        Some((names(ins, hpos), names(outs, hpos + ins.len() + 2)))
    }

    /// `values`, read by the grammar from one side of row `text` at `p`,
    /// when there are as many as the header names.
    fn row_count(
        &mut self,
        values: Vec<f64>,
        text: &str,
        p: usize,
        want: usize,
        what: &str,
    ) -> Option<Vec<f64>> {
        if values.len() == want {
            return Some(values);
        }
        let arrow = text.find("->").unwrap_or(0);
        let (start, end) = if what == "inputs" {
            (p, p + arrow)
        } else {
            (p + arrow + 2, p + text.len())
        };
        self.errors.push(Diagnostic::new(
            Span::new(start, end),
            format!(
                "this row has {} {what}, the header names {want}",
                values.len()
            ),
        ));
        None
    }

    /// A row `data_row` does not read: why, located.
    fn row_problem(
        &mut self,
        text: &str,
        p: usize,
        in_names: &Names,
        out_names: &Names,
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let Some((a, b)) = text.split_once("->") else {
            self.errors.push(Diagnostic::new(
                Span::new(p, p + text.len()),
                "a data row needs `->` between inputs and targets",
            ));
            return None;
        };
        let xs = self.data_numbers(a, p, in_names.len(), "inputs");
        let ts = self.data_numbers(b, p + a.len() + 2, out_names.len(), "targets");
        // Each side has said what is wrong with it.
        xs.zip(ts)
    }

    /// The header's names: inputs (declared here when new) and outputs of
    /// the last of `layers` layers.
    fn data_columns(
        &mut self,
        in_names: &[(String, Span)],
        out_names: &[(String, Span)],
        layers: usize,
    ) -> (Vec<u32>, Vec<u32>) {
        let last = layers.saturating_sub(1) as u32;
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let valid = |n: &str| {
            n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        for (n, sp) in in_names {
            if !valid(n) {
                self.error(*sp, format!("`{n}` is not a name"));
                continue;
            }
            match self.decls.get(n).map(|d| d.kind) {
                Some(Kind::Input(i)) => inputs.push(i),
                None => {
                    let idx = self.net.inputs.len() as u32;
                    if self.declare(n, *sp, Kind::Input(idx)) {
                        self.net.inputs.push(Scalar {
                            name: n.clone(),
                            value: 0.0,
                            span: *sp,
                        });
                        inputs.push(idx);
                    }
                }
                Some(k) => self.error(*sp, format!("`{n}` is {}, not an input", k.noun())),
            }
        }
        for (n, sp) in out_names {
            match self.decls.get(n).map(|d| d.kind) {
                Some(Kind::Neuron(x)) if self.neuron_layers.get(x as usize) == Some(&last) => {
                    outputs.push(x)
                }
                Some(Kind::Neuron(_)) => self.error(
                    *sp,
                    format!("`{n}` is not in the last layer; data gives targets of outputs"),
                ),
                _ => self.error(*sp, format!("`{n}` is not an output neuron")),
            }
        }
        (inputs, outputs)
    }

    /// One side of a row: `want` numbers separated by commas, read from
    /// `side` at byte `base`.
    fn data_numbers(
        &mut self,
        side: &str,
        base: usize,
        want: usize,
        what: &str,
    ) -> Option<Vec<f64>> {
        let mut v = Vec::new();
        let mut q = base;
        for part in side.split(',') {
            let t = part.trim();
            let lead = part.len() - part.trim_start().len();
            let sp = Span::new(q + lead, q + lead + t.len().max(1));
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => v.push(x),
                _ => {
                    self.errors.push(Diagnostic::new(
                        sp,
                        format!("expected a number, found `{t}`"),
                    ));
                    return None;
                }
            }
            q += part.len() + 1;
        }
        if v.len() != want {
            self.errors.push(Diagnostic::new(
                Span::new(base, base + side.len()),
                format!("this row has {} {what}, the header names {want}", v.len()),
            ));
            return None;
        }
        Some(v)
    }
}
