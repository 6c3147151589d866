//! The text of a line as a teacher reads it: comments and text around a
//! claim set aside, LaTeX and Unicode turned into plain names and numbers,
//! and the tokens of a right-hand side.

use super::*;

/// A line of several claims split at `;`, `, ` and ` and ` outside
/// parentheses, where each piece has its own `=`.
pub(super) fn split_claims(t: &[(char, usize)]) -> Vec<Text> {
    let s: Vec<char> = t.iter().map(|p| p.0).collect();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0i32;
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth == 0 => cuts.push((k, k + 1)),
            ',' if depth == 0 && s.get(k + 1).is_some_and(|c| c.is_whitespace()) => {
                cuts.push((k, k + 1))
            }
            ' ' if depth == 0 => {
                for word in [" and ", " 그리고 ", " und ", " et "] {
                    let w: Vec<char> = word.chars().collect();
                    if s[k..].starts_with(&w) {
                        cuts.push((k, k + w.len()));
                        break;
                    }
                }
            }
            _ => {}
        }
        k += 1;
    }
    if cuts.is_empty() {
        return vec![t.to_vec()];
    }
    let mut pieces: Vec<Text> = Vec::new();
    let mut start = 0;
    for (a, b) in cuts {
        let piece = &t[start..a];
        let rest = &t[b..];
        let has_eq = |x: &[(char, usize)]| x.iter().any(|p| p.0 == '=');
        // Cut only between two claims.
        let next_end = rest
            .iter()
            .position(|p| p.0 == ';' || p.0 == ',')
            .unwrap_or(rest.len());
        if has_eq(piece) && has_eq(&rest[..next_end]) {
            pieces.push(piece.to_vec());
            start = b;
        }
    }
    pieces.push(t[start..].to_vec());
    pieces
}

/// Tokens of a formula, for the rewriting of [`LineReader::prepare_formula`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FTok {
    Num(String),
    Ident(String),
    Op(char),
    Space,
}

impl FTok {
    pub(super) fn text(&self) -> String {
        match self {
            FTok::Num(s) | FTok::Ident(s) => s.clone(),
            FTok::Op(c) => c.to_string(),
            FTok::Space => " ".to_string(),
        }
    }
}

pub(super) fn formula_tokens(s: &str) -> Vec<FTok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            if !matches!(out.last(), Some(FTok::Space)) {
                out.push(FTok::Space);
            }
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i = number_end(&chars, i);
            out.push(FTok::Num(chars[start..i].iter().collect()));
        } else if (c.is_alphabetic() || c == '_') && c != '∂' {
            let start = i;
            i += 1;
            // σ and δ stand alone before a name: σ(x), δo1 is one word.
            if c != 'σ' && c != 'η' {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            out.push(FTok::Ident(chars[start..i].iter().collect()));
        } else {
            out.push(FTok::Op(c));
            i += 1;
        }
    }
    out
}

/// The index of the `)` matching the `(` at `open`.
pub(super) fn matching(toks: &[FTok], open: usize) -> Option<usize> {
    if !matches!(toks.get(open), Some(FTok::Op('('))) {
        return None;
    }
    let mut depth = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            FTok::Op('(') => depth += 1,
            FTok::Op(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the parentheses of `s` balance.
pub(super) fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The two sides of the one `/` outside parentheses.
pub(super) fn split_top_slash(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut at = None;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '/' if depth == 0 => {
                if at.is_some() {
                    return None;
                }
                at = Some(i);
            }
            _ => {}
        }
    }
    let i = at?;
    Some((&s[..i], &s[i + 1..]))
}

/// Whether a written number is meant exactly: an integer, or a number of the
/// network as written there (`0.4` for w5, `0.05` for i1, `0.5` for η or ½).
pub(super) fn exact_literal(net: &Network, lit: &str) -> bool {
    if !lit.contains(['.', 'e', 'E']) {
        return true;
    }
    let Ok(v) = lit.parse::<f64>() else {
        return false;
    };
    if v == 0.5 {
        return true;
    }
    let given = net
        .inputs
        .iter()
        .chain(&net.params)
        .chain(&net.consts)
        .map(|s| s.value)
        .chain(net.targets.iter().flatten().copied())
        .chain(std::iter::once(net.rate))
        .chain(net.data.iter().flat_map(|d| {
            d.rows
                .iter()
                .flat_map(|(a, b)| a.iter().chain(b.iter()).copied())
        }));
    let mut found = false;
    for g in given {
        if g.abs() == v {
            found = true;
            break;
        }
    }
    found
}

