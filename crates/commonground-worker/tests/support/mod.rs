//! Test support: a throwaway PostgreSQL server for each test, and Polis's schema.
//!
//! Include it from an integration test with `mod support;`, then:
//!
//! ```ignore
//! let Some(pg) = support::PgCluster::start() else { return };
//! let url = pg.create_database("polis");
//! let mut db = pg.client("polis");
//! support::create_polis_schema(&mut db);
//! ```
//!
//! `PgCluster::start` runs `initdb` into a fresh temporary directory and starts `postgres` on a
//! free TCP port of 127.0.0.1 (its unix socket also lives in that directory), with durability
//! switched off for speed. Dropping the cluster stops it at once and deletes the directory, so
//! several tests and several test binaries can each run their own cluster side by side.
//!
//! Where no server can be started, `start` prints `SKIPPED: <test>: no PostgreSQL server
//! (<reason>)` to stderr and returns `None`, so the test returns early; with `CI=true` it panics
//! instead: in CI a test whose server is missing fails, it never passes.
//!
//! The binaries (`initdb`, `pg_ctl`, `postgres`) are taken from `$PG_BIN`, else
//! `/usr/lib/postgresql/15/bin`, else `pg_config --bindir`. Run as root, every server command runs
//! as the `postgres` system user (initdb refuses root) and the directory is handed to that user.
//! `$PG_TEST_TMPDIR` overrides the parent of the temporary directories (default: the system
//! temporary directory); a unix socket path must stay under about 100 bytes.
#![allow(dead_code)]

pub mod fixtures;

use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Polis tables the math worker reads and writes (see the header of the file for its source).
pub const POLIS_SCHEMA_SQL: &str = include_str!("polis_schema.sql");

// DEFAULT_PG_BIN and find_bin_dir: one search for the server binaries, shared with the build
// scripts that decide whether these tests run (`cfg(postgres_server)`).
include!("../../pg_bin.rs");

/// How long a start or stop may take before it counts as failed.
const PG_CTL_TIMEOUT_SECS: u32 = 90;

/// How many fresh ports `start` tries when the one it picked was taken in the meantime.
const PORT_ATTEMPTS: u32 = 5;

static NEXT_CLUSTER: AtomicU32 = AtomicU32::new(0);

/// Whether this run is CI (`CI=true`), where a missing server fails a test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports that `test` cannot get a PostgreSQL server: in CI (`CI=true`) panics with `reason`;
/// elsewhere prints `SKIPPED: <test>: no PostgreSQL server (<reason>)` to stderr and returns, and
/// the test should then return early.
///
/// The line is written to the process's stderr directly, so the test harness's output capture
/// does not hide it.
pub fn skip_or_fail(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: no PostgreSQL server, and CI=true makes that a failure: {reason}");
    }
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {test}: no PostgreSQL server ({reason})");
}

/// The name of the running test (libtest names each test's thread after it).
pub fn current_test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "<unnamed test>".to_string(),
    }
}

/// Creates Polis's tables (`polis_schema.sql`) in the database `client` is connected to.
pub fn create_polis_schema(client: &mut postgres::Client) {
    client.batch_execute(POLIS_SCHEMA_SQL).unwrap_or_else(|e| panic!("loading polis_schema.sql failed: {e:?}"));
}

/// A PostgreSQL server of its own, in a temporary directory, for one test.
#[derive(Debug)]
pub struct PgCluster {
    bin_dir: PathBuf,
    /// The temporary directory: holds `data/`, `sock/` and `server.log`.
    root: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    /// (uid, gid) of the `postgres` user when running as root, else `None` (run as ourselves).
    run_as: Option<(u32, u32)>,
}

impl PgCluster {
    /// Starts a fresh server, or reports why it cannot (see [`skip_or_fail`]) and returns `None`.
    pub fn start() -> Option<PgCluster> {
        match PgCluster::try_start() {
            Ok(cluster) => Some(cluster),
            Err(reason) => {
                skip_or_fail(&current_test_name(), &reason);
                None
            }
        }
    }

