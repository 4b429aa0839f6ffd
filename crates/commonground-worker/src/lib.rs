//! # commonground-worker
//!
//! The math worker for deliberation sites: a drop-in for Polis's math worker on the same
//! PostgreSQL database. It reads Polis's `votes` and `comments`, keeps each conversation's
//! analysis current with Polis's warm starts ([`commonground::Conversation`]), and writes
//! `math_main`, `math_ticks` and `math_bidtopid` as Polis's worker writes them, so that Polis's
//! server and clients read its results unchanged. `docs/worker.md` has the design; in short:
//!
//! - **Cursors.** Per conversation, the newest `votes.created` and `comments.modified` applied,
//!   stored with the state. Each update re-reads an overlap window before the vote cursor (rows
//!   committed late with an older timestamp); re-applying a vote is harmless (the latest wins), and
//!   a changed row count in the window reveals a late row.
//! - **One transaction per update**: the math tables and the worker's `commonground_state` (the
//!   serialised conversation, its cursors, a generation). A crash before the commit loses nothing:
//!   the next run starts from the last stored state and reads the same votes again.
//! - **Claims** are PostgreSQL session advisory locks `(environment key, zid)`, taken with
//!   `pg_try_advisory_lock`: at most one worker computes a conversation; a worker that dies
//!   releases its locks with its connection, so the others take over at their next poll.
//! - **Resume**: from `commonground_state` (exactly where it stopped), else from a Polis
//!   `math_main` blob (the migration path, [`commonground::Conversation::resume_from_polis`]),
//!   else from all votes.

pub mod db;
mod log;
mod metrics;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commonground::io::{PolisMath, PolisState};
use commonground::{Conversation, ConversationState, Id, Params, Statement, VoteBatch};
use serde_json::Value;

pub use db::{lock_key, SCHEMA};
pub use log::now_ms;
pub use metrics::Metrics;

/// How a worker runs (the `commonground worker` flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://user@host:port/db` (or key=value pairs).
    pub database_url: String,
    /// Which deployment's math rows to read and write (`MATH_ENV`; Polis's default `prod`).
    pub math_env: String,
    /// Pause between polls.
    pub poll_interval: Duration,
    /// Update every conversation with news once, then return.
    pub once: bool,
    /// Serve Prometheus metrics here.
    pub metrics_addr: Option<SocketAddr>,
    /// How far before its vote cursor each update re-reads votes (ms), for rows committed late.
    pub overlap_ms: i64,
    /// A conversation not updated for this long is dropped from memory (its state is stored).
    pub idle_evict: Duration,
    /// Every this often, a poll looks at all votes and comments, not only those newer than the
    /// previous poll less the overlap: a backstop for anything a bounded poll missed.
    pub full_sweep: Duration,
    /// The analysis parameters (Polis's by default).
    pub params: Params,
    /// This worker's name in logs and in `commonground_state.worker`.
    pub worker_id: String,
}

impl Config {
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            math_env: "prod".into(),
            poll_interval: Duration::from_millis(1000),
            once: false,
            metrics_addr: None,
            overlap_ms: 10_000,
            idle_evict: Duration::from_secs(600),
            full_sweep: Duration::from_secs(300),
            params: Params::default(),
            worker_id: format!("{}-{}", hostname(), std::process::id()),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "worker".into())
}

/// What a run did (for `--once` and tests). Each list keeps at least its latest
/// [`RunSummary::KEEP`] entries and at most twice that, so that a long run's memory stays bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Conversations updated, in order, with the math tick each got.
    pub updated: Vec<(i32, i64)>,
    /// Conversations whose update failed.
    pub failed: Vec<i32>,
    /// Conversations skipped because another worker held their claim.
    pub busy: Vec<i32>,
}

impl RunSummary {
    /// Entries kept per list in a long run.
    pub const KEEP: usize = 1000;

    fn record<T>(list: &mut Vec<T>, item: T) {
        if list.len() >= 2 * RunSummary::KEEP {
            list.drain(..list.len() - RunSummary::KEEP);
        }
        list.push(item);
    }
}

/// Why the worker stopped before its work was done.
#[derive(Debug)]
pub enum WorkerError {
    /// The database could not be reached or answered with an error the worker cannot skip.
    Database(String),
    /// The metrics address could not be bound.
    Metrics(String),
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerError::Database(e) => write!(f, "database: {e}"),
            WorkerError::Metrics(e) => write!(f, "metrics endpoint: {e}"),
        }
    }
}

