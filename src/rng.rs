//! The one random-number generator of chainrule: SplitMix64, written out here
//! so that a seed gives the same numbers on every platform, compiler and
//! dependency version (no crate's unspecified stream is involved).
//!
//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014; the reference is Vigna's `splitmix64.c`): the
//! state is a `u64`; each step adds the golden-ratio increment
//! `0x9e3779b97f4a7c15` (wrapping) and returns the state mixed by
//! `z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb;
//! z ^= z >> 31` (wrapping multiplications). The seed is the initial state.
//!
//! ```
//! use chainrule::rng::SplitMix64;
//! let mut r = SplitMix64::new(0);
//! assert_eq!(r.next_u64(), 0xe220a8397b1dcdaf);
//! ```

/// The SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator whose initial state is `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1): the top 53 bits of [`next_u64`](Self::next_u64)
    /// divided by 2^53.
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`n` > 0), without modulo bias: draws of
    /// [`next_u64`](Self::next_u64) at or above the largest multiple of `n`
    /// that fits in 2^64 are rejected, and the first one below it is taken
    /// modulo `n`. `n` = 0 gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // 2^64 mod n, computed without overflowing: (2^64 − n) mod n.
        let rejected = n.wrapping_neg() % n;
        loop {
            let x = self.next_u64();
            // x < 2^64 − rejected ⇔ x is below the largest multiple of n.
            if x.checked_add(rejected).is_some() {
                return x % n;
            }
        }
    }

    /// Uniform in [a, b).
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next_unit()
    }

    /// Approximately normal with mean `m` and standard deviation `s`: the
    /// sum of twelve uniforms minus six (Irwin–Hall), which has mean 0 and
    /// variance 1 and uses only additions, so it is the same to the bit
    /// everywhere (tails are cut at 6σ).
    pub fn normal(&mut self, m: f64, s: f64) -> f64 {
        let mut z = -6.0;
        for _ in 0..12 {
            z += self.next_unit();
        }
        m + s * z
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn reference_values() {
        // From Vigna's splitmix64.c with the state set to 0, then 1234567.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = SplitMix64::new(42);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let k = r.below(7);
            assert!(k < 7);
            seen[k as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.below(1), 0);
        assert_eq!(r.below(0), 0);
        let x = r.next_unit();
        assert!((0.0..1.0).contains(&x));
    }
}