    /// Starts a fresh server, or says why it could not (no skipping or CI logic here).
    pub fn try_start() -> Result<PgCluster, String> {
        let bin_dir = find_bin_dir()?;
        let run_as = if running_as_root() { Some(postgres_user_ids()?) } else { None };

        let base = std::env::var_os("PG_TEST_TMPDIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let root = base.join(format!(
            "cg-pg-{}-{}-{:08x}",
            std::process::id(),
            NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        fs::create_dir(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let mut cluster = PgCluster {
            data_dir: root.join("data"),
            socket_dir: root.join("sock"),
            log_file: root.join("server.log"),
            root,
            bin_dir,
            port: 0,
            run_as,
        };
        // From here on, dropping `cluster` cleans up whatever was made.
        cluster.init()?;
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            cluster.port = free_port()?;
            cluster.append_conf(&format!("port = {}\n", cluster.port))?;
            match cluster.pg_ctl_start() {
                Ok(()) => {
                    cluster.wait_until_accepting(Duration::from_secs(30))?;
                    return Ok(cluster);
                }
                Err(e) => {
                    let port_taken = e.contains("Address already in use") || e.contains("could not bind");
                    last_error = e;
                    if !port_taken {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// `postgres://postgres@127.0.0.1:PORT/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, db)
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the unix socket (`host=<this dir>` connects through it).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The temporary directory holding everything of this cluster (deleted on drop).
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The server's log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_file, 40)
    }

    /// Creates the database `name` (owned by `postgres`) and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let mut admin = self.client("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e:?}"));
        self.url(name)
    }

    /// A new connection to database `db` as `postgres` over TCP; panics if it cannot connect.
    pub fn client(&self, db: &str) -> postgres::Client {
        self.try_client(db).unwrap_or_else(|e| {
            panic!("cannot connect to {}: {e:?}\n-- server log:\n{}", self.url(db), self.log_tail())
        })
    }

    /// A new connection to database `db` as `postgres` over TCP.
    pub fn try_client(&self, db: &str) -> Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .dbname(db)
            .connect_timeout(Duration::from_secs(10))
            .connect(postgres::NoTls)
    }

    /// Whether the server is running (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        self.pg_ctl(&["status"]).map(|out| out.status.success()).unwrap_or(false)
    }

    /// Stops the server (fast shutdown: sessions are ended, the server shuts down cleanly) and
    /// waits until it is gone. Does nothing if it is not running.
    pub fn stop(&self) {
        self.stop_with("fast");
    }

    /// Stops the server at once, like a crash (immediate shutdown: recovery runs on the next
    /// start). Does nothing if it is not running.
    pub fn stop_immediate(&self) {
        self.stop_with("immediate");
    }

    /// Starts the stopped server again, on the same data directory and port, and waits until it
    /// accepts connections. Panics if it cannot.
    pub fn start_again(&self) {
        if let Err(e) = self.pg_ctl_start() {
            panic!("restarting PostgreSQL on port {} failed: {e}", self.port);
        }
        if let Err(e) = self.wait_until_accepting(Duration::from_secs(30)) {
            panic!("{e}");
        }
    }

    /// Stops the server (fast) and starts it again; existing connections are closed.
    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }

    // ---- internals ----

    fn stop_with(&self, mode: &str) {
        if !self.is_running() {
            return;
        }
        let timeout = PG_CTL_TIMEOUT_SECS.to_string();
        match self.pg_ctl(&["stop", "-m", mode, "-w", "-t", &timeout]) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                panic!("pg_ctl stop -m {mode} failed: {}\n-- server log:\n{}", output_text(&out), self.log_tail())
            }
            Err(e) => panic!("pg_ctl stop -m {mode} failed: {e}"),
        }
    }

    /// `initdb`, then the settings (everything but the port).
    fn init(&self) -> Result<(), String> {
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod {}: {e}", self.root.display()))?;
        fs::create_dir(&self.socket_dir).map_err(|e| format!("cannot create {}: {e}", self.socket_dir.display()))?;
        if let Some((uid, gid)) = self.run_as {
            for dir in [&self.root, &self.socket_dir] {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {} to the postgres user: {e}", dir.display()))?;
            }
        }
        let socket_path_len = self.socket_dir.as_os_str().len() + "/.s.PGSQL.65535".len();
        if socket_path_len > 100 {
            return Err(format!(
                "the unix socket path under {} would be too long ({socket_path_len} bytes); set PG_TEST_TMPDIR \
                 to a shorter directory",
                self.socket_dir.display()
            ));
        }
        let data = self.data_dir.to_str().ok_or("temporary directory path is not UTF-8")?;
        let out = self
            .command("initdb")
            .args(["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin_dir.join("initdb").display()))?;
        if !out.status.success() {
            return Err(format!("initdb failed ({}): {}", out.status, output_text(&out)));
        }
        let socket_dir = self.socket_dir.to_str().ok_or("temporary directory path is not UTF-8")?;
        // fsync = off only matters when the machine crashes. synchronous_commit stays on: with it
        // off, a commit returns before its WAL leaves PostgreSQL's buffers, and an immediate stop
        // (`stop_immediate`, a crash) then loses transactions the client saw commit.
        self.append_conf(&format!(
            "\n# commonground test harness\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             max_connections = 100\n\
             shared_buffers = 32MB\n\
             fsync = off\n\
             full_page_writes = off\n\
             logging_collector = off\n",
            socket_dir.replace('\'', "''")
        ))
    }

    fn append_conf(&self, text: &str) -> Result<(), String> {
        let path = self.data_dir.join("postgresql.conf");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let log = self.log_file.to_str().ok_or("temporary directory path is not UTF-8")?;
        let timeout = PG_CTL_TIMEOUT_SECS.to_string();
        let out = self.pg_ctl(&["start", "-w", "-t", &timeout, "-l", log])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl start on port {} failed ({}): {}\n-- server log:\n{}",
                self.port,
                out.status,
                output_text(&out),
                self.log_tail()
            ))
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output, String> {
        let data = self.data_dir.to_str().ok_or("temporary directory path is not UTF-8")?;
        self.command("pg_ctl")
            .args(["-D", data])
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin_dir.join("pg_ctl").display()))
    }

    /// A server command, run as the `postgres` user when we are root, with a clean environment
    /// as far as libpq and the locale go.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(&self.root).env("LC_ALL", "C").env("LANG", "C");
        for var in ["PGDATA", "PGPORT", "PGHOST", "PGHOSTADDR", "PGUSER", "PGDATABASE", "PGOPTIONS", "PGPASSWORD"] {
            cmd.env_remove(var);
        }
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid).env("USER", "postgres").env("HOME", &self.root);
        }
        cmd
    }

    fn wait_until_accepting(&self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            match self.try_client("postgres") {
                Ok(mut client) => match client.simple_query("SELECT 1") {
                    Ok(_) => return Ok(()),
                    Err(e) if Instant::now() >= deadline => {
                        return Err(format!("PostgreSQL on port {} answers but fails: {e:?}", self.port))
                    }
                    Err(_) => {}
                },
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "PostgreSQL on port {} does not accept connections: {e:?}\n-- server log:\n{}",
                        self.port,
                        self.log_tail()
                    ))
                }
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PgCluster {
    /// Stops the server immediately and deletes its directory. Never panics.
    fn drop(&mut self) {
        if self.data_dir.join("postmaster.pid").exists() {
            let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "30"]);
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    if let Ok(meta) = fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id").arg("-u").output().map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0").unwrap_or(false)
}

/// (uid, gid) of the `postgres` system user.
fn postgres_user_ids() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id").args([flag, "postgres"]).output().map_err(|e| format!("cannot run id: {e}"))?;
        if !out.status.success() {
            return Err("running as root, and there is no `postgres` user to run the server as (initdb refuses root)"
                .to_string());
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("id {flag} postgres: {e}"))
    };
    Ok((id("-u")?, id("-g")?))
}

/// A TCP port of 127.0.0.1 that nothing listens on right now.
fn free_port() -> Result<u16, String> {
    for _ in 0..20 {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
        let port = listener.local_addr().map_err(|e| format!("local_addr: {e}"))?.port();
        drop(listener);
        // Skip a port some other server already answers on.
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(100)).is_err() {
            return Ok(port);
        }
    }
    Err("found no free TCP port on 127.0.0.1".to_string())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn output_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout).trim(), {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.trim().is_empty() {
            String::new()
        } else {
            format!("\n{}", err.trim())
        }
    })
}

fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}
