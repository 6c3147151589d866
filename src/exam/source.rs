//! A variant's `.nn` file: the original text with the drawn numbers written
//! in place of the old ones, so comments, layout and every other statement
//! stay as the teacher wrote them.

use std::ops::Range;

use super::vary::Slot;
use crate::model::Network;

/// Where the number of each fixed value of `net` is written in `src`: the
/// signed number after `name =`. Values written otherwise (a dense layer's
/// params drawn by `init`, vector elements, a `data` block) have no place;
/// they are listed second.
pub(crate) fn value_spans(net: &Network, src: &str) -> (Vec<(Slot, Range<usize>)>, Vec<Slot>) {
    let mut out = Vec::new();
    let mut elsewhere = Vec::new();
    // Values of the data rows are the data's, never rewritten one by one.
    let (data_inputs, data_outputs) = net.data.as_ref().map_or((Vec::new(), Vec::new()), |d| {
        (d.inputs.clone(), d.outputs.clone())
    });
    let groups = [
        (&net.inputs, Slot::Input as fn(u32) -> Slot),
        (&net.params, Slot::Param),
        (&net.consts, Slot::Const),
    ];
    for (scalars, slot) in groups {
        for (i, s) in scalars.iter().enumerate() {
            if slot(i as u32) == Slot::Input(i as u32) && data_inputs.contains(&(i as u32)) {
                elsewhere.push(slot(i as u32));
                continue;
            }
            match number_after(src, s.span.end) {
                Some(r) => out.push((slot(i as u32), r)),
                None => elsewhere.push(slot(i as u32)),
            }
        }
    }
    for n in net.outputs() {
        if data_outputs.contains(&n) {
            elsewhere.push(Slot::Target(n));
            continue;
        }
        match net
            .target_spans
            .get(n as usize)
            .copied()
            .flatten()
            .and_then(|span| number_after(src, span.end))
        {
            Some(r) => out.push((Slot::Target(n), r)),
            None => elsewhere.push(Slot::Target(n)),
        }
    }
    out.sort_by_key(|(_, r)| r.start);
    (out, elsewhere)
}

/// `src` with the number at each span replaced by the value `value` gives
/// its slot (unchanged where it gives `None`). Values are written in the
/// shortest form that reads back as the same double.
pub(crate) fn rewrite(
    src: &str,
    spans: &[(Slot, Range<usize>)],
    value: impl Fn(Slot) -> Option<f64>,
) -> String {
    let mut out = String::with_capacity(src.len() + 16 * spans.len());
    let mut at = 0;
    for (slot, range) in spans {
        if let Some(v) = value(*slot) {
            out.push_str(&src[at..range.start]);
            out.push_str(&shortest(v));
            at = range.end;
        }
    }
    out.push_str(&src[at..]);
    out
}

/// The shortest decimal text that reads back as `v` (Rust's `Display` for
/// `f64`: no exponent, as few digits as round-trip needs).
pub(crate) fn shortest(v: f64) -> String {
    if v == 0.0 {
        // −0 reads back as 0 for every purpose of a network file.
        "0".to_string()
    } else {
        format!("{v}")
    }
}

/// The range of the signed number after `= ` that follows byte `from`,
/// skipping white space and comments as the grammar does.
fn number_after(src: &str, from: usize) -> Option<Range<usize>> {
    let b = src.as_bytes();
    let mut i = skip_blank(b, from);
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i = skip_blank(b, i + 1);
    let start = i;
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |mut j: usize| {
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let int_end = digits(i);
    let mut end = int_end;
    if b.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    if end == i || (int_end == i && end == i + 1) {
        return None;
    }
    // An exponent only counts when digits follow it.
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(b.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let k = digits(j);
        if k > j {
            end = k;
        }
    }
    Some(start..end)
}

/// The first byte from `i` that is not white space or inside a comment.
fn skip_blank(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            // U+FEFF (a byte-order mark) counts as white space too.
            Some(0xEF) if b.get(i..i + 3) == Some(&[0xEF, 0xBB, 0xBF]) => i += 3,
            _ => return i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_network;

    #[test]
    fn numbers_are_replaced_in_place() {
        let src = "input i1 = 0.05, i2 =  # odd\n -1e-1\n\
                   layer o sigmoid { o1 = w1*i1 + w2*i2 + c }\n\
                   param w1 = .5, w2=+2\nconst c = 3.\ntarget o1 = 0.01\n";
        let net = parse_network("t.nn", src).unwrap();
        let (spans, elsewhere) = value_spans(&net, src);
        assert!(elsewhere.is_empty());
        let texts: Vec<&str> = spans.iter().map(|(_, r)| &src[r.clone()]).collect();
        assert_eq!(texts, ["0.05", "-1e-1", ".5", "+2", "3.", "0.01"]);
        let out = rewrite(src, &spans, |s| match s {
            Slot::Param(1) => Some(0.30000000000000004),
            Slot::Target(_) => Some(0.25),
            Slot::Input(1) => Some(-0.0),
            _ => None,
        });
        assert!(out.contains("w2=0.30000000000000004\n"));
        assert!(out.contains("target o1 = 0.25\n"));
        assert!(out.contains("# odd\n 0\n"));
        let again = parse_network("t.nn", &out).unwrap();
        assert_eq!(again.params[1].value, 0.30000000000000004);
        assert_eq!(again.params[0].value, 0.5);
    }
}
