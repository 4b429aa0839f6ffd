//! Helpers of the worker's process tests: spawning and signalling worker processes, reading their
//! JSON logs, and reading the database they write.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use commonground::generate::{Synthetic, SyntheticParams};
use commonground::io::PolisMath;
use commonground::{Conversation, ConversationState, Statement, Vote, VoteBatch};
use serde_json::Value;

use super::support::fixtures::{int_id, without_worker_fields};

pub(crate) const ENV: &str = "test";
pub(crate) const DB: &str = "polis";

// ---------------------------------------------------------------------------------------------
// Processes and logs
// ---------------------------------------------------------------------------------------------

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A scratch directory for the workers' logs, removed on drop (kept when the test panics, so that
/// the logs can be read).
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("cg-worker-processes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub(crate) fn path(&self, name: &str) -> PathBuf {
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
pub(crate) fn spawn_worker(url: &str, log: &Path, extra: &[&str]) -> Child {
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
pub(crate) fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
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
pub(crate) fn wait_or_kill(child: &mut Child, limit: Duration, what: &str, log: &Path) -> ExitStatus {
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
pub(crate) fn sigterm(child: &Child) {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill runs");
    assert!(status.success(), "kill -TERM {} failed: {status}", child.id());
}

/// The JSON lines of a worker's log (other lines, such as the CLI's final error line, skipped).
pub(crate) fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_some())
        .collect()
}

pub(crate) fn event_name(e: &Value) -> &str {
    e["event"].as_str().unwrap_or("")
}

pub(crate) fn zid_of(e: &Value) -> Option<i32> {
    e["zid"].as_i64().map(|z| z as i32)
}

/// Zids claimed and not (yet) released, per the log.
pub(crate) fn open_claims(events: &[Value]) -> BTreeSet<i32> {
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
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------

/// Polls `check` until it returns true; panics with `what` after `limit`.
pub(crate) fn poll_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
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
pub(crate) fn other_sessions(client: &mut postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            &[],
        )
        .unwrap()
        .get(0)
}

pub(crate) fn advisory_locks(client: &mut postgres::Client) -> i64 {
    client.query_one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", &[]).unwrap().get(0)
}

pub(crate) fn math_tick(client: &mut postgres::Client, zid: i32) -> Option<i64> {
    client
        .query_opt("SELECT math_tick FROM math_ticks WHERE zid = $1 AND math_env = $2", &[&zid, &ENV])
        .unwrap()
        .map(|r| r.get(0))
}

/// (vote_cursor, math_tick) of the worker's own row (None also while the worker has not created
/// its table yet).
pub(crate) fn state_row(client: &mut postgres::Client, zid: i32) -> Option<(i64, i64)> {
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

pub(crate) fn stored_state(client: &mut postgres::Client, zid: i32) -> ConversationState {
    let bytes: Vec<u8> = client
        .query_one("SELECT state FROM commonground_state WHERE zid = $1 AND math_env = $2", &[&zid, &ENV])
        .unwrap()
        .get(0);
    ConversationState::from_bytes(&bytes).unwrap_or_else(|e| panic!("zid {zid}: stored state does not decode: {e}"))
}

pub(crate) fn newest_vote(client: &mut postgres::Client, zid: i32) -> Option<i64> {
    client.query_one("SELECT max(created) FROM votes WHERE zid = $1", &[&zid]).unwrap().get(0)
}

/// Conversations whose stored vote cursor is not their newest vote yet.
pub(crate) fn behind(client: &mut postgres::Client) -> Vec<i32> {
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
pub(crate) fn latest_cells(client: &mut postgres::Client, zid: i32) -> BTreeMap<(i32, i32), i16> {
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

pub(crate) fn distinct_participants(client: &mut postgres::Client, zid: i32) -> i64 {
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
pub(crate) fn state_cells(state: &ConversationState) -> BTreeMap<(i32, i32), i16> {
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

pub(crate) fn sum_user_vote_counts(math: &Value) -> u64 {
    math["user-vote-counts"]
        .as_object()
        .expect("user-vote-counts is an object")
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

/// The math, math tick and state of one conversation agree with each other (one transaction).
pub(crate) fn assert_consistent_row(client: &mut postgres::Client, zid: i32) {
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
pub(crate) fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
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

pub(crate) fn example() -> commonground::io::ConversationData {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/vtaiwan.uberx");
    commonground::io::load(&path).expect("the bundled example loads")
}

/// A small synthetic conversation: statements and time-stamped votes.
pub(crate) fn synthetic(participants: usize, statements: usize, seed: u64) -> (Vec<Statement>, VoteBatch) {
    let s = Synthetic::new(SyntheticParams {
        participants,
        statements,
        votes: participants * statements / 2,
        groups: 2 + (seed % 2) as usize,
        seed,
        bridging: None,
        pass_rate: 0.15,
        ..SyntheticParams::default()
    })
    .unwrap();
    (s.statements(), VoteBatch::from_events(&s.votes()))
}

/// `batch` in the order the worker reads votes (`ORDER BY tid, pid, created`). The matrix orders
/// new rows and columns by id whatever the batch order, so this only makes the reference read
/// exactly what the worker reads.
pub(crate) fn in_worker_order(batch: &VoteBatch) -> VoteBatch {
    let events = batch.to_events();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&events[a], &events[b]);
        (&x.statement, &x.participant, x.timestamp).cmp(&(&y.statement, &y.participant, y.timestamp))
    });
    batch.select(&order)
}

/// `votes` in time order, cut into `n` slices of (nearly) equal size.
pub(crate) fn time_slices(votes: &VoteBatch, n: usize) -> Vec<VoteBatch> {
    let mut order: Vec<usize> = (0..votes.len()).collect();
    order.sort_by_key(|&i| votes.timestamp(i));
    (0..n).map(|k| votes.select(&order[k * order.len() / n..(k + 1) * order.len() / n])).collect()
}

pub(crate) fn reference_math(conv: &Conversation) -> Value {
    without_worker_fields(serde_json::to_value(PolisMath::from_analysis(conv.analysis().unwrap())).unwrap())
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL at random points
// ---------------------------------------------------------------------------------------------

/// How one `--once` run ended.
#[derive(Debug, Default)]
pub(crate) struct KillStats {
    pub(crate) runs: usize,
    pub(crate) killed: usize,
    pub(crate) finished_before_kill: usize,
    pub(crate) killed_before_claim: usize,
    pub(crate) killed_mid_update: usize,
    /// Of those: the update had committed (math tick advanced) but was not logged yet.
    pub(crate) killed_after_commit_before_log: usize,
    pub(crate) killed_between_updates: usize,
    pub(crate) killed_after_last_update: usize,
    /// The killed worker's advisory lock was still held right after `wait()` returned.
    pub(crate) lock_held_after_kill: usize,
}

/// A claim as the logs show it: from "claimed" to "released" (both logged while the advisory lock
/// is held), or to the kill for a claim its worker died holding.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub(crate) worker: String,
    pub(crate) zid: i32,
    pub(crate) from: i64,
    pub(crate) to: i64,
}

/// The claims in one worker's log; `died_at` closes the claims of a killed worker, and without it
/// every claim must have been released.
pub(crate) fn claims(worker: &str, events: &[Value], died_at: Option<i64>) -> Vec<Claim> {
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
pub(crate) fn check_ticks_never_decrease(client: &mut postgres::Client, seen: &mut HashMap<i32, i64>) {
    for row in client.query("SELECT zid, math_tick FROM math_ticks WHERE math_env = $1", &[&ENV]).unwrap() {
        let (zid, tick): (i32, i64) = (row.get(0), row.get(1));
        if let Some(before) = seen.insert(zid, tick) {
            assert!(tick >= before, "zid {zid}: math_tick went from {before} down to {tick}");
        }
    }
}

/// A changed mind: agree -> disagree -> pass -> agree.
pub(crate) fn other_vote(v: Vote) -> Vote {
    match v {
        Vote::Agree => Vote::Disagree,
        Vote::Disagree => Vote::Pass,
        Vote::Pass => Vote::Agree,
    }
}

/// A vote from `votes`' k-th event (cycling), cast now.
pub(crate) fn vote_now(votes: &VoteBatch, k: usize) -> VoteBatch {
    let e = votes.event(k % votes.len());
    let mut batch = VoteBatch::new();
    batch.push(&e.participant, &e.statement, e.vote, Some(now_ms()));
    batch
}
