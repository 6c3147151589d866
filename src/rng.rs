//! A small seeded generator, specified here so that the same seed gives the
//! same numbers on every platform and with every version of every
//! dependency: SplitMix64 (Steele, Lea and Flood, 2014), whose output is a
//! fixed function of the seed, and only exact IEEE operations after it.

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1): the top 53 bits, scaled exactly.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A whole number in [0, n), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Uniform in [a, b).
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next_f64()
    }

    /// Approximately normal with mean `m` and standard deviation `s`: the
    /// sum of twelve uniforms minus six (Irwin–Hall), which has mean 0 and
    /// variance 1 and uses only additions, so it is the same to the bit
    /// everywhere (tails are cut at 6σ).
    pub fn normal(&mut self, m: f64, s: f64) -> f64 {
        let mut z = -6.0;
        for _ in 0..12 {
            z += self.next_f64();
        }
        m + s * z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // SplitMix64 of seed 0, as published with the algorithm.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn ranges() {
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            let u = r.uniform(-0.5, 0.5);
            assert!((-0.5..0.5).contains(&u));
            assert!(r.below(7) < 7);
        }
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| r.normal(1.0, 0.1)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.005, "{mean}");
    }
}
