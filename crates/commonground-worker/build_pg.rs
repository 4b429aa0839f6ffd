// Shared by the build scripts of commonground-worker and commonground-cli (`include!`d): sets
// `cfg(postgres_server)` when PostgreSQL's server binaries are on this machine (`$PG_BIN`, else
// `/usr/lib/postgresql/15/bin`, else `pg_config --bindir`, as the tests' harness looks for them,
// `crates/commonground-worker/tests/support`), or when `CI=true`. The tests that start a server
// are `#[cfg_attr(not(postgres_server), ignore = ...)]`: without the binaries they are counted as
// ignored, never as passed, and under CI they run, so a missing server fails them.

use std::path::Path;

include!("pg_bin.rs");

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_server)");
    println!("cargo::rerun-if-env-changed=PG_BIN");
    println!("cargo::rerun-if-env-changed=CI");
    // Installing the server changes the nearest folder that exists on its path: rerun then.
    let watched = Path::new(DEFAULT_PG_BIN).ancestors().find(|p| p.is_dir()).unwrap_or(Path::new("/"));
    println!("cargo::rerun-if-changed={}", watched.display());
    if find_bin_dir().is_ok() || std::env::var("CI").is_ok_and(|v| v == "true") {
        println!("cargo::rustc-cfg=postgres_server");
    }
}
