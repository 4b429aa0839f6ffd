//! What the worker reads from and writes to a Polis database (`docs/worker.md`;
//! the contract is Polis's schema, as `docs/worker.md` lays it out).
//!
//! Reads: `comments` (statements, moderation, `is_meta`) and `votes` (Polis's sign, agree = −1),
//! converted here, at the boundary, into the core's types (agree = +1). Writes, in one transaction:
//! `math_ticks`, `math_main`, `math_bidtopid` exactly as Polis's worker writes them, and the
//! worker's own `commonground_state`. Polis's tables are never altered.

use commonground::{Id, ModerationStatus, Statement, Vote, VoteBatch};
use postgres::{Client, GenericClient};
use serde_json::Value;

/// The worker's own table, created if absent. One row per (conversation, environment): the
/// serialised conversation, the cursors that say which votes and moderation it has applied, and
/// a generation that grows by one per stored update (a worker's copy in memory is current only
/// while the generations agree).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS commonground_state (
    zid INTEGER NOT NULL,
    math_env VARCHAR(999) NOT NULL,
    state_version INTEGER NOT NULL,
    state BYTEA NOT NULL,
    vote_cursor BIGINT NOT NULL,
    window_count BIGINT NOT NULL,
    overlap_ms BIGINT NOT NULL,
    mod_cursor BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    math_tick BIGINT NOT NULL,
    worker TEXT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (zid, math_env)
);
-- The state is already compact binary: storing it uncompressed saves the CPU of TOAST compression.
ALTER TABLE commonground_state ALTER COLUMN state SET STORAGE EXTERNAL;
";

/// Creates the worker's own table if absent. Several workers may start at once: the DDL runs under
/// a transaction-level advisory lock so that they do not race on the catalog.
pub fn create_schema(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_SPACE])?;
    tx.batch_execute(SCHEMA)?;
    tx.commit()
}

/// First key of every advisory lock the worker takes ("cg" in ASCII, then 0).
pub const LOCK_SPACE: i32 = 0x6367_0000;

/// Second key of the lock that orders the final writes of concurrent updates, so that
/// `caching_tick` grows strictly across workers. Conversation locks use `(lock_key(env), zid)`.
const WRITE_LOCK: i32 = -1;

/// The first advisory-lock key for a math environment: conversations of different environments
/// are computed independently.
pub fn lock_key(math_env: &str) -> i32 {
    // FNV-1a: stable across builds and platforms.
    let h = math_env.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193));
    LOCK_SPACE | (h & 0xffff) as i32
}

/// Where the worker stands on one conversation ([`SCHEMA`]), without the state's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursors {
    /// The newest `votes.created` applied.
    pub vote_cursor: i64,
    /// Vote rows with `created` in `(vote_cursor − overlap, vote_cursor]` when it was stored: a
    /// different count now means rows committed late with an older timestamp.
    pub window_count: i64,
    /// The newest `comments.modified` applied.
    pub mod_cursor: i64,
    pub generation: i64,
    pub math_tick: i64,
}

pub fn cursors(client: &mut impl GenericClient, zid: i32, env: &str) -> Result<Option<Cursors>, postgres::Error> {
    let row = client.query_opt(
        "SELECT vote_cursor, window_count, mod_cursor, generation, math_tick
           FROM commonground_state WHERE zid = $1 AND math_env = $2",
        &[&zid, &env],
    )?;
    Ok(row.map(|r| Cursors {
        vote_cursor: r.get(0),
        window_count: r.get(1),
        mod_cursor: r.get(2),
        generation: r.get(3),
        math_tick: r.get(4),
    }))
}

pub fn state_bytes(client: &mut impl GenericClient, zid: i32, env: &str) -> Result<Option<Vec<u8>>, postgres::Error> {
    Ok(client
        .query_opt("SELECT state FROM commonground_state WHERE zid = $1 AND math_env = $2", &[&zid, &env])?
        .map(|r| r.get(0)))
}