impl std::error::Error for WorkerError {}

/// A conversation held in memory between updates.
struct Held {
    conversation: Conversation,
    generation: i64,
    last_used: Instant,
}

/// Retry state of a conversation whose update failed.
struct Backoff {
    failures: u32,
    next_try: Instant,
}

/// How one attempt at a conversation ended.
enum Outcome {
    Stored { math_tick: i64 },
    NothingNew,
    Busy,
}

/// The worker: a connection, the conversations it holds, and its counters.
pub struct Worker {
    config: Config,
    client: Option<postgres::Client>,
    held: BTreeMap<i32, Held>,
    backoff: BTreeMap<i32, Backoff>,
    /// Conversations found claimed by another worker, tried again at every poll until an attempt
    /// finds them free: their claim holder may die without storing them after the poll window
    /// has moved past their votes.
    busy: BTreeSet<i32>,
    /// When the last poll without a time bound ran (see [`Config::full_sweep`]).
    last_sweep: Option<Instant>,
    metrics: Metrics,
    stop: Arc<AtomicBool>,
    /// Where the next poll starts: the newest vote and moderation times seen, less the overlap.
    poll_from: Option<(i64, i64)>,
}

impl Worker {
    /// A worker for `config`; connects on first use. Setting `stop` ends [`Worker::run`] after the
    /// update in flight.
    pub fn new(config: Config, stop: Arc<AtomicBool>) -> Worker {
        Worker {
            config,
            client: None,
            held: BTreeMap::new(),
            backoff: BTreeMap::new(),
            busy: BTreeSet::new(),
            last_sweep: None,
            metrics: Metrics::default(),
            stop,
            poll_from: None,
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn log(&self, level: &str, event: &str, fields: &[(&str, Value)]) {
        log::log(level, event, &self.config.worker_id, fields);
    }

    /// The open connection, reconnecting when it was lost (the database restarted, the network
    /// dropped). Creates the worker's own table on every new connection (idempotent).
    fn client(&mut self) -> Result<&mut postgres::Client, WorkerError> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
            self.log("warn", "disconnected", &[]);
        }
        if self.client.is_none() {
            let mut client = postgres::Client::connect(&self.config.database_url, postgres::NoTls)
                .map_err(|e| WorkerError::Database(e.to_string()))?;
            // The server notices a vanished worker within about 30 s (and releases its claims),
            // even when its host dies without closing the connection.
            client
                .batch_execute(
                    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4;",
                )
                .map_err(|e| WorkerError::Database(e.to_string()))?;
            db::create_schema(&mut client).map_err(|e| WorkerError::Database(e.to_string()))?;
            self.log("info", "connected", &[("math_env", self.config.math_env.clone().into())]);
            self.client = Some(client);
        }
        self.client.as_mut().ok_or_else(|| WorkerError::Database("no connection".into()))
    }