/// The line without its comment: `# …` after a space, `// …`.
pub(super) fn strip_comment(t: &[(char, usize)]) -> Text {
    let mut end = t.len();
    for k in 0..t.len() {
        let c = t[k].0;
        let prev_space = k == 0 || t[k - 1].0.is_whitespace();
        if c == '#' && prev_space {
            end = k;
            break;
        }
        if c == '/' && t.get(k + 1).is_some_and(|n| n.0 == '/') && prev_space {
            end = k;
            break;
        }
    }
    t[..end].to_vec()
}

/// What may follow the value of a claim: `;`, `…`, `(rounded)`, `✓`.
pub(super) fn strip_junk(t: &[(char, usize)]) -> Text {
    let mut v = trim(t).to_vec();
    loop {
        let before = v.len();
        while let Some((c, _)) = v.last() {
            if matches!(c, ';' | ',' | '✓' | '✔' | '✗' | '✘' | '!' | '?' | '…')
                || (*c == '.' && v.len() >= 2 && v[v.len() - 2].0 == '.')
            {
                v.pop();
            } else {
                break;
            }
        }
        if v.last().is_some_and(|(c, _)| *c == '.')
            && v.len() >= 2
            && v[v.len() - 2].0.is_ascii_digit()
        {
            // `0.3775.` ends a sentence; `1.` keeps its point.
            let s = to_string(&v);
            if s.matches('.').count() >= 2 {
                v.pop();
            }
        }
        // A trailing parenthetical of words: `(rounded)`, `(약)`.
        if v.last().is_some_and(|(c, _)| *c == ')') {
            let mut depth = 0;
            let mut open = None;
            for k in (0..v.len()).rev() {
                match v[k].0 {
                    ')' => depth += 1,
                    '(' => {
                        depth -= 1;
                        if depth == 0 {
                            open = Some(k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(o) = open {
                let inner = to_string(&v[o + 1..v.len() - 1]);
                let wordy = inner.chars().any(char::is_alphabetic)
                    && !inner
                        .chars()
                        .any(|c| c.is_ascii_digit() || "+-*/^".contains(c));
                let after_space = o > 0 && v[o - 1].0.is_whitespace();
                if wordy && after_space {
                    v.truncate(o);
                }
            }
        }
        // Words after the value: `0.2984 total`, `0.0822 approx`.
        let s = to_string(&v);
        if let Some(sp) = s.trim_end().rfind(' ') {
            let tail = &s[sp + 1..];
            let head = s[..sp].trim_end();
            let tail_is_word = !tail.is_empty()
                && tail
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '.')
                && !head.ends_with(['+', '-', '*', '/', '^', '('])
                && head
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_digit() || c == ')');
            if tail_is_word && !matches!(tail, "e" | "pi") {
                let chars_before = s[..sp].chars().count();
                v.truncate(chars_before);
            }
        }
        v = trim(&v).to_vec();
        if v.len() == before {
            return v;
        }
    }
}

/// LaTeX, Unicode, exponents of ten, decimal commas and `e^x`, written the
/// way the readers below expect.
pub(super) fn normalize(t: &[(char, usize)]) -> Text {
    let t = latex(t);
    let t = braces(&t);
    let t = unicode(&t);
    let t = tens(&t);
    let t = decimal_commas(&t);
    exp_of_e(&t)
}

pub(super) fn latex(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if c != '\\' {
            out.push((c, col));
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < t.len() && t[j].0.is_ascii_alphabetic() {
            j += 1;
        }
        let name = to_string(&t[i + 1..j]);
        if name.is_empty() {
            // `\,` `\;` `\!` `\ ` `\\`: space; `\{` `\}`: parentheses.
            match t.get(i + 1).map(|p| p.0) {
                Some('{') => out.push(('(', col)),
                Some('}') => out.push((')', col)),
                _ => out.push((' ', col)),
            }
            i += 2;
            continue;
        }
        let push_str = |out: &mut Text, s: &str| {
            for ch in s.chars() {
                out.push((ch, col));
            }
        };
        match name.as_str() {
            "frac" | "dfrac" | "tfrac" => {
                let (a, after_a) = group(t, j);
                let (b, after_b) = group(t, after_a);
                if let (Some(a), Some(b)) = (a, b) {
                    push_str(&mut out, "((");
                    out.extend(latex(&a));
                    push_str(&mut out, ")/(");
                    out.extend(latex(&b));
                    push_str(&mut out, "))");
                    i = after_b;
                    continue;
                }
                i = j;
            }
            "text" | "mathrm" | "mathit" | "textrm" | "operatorname" | "mathbf" | "boldsymbol"
            | "textit" | "mathsf" => {
                let (a, after) = group(t, j);
                match a {
                    Some(a) => {
                        out.extend(latex(&a));
                        i = after;
                    }
                    None => i = j,
                }
            }
            _ => {
                let rep = match name.as_str() {
                    "partial" => "∂",
                    "delta" => "δ",
                    "sigma" => "σ",
                    "eta" | "alpha" => "η",
                    "cdot" | "times" | "ast" | "bullet" => "*",
                    "approx" | "simeq" | "cong" | "equiv" => "=",
                    "left" | "right" | "big" | "Big" | "bigl" | "bigr" | "Bigl" | "Bigr"
                    | "displaystyle" | "quad" | "qquad" => " ",
                    "exp" => "exp",
                    "ln" => "ln",
                    "log" => "ln",
                    "tanh" => "tanh",
                    "sqrt" => "sqrt",
                    "prime" => "'",
                    "leftarrow" | "gets" => "=",
                    "minus" => "-",
                    _ => "",
                };
                if rep.is_empty() {
                    out.push(('\\', col));
                    push_str(&mut out, &name);
                } else {
                    push_str(&mut out, rep);
                }
                i = j;
            }
        }
    }
    out
}

/// The brace group `{…}` at `at` (after spaces), and where it ends.
pub(super) fn group(t: &[(char, usize)], at: usize) -> (Option<Text>, usize) {
    let mut k = at;
    while k < t.len() && t[k].0 == ' ' {
        k += 1;
    }
    if k >= t.len() || t[k].0 != '{' {
        // A single character argument: \frac12.
        if k < t.len() && t[k].0.is_ascii_alphanumeric() {
            return (Some(vec![t[k]]), k + 1);
        }
        return (None, at);
    }
    let mut depth = 0;
    for m in k..t.len() {
        match t[m].0 {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (Some(t[k + 1..m].to_vec()), m + 1);
                }
            }
            _ => {}
        }
    }
    (None, at)
}

/// `_{o_1}` → `_o_1`, `^{+}` → `+`, `^{new}` → `_new`, `^{2}` → `^(2)`,
/// other braces → parentheses.
pub(super) fn braces(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if (c == '_' || c == '^') && t.get(i + 1).is_some_and(|p| p.0 == '{') {
            let (inner, after) = group(t, i + 1);
            if let Some(inner) = inner {
                let inner = braces(&inner);
                let s = to_string(&inner);
                let s = s.trim();
                if c == '_' {
                    out.push(('_', col));
                    out.extend(inner);
                } else if matches!(s, "+" | "*" | "'" | "new" | "(new)" | "(+)" | "(t+1)") {
                    let rep = match s {
                        "new" | "(new)" => "_new",
                        _ => "+",
                    };
                    out.extend(rep.chars().map(|ch| (ch, col)));
                } else {
                    out.push(('^', col));
                    out.push(('(', col));
                    out.extend(inner);
                    out.push((')', col));
                }
                i = after;
                continue;
            }
        }
        match c {
            '{' => out.push(('(', col)),
            '}' => out.push((')', col)),
            _ => out.push((c, col)),
        }
        i += 1;
    }
    out
}