/// The Polis math blob stored for this environment, if any (the migration path).
pub fn polis_blob(client: &mut impl GenericClient, zid: i32, env: &str) -> Result<Option<Value>, postgres::Error> {
    Ok(client
        .query_opt("SELECT data FROM math_main WHERE zid = $1 AND math_env = $2", &[&zid, &env])?
        .and_then(|r| r.get::<_, Option<Value>>(0)))
}

/// Every statement of a conversation, and the newest `modified` among them.
pub fn statements(client: &mut impl GenericClient, zid: i32) -> Result<(Vec<Statement>, i64), postgres::Error> {
    let rows = client.query(
        "SELECT tid, pid, created, modified, txt, mod, is_meta FROM comments WHERE zid = $1 ORDER BY tid",
        &[&zid],
    )?;
    let mut newest = i64::MIN;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let modified: Option<i64> = r.get(3);
        newest = newest.max(modified.unwrap_or(i64::MIN));
        let tid: i32 = r.get(0);
        let mut s = Statement::new(tid as i64);
        s.author = r.get::<_, Option<i32>>(1).map(|p| Id::Int(p as i64));
        s.created = r.get(2);
        s.text = r.get(4);
        // Polis: mod −1 rejected, 1 accepted, anything else as not yet moderated.
        s.moderation = ModerationStatus::from_value(r.get::<_, Option<i32>>(5).unwrap_or(0) as i64)
            .unwrap_or(ModerationStatus::Unmoderated);
        s.is_meta = r.get::<_, Option<bool>>(6).unwrap_or(false);
        out.push(s);
    }
    Ok((out, newest))
}

/// One vote row as stored, before validation.
#[derive(Debug, Clone, Copy)]
pub struct VoteRow {
    pub pid: i32,
    pub tid: i32,
    /// Polis's sign: agree = −1.
    pub vote: Option<i16>,
    pub created: Option<i64>,
}

/// The vote rows with `created > after` (all rows when `after` is None), in the order Polis's
/// worker reads them (`tid, pid, created`). Rows are streamed into 16-byte records as they arrive
/// (not held as driver rows, about 250 bytes each) and sorted here rather than by the server: a
/// cold read of 5M votes took 8 s of server-side sort and 1.2 GiB of rows (BENCHMARKS.md).
pub fn votes_after(
    client: &mut impl GenericClient,
    zid: i32,
    after: Option<i64>,
) -> Result<Vec<VoteRow>, postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    // A cold read takes every row (one with no `created` is then skipped as bad, and logged once);
    // an incremental read, the rows after the cursor.
    let mut stream = match after {
        Some(t) => {
            let params: [&(dyn postgres::types::ToSql + Sync); 2] = [&zid, &t];
            client.query_raw("SELECT pid, tid, vote, created FROM votes WHERE zid = $1 AND created > $2", params)?
        }
        None => {
            let params: [&(dyn postgres::types::ToSql + Sync); 1] = [&zid];
            client.query_raw("SELECT pid, tid, vote, created FROM votes WHERE zid = $1", params)?
        }
    };
    let mut rows = Vec::new();
    while let Some(r) = stream.next()? {
        rows.push(VoteRow { pid: r.get(0), tid: r.get(1), vote: r.get(2), created: r.get(3) });
    }
    // Stable: rows equal in all three keep the server's order, as with ORDER BY.
    rows.sort_by_key(|r| (r.tid, r.pid, r.created));
    Ok(rows)
}

/// Why a vote row is skipped.
pub fn problem(row: &VoteRow, known_statement: impl Fn(i32) -> bool) -> Option<&'static str> {
    match row.vote {
        None => Some("vote is NULL"),
        Some(v) if !(-1..=1).contains(&v) => Some("vote is not -1, 0 or 1"),
        _ if row.pid < 0 => Some("negative pid"),
        _ if row.tid < 0 => Some("negative tid"),
        _ if row.created.is_none() => Some("created is NULL"),
        _ if !known_statement(row.tid) => Some("no comment with this tid"),
        _ => None,
    }
}