    /// Runs until stopped (or, with `once`, until every conversation with news is updated).
    /// Database outages are waited out with backoff, except in `once` mode, where they end the run.
    pub fn run(&mut self) -> Result<RunSummary, WorkerError> {
        if let Some(addr) = self.config.metrics_addr {
            let bound = self.metrics.serve(addr).map_err(|e| WorkerError::Metrics(format!("{addr}: {e}")))?;
            self.log("info", "metrics", &[("addr", bound.to_string().into())]);
        }
        let mut summary = RunSummary::default();
        let mut outage = Duration::from_millis(500);
        while !self.stop.load(Ordering::SeqCst) {
            let started = Instant::now();
            match self.poll(&mut summary) {
                Ok(()) => outage = Duration::from_millis(500),
                Err(e) => {
                    self.log("error", "poll_failed", &[("error", e.to_string().into())]);
                    if self.config.once {
                        return Err(e);
                    }
                    self.client = None;
                    self.sleep(outage);
                    outage = (outage * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
            if self.config.once {
                break;
            }
            self.evict_idle();
            self.sleep(self.config.poll_interval.saturating_sub(started.elapsed()));
        }
        self.log("info", "stopped", &[("updates", summary.updated.len().into())]);
        Ok(summary)
    }

    /// Sleeps in short steps, waking at once when asked to stop.
    fn sleep(&self, total: Duration) {
        let end = Instant::now() + total;
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= end {
                break;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }

    fn evict_idle(&mut self) {
        let limit = self.config.idle_evict;
        let idle: Vec<i32> = self.held.iter().filter(|(_, h)| h.last_used.elapsed() > limit).map(|(&z, _)| z).collect();
        for zid in idle {
            self.held.remove(&zid);
            self.metrics.forget(zid);
            self.log("info", "evicted", &[("zid", zid.into())]);
        }
        self.metrics.in_memory(self.held.len());
    }

    /// One poll: finds the conversations with news and updates each.
    fn poll(&mut self, summary: &mut RunSummary) -> Result<(), WorkerError> {
        let overlap = self.config.overlap_ms;
        let env = self.config.math_env.clone();
        // Now and then a poll without a time bound finds what every bounded poll missed (a
        // conversation whose claim holder stalled past the overlap window, then died).
        if self.last_sweep.is_none_or(|t| t.elapsed() >= self.config.full_sweep) {
            self.poll_from = None;
            self.last_sweep = Some(Instant::now());
        }
        let (votes_from, mods_from) = self.poll_from.unwrap_or((i64::MIN, i64::MIN));
        let client = self.client()?;
        let db_err = |e: postgres::Error| WorkerError::Database(e.to_string());
        // Read the newest times first: anything newer is left for the next poll, nothing is missed.
        let newest = db::newest(client).map_err(db_err)?;
        let mut zids = db::candidates(client, &env, votes_from, mods_from, overlap).map_err(db_err)?;
        // Conversations whose update failed are retried when their backoff ends, news or not
        // (the poll window has moved past the votes that failed).
        let now = Instant::now();
        zids.extend(self.backoff.iter().filter(|(_, b)| b.next_try <= now).map(|(&z, _)| z));
        zids.extend(self.busy.iter().copied());
        zids.sort_unstable();
        zids.dedup();
        for zid in zids {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            if self.backoff.get(&zid).is_some_and(|b| Instant::now() < b.next_try) {
                continue;
            }
            match self.update(zid) {
                Ok(Outcome::Stored { math_tick }) => {
                    self.backoff.remove(&zid);
                    self.busy.remove(&zid);
                    RunSummary::record(&mut summary.updated, (zid, math_tick));
                }
                Ok(Outcome::NothingNew) => {
                    self.backoff.remove(&zid);
                    self.busy.remove(&zid);
                }
                Ok(Outcome::Busy) => {
                    self.metrics.busy();
                    if self.busy.insert(zid) {
                        self.log("debug", "busy", &[("zid", zid.into())]);
                    }
                    RunSummary::record(&mut summary.busy, zid);
                }
                Err(e) => {
                    self.busy.remove(&zid);
                    self.metrics.failure();
                    self.held.remove(&zid);
                    RunSummary::record(&mut summary.failed, zid);
                    let b = self.backoff.entry(zid).or_insert(Backoff { failures: 0, next_try: Instant::now() });
                    b.failures += 1;
                    let wait = Duration::from_millis(500u64.saturating_mul(1 << b.failures.min(10)))
                        .min(Duration::from_secs(300));
                    b.next_try = Instant::now() + wait;
                    let failures = b.failures;
                    self.log(
                        "error",
                        "update_failed",
                        &[
                            ("zid", zid.into()),
                            ("error", e.to_string().into()),
                            ("failures", failures.into()),
                            ("retry_in_ms", (wait.as_millis() as u64).into()),
                        ],
                    );
                    // A lost connection fails the poll (reconnect, then retry); anything else
                    // concerns this conversation only.
                    if self.client.as_ref().is_some_and(|c| c.is_closed()) {
                        return Err(WorkerError::Database(e.to_string()));
                    }
                }
            }
        }
        self.poll_from = Some((newest.0.saturating_sub(overlap), newest.1.saturating_sub(overlap)));
        Ok(())
    }

    /// Updates one conversation under its claim. The claim is released on every path; if the
    /// connection died meanwhile, the server has released it already.
    fn update(&mut self, zid: i32) -> Result<Outcome, String> {
        let key = db::lock_key(&self.config.math_env);
        let client = self.client().map_err(|e| e.to_string())?;
        let claimed: bool =
            client.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&key, &zid]).map_err(|e| e.to_string())?.get(0);
        if !claimed {
            return Ok(Outcome::Busy);
        }
        self.log("debug", "claimed", &[("zid", zid.into())]);
        let result = self.update_claimed(zid);
        self.log("debug", "released", &[("zid", zid.into())]);
        if let Some(client) = self.client.as_mut().filter(|c| !c.is_closed()) {
            let _ = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&key, &zid]);
        }
        result
    }

