//! `commonground worker` as real processes against a real PostgreSQL: killed with SIGKILL at
//! random points, several workers sharing one database, stopped with SIGTERM.
//!
//! Each test starts its own throwaway server (`commonground-worker/tests/support`); without the
//! PostgreSQL binaries a test prints a `SKIPPED:` line and returns (with `CI=true` it fails).
//! Synchronisation is by polling the database or the workers' JSON logs, always with a deadline.
//!
//! The last test is ignored: it reproduces a gap in the worker's takeover of a dead worker's
//! conversations (see its comment) and passes once busy conversations are retried.

#[path = "../../commonground-worker/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use commonground::generate::{Synthetic, SyntheticParams};
use commonground::io::PolisMath;
use commonground::{Batching, Conversation, ConversationState, Id, Params, Statement, Vote, VoteBatch};
use serde_json::Value;
use support::fixtures::{
    insert_conversation, insert_votes, int_id, keep_fixture_tids, math_main, without_worker_fields,
};
use support::{create_polis_schema, PgCluster};

const ENV: &str = "test";
const DB: &str = "polis";

// ---------------------------------------------------------------------------------------------
// Processes and logs
// ---------------------------------------------------------------------------------------------

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A scratch directory for the workers' logs, removed on drop (kept when the test panics, so that
/// the logs can be read).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("cg-worker-processes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            eprintln!("worker logs kept in {}", self.0.display());
        }
    }
}

/// Starts `commonground worker` on `url` with its stderr (the JSON log) going to `log`.
fn spawn_worker(url: &str, log: &Path, extra: &[&str]) -> Child {
    let stderr = File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_commonground"))
        .args(["worker", "--database-url", url, "--math-env", ENV])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the commonground binary starts")
}

/// Waits up to `limit` for `child` to exit.
fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits for `child` or kills it and panics after `limit`.
fn wait_or_kill(child: &mut Child, limit: Duration, what: &str, log: &Path) -> ExitStatus {
    match wait_timeout(child, limit) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {limit:?}; log:\n{}", std::fs::read_to_string(log).unwrap_or_default())
        }
    }
}

/// SIGTERM, the way a service manager stops the worker (no libc: the `kill` command).
fn sigterm(child: &Child) {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill runs");
    assert!(status.success(), "kill -TERM {} failed: {status}", child.id());
}

/// The JSON lines of a worker's log (other lines, such as the CLI's final error line, skipped).
fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_some())
        .collect()
}

fn event_name(e: &Value) -> &str {
    e["event"].as_str().unwrap_or("")
}

fn zid_of(e: &Value) -> Option<i32> {
    e["zid"].as_i64().map(|z| z as i32)
}

/// Zids claimed and not (yet) released, per the log.
fn open_claims(events: &[Value]) -> BTreeSet<i32> {
    let mut open = BTreeSet::new();
    for e in events {
        match (event_name(e), zid_of(e)) {
            ("claimed", Some(z)) => {
                open.insert(z);
            }
            ("released", Some(z)) => {
                open.remove(&z);
            }
            _ => {}
        }
    }
    open
}

/// Deterministic pseudo-random numbers (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------

/// Polls `check` until it returns true; panics with `what` after `limit`.
fn poll_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Client sessions on the test database other than `client`'s own (the workers' connections).
fn other_sessions(client: &mut postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            &[],
        )
        .unwrap()
        .get(0)
}

fn advisory_locks(client: &mut postgres::Client) -> i64 {
    client.query_one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", &[]).unwrap().get(0)
}

fn math_tick(client: &mut postgres::Client, zid: i32) -> Option<i64> {
    client
        .query_opt("SELECT math_tick FROM math_ticks WHERE zid = $1 AND math_env = $2", &[&zid, &ENV])
        .unwrap()
        .map(|r| r.get(0))
}

/// (vote_cursor, math_tick) of the worker's own row (None also while the worker has not created
/// its table yet).
fn state_row(client: &mut postgres::Client, zid: i32) -> Option<(i64, i64)> {
    let exists: bool = client.query_one("SELECT to_regclass('commonground_state') IS NOT NULL", &[]).unwrap().get(0);
    if !exists {
        return None;
    }
    client
        .query_opt(
            "SELECT vote_cursor, math_tick FROM commonground_state WHERE zid = $1 AND math_env = $2",
            &[&zid, &ENV],
        )
        .unwrap()
        .map(|r| (r.get(0), r.get(1)))
}

fn stored_state(client: &mut postgres::Client, zid: i32) -> ConversationState {
    let bytes: Vec<u8> = client
        .query_one("SELECT state FROM commonground_state WHERE zid = $1 AND math_env = $2", &[&zid, &ENV])
        .unwrap()
        .get(0);
    ConversationState::from_bytes(&bytes).unwrap_or_else(|e| panic!("zid {zid}: stored state does not decode: {e}"))
}