/// Valid rows as a batch in the core's sign (agree = +1), in the rows' order.
pub fn to_batch<'a>(rows: impl IntoIterator<Item = &'a VoteRow>) -> VoteBatch {
    let mut batch = VoteBatch::new();
    for r in rows {
        // Polis's sign -> ours: agree is −1 in the database.
        let vote = match r.vote {
            Some(-1) => Vote::Agree,
            Some(1) => Vote::Disagree,
            _ => Vote::Pass,
        };
        batch.push(&Id::Int(r.pid as i64), &Id::Int(r.tid as i64), vote, r.created);
    }
    batch
}

/// Conversations with vote rows created after `after` or comments modified after `mod_after`, each
/// with its newest vote time (for the lag) and whether it may need an update: new votes or
/// moderation beyond its cursors, a changed count of rows in its overlap window, or no state yet
/// while its votes or moderation are newer than the math stored for it (by Polis's worker, or none).
pub fn candidates(
    client: &mut Client,
    env: &str,
    after: i64,
    mod_after: i64,
    overlap_ms: i64,
) -> Result<Vec<i32>, postgres::Error> {
    let rows = client.query(
        "WITH v AS (
             SELECT zid, max(created) AS newest FROM votes WHERE created > $2 GROUP BY zid
         ), c AS (
             SELECT zid, max(modified) AS newest FROM comments WHERE modified > $3 GROUP BY zid
         ), z AS (
             SELECT zid FROM v UNION SELECT zid FROM c
         )
         SELECT z.zid
           FROM z
           LEFT JOIN v ON v.zid = z.zid
           LEFT JOIN c ON c.zid = z.zid
           LEFT JOIN commonground_state s ON s.zid = z.zid AND s.math_env = $1
           LEFT JOIN math_main m ON m.zid = z.zid AND m.math_env = $1
          WHERE (s.zid IS NULL AND (m.zid IS NULL
                                    OR v.newest > coalesce(m.last_vote_timestamp, 0)
                                    OR c.newest > coalesce((m.data->>'lastModTimestamp')::bigint, m.modified, 0)))
             OR v.newest > s.vote_cursor
             OR c.newest > s.mod_cursor
             OR (s.zid IS NOT NULL AND v.zid IS NOT NULL AND s.window_count <> (
                   SELECT count(*) FROM votes w
                    WHERE w.zid = z.zid AND w.created > s.vote_cursor - $4 AND w.created <= s.vote_cursor))
          ORDER BY z.zid",
        &[&env, &after, &mod_after, &overlap_ms],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The newest `votes.created` and `comments.modified` in the database (the start of the next poll).
pub fn newest(client: &mut Client) -> Result<(i64, i64), postgres::Error> {
    let row = client.query_one(
        "SELECT (SELECT coalesce(max(created), 0) FROM votes), (SELECT coalesce(max(modified), 0) FROM comments)",
        &[],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// `math_bidtopid`'s `bidToPid`: the members of each base cluster, in the analysis's (id) order.
pub fn bid_to_pid(analysis: &commonground::Analysis) -> Vec<Vec<i64>> {
    analysis
        .base_clusters
        .iter()
        .map(|b| b.members.iter().filter_map(|p| if let Id::Int(p) = p { Some(*p) } else { None }).collect())
        .collect()
}

/// What one update stores.
pub struct Upload<'a> {
    pub zid: i32,
    pub env: &'a str,
    /// The Polis math JSON (its `math_tick` is set here to the tick `math_ticks` returns).
    pub math: Value,
    pub bid_to_pid: Vec<Vec<i64>>,
    pub last_vote_timestamp: Option<i64>,
    pub state: Vec<u8>,
    pub cursors: Cursors,
    pub overlap_ms: i64,
    /// The generation the stored state must still have (None: no state row yet).
    pub expected_generation: Option<i64>,
    pub worker: &'a str,
}

/// Writes one update in one transaction, as Polis's worker writes its math (`postgres.clj`):
/// `math_ticks` first, whose returned tick goes into `math_main` and `math_bidtopid`, then the
/// worker's own state with its cursors. Fails, writing nothing, when the stored state is no longer
/// at `expected_generation` (another worker stored an update meanwhile). Returns the math tick.
pub fn store(client: &mut Client, mut up: Upload<'_>) -> Result<i64, StoreError> {
    let mut tx = client.transaction()?;
    // Concurrent uploads take turns here, so that caching_tick grows strictly across workers.
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&lock_key(up.env), &WRITE_LOCK])?;
    let now = crate::log::now_ms();
    let math_tick: i64 = tx
        .query_one(
            // Polis's own statement: the first tick of a conversation is the column default, 0.
            "INSERT INTO math_ticks (zid, math_env, modified) VALUES ($1, $2, $3)
             ON CONFLICT (zid, math_env) DO UPDATE SET math_tick = math_ticks.math_tick + 1, modified = $3
             RETURNING math_tick",
            &[&up.zid, &up.env, &now],
        )?
        .get(0);
    let caching_tick: i64 = tx
        .query_one("SELECT coalesce(max(caching_tick), 0) + 1 FROM math_main WHERE math_env = $1", &[&up.env])?
        .get(0);
    if let Some(obj) = up.math.as_object_mut() {
        obj.insert("math_tick".into(), math_tick.into());
    }
    tx.execute(
        "INSERT INTO math_main (zid, math_env, data, last_vote_timestamp, math_tick, caching_tick, modified)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (zid, math_env) DO UPDATE SET data = excluded.data,
             last_vote_timestamp = excluded.last_vote_timestamp, math_tick = excluded.math_tick,
             caching_tick = excluded.caching_tick, modified = excluded.modified",
        &[&up.zid, &up.env, &up.math, &up.last_vote_timestamp.unwrap_or(0), &math_tick, &caching_tick, &now],
    )?;
    let bid = serde_json::json!({
        "zid": up.zid,
        "bidToPid": up.bid_to_pid,
        "lastVoteTimestamp": up.last_vote_timestamp,
    });
    tx.execute(
        "INSERT INTO math_bidtopid (zid, math_env, math_tick, data, modified) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (zid, math_env) DO UPDATE SET math_tick = excluded.math_tick, data = excluded.data,
             modified = excluded.modified",
        &[&up.zid, &up.env, &math_tick, &bid, &now],
    )?;
    let c = up.cursors;
    let generation = up.expected_generation.map_or(1, |g| g + 1);
    let written = tx.execute(
        "INSERT INTO commonground_state (zid, math_env, state_version, state, vote_cursor, window_count, overlap_ms,
                                         mod_cursor, generation, math_tick, worker, modified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (zid, math_env) DO UPDATE SET state_version = excluded.state_version, state = excluded.state,
             vote_cursor = excluded.vote_cursor, window_count = excluded.window_count,
             overlap_ms = excluded.overlap_ms, mod_cursor = excluded.mod_cursor, generation = excluded.generation,
             math_tick = excluded.math_tick, worker = excluded.worker, modified = excluded.modified
         WHERE commonground_state.generation = $13",
        &[
            &up.zid,
            &up.env,
            &(commonground::STATE_VERSION as i32),
            &up.state,
            &c.vote_cursor,
            &c.window_count,
            &up.overlap_ms,
            &c.mod_cursor,
            &generation,
            &math_tick,
            &up.worker,
            &now,
            &up.expected_generation.unwrap_or(-1),
        ],
    )?;
    if written != 1 {
        // Dropping the transaction rolls it back: nothing of this update is stored.
        return Err(StoreError::Superseded);
    }
    tx.commit()?;
    Ok(math_tick)
}

/// Why [`store`] wrote nothing.
#[derive(Debug)]
pub enum StoreError {
    Db(postgres::Error),
    /// Another worker stored an update of this conversation since this one read its state.
    Superseded,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Db(e)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Db(e) => write!(f, "database: {e}"),
            StoreError::Superseded => write!(f, "another worker stored an update of this conversation meanwhile"),
        }
    }
}
