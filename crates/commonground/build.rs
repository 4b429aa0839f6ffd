//! Sets `cfg(shared_data)` when the shared reference data (`../shared/data` beside the repository:
//! Polis's math blobs and openData exports) is there, or when `CI=true`. The integration tests that
//! read it are `#[cfg_attr(not(shared_data), ignore = ...)]`: without the data they are counted as
//! ignored, never as passed, and under CI they run, so missing data fails them
//! (`tests/common/mod.rs`, `shared_data`).
//!
//! And writes `posterior_quantiles.bin` into `OUT_DIR`: the default 90% bounds of every vote-count
//! posterior of up to [`POSTERIOR_TABLE_MAX_SEEN`] votes, computed here by the crate's own
//! [`distributions::Beta::quantile`] (the very source file, included below), so that the bridging
//! intervals of a small conversation read them instead of running two Newton searches per
//! distinct count in every process (`bridging/agreement.rs`, `PosteriorBounds`).

use std::path::Path;

#[allow(dead_code)]
#[path = "src/rng.rs"]
mod rng;

#[allow(dead_code)]
#[path = "src/bridging/distributions.rs"]
mod distributions;

/// The largest vote count `n` the table holds, every `s` in `0..=n`: (n + 1)(n + 2) / 2 pairs,
/// 16 bytes each. A group of up to this many members reads every bound from the table; larger
/// ones compute what is above it.
const POSTERIOR_TABLE_MAX_SEEN: u32 = 383;

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    println!("cargo::rustc-check-cfg=cfg(shared_data)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed={}", shared.display());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if shared.is_dir() || ci {
        println!("cargo::rustc-cfg=shared_data");
    }
    posterior_table();
}

/// The table's layout, read by `bridging/agreement.rs` (`StaticBounds`): the largest `n`
/// (u64), the two quantile levels' bits, then `(lower, upper)` of `Beta(s + 1, n − s + 1)` for
/// n = 0, 1, ... and s = 0..=n, at index n (n + 1) / 2 + s; every number little-endian.
fn posterior_table() {
    for file in ["build.rs", "src/rng.rs", "src/bridging/distributions.rs"] {
        println!("cargo::rerun-if-changed={file}");
    }
    // `PosteriorBounds::direct(0.9).q`, the default interval's levels.
    let interval = 0.9;
    let q: (f64, f64) = ((1.0 - interval) / 2.0, (1.0 + interval) / 2.0);
    let max = POSTERIOR_TABLE_MAX_SEEN;
    let mut bytes = Vec::with_capacity(24 + 16 * ((max as usize + 1) * (max as usize + 2) / 2));
    bytes.extend_from_slice(&u64::from(max).to_le_bytes());
    bytes.extend_from_slice(&q.0.to_bits().to_le_bytes());
    bytes.extend_from_slice(&q.1.to_bits().to_le_bytes());
    for n in 0..=max {
        for s in 0..=n {
            let beta = distributions::Beta::posterior(s, n);
            bytes.extend_from_slice(&beta.quantile(q.0).to_bits().to_le_bytes());
            bytes.extend_from_slice(&beta.quantile(q.1).to_bits().to_le_bytes());
        }
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("posterior_quantiles.bin");
    std::fs::write(&out, bytes).expect("OUT_DIR is writable");
}
