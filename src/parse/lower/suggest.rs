//! "Did you mean": the closest known name, within a bounded budget.

use super::*;

impl Lowerer<'_> {
    pub(super) fn unknown_name(
        &self,
        name: &str,
        span: Span,
        allowed: &dyn Fn(Kind) -> bool,
    ) -> Diagnostic {
        let candidates = self
            .decls
            .iter()
            .filter(|(_, d)| allowed(d.kind))
            .map(|(n, _)| n.as_str());
        let mut d = Diagnostic::new(span, format!("unknown name `{name}`"));
        if let Some(s) = closest(name, candidates) {
            d.message.push_str(&format!("; did you mean `{s}`?"));
        }
        d.with_note(format!(
            "declare it, e.g. `param {name} = 0.1`, `input {name} = 1` or `const {name} = 1`"
        ))
    }
}

/// Whether `name` is a built-in function or activation.
pub(crate) fn is_builtin_name(name: &str) -> bool {
    Builtin::from_name(name).is_some() || Activation::BUILTIN_NAMES.contains(&name)
}

/// Character pairs "did you mean" may compare in one run.
pub(super) const SUGGESTION_BUDGET: usize = 20_000_000;

thread_local! {
    static SUGGESTION_WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The candidate closest to `name`, if any is close enough to suggest.
///
/// Jaro–Winkler favours a shared start (`sigmod` → `sigmoid`); one edit or
/// one swap of neighbours is close enough too, which short names need
/// (`mes` → `mse`, `b2` → `b1`). Fewer edits win, then the shared start.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    // Bounded work: no suggestion for names longer than any real one,
    // none between names of very different lengths, and at most
    // `SUGGESTION_BUDGET` character pairs compared in a whole run.
    const LONGEST: usize = 64;
    if name.len() > LONGEST {
        return None;
    }
    let mut best: Option<((usize, f64), &str)> = None;
    for c in candidates {
        if c.len() > LONGEST || c.len().abs_diff(name.len()) > 3.max(name.len().max(c.len()) / 2) {
            continue;
        }
        let cost = name.len() * c.len();
        let spent = SUGGESTION_WORK.with(|w| {
            let spent = w.get().saturating_add(cost);
            w.set(spent);
            spent
        });
        if spent > SUGGESTION_BUDGET {
            break;
        }
        let jw = strsim::jaro_winkler(name, c);
        let edits = strsim::osa_distance(name, c);
        // 0.7 is reached exactly by two-letter names sharing their first
        // letter; allow for rounding.
        let near = jw >= 0.7 - 1e-9 || (edits <= 1 && name.len() >= 2);
        if !near {
            continue;
        }
        let better = match best {
            None => true,
            Some(((e, s), b)) => edits < e || (edits == e && (jw > s || (jw == s && c < b))),
        };
        if better {
            best = Some(((edits, jw), c));
        }
    }
    best.map(|(_, c)| c)
}
