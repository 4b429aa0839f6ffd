// The search for PostgreSQL's server binaries, `include!`d by the worker tests' harness
// (`tests/support/mod.rs`) and by the build scripts of commonground-worker and commonground-cli
// (`build_pg.rs`), so that the harness and the `cfg(postgres_server)` that decides whether its
// tests run look in the same places. Paths are written in full: the includers have their own
// `use` lists.

/// The default place of the PostgreSQL 15 server binaries (Debian/Ubuntu `postgresql-15`).
pub const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// `$PG_BIN`, else [`DEFAULT_PG_BIN`], else `pg_config --bindir`; the directory must hold
/// `initdb`, `pg_ctl` and `postgres`.
pub fn find_bin_dir() -> Result<std::path::PathBuf, String> {
    let has_all = |dir: &std::path::Path| ["initdb", "pg_ctl", "postgres"].iter().all(|b| dir.join(b).is_file());
    if let Some(dir) = std::env::var_os("PG_BIN") {
        let dir = std::path::PathBuf::from(dir);
        return if has_all(&dir) {
            Ok(dir)
        } else {
            Err(format!("PG_BIN={} does not hold initdb, pg_ctl and postgres", dir.display()))
        };
    }
    let default = std::path::PathBuf::from(DEFAULT_PG_BIN);
    if has_all(&default) {
        return Ok(default);
    }
    match std::process::Command::new("pg_config").arg("--bindir").output() {
        Ok(out) if out.status.success() => {
            let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_all(&dir) {
                Ok(dir)
            } else {
                Err(format!(
                    "no initdb/pg_ctl/postgres in {DEFAULT_PG_BIN} nor in `pg_config --bindir` ({}); install \
                     postgresql-15 or set PG_BIN",
                    dir.display()
                ))
            }
        }
        _ => Err(format!(
            "no initdb/pg_ctl/postgres in {DEFAULT_PG_BIN} and no pg_config on PATH; install postgresql-15 or set \
             PG_BIN"
        )),
    }
}
