//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

const SHARED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// The shared reference data (`../shared/data` beside the repository). On a developer's machine
/// without it, tests that need it print a message and pass; under CI (`CI` set) its absence is a
/// failure, so that CI can never pass by skipping.
pub fn shared_data() -> Option<PathBuf> {
    let path = PathBuf::from(SHARED_DATA);
    if path.is_dir() {
        Some(path)
    } else if std::env::var_os("CI").is_some() {
        panic!("shared reference data not found at {SHARED_DATA}, and CI is set");
    } else {
        println!("skipping: shared reference data not found at {SHARED_DATA}");
        None
    }
}

/// The bundled example shipped in the repository.
pub fn bundled_example() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/vtaiwan.uberx"))
}

/// `|a - b| / max(|a|, |b|, 1e-12)`.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}
