//! Server-dependent tests: see `build_pg.rs`.
include!("build_pg.rs");
