//! Deterministic random networks as `.nn` text, for page tests.

/// A tiny deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A value in [lo, hi) rounded to 2 decimals.
    pub fn value(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo + (hi - lo) * u) * 100.0).round() / 100.0
    }
}

/// A network with `widths` (hidden and output layers), random activations
/// and a loss that suits the output layer.
pub fn network(seed: u64, inputs: usize, widths: &[usize]) -> String {
    let mut r = Rng::new(seed);
    let acts = [
        "sigmoid",
        "tanh",
        "softplus",
        "leaky_relu(0.2)",
        "identity",
        "swish",
    ];
    let mut s = format!("network \"Random {seed}\"\nfn swish(x) = x*sigmoid(x)\n");
    let ins: Vec<String> = (1..=inputs)
        .map(|i| format!("x{i} = {}", r.value(-1.0, 1.0)))
        .collect();
    s += &format!("input {}\n", ins.join(", "));
    let mut prev: Vec<String> = (1..=inputs).map(|i| format!("x{i}")).collect();
    let mut params = Vec::new();
    for (l, &w) in widths.iter().enumerate() {
        let last = l + 1 == widths.len();
        let act = if last {
            "sigmoid"
        } else {
            acts[r.below(acts.len())]
        };
        let lname = format!("L{}", l + 1);
        s += &format!("layer {lname} {act} {{\n");
        let mut names = Vec::new();
        for n in 1..=w {
            let name = format!("n{}_{n}", l + 1);
            let mut terms = Vec::new();
            for (k, p) in prev.iter().enumerate() {
                let wname = format!("w{}_{n}_{}", l + 1, k + 1);
                params.push(format!("{wname} = {}", r.value(-0.9, 0.9)));
                terms.push(format!("{wname}*{p}"));
            }
            if r.below(3) > 0 {
                let b = format!("b{}_{n}", l + 1);
                params.push(format!("{b} = {}", r.value(-0.5, 0.5)));
                terms.push(b);
            }
            s += &format!("    {name} = {}\n", terms.join(" + "));
            names.push(name);
        }
        s += "}\n";
        prev = names;
    }
    s += &format!("param {}\n", params.join(", "));
    let targets: Vec<String> = prev
        .iter()
        .map(|n| format!("{n} = {}", r.value(0.05, 0.95)))
        .collect();
    s += &format!("target {}\n", targets.join(", "));
    s += ["loss mse\n", "loss bce\n", "loss sse\n"][r.below(3)];
    s += "rate 0.3\n";
    s
}