pub(super) fn superscript(c: char) -> Option<char> {
    Some(match c {
        '⁰' => '0',
        '¹' => '1',
        '²' => '2',
        '³' => '3',
        '⁴' => '4',
        '⁵' => '5',
        '⁶' => '6',
        '⁷' => '7',
        '⁸' => '8',
        '⁹' => '9',
        '⁻' => '-',
        '⁺' => '+',
        _ => return None,
    })
}

pub(super) fn unicode(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if superscript(c).is_some() {
            let mut run = String::new();
            while i < t.len() {
                match superscript(t[i].0) {
                    Some(d) => run.push(d),
                    None => break,
                }
                i += 1;
            }
            if run == "+" {
                out.push(('+', col));
            } else {
                out.push(('^', col));
                out.push(('(', col));
                out.extend(run.chars().map(|d| (d, col)));
                out.push((')', col));
            }
            continue;
        }
        let rep: &str = match c {
            '−' | '–' | '—' | '‐' | '‑' => "-",
            '×' | '·' | '⋅' | '∙' | '∗' => "*",
            '÷' | '∕' => "/",
            '≈' | '≃' | '≅' | '≒' | '＝' | '→' | '⇒' | '⟹' => "=",
            '½' => "(1/2)",
            '¼' => "(1/4)",
            '¾' => "(3/4)",
            '′' | '’' | 'ʹ' => "'",
            '\u{a0}' | '\u{3000}' | '\t' | '\u{2009}' | '\u{202f}' => " ",
            '：' => ":",
            '（' => "(",
            '）' => ")",
            '，' => ",",
            '₀' => "0",
            '₁' => "1",
            '₂' => "2",
            '₃' => "3",
            '₄' => "4",
            '₅' => "5",
            '₆' => "6",
            '₇' => "7",
            '₈' => "8",
            '₉' => "9",
            'ₒ' => "o",
            'ₕ' => "h",
            'ᵢ' => "i",
            '₊' => "+",
            '₋' => "-",
            _ => "",
        };
        if rep.is_empty() {
            out.push((c, col));
        } else {
            out.extend(rep.chars().map(|ch| (ch, col)));
        }
        i += 1;
    }
    out
}

