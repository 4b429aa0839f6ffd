//! Sets `cfg(shared_data)` when the shared reference data (`../shared/data` beside the repository:
//! Polis's math blobs and openData exports) is there, or when `CI=true`. The integration tests that
//! read it are `#[cfg_attr(not(shared_data), ignore = ...)]`: without the data they are counted as
//! ignored, never as passed, and under CI they run, so missing data fails them
//! (`tests/common/mod.rs`, `shared_data`).

use std::path::Path;

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    println!("cargo::rustc-check-cfg=cfg(shared_data)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed={}", shared.display());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if shared.is_dir() || ci {
        println!("cargo::rustc-cfg=shared_data");
    }
}
