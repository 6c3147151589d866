// The exercise page's script: it compares what is typed with numbers the
// page carries (EXERCISE, written by chainrule), and computes nothing of the
// network itself except a step's own formula, evaluated with the student's
// earlier values to credit an error carried forward.
//
// Judging follows `chainrule check`: a number is right when it agrees with
// the exact value to the digits written (the exact value rounded to the last
// written place may differ by one unit, for rounding carried from earlier
// steps, when two or more significant digits are written); an integer
// written without a point is meant exactly. A wrong number is named by the
// first known mistake whose value it agrees with; mistakes are only named
// when two or more significant digits are written.
"use strict";

// Built-in functions of the .nn language, as chainrule evaluates them.
const F = {
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : 0),
  leaky_relu: (x, a) => (x > 0 ? x : (a === undefined ? 0.01 : a) * x),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  step: (x, a) => (x > 0 ? 1 : (a === undefined ? 0 : a)),
  ln: (x) => (x < 0 ? NaN : Math.log(x)),
};

// The value lookup the user functions (U) read while a formula is evaluated.
let v = null;

// ---------------------------------------------------------------------------
// Reading and comparing numbers
// ---------------------------------------------------------------------------

// A typed number: its value and how precisely it was written, or null.
// Accepts a Unicode minus, a decimal comma (when there is no point) and
// exponents (1e-4, 8.2E-2).
function readNumber(text) {
  let s = text.trim().replace(/\u2212/g, "-").replace(/\s+/g, "");
  if (!s.includes(".") && /^[+-]?\d+,\d+$/.test(s)) s = s.replace(",", ".");
  const m = /^([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return null;
  const value = Number(s);
  if (!Number.isFinite(value)) return null;
  const mantissa = m[2];
  const exp = m[3] === undefined ? 0 : Math.max(-400, Math.min(400, parseInt(m[3], 10)));
  if (m[3] === undefined && !mantissa.includes(".")) return { value, exact: true };
  const dot = mantissa.indexOf(".");
  const decimals = dot < 0 ? 0 : mantissa.length - dot - 1;
  const significant = mantissa.replace(".", "").replace(/^0+/, "").length;
  return { value, exact: false, places: decimals - exp, significant };
}

// `x` rounded to the written place of `n`.
function roundTo(n, x) {
  if (n.exact) return x;
  const f = Math.pow(10, Math.max(-300, Math.min(300, n.places)));
  const r = Math.round(x * f) / f;
  return Number.isFinite(r) ? r : x;
}

// Whether the written number `n` agrees with the value `x`.
function agrees(n, x) {
  if (!Number.isFinite(x)) return false;
  if (n.exact) return Math.abs(n.value - x) <= 1e-9 * Math.max(Math.abs(x), 1);
  const unit = 1 / Math.pow(10, Math.max(-300, Math.min(300, n.places)));
  const allowance = n.significant >= 2 ? unit : 0;
  return Math.abs(n.value - roundTo(n, x)) <= allowance + unit * 1e-6;
}

// Whether `a` and `b` cannot be told apart at the precision of `n`.
function same(n, a, b) {
  if (n.exact) return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(b), 1);
  return Math.abs(roundTo(n, a) - roundTo(n, b)) <= 1e-6 / Math.pow(10, n.places);
}

// ---------------------------------------------------------------------------
// The verdict on one box
// ---------------------------------------------------------------------------

// The student's readable values in group `g`, by quantity name.
function typedValues(g) {
  const out = {};
  for (const input of g.el.querySelectorAll("input[data-quantity]")) {
    const n = readNumber(input.value);
    if (n) out[input.dataset.quantity] = n.value;
  }
  return out;
}

// Judges the box `input` of group `g`: { ok, code, text }, or null if empty.
function judge(g, input) {
  const name = input.dataset.quantity;
  const item = g.data.items[name];
  if (input.value.trim() === "") return null;
  const n = readNumber(input.value);
  if (!n) return { ok: false, code: "", text: T.unreadable };
  if (agrees(n, item.value)) return { ok: true, code: "", text: T.right };
  const fine = n.exact || n.significant >= 2;
  // Right for the student's own earlier values?
  if (fine && item.f) {
    const typed = typedValues(g);
    delete typed[name];
    const lookup = (q) => {
      if (q in typed) return typed[q];
      if (q in g.data.fixed) return g.data.fixed[q];
      if (q in g.data.items) return g.data.items[q].value;
      return NaN;
    };
    v = lookup;
    let own = NaN;
    try {
      own = item.f(lookup);
    } catch (e) {
      own = NaN;
    }
    if (Number.isFinite(own) && !same(n, own, item.value) && agrees(n, own)) {
      return { ok: true, code: "carried_forward", text: T.carried };
    }
  }
  if (fine) {
    // Each mistake: [code, the value it gives, index of its words].
    for (const [code, value, w] of item.mistakes) {
      if (agrees(n, value) && !same(n, value, item.value)) {
        const words = (T.mistakes && T.mistakes[code]) || WORDS[w];
        return { ok: false, code, text: T.wrong + " " + words };
      }
    }
  }
  return { ok: false, code: "", text: n.significant < 2 && !n.exact ? T.more_digits : T.wrong_plain };
}

// Shows the verdict of `input` and announces it when `speak`.
function show(g, input, speak) {
  const r = judge(g, input);
  const out = g.el.querySelector('[data-verdict-for="' + CSS.escape(input.dataset.quantity) + '"]');
  input.classList.remove("right", "wrong", "carried");
  if (!r) {
    out.dataset.ok = "";
    out.dataset.diagnosis = "";
    out.textContent = "";
    input.removeAttribute("aria-invalid");
    return;
  }
  out.dataset.ok = String(r.ok);
  out.dataset.diagnosis = r.code;
  out.textContent = (r.ok ? "\u2713 " : "\u2717 ") + r.text;
  input.classList.add(r.code === "carried_forward" ? "carried" : r.ok ? "right" : "wrong");
  input.setAttribute("aria-invalid", String(!r.ok));
  if (speak) {
    document.getElementById("live").textContent = input.dataset.quantity + ": " + out.textContent;
  }
}

// ---------------------------------------------------------------------------
// Progress: saved per page and group, so that a reload keeps the answers
// ---------------------------------------------------------------------------

function storageKey(g) {
  return "chainrule:" + EXERCISE.key + ":" + g.id;
}

function save(g) {
  const values = {};
  for (const input of g.el.querySelectorAll("input[data-quantity]")) {
    if (input.value !== "") values[input.dataset.quantity] = input.value;
  }
  try {
    localStorage.setItem(storageKey(g), JSON.stringify(values));
  } catch (e) {
    // Storage may be off (private windows, file:// in some browsers).
  }
}

function load(g) {
  let values = {};
  try {
    values = JSON.parse(localStorage.getItem(storageKey(g)) || "{}");
  } catch (e) {
    values = {};
  }
  for (const input of g.el.querySelectorAll("input[data-quantity]")) {
    input.value = values[input.dataset.quantity] || "";
  }
}

function updateProgress(g) {
  const inputs = g.el.querySelectorAll("input[data-quantity]");
  let right = 0;
  for (const input of inputs) {
    const out = g.el.querySelector('[data-verdict-for="' + CSS.escape(input.dataset.quantity) + '"]');
    if (out.dataset.ok === "true") right += 1;
  }
  document.getElementById("progress").textContent = T.progress
    .replace("{right}", String(right))
    .replace("{total}", String(inputs.length));
}

// ---------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------

const groups = {};
for (const el of document.querySelectorAll(".group")) {
  groups[el.dataset.group] = { id: el.dataset.group, el, data: EXERCISE.groups[el.dataset.group] };
}
let current = groups[Object.keys(groups)[0]];

// Re-judges every box of `g` (a value can change what later boxes carry).
function judgeAll(g) {
  for (const input of g.el.querySelectorAll("input[data-quantity]")) show(g, input, false);
  updateProgress(g);
}

for (const g of Object.values(groups)) {
  load(g);
  judgeAll(g);
  const inputs = Array.from(g.el.querySelectorAll("input[data-quantity]"));
  inputs.forEach((input, i) => {
    input.addEventListener("input", () => {
      save(g);
    });
    input.addEventListener("change", () => {
      save(g);
      judgeAll(g);
      show(g, input, true);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      save(g);
      judgeAll(g);
      show(g, input, true);
      const next = inputs[i + 1];
      if (next) next.focus();
    });
  });
  // "Show the next factor" reveals one block of the worked step at a time;
  // "Show this step" all of them.
  for (const part of g.el.querySelectorAll("section.part")) {
    const blocks = Array.from(part.querySelectorAll(".block"));
    const hint = part.querySelector("button.hint");
    const all = part.querySelector("button.show");
    const done = () => {
      if (blocks.every((b) => !b.hidden)) {
        if (hint) hint.disabled = true;
        if (all) all.disabled = true;
      }
    };
    if (hint) {
      hint.addEventListener("click", () => {
        const next = blocks.find((b) => b.hidden);
        if (next) next.hidden = false;
        done();
      });
    }
    if (all) {
      all.addEventListener("click", () => {
        blocks.forEach((b) => (b.hidden = false));
        done();
      });
    }
  }
}

const picker = document.getElementById("group");
if (picker) {
  picker.addEventListener("change", () => {
    for (const g of Object.values(groups)) g.el.hidden = g.id !== picker.value;
    current = groups[picker.value];
    updateProgress(current);
  });
}

document.getElementById("reset").addEventListener("click", () => {
  if (!window.confirm(T.reset_confirm)) return;
  for (const input of current.el.querySelectorAll("input[data-quantity]")) input.value = "";
  for (const b of current.el.querySelectorAll(".block")) b.hidden = true;
  for (const b of current.el.querySelectorAll(".help button")) b.disabled = false;
  try {
    localStorage.removeItem(storageKey(current));
  } catch (e) {
    // Nothing saved.
  }
  judgeAll(current);
});

updateProgress(current);