/// `4.38568*10^(-4)`, `8.77 * 10^-4`, `2.356x10^-2` → `4.38568e-4`.
pub(super) fn tens(t: &[(char, usize)]) -> Text {
    let mut out: Text = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if let Some((rep, used)) = ten_power(t, i, &out) {
            // Drop the spaces and the `*` already written after the number.
            while out.last().is_some_and(|p| p.0 == ' ') {
                out.pop();
            }
            out.extend(rep);
            i += used;
            continue;
        }
        out.push(t[i]);
        i += 1;
    }
    out
}

/// At `i`: `*`/`x` then `10^exp` after a number already in `out`.
pub(super) fn ten_power(
    t: &[(char, usize)],
    i: usize,
    out: &[(char, usize)],
) -> Option<(Text, usize)> {
    if !matches!(t[i].0, '*' | 'x') {
        return None;
    }
    let last = out.iter().rev().find(|p| p.0 != ' ')?;
    if !last.0.is_ascii_digit() {
        return None;
    }
    let s: Vec<char> = t[i + 1..].iter().map(|p| p.0).collect();
    let mut k = 0;
    while k < s.len() && s[k] == ' ' {
        k += 1;
    }
    if !(s.get(k) == Some(&'1') && s.get(k + 1) == Some(&'0')) {
        return None;
    }
    k += 2;
    while k < s.len() && s[k] == ' ' {
        k += 1;
    }
    if s.get(k) != Some(&'^') {
        return None;
    }
    k += 1;
    let paren = s.get(k) == Some(&'(');
    if paren {
        k += 1;
    }
    let mut exp = String::new();
    if matches!(s.get(k), Some('-' | '+')) {
        exp.push(s[k]);
        k += 1;
    }
    let digits_start = k;
    while k < s.len() && s[k].is_ascii_digit() {
        exp.push(s[k]);
        k += 1;
    }
    if k == digits_start {
        return None;
    }
    if paren {
        if s.get(k) != Some(&')') {
            return None;
        }
        k += 1;
    }
    let col = t[i].1;
    let mut rep = vec![('e', col)];
    rep.extend(exp.chars().map(|c| (c, col)));
    Some((rep, k + 1))
}

/// `0,3775` → `0.3775` where the comma cannot be a thousands separator or
/// a list: a digit on each side, no space, and a leading `0` or not three
/// digits after.
pub(super) fn decimal_commas(t: &[(char, usize)]) -> Text {
    let mut out = t.to_vec();
    for k in 1..t.len().saturating_sub(1) {
        if t[k].0 != ',' || !t[k - 1].0.is_ascii_digit() || !t[k + 1].0.is_ascii_digit() {
            continue;
        }
        let mut a = k;
        while a > 0 && t[a - 1].0.is_ascii_digit() {
            a -= 1;
        }
        if a > 0 && (t[a - 1].0 == '.' || t[a - 1].0 == ',') {
            continue;
        }
        let mut b = k + 1;
        while b < t.len() && t[b].0.is_ascii_digit() {
            b += 1;
        }
        if b < t.len() && t[b].0 == ',' {
            continue;
        }
        let left: String = t[a..k].iter().map(|p| p.0).collect();
        if left == "0" || b - k - 1 != 3 {
            out[k].0 = '.';
        }
    }
    out
}

/// `e^(x)`, `e^-0.3775`, `e^x` → `exp(…)`.
pub(super) fn exp_of_e(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        let alone = c == 'e'
            && (i == 0
                || !(t[i - 1].0.is_alphanumeric() || t[i - 1].0 == '_' || t[i - 1].0 == '.'))
            && t.get(i + 1).is_some_and(|p| p.0 == '^');
        if alone {
            let mut k = i + 2;
            if t.get(k).is_some_and(|p| p.0 == '(') {
                out.extend("exp".chars().map(|ch| (ch, col)));
                i = k;
                continue;
            }
            let start = k;
            if t.get(k).is_some_and(|p| p.0 == '-' || p.0 == '+') {
                k += 1;
            }
            while k < t.len() && (t[k].0.is_alphanumeric() || t[k].0 == '.' || t[k].0 == '_') {
                k += 1;
            }
            if k > start {
                out.extend("exp(".chars().map(|ch| (ch, col)));
                out.extend_from_slice(&t[start..k]);
                out.push((')', col));
                i = k;
                continue;
            }
        }
        out.push((c, col));
        i += 1;
    }
    out
}