    fn update_claimed(&mut self, zid: i32) -> Result<Outcome, String> {
        let started = Instant::now();
        let env = self.config.math_env.clone();
        let overlap = self.config.overlap_ms;
        let client = self.client().map_err(|e| e.to_string())?;
        let e = |e: postgres::Error| e.to_string();
        let cursors = db::cursors(client, zid, &env).map_err(e)?;
        // Comments first: a vote's comment is committed before anyone can vote on it.
        let (statements, newest_mod) = db::statements(client, zid).map_err(e)?;
        let after = cursors.map(|c| c.vote_cursor.saturating_sub(overlap));
        let rows = db::votes_after(client, zid, after).map_err(e)?;

        // What is new since the stored update?
        let old_cursor = cursors.map_or(i64::MIN, |c| c.vote_cursor);
        let newest_vote = rows.iter().filter_map(|r| r.created).max();
        let vote_cursor = newest_vote.map_or(old_cursor, |t| t.max(old_cursor));
        let in_window = |t: i64, cursor: i64| t > cursor.saturating_sub(overlap) && t <= cursor;
        let count_window =
            |cursor: i64| rows.iter().filter(|r| r.created.is_some_and(|t| in_window(t, cursor))).count() as i64;
        let mod_cursor = newest_mod.max(cursors.map_or(i64::MIN, |c| c.mod_cursor));
        let news = match cursors {
            None => !rows.is_empty() || !statements.is_empty(),
            Some(c) => {
                vote_cursor > c.vote_cursor
                    || count_window(c.vote_cursor) != c.window_count
                    || newest_mod > c.mod_cursor
            }
        };
        if !news {
            return Ok(Outcome::NothingNew);
        }

        // The rows to apply; malformed ones are skipped and logged (new ones only: rows re-read
        // in the overlap window were logged when they were new).
        let known: HashSet<i64> =
            statements.iter().filter_map(|s| if let Id::Int(t) = s.id { Some(t) } else { None }).collect();
        let mut bad = 0u64;
        let mut good = Vec::with_capacity(rows.len());
        for r in &rows {
            match db::problem(r, |t| known.contains(&(t as i64))) {
                None => good.push(*r),
                Some(why) => {
                    if r.created.is_none_or(|t| t > old_cursor) {
                        bad += 1;
                        if bad <= 20 {
                            self.log(
                                "warn",
                                "bad_vote_row",
                                &[
                                    ("zid", zid.into()),
                                    ("pid", r.pid.into()),
                                    ("tid", r.tid.into()),
                                    ("vote", r.vote.map(i64::from).into()),
                                    ("created", r.created.into()),
                                    ("problem", why.into()),
                                ],
                            );
                        }
                    }
                }
            }
        }
        if bad > 0 {
            self.metrics.bad_rows(bad);
        }
        let batch = db::to_batch(&good);
        if cursors.is_none() && batch.is_empty() {
            // Statements but no (valid) votes yet: nothing to compute, as in Polis.
            return Ok(Outcome::NothingNew);
        }

        // The conversation: held in memory if current, else from its stored state. A state this
        // build cannot read (another format version, after an upgrade) is rebuilt from all votes,
        // resumed from the math stored for it, as is a conversation new to this worker: from a
        // Polis blob (the migration path), else from scratch.
        let held = self.held.remove(&zid).filter(|h| cursors.is_some_and(|c| c.generation == h.generation));
        let client = self.client().map_err(|e| e.to_string())?;
        let restored = match (held, cursors) {
            (Some(h), _) => Some(h.conversation),
            (None, Some(_)) => {
                let bytes = db::state_bytes(client, zid, &env).map_err(e)?.ok_or("state row vanished")?;
                match ConversationState::from_bytes(&bytes).and_then(Conversation::from_state) {
                    Ok(conversation) => Some(conversation),
                    Err(error) => {
                        self.log(
                            "warn",
                            "state_unreadable",
                            &[("zid", zid.into()), ("error", error.to_string().into()), ("action", "rebuild".into())],
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        };
        let conversation = match restored {
            Some(mut conversation) => {
                conversation.set_statements(statements);
                conversation.update(&batch).map_err(|e| e.to_string())?;
                conversation
            }
            None => {
                let client = self.client().map_err(|e| e.to_string())?;
                let all = if cursors.is_some() { db::votes_after(client, zid, None).map_err(e)? } else { rows.clone() };
                let all =
                    db::to_batch(all.iter().filter(|r| db::problem(r, |t| known.contains(&(t as i64))).is_none()));
                self.rebuild(zid, statements, &all)?
            }
        };
        let analysis = conversation.analysis().ok_or("no analysis after an update")?;

        // The Polis math, in Polis's sign and shape; math_tick is set by the upload.
        let mut math = serde_json::to_value(PolisMath::from_analysis(analysis)).map_err(|e| e.to_string())?;
        if let Some(obj) = math.as_object_mut() {
            obj.insert("lastModTimestamp".into(), if newest_mod == i64::MIN { Value::Null } else { newest_mod.into() });
        }
        let bid_to_pid = db::bid_to_pid(analysis);
        let (n_votes, n_participants, n_groups) = (analysis.n_votes, analysis.n_participants, analysis.groups.len());
        let last_vote_timestamp = analysis.last_vote_timestamp;
        let new_cursors = db::Cursors {
            vote_cursor,
            window_count: count_window(vote_cursor),
            mod_cursor,
            generation: cursors.map_or(1, |c| c.generation + 1),
            math_tick: 0,
        };
        let upload = db::Upload {
            zid,
            env: &env,
            math,
            bid_to_pid,
            last_vote_timestamp,
            state: conversation.state().to_bytes(),
            cursors: new_cursors,
            overlap_ms: overlap,
            expected_generation: cursors.map(|c| c.generation),
            worker: &self.config.worker_id.clone(),
        };
        let client = self.client().map_err(|e| e.to_string())?;
        let math_tick = db::store(client, upload).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let lag = newest_vote.map(|t| now_ms() - t);
        self.metrics.update(zid, took, lag);
        self.log(
            "info",
            "update",
            &[
                ("zid", zid.into()),
                ("math_tick", math_tick.into()),
                ("batch", batch.len().into()),
                ("votes", n_votes.into()),
                ("participants", n_participants.into()),
                ("groups", n_groups.into()),
                ("ms", (took.as_secs_f64() * 1000.0).round().into()),
            ],
        );
        self.held.insert(zid, Held { conversation, generation: new_cursors.generation, last_used: Instant::now() });
        self.metrics.in_memory(self.held.len());
        Ok(Outcome::Stored { math_tick })
    }
}

impl Worker {
    /// A conversation new to this worker (or whose state it cannot read), from all its votes:
    /// resumed from the math stored for it when that parses (Polis's blob, or ours, which has the
    /// same shape), so that its groups and their ids carry on; else analysed from scratch.
    fn rebuild(&mut self, zid: i32, statements: Vec<Statement>, votes: &VoteBatch) -> Result<Conversation, String> {
        let env = self.config.math_env.clone();
        let params = self.config.params.clone();
        let client = self.client().map_err(|e| e.to_string())?;
        let blob = db::polis_blob(client, zid, &env).map_err(|e| e.to_string())?;
        if let Some(blob) = blob {
            match PolisState::from_json(&blob.to_string(), std::path::Path::new("math_main.data")) {
                Ok(state) => {
                    self.log(
                        "info",
                        "resume_from_polis",
                        &[("zid", zid.into()), ("polis_math_tick", state.tick.into())],
                    );
                    return Conversation::resume_from_polis(params, statements, votes, &state)
                        .map_err(|e| e.to_string());
                }
                Err(error) => self.log(
                    "warn",
                    "polis_blob_unreadable",
                    &[("zid", zid.into()), ("error", error.to_string().into()), ("action", "cold start".into())],
                ),
            }
        }
        let request = commonground::Request { params, ..commonground::Request::default() };
        Conversation::run(&request, statements, votes).map_err(|e| e.to_string())
    }
}

/// Runs a worker until SIGTERM or SIGINT (or, with `once`, until its work is done). On a signal,
/// the update in flight finishes (or, if the database fails it, rolls back), claims are released
/// with the connection, and the function returns.
pub fn run(config: Config) -> Result<RunSummary, WorkerError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| WorkerError::Metrics(e.to_string()))?;
    }
    let mut worker = Worker::new(config, stop);
    worker.run()
}

#[cfg(test)]
mod tests {
    use super::RunSummary;

    #[test]
    fn a_long_run_keeps_its_latest_entries_only() {
        let mut list = Vec::new();
        for i in 0..10 * RunSummary::KEEP {
            RunSummary::record(&mut list, i);
            assert!(list.len() <= 2 * RunSummary::KEEP);
        }
        assert!(list.len() >= RunSummary::KEEP);
        assert_eq!(list.last(), Some(&(10 * RunSummary::KEEP - 1)));
        assert!(list.windows(2).all(|w| w[1] == w[0] + 1));
    }
}
