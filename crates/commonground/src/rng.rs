//! A small deterministic random number generator (SplitMix64, Steele, Lea & Flood 2014), so that
//! every random choice commonground makes comes from `Params::seed` and is reproducible on every
//! platform and thread count, without a dependency.

/// SplitMix64: a 64-bit state advanced by a fixed odd constant and passed through a mixing
/// function. Not cryptographic; statistically good enough for seeding k-means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// A generator for one named sub-stream of `seed` (e.g. one k of the group clustering), so
    /// that streams do not depend on the order in which they are used.
    pub(crate) fn stream(seed: u64, stream: u64) -> SplitMix64 {
        let mut mix = SplitMix64::new(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        SplitMix64::new(mix.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1) with 53 random bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_sequence() {
        // Reference values of splitmix64.c (Vigna) from state 1234567.
        let mut r = SplitMix64::new(1234567);
        let expected: [u64; 3] = [6457827717110365317, 3203168211198807973, 9817491932198370423];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn floats_are_in_the_unit_interval_and_streams_differ() {
        let mut r = SplitMix64::stream(0, 2);
        for _ in 0..1000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
        assert_ne!(SplitMix64::stream(0, 2).next_u64(), SplitMix64::stream(0, 3).next_u64());
        assert_eq!(SplitMix64::stream(7, 2), SplitMix64::stream(7, 2));
    }
}
