// Shared by the build scripts of commonground-worker and commonground-cli (`include!`d): sets
// `cfg(postgres_server)` when PostgreSQL's server binaries are on this machine (`$PG_BIN`, else
// `/usr/lib/postgresql/15/bin`, else `pg_config --bindir`, as the tests' harness looks for them,
// `crates/commonground-worker/tests/support`), or when `CI=true`. The tests that start a server
// are `#[cfg_attr(not(postgres_server), ignore = ...)]`: without the binaries they are counted as
// ignored, never as passed, and under CI they run, so a missing server fails them.

use std::path::{Path, PathBuf};

const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn pg_bin() -> Option<PathBuf> {
    let has_server = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|b| dir.join(b).is_file());
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|d| has_server(d));
    }
    if has_server(Path::new(DEFAULT_PG_BIN)) {
        return Some(PathBuf::from(DEFAULT_PG_BIN));
    }
    let out = std::process::Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    has_server(&dir).then_some(dir)
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_server)");
    println!("cargo::rerun-if-env-changed=PG_BIN");
    println!("cargo::rerun-if-env-changed=CI");
    // Installing the server changes the nearest folder that exists on its path: rerun then.
    let watched = Path::new(DEFAULT_PG_BIN).ancestors().find(|p| p.is_dir()).unwrap_or(Path::new("/"));
    println!("cargo::rerun-if-changed={}", watched.display());
    if pg_bin().is_some() || std::env::var("CI").is_ok_and(|v| v == "true") {
        println!("cargo::rustc-cfg=postgres_server");
    }
}
