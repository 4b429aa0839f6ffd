//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

const SHARED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// The shared reference data (`../shared/data` beside the repository: Polis's math blobs and
/// openData exports, see the README's "Faithful to Polis"). Without it, a test that needs it
/// reports itself skipped: a `SKIPPED: <test>: ...` line on stderr (written past the harness's
/// capture, so it shows in every run) and `None`, on which the test returns. Under CI
/// (`CI=true`, as the worker tests read it) its absence fails the test instead, so that CI never
/// passes by skipping.
pub fn shared_data() -> Option<PathBuf> {
    let path = PathBuf::from(SHARED_DATA);
    if path.is_dir() {
        return Some(path);
    }
    let test = std::thread::current().name().unwrap_or("<unnamed test>").to_string();
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: shared reference data not found at {SHARED_DATA}, and CI=true makes that a failure");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {test}: shared reference data not found at {SHARED_DATA}");
    None
}

/// The bundled example shipped in the repository.
pub fn bundled_example() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/vtaiwan.uberx"))
}

/// `|a - b| / max(|a|, |b|, 1e-12)`.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// A scratch folder under the system temp dir (named by the test process and `name`), removed
/// on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("commonground-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The folder with `file` written in it.
    pub fn with(self, file: &str, text: &str) -> Scratch {
        fs::write(self.0.join(file), text).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
