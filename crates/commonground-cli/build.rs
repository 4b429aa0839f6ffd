//! The worker process tests need a PostgreSQL server: see `../commonground-worker/build_pg.rs`.
include!("../commonground-worker/build_pg.rs");