fn newest_vote(client: &mut postgres::Client, zid: i32) -> Option<i64> {
    client.query_one("SELECT max(created) FROM votes WHERE zid = $1", &[&zid]).unwrap().get(0)
}

/// Conversations whose stored vote cursor is not their newest vote yet.
fn behind(client: &mut postgres::Client) -> Vec<i32> {
    client
        .query(
            "SELECT v.zid FROM (SELECT zid, max(created) AS newest FROM votes GROUP BY zid) v
               LEFT JOIN commonground_state s ON s.zid = v.zid AND s.math_env = $1
              WHERE s.vote_cursor IS DISTINCT FROM v.newest ORDER BY v.zid",
            &[&ENV],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The latest vote per (pid, tid) in the database, in Polis's sign, over statements that exist.
fn latest_cells(client: &mut postgres::Client, zid: i32) -> BTreeMap<(i32, i32), i16> {
    client
        .query(
            "SELECT DISTINCT ON (pid, tid) pid, tid, vote FROM votes
              WHERE zid = $1 AND vote IS NOT NULL AND tid IN (SELECT tid FROM comments WHERE zid = $1)
              ORDER BY pid, tid, created DESC",
            &[&zid],
        )
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect()
}

fn distinct_participants(client: &mut postgres::Client, zid: i32) -> i64 {
    client
        .query_one(
            "SELECT count(DISTINCT pid) FROM votes
              WHERE zid = $1 AND vote IS NOT NULL AND tid IN (SELECT tid FROM comments WHERE zid = $1)",
            &[&zid],
        )
        .unwrap()
        .get(0)
}

/// The cells of a stored matrix, in Polis's sign (ours is agree = +1, the database's agree = −1).
fn state_cells(state: &ConversationState) -> BTreeMap<(i32, i32), i16> {
    let m = &state.matrix;
    let mut cells = BTreeMap::new();
    for (row, pid) in m.participants.iter().enumerate() {
        for k in m.indptr[row] as usize..m.indptr[row + 1] as usize {
            let tid = &m.statements[m.indices[k] as usize];
            cells.insert((int_id(pid), int_id(tid)), -(m.values[k] as i16));
        }
    }
    cells
}

fn sum_user_vote_counts(math: &Value) -> u64 {
    math["user-vote-counts"]
        .as_object()
        .expect("user-vote-counts is an object")
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

/// The math, math tick and state of one conversation agree with each other (one transaction).
fn assert_consistent_row(client: &mut postgres::Client, zid: i32) {
    let row = client
        .query_one(
            "SELECT m.math_tick, (m.data->>'math_tick')::bigint, t.math_tick, s.math_tick, b.math_tick
               FROM math_main m
               JOIN math_ticks t ON t.zid = m.zid AND t.math_env = m.math_env
               JOIN commonground_state s ON s.zid = m.zid AND s.math_env = m.math_env
               JOIN math_bidtopid b ON b.zid = m.zid AND b.math_env = m.math_env
              WHERE m.zid = $1 AND m.math_env = $2",
            &[&zid, &ENV],
        )
        .unwrap();
    let ticks: Vec<i64> = (0..5).map(|i| row.get(i)).collect();
    assert!(ticks.iter().all(|&t| t == ticks[0]), "zid {zid}: math ticks disagree across tables: {ticks:?}");
}

/// Where two JSON values first differ, for failure messages.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(u), Some(v)) => first_difference(u, v, &format!("{path}.{k}")),
                (u, v) => Some(format!("{path}.{k}: {u:?} vs {v:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => {
            let show = |v: &Value| v.to_string().chars().take(300).collect::<String>();
            Some(format!("{path}: {} vs {}", show(a), show(b)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

fn example() -> commonground::io::ConversationData {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/vtaiwan.uberx");
    commonground::io::load(&path).expect("the bundled example loads")
}

/// A small synthetic conversation: statements and time-stamped votes.
fn synthetic(participants: usize, statements: usize, seed: u64) -> (Vec<Statement>, VoteBatch) {
    let s = Synthetic::new(SyntheticParams {
        participants,
        statements,
        votes: participants * statements / 2,
        groups: 2 + (seed % 2) as usize,
        seed,
        bridging: None,
        pass_rate: 0.15,
    })
    .unwrap();
    (s.statements(), VoteBatch::from_events(&s.votes()))
}

/// `batch` in the order the worker reads votes (`ORDER BY tid, pid, created`). The matrix orders
/// new rows and columns by id whatever the batch order, so this only makes the reference read
/// exactly what the worker reads.
fn in_worker_order(batch: &VoteBatch) -> VoteBatch {
    let events = batch.to_events();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&events[a], &events[b]);
        (&x.statement, &x.participant, x.timestamp).cmp(&(&y.statement, &y.participant, y.timestamp))
    });
    batch.select(&order)
}

/// `votes` in time order, cut into `n` slices of (nearly) equal size.
fn time_slices(votes: &VoteBatch, n: usize) -> Vec<VoteBatch> {
    let mut order: Vec<usize> = (0..votes.len()).collect();
    order.sort_by_key(|&i| votes.timestamp(i));
    (0..n).map(|k| votes.select(&order[k * order.len() / n..(k + 1) * order.len() / n])).collect()
}

fn reference_math(conv: &Conversation) -> Value {
    without_worker_fields(serde_json::to_value(PolisMath::from_analysis(conv.analysis().unwrap())).unwrap())
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL at random points
// ---------------------------------------------------------------------------------------------

/// How one `--once` run ended.
#[derive(Debug, Default)]
struct KillStats {
    runs: usize,
    killed: usize,
    finished_before_kill: usize,
    killed_before_claim: usize,
    killed_mid_update: usize,
    /// Of those: the update had committed (math tick advanced) but was not logged yet.
    killed_after_commit_before_log: usize,
    killed_between_updates: usize,
    killed_after_last_update: usize,
    /// The killed worker's advisory lock was still held right after `wait()` returned.
    lock_held_after_kill: usize,
}

#[test]
fn killing_the_worker_at_random_points_loses_nothing_and_counts_nothing_twice() {
    let Some(pg) = PgCluster::start() else { return };
    let test_start = Instant::now();
    let url = pg.create_database(DB);
    let mut db = pg.client(DB);
    create_polis_schema(&mut db);
    keep_fixture_tids(&mut db);
    let scratch = Scratch::new("kill");
    const ROUNDS: usize = 32;
    const MAX_KILLS_PER_ROUND: usize = 3;

    // The bundled example and two small generated conversations, each cut into 32 batches in
    // time order.
    let data = example();
    let batching = Batching { window_ms: 1, max_updates: Some(ROUNDS), restart_gap_ms: None };
    let mut convs: Vec<(i32, Vec<Statement>, Vec<VoteBatch>)> =
        vec![(1, data.statements.clone(), batching.split(&data.votes))];
    for (zid, seed) in [(2, 11u64), (3, 12)] {
        let (statements, votes) = synthetic(60, 12, seed);
        convs.push((zid, statements, time_slices(&votes, ROUNDS)));
    }
    for (zid, _, batches) in &convs {
        assert_eq!(batches.len(), ROUNDS, "zid {zid}: expected {ROUNDS} batches");
    }
    // The reference: one uninterrupted conversation per zid, fed the same batches.
    let mut references: Vec<Conversation> = convs
        .iter()
        .map(|(_, statements, _)| {
            let mut c = Conversation::new(Params::default()).unwrap();
            c.set_statements(statements.clone());
            c
        })
        .collect();
    let t0 = 1_400_000_000_000;

    // Calibration: a run with nothing to do (start, connect, schema, poll).
    let calibration_log = scratch.path("calibration.log");
    let started = Instant::now();
    let mut child = spawn_worker(&url, &calibration_log, &["--once"]);
    let status = wait_or_kill(&mut child, Duration::from_secs(30), "calibration run", &calibration_log);
    assert!(status.success(), "an empty database: {status}");
    let startup_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The spread of the kill delays: the latest full run (one that logged updates and exited on
    // its own), at first three times the start-up cost.
    let mut typical_ms = 3.0 * startup_ms;

    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut stats = KillStats::default();
    let mut previous_ticks: HashMap<i32, i64> = HashMap::new();
    let mut full_run_ms: Vec<f64> = Vec::new();
    let mut run_index = 0;
    for round in 0..ROUNDS {
        for (i, (zid, statements, batches)) in convs.iter().enumerate() {
            if round == 0 {
                // Statements and first votes together: a conversation with statements and no
                // votes is not what this test is about.
                db.batch_execute("BEGIN").unwrap();
                insert_conversation(&mut db, *zid, statements, t0);
                insert_votes(&mut db, *zid, &batches[0], 0..batches[0].len(), t0);
                db.batch_execute("COMMIT").unwrap();
            } else {
                insert_votes(&mut db, *zid, &batches[round], 0..batches[round].len(), t0);
            }
            references[i].update(&in_worker_order(&batches[round])).unwrap();
        }
        let ticks_before: HashMap<i32, Option<i64>> =
            convs.iter().map(|(z, _, _)| (*z, math_tick(&mut db, *z))).collect();

        let mut kills = 0;
        loop {
            run_index += 1;
            let log = scratch.path(&format!("run-{run_index:03}.log"));
            let kill_this = kills < MAX_KILLS_PER_ROUND;
            let delay = Duration::from_secs_f64(rng.unit() * 1.2 * typical_ms / 1000.0);
            let started = Instant::now();
            let mut child = spawn_worker(&url, &log, &["--once"]);
            stats.runs += 1;
            let status = if kill_this {
                match wait_timeout(&mut child, delay) {
                    Some(status) => {
                        stats.finished_before_kill += 1;
                        Some(status)
                    }
                    None => {
                        child.kill().unwrap();
                        child.wait().unwrap();
                        None
                    }
                }
            } else {
                Some(wait_or_kill(&mut child, Duration::from_secs(60), "an unkilled --once run", &log))
            };
            let took_ms = started.elapsed().as_secs_f64() * 1000.0;
            let evs = events(&log);
            match status {
                Some(status) => {
                    assert!(
                        status.success(),
                        "round {round}, run {run_index}: --once exited with {status}; log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    if evs.iter().any(|e| event_name(e) == "update") {
                        typical_ms = took_ms;
                        full_run_ms.push(took_ms);
                    }
                    break;
                }
                None => {
                    kills += 1;
                    stats.killed += 1;
                    if advisory_locks(&mut db) > 0 {
                        stats.lock_held_after_kill += 1;
                    }
                    let open = open_claims(&evs);
                    let updates = evs.iter().filter(|e| event_name(e) == "update").count();
                    let claims = evs.iter().filter(|e| event_name(e) == "claimed").count();
                    if let Some(&zid) = open.iter().next() {
                        stats.killed_mid_update += 1;
                        let logged = evs.iter().any(|e| event_name(e) == "update" && zid_of(e) == Some(zid));
                        if !logged && math_tick(&mut db, zid) != ticks_before[&zid] {
                            stats.killed_after_commit_before_log += 1;
                        }
                    } else if claims == 0 {
                        stats.killed_before_claim += 1;
                    } else if updates == convs.len() || claims == convs.len() {
                        stats.killed_after_last_update += 1;
                    } else {
                        stats.killed_between_updates += 1;
                    }
                    // The next run must not find the dead worker's claim still held (it would
                    // skip the conversation as busy): wait until the server has ended its session.
                    poll_until(Duration::from_secs(10), "the killed worker's session to end", || {
                        other_sessions(&mut db) == 0
                    });
                }
            }
        }

        // After the round: every conversation took exactly one more update, and its stored state
        // has read every vote.
        for (i, (zid, _, _)) in convs.iter().enumerate() {
            let tick = math_tick(&mut db, *zid).unwrap_or_else(|| panic!("round {round}: zid {zid} has no math tick"));
            if let Some(&before) = previous_ticks.get(zid) {
                assert!(tick >= before, "round {round}: zid {zid}: math_tick went from {before} down to {tick}");
            }
            assert_eq!(tick, round as i64, "round {round}: zid {zid}: one committed update per round (first tick 0)");
            previous_ticks.insert(*zid, tick);
            let (cursor, _) = state_row(&mut db, *zid).unwrap();
            assert_eq!(Some(cursor), newest_vote(&mut db, *zid), "round {round}: zid {zid}: vote cursor");
            assert_consistent_row(&mut db, *zid);
            let (stored, _) = math_main(&mut db, *zid, ENV).unwrap();
            let expected = reference_math(&references[i]);
            let stored = without_worker_fields(stored);
            if let Some(diff) = first_difference(&stored, &expected, "math") {
                panic!("round {round}: zid {zid}: stored math differs from the uninterrupted reference: {diff}");
            }
        }
    }

    // The end: state bytes and vote counts.
    for (i, (zid, _, _)) in convs.iter().enumerate() {
        let state = stored_state(&mut db, *zid);
        let expected = references[i].state();
        if state != expected {
            let w = (&state.warm, &expected.warm);
            let parts = [
                ("params", state.params == expected.params),
                ("statements", state.statements == expected.statements),
                ("matrix", state.matrix == expected.matrix),
                ("tick", state.tick == expected.tick),
                ("warm.comps", w.0.comps == w.1.comps),
                ("warm.base_clusters", w.0.base_clusters == w.1.base_clusters),
                ("warm.group_clusterings", w.0.group_clusterings == w.1.group_clusterings),
                ("warm.smoother", w.0.smoother == w.1.smoother),
                ("warm.in_conv", w.0.in_conv == w.1.in_conv),
                ("warm.previous_group_totals", w.0.previous_group_totals == w.1.previous_group_totals),
                ("warm.mf", w.0.mf == w.1.mf),
            ];
            let differ: Vec<&str> = parts.iter().filter(|(_, same)| !same).map(|(name, _)| *name).collect();
            panic!("zid {zid}: the stored state differs from the reference's state in {differ:?}");
        }
        let (math, _) = math_main(&mut db, *zid, ENV).unwrap();
        let cells = latest_cells(&mut db, *zid);
        assert_eq!(sum_user_vote_counts(&math), cells.len() as u64, "zid {zid}: user-vote-counts vs distinct cells");
        assert_eq!(math["n"].as_i64(), Some(distinct_participants(&mut db, *zid)), "zid {zid}: n");
        assert_eq!(state_cells(&state), cells, "zid {zid}: stored matrix vs the latest vote per cell");
    }
    full_run_ms.sort_by(f64::total_cmp);
    eprintln!(
        "kill test: {ROUNDS} rounds, {} runs; {stats:?}; start-up {startup_ms:.0} ms; full runs \
         median {:.0} ms, max {:.0} ms; total {:.1} s",
        stats.runs,
        full_run_ms.get(full_run_ms.len() / 2).copied().unwrap_or(0.0),
        full_run_ms.last().copied().unwrap_or(0.0),
        test_start.elapsed().as_secs_f64()
    );
    assert!(stats.killed_mid_update > 0, "no kill landed mid-update: the test did not test what it claims");
}

// ---------------------------------------------------------------------------------------------
// 2. Four workers, forty conversations
// ---------------------------------------------------------------------------------------------

/// A claim as the logs show it: from "claimed" to "released" (both logged while the advisory lock
/// is held), or to the kill for a claim its worker died holding.
#[derive(Debug, Clone)]
struct Claim {
    worker: String,
    zid: i32,
    from: i64,
    to: i64,
}

/// The claims in one worker's log; `died_at` closes the claims of a killed worker, and without it
/// every claim must have been released.
fn claims(worker: &str, events: &[Value], died_at: Option<i64>) -> Vec<Claim> {
    let mut open: BTreeMap<i32, i64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        let (Some(zid), Some(ts)) = (zid_of(e), e["ts"].as_i64()) else { continue };
        match event_name(e) {
            "claimed" => {
                assert!(open.insert(zid, ts).is_none(), "{worker} claimed zid {zid} twice without releasing it");
            }
            "released" => {
                let from =
                    open.remove(&zid).unwrap_or_else(|| panic!("{worker} released zid {zid} it had not claimed"));
                out.push(Claim { worker: worker.to_string(), zid, from, to: ts });
            }
            _ => {}
        }
    }
    for (zid, from) in open {
        let to = died_at.unwrap_or_else(|| panic!("{worker} exited holding its claim on zid {zid}"));
        out.push(Claim { worker: worker.to_string(), zid, from, to });
    }
    out
}

/// Records each conversation's math tick and panics if one ever went down.
fn check_ticks_never_decrease(client: &mut postgres::Client, seen: &mut HashMap<i32, i64>) {
    for row in client.query("SELECT zid, math_tick FROM math_ticks WHERE math_env = $1", &[&ENV]).unwrap() {
        let (zid, tick): (i32, i64) = (row.get(0), row.get(1));
        if let Some(before) = seen.insert(zid, tick) {
            assert!(tick >= before, "zid {zid}: math_tick went from {before} down to {tick}");
        }
    }
}

/// A changed mind: agree -> disagree -> pass -> agree.
fn other_vote(v: Vote) -> Vote {
    match v {
        Vote::Agree => Vote::Disagree,
        Vote::Disagree => Vote::Pass,
        Vote::Pass => Vote::Agree,
    }
}

#[test]
fn four_workers_share_forty_conversations_and_never_compute_one_twice_at_once() {
    let Some(pg) = PgCluster::start() else { return };
    let test_start = Instant::now();
    let url = pg.create_database(DB);
    let mut db = pg.client(DB);
    create_polis_schema(&mut db);
    keep_fixture_tids(&mut db);
    let scratch = Scratch::new("four");
    const CONVERSATIONS: i32 = 40;
    const ROUNDS: usize = 4;
    /// After this round is written, one worker is killed; the next round waits for the kill.
    const KILL_AFTER_ROUND: usize = 1;

    let convs: Vec<(i32, Vec<Statement>, Vec<VoteBatch>)> = (0..CONVERSATIONS)
        .map(|i| {
            let participants = 30 + (i as usize * 13) % 51;
            let (statements, votes) = synthetic(participants, 12, 100 + i as u64);
            (1000 + i, statements, time_slices(&votes, ROUNDS))
        })
        .collect();

    let logs: Vec<PathBuf> = (0..4).map(|w| scratch.path(&format!("w{w}.log"))).collect();
    let mut workers: Vec<Child> = (0..4)
        .map(|w| spawn_worker(&url, &logs[w], &["--poll-interval", "50", "--worker-id", &format!("w{w}")]))
        .collect();

    // The writer: rounds of votes, each conversation's in its own statement, paced at random, with
    // `created` = now as Polis's server sets it, and changed votes from the third round on.
    let (written_tx, written_rx) = std::sync::mpsc::channel::<usize>();
    let (killed_tx, killed_rx) = std::sync::mpsc::channel::<()>();
    let mut writer_db = pg.client(DB);
    let mut seen_ticks: HashMap<i32, i64> = HashMap::new();
    let (kill_ts, open_at_kill) = std::thread::scope(|scope| {
        let convs = &convs;
        let writer = scope.spawn(move || {
            let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
            let mut last_created: HashMap<i32, i64> = HashMap::new();
            let mut cast: HashMap<i32, Vec<(Id, Id, Vote)>> = HashMap::new();
            for round in 0..ROUNDS {
                if round == KILL_AFTER_ROUND + 2 {
                    killed_rx.recv_timeout(Duration::from_secs(30)).expect("the kill happens");
                }
                let mut order: Vec<usize> = (0..convs.len()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.below(i as u64 + 1) as usize);
                }
                for i in order {
                    let (zid, statements, slices) = &convs[i];
                    let mut events: Vec<(Id, Id, Vote)> =
                        slices[round].to_events().into_iter().map(|e| (e.participant, e.statement, e.vote)).collect();
                    let earlier = cast.entry(*zid).or_default();
                    if round >= 2 {
                        let changes: Vec<(Id, Id, Vote)> =
                            earlier.iter().step_by(5).map(|(p, s, v)| (p.clone(), s.clone(), other_vote(*v))).collect();
                        events.extend(changes);
                    }
                    earlier.extend(events.iter().cloned());
                    let base = now_ms().max(last_created.get(zid).map_or(i64::MIN, |t| t + 1));
                    let mut batch = VoteBatch::new();
                    for (k, (p, s, v)) in events.iter().enumerate() {
                        batch.push(p, s, *v, Some(base + k as i64));
                    }
                    last_created.insert(*zid, base + events.len() as i64);
                    if round == 0 {
                        // The statements come with the first votes (see the kill test).
                        writer_db.batch_execute("BEGIN").unwrap();
                        insert_conversation(&mut writer_db, *zid, statements, base);
                        insert_votes(&mut writer_db, *zid, &batch, 0..batch.len(), base);
                        writer_db.batch_execute("COMMIT").unwrap();
                    } else {
                        insert_votes(&mut writer_db, *zid, &batch, 0..batch.len(), base);
                    }
                    std::thread::sleep(Duration::from_millis(rng.below(12)));
                }
                let _ = written_tx.send(round);
            }
        });

        // Kill w0 while it holds a claim, if it takes one within 10 s of the second round.
        loop {
            match written_rx.recv_timeout(Duration::from_secs(60)).expect("the writer makes progress") {
                r if r == KILL_AFTER_ROUND => break,
                _ => check_ticks_never_decrease(&mut db, &mut seen_ticks),
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let kill_ts = loop {
            let open = open_claims(&events(&logs[0]));
            if !open.is_empty() || Instant::now() >= deadline {
                let ts = now_ms();
                workers[0].kill().unwrap();
                break ts;
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        workers[0].wait().unwrap();
        let open_at_kill = open_claims(&events(&logs[0]));
        killed_tx.send(()).unwrap();
        writer.join().expect("the writer finishes");
        (kill_ts, open_at_kill)
    });
    let written = test_start.elapsed();

    // Every conversation catches up with its newest vote.
    let mut lagging = Vec::new();
    let caught_up = poll_until(Duration::from_secs(60), "every conversation to catch up with its votes", || {
        check_ticks_never_decrease(&mut db, &mut seen_ticks);
        lagging = behind(&mut db);
        lagging.is_empty()
    });
    for (w, child) in workers.iter_mut().enumerate().skip(1) {
        sigterm(child);
        let status = wait_or_kill(child, Duration::from_secs(5), &format!("w{w} after SIGTERM"), &logs[w]);
        assert!(status.success(), "w{w} exited with {status} after SIGTERM");
    }
    assert_eq!(advisory_locks(&mut db), 0, "advisory locks left after every worker stopped");

    // The logs: no two claims of one conversation overlap.
    let logged: Vec<Vec<Value>> = logs.iter().map(|l| events(l)).collect();
    let mut all_claims: Vec<Claim> = Vec::new();
    for (w, evs) in logged.iter().enumerate() {
        all_claims.extend(claims(&format!("w{w}"), evs, (w == 0).then_some(kill_ts)));
        let failed: Vec<&Value> = evs.iter().filter(|e| event_name(e) == "update_failed").collect();
        assert!(failed.is_empty(), "w{w}: failed updates: {failed:?}");
    }
    all_claims.sort_by_key(|c| (c.zid, c.from, c.to));
    for pair in all_claims.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a.zid != b.zid || b.from >= a.to,
            "two claims of zid {} overlap: {} held it over [{}, {}] ms, {} over [{}, {}] ms",
            a.zid,
            a.worker,
            a.from,
            a.to,
            b.worker,
            b.from,
            b.to
        );
    }
    // The killed worker's conversations were taken over.
    let updates_by = |w: usize| -> Vec<(i32, i64)> {
        logged[w]
            .iter()
            .filter(|e| event_name(e) == "update")
            .map(|e| (zid_of(e).unwrap(), e["ts"].as_i64().unwrap()))
            .collect()
    };
    let w0_zids: BTreeSet<i32> = updates_by(0).iter().map(|&(z, _)| z).chain(open_at_kill.iter().copied()).collect();
    assert!(!w0_zids.is_empty(), "w0 updated nothing before it was killed");
    let after_death: BTreeSet<i32> =
        (1..4).flat_map(updates_by).filter(|&(_, ts)| ts > kill_ts).map(|(z, _)| z).collect();
    let orphaned: Vec<&i32> = w0_zids.difference(&after_death).collect();
    assert!(orphaned.is_empty(), "conversations of the killed worker never updated after its death: {orphaned:?}");
    for w in 1..4 {
        assert!(!updates_by(w).is_empty(), "w{w} did no update");
    }

    // The stored math reflects every vote, the stored matrix holds the latest vote per cell, and
    // every logged update is one math tick (one not logged: the kill came between commit and log).
    let mut logged_updates: HashMap<i32, i64> = HashMap::new();
    for w in 0..4 {
        for (z, _) in updates_by(w) {
            *logged_updates.entry(z).or_default() += 1;
        }
    }
    for (zid, _, _) in &convs {
        let zid = *zid;
        assert_consistent_row(&mut db, zid);
        let (math, tick) = math_main(&mut db, zid, ENV).unwrap();
        let cells = latest_cells(&mut db, zid);
        assert_eq!(sum_user_vote_counts(&math), cells.len() as u64, "zid {zid}: user-vote-counts vs distinct cells");
        assert_eq!(math["n"].as_i64(), Some(distinct_participants(&mut db, zid)), "zid {zid}: n");
        let state = stored_state(&mut db, zid);
        assert_eq!(state_cells(&state), cells, "zid {zid}: stored matrix vs the latest vote per cell");
        let logged = logged_updates.get(&zid).copied().unwrap_or(0);
        let unlogged_ok = open_at_kill.contains(&zid) && logged == tick;
        assert!(logged == tick + 1 || unlogged_ok, "zid {zid}: {logged} updates logged, math_tick {tick}");
    }
    let per_worker: Vec<usize> = (0..4).map(|w| updates_by(w).len()).collect();
    eprintln!(
        "four workers: {} conversations, updates per worker {per_worker:?} (w0 killed holding {open_at_kill:?}), \
         {} claims, writer done at {:.1} s, caught up {:.1} s later, total {:.1} s",
        convs.len(),
        all_claims.len(),
        written.as_secs_f64(),
        caught_up.as_secs_f64(),
        test_start.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. SIGTERM
// ---------------------------------------------------------------------------------------------

#[test]
fn sigterm_during_polling_exits_zero_and_releases_claims() {
    let Some(pg) = PgCluster::start() else { return };
    let url = pg.create_database(DB);
    let mut db = pg.client(DB);
    create_polis_schema(&mut db);
    keep_fixture_tids(&mut db);
    let scratch = Scratch::new("sigterm");

    // While polling: the worker has caught up and sleeps between polls.
    let (statements, votes) = synthetic(50, 12, 7);
    db.batch_execute("BEGIN").unwrap();
    insert_conversation(&mut db, 1, &statements, 0);
    insert_votes(&mut db, 1, &votes, 0..votes.len(), 0);
    db.batch_execute("COMMIT").unwrap();
    let log = scratch.path("polling.log");
    let mut child = spawn_worker(&url, &log, &["--poll-interval", "100", "--worker-id", "polling"]);
    poll_until(Duration::from_secs(20), "the worker's first update", || {
        state_row(&mut db, 1).map(|(cursor, _)| cursor).is_some_and(|c| Some(c) == newest_vote(&mut db, 1))
    });
    let sent = Instant::now();
    sigterm(&child);
    let status = wait_or_kill(&mut child, Duration::from_secs(5), "a polling worker after SIGTERM", &log);
    let polling_exit = sent.elapsed();
    assert!(status.success(), "exit status after SIGTERM while polling: {status}");
    assert_eq!(advisory_locks(&mut db), 0, "advisory locks left after the worker exited");
    let evs = events(&log);
    assert_eq!(evs.last().map(event_name), Some("stopped"), "the last log line says it stopped");
    assert!(open_claims(&evs).is_empty());

    // During an update: the update in flight finishes and is stored, then the worker exits.
    let data = example();
    db.batch_execute("BEGIN").unwrap();
    insert_conversation(&mut db, 2, &data.statements, 0);
    insert_votes(&mut db, 2, &data.votes, 0..data.votes.len(), 0);
    db.batch_execute("COMMIT").unwrap();
    let log = scratch.path("updating.log");
    let mut child = spawn_worker(&url, &log, &["--poll-interval", "100", "--worker-id", "updating"]);
    // Polled every 10 ms, the claim is seen open (the update takes ~100 ms); if it is seen only
    // after its release, the SIGTERM lands while polling, which must end the same way.
    poll_until(Duration::from_secs(20), "the worker to claim zid 2", || {
        events(&log).iter().any(|e| event_name(e) == "claimed" && zid_of(e) == Some(2))
    });
    let term_ts = now_ms();
    let sent = Instant::now();
    sigterm(&child);
    let status = wait_or_kill(&mut child, Duration::from_secs(5), "an updating worker after SIGTERM", &log);
    let updating_exit = sent.elapsed();
    assert!(status.success(), "exit status after SIGTERM during an update: {status}");
    assert_eq!(advisory_locks(&mut db), 0, "advisory locks left after the worker exited");
    let evs = events(&log);
    let update = evs.iter().find(|e| event_name(e) == "update" && zid_of(e) == Some(2));
    let update = update.unwrap_or_else(|| panic!("the update in flight was not finished; log:\n{evs:#?}"));
    assert!(open_claims(&evs).is_empty(), "the claim was released");
    assert_eq!(state_row(&mut db, 2).map(|(cursor, _)| cursor), newest_vote(&mut db, 2), "zid 2 stored");
    eprintln!(
        "sigterm: exit {:.0} ms after SIGTERM while polling, {:.0} ms during an update (SIGTERM {} ms before the \
         update's log line)",
        polling_exit.as_secs_f64() * 1000.0,
        updating_exit.as_secs_f64() * 1000.0,
        update["ts"].as_i64().unwrap() - term_ts
    );
}

// ---------------------------------------------------------------------------------------------
// 4. A known gap: a claim held past the overlap window, then dropped
// ---------------------------------------------------------------------------------------------

/// A vote from `votes`' k-th event (cycling), cast now.
fn vote_now(votes: &VoteBatch, k: usize) -> VoteBatch {
    let e = votes.event(k % votes.len());
    let mut batch = VoteBatch::new();
    batch.push(&e.participant, &e.statement, e.vote, Some(now_ms()));
    batch
}

/// A worker that stalls holding a claim for longer than `--overlap` (a long update, a frozen VM,
/// a dead host the server notices only after the TCP keepalives, ~30 s) and then dies: the other
/// workers' poll window has moved past the conversation's votes, they never look at it again, and
/// its votes stay unprocessed until it gets another vote.
#[test]
fn a_conversation_whose_claim_holder_stalls_and_dies_is_taken_over() {
    let Some(pg) = PgCluster::start() else { return };
    let url = pg.create_database(DB);
    let mut db = pg.client(DB);
    create_polis_schema(&mut db);
    keep_fixture_tids(&mut db);
    let scratch = Scratch::new("stall");
    // Y: a conversation whose votes keep coming, with `created` = now.
    let (statements, y_votes) = synthetic(60, 12, 5);
    db.batch_execute("BEGIN").unwrap();
    insert_conversation(&mut db, 2, &statements, 0);
    for k in 0..20 {
        insert_votes(&mut db, 2, &vote_now(&y_votes, k), 0..1, 0);
    }
    db.batch_execute("COMMIT").unwrap();
    let mut k = 20;
    let logs = [scratch.path("a.log"), scratch.path("b.log")];
    let mut workers: Vec<Child> = ["a", "b"]
        .iter()
        .zip(&logs)
        .map(|(id, log)| spawn_worker(&url, log, &["--poll-interval", "50", "--overlap", "1000", "--worker-id", id]))
        .collect();
    poll_until(Duration::from_secs(20), "Y's first update", || state_row(&mut db, 2).is_some());

    // Z: the example (its update takes long enough to be caught holding the claim), stamped now.
    let data = example();
    let n = data.votes.len();
    let base = now_ms() - n as i64;
    let mut z_votes = VoteBatch::new();
    for (i, e) in data.votes.events().enumerate() {
        z_votes.push(&e.participant, &e.statement, e.vote, Some(base + i as i64));
    }
    db.batch_execute("BEGIN").unwrap();
    insert_conversation(&mut db, 1, &data.statements, 0);
    insert_votes(&mut db, 1, &z_votes, 0..n, 0);
    db.batch_execute("COMMIT").unwrap();
    let mut holder = None;
    poll_until(Duration::from_secs(20), "a worker to claim Z", || {
        holder = (0..2).find(|&w| open_claims(&events(&logs[w])).contains(&1));
        holder.is_some()
    });
    let h = holder.unwrap();
    let stop = Command::new("kill").arg("-STOP").arg(workers[h].id().to_string()).status().unwrap();
    assert!(stop.success());
    // Frozen for three overlaps while Y's votes move the poll window on; then gone.
    let frozen_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < frozen_until {
        insert_votes(&mut db, 2, &vote_now(&y_votes, k), 0..1, 0);
        k += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    workers[h].kill().unwrap();
    workers[h].wait().unwrap();
    let evs = events(&logs[h]);
    assert!(
        open_claims(&evs).contains(&1) && !evs.iter().any(|e| event_name(e) == "update" && zid_of(e) == Some(1)),
        "inconclusive: the holder finished Z's update before it was frozen"
    );
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_until(Duration::from_secs(10), "the survivor to take Z over", || {
            insert_votes(&mut db, 2, &vote_now(&y_votes, k), 0..1, 0);
            k += 1;
            state_row(&mut db, 1).map(|(cursor, _)| cursor) == newest_vote(&mut db, 1)
        })
    }));
    let survivor = &mut workers[1 - h];
    sigterm(survivor);
    wait_or_kill(survivor, Duration::from_secs(5), "the survivor", &logs[1 - h]);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
