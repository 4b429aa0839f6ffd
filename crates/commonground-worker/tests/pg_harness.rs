//! The PostgreSQL test harness (`tests/support`) against a real server: a cluster starts, takes
//! Polis's schema, keeps rows across restarts, and several clusters run side by side.
//!
//! Each test starts its own server; without PostgreSQL binaries a test prints a `SKIPPED:` line and
//! returns (with `CI=true` it fails instead).

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use support::{create_polis_schema, PgCluster};

const MATH_ENV: &str = "test";

/// Polis's worker's `inc-math-tick` (math/src/polismath/components/postgres.clj).
const INC_MATH_TICK: &str = "insert into math_ticks (zid, math_env) values ($1, $2) \
     on conflict (zid, math_env) do update set modified = now_as_millis(), math_tick = (math_ticks.math_tick + 1) \
     returning math_tick";

/// Polis's worker's `upload-math-main`, with the data bound as text. Like Polis, it binds math_env
/// twice ($2 and $6): one parameter used in both places fails with 42P08 "inconsistent types
/// deduced for parameter" (character varying for the column, text for the comparison).
const UPLOAD_MATH_MAIN: &str = "insert into math_main (zid, math_env, last_vote_timestamp, math_tick, data, caching_tick) \
     values ($1, $2, $3, $4, $5::text::jsonb, COALESCE((select max(caching_tick) + 1 from math_main where math_env = ($6)), 1)) \
     on conflict (zid, math_env) \
     do update set modified = now_as_millis(), data = excluded.data, last_vote_timestamp = excluded.last_vote_timestamp, \
     math_tick = excluded.math_tick, caching_tick = excluded.caching_tick \
     returning zid";

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Loads Polis's schema into `client`'s database and adds a conversation, three statements (tids
/// 0-2, the third a meta statement) and a few votes from participants 0-2; returns the zid.
fn seed_conversation(client: &mut postgres::Client) -> i32 {
    create_polis_schema(client);
    let zid: i32 = client
        .query_one("INSERT INTO conversations (topic, strict_moderation) VALUES ('harness', false) RETURNING zid", &[])
        .unwrap()
        .get(0);
    for (tid, txt, is_meta) in [(0, "first statement", false), (1, "second statement", false), (2, "a meta one", true)]
    {
        let got: i32 = client
            .query_one(
                "INSERT INTO comments (tid, zid, pid, uid, txt, mod, is_meta) VALUES ($1, $2, 0, 1, $3, 1, $4) \
                 RETURNING tid",
                &[&tid, &zid, &txt, &is_meta],
            )
            .unwrap()
            .get(0);
        assert_eq!(got, tid);
    }
    // (pid, tid, vote, created): agree = -1, disagree = +1, pass = 0; pid 1 changes its vote on tid 0.
    let votes: [(i32, i32, i16, i64); 6] =
        [(0, 0, -1, 1000), (0, 1, 1, 1001), (1, 0, 1, 1002), (1, 1, 0, 1003), (2, 0, -1, 1004), (1, 0, -1, 1005)];
    for (pid, tid, vote, created) in votes {
        client
            .execute(
                "INSERT INTO votes (zid, pid, tid, vote, created) VALUES ($1, $2, $3, $4, $5)",
                &[&zid, &pid, &tid, &vote, &created],
            )
            .unwrap();
    }
    zid
}

fn votes_of(client: &mut postgres::Client, zid: i32) -> Vec<(i32, i32, Option<i16>, i64)> {
    client
        .query("SELECT pid, tid, vote, created FROM votes WHERE zid = $1 ORDER BY zid, tid, pid, created", &[&zid])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn polis_schema_takes_a_conversation_and_reads_it_back() {
    let Some(pg) = PgCluster::start() else { return };
    let url = pg.create_database("polis");
    assert_eq!(url, format!("postgres://postgres@127.0.0.1:{}/polis", pg.port()));
    let mut db = pg.client("polis");
    let before = now_millis();
    let zid = seed_conversation(&mut db);
    let after = now_millis();

    // conversations: defaults as Polis has them; created/modified from now_as_millis().
    let row = db
        .query_one("SELECT strict_moderation, is_active, created, modified FROM conversations WHERE zid = $1", &[&zid])
        .unwrap();
    assert_eq!(row.get::<_, Option<bool>>(0), Some(false));
    assert_eq!(row.get::<_, Option<bool>>(1), Some(false));
    for col in [2, 3] {
        let millis: i64 = row.get::<_, Option<i64>>(col).unwrap();
        assert!(millis >= before - 5_000 && millis <= after + 5_000, "now_as_millis() gave {millis}");
    }

    // comments, in the moderation poll's order.
    let comments: Vec<(i32, String, i32, bool, bool)> = db
        .query(
            "SELECT tid, txt, mod, active, is_meta FROM comments WHERE zid = $1 AND modified > 0 ORDER BY tid, modified",
            &[&zid],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        comments,
        vec![
            (0, "first statement".to_string(), 1, true, false),
            (1, "second statement".to_string(), 1, true, false),
            (2, "a meta one".to_string(), 1, true, true),
        ]
    );
    let meta: Vec<i32> = db
        .query("SELECT tid FROM comments WHERE zid = $1 AND is_meta", &[&zid])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(meta, vec![2]);

    // votes: every row kept, in the vote poll's order.
    assert_eq!(
        votes_of(&mut db, zid),
        vec![
            (0, 0, Some(-1), 1000),
            (1, 0, Some(1), 1002),
            (1, 0, Some(-1), 1005),
            (2, 0, Some(-1), 1004),
            (0, 1, Some(1), 1001),
            (1, 1, Some(0), 1003),
        ]
    );
    let polled: i64 = db.query_one("SELECT count(*) FROM votes WHERE created > 1002", &[]).unwrap().get(0);
    assert_eq!(polled, 3);
    // votes_latest_unique: kept by Polis's rule on votes, latest vote per cell, modified = created.
    let latest: Vec<(i32, i32, Option<i16>, Option<i64>)> = db
        .query("SELECT pid, tid, vote, modified FROM votes_latest_unique WHERE zid = $1 ORDER BY tid, pid", &[&zid])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        latest,
        vec![
            (0, 0, Some(-1), Some(1000)),
            (1, 0, Some(-1), Some(1005)),
            (2, 0, Some(-1), Some(1004)),
            (0, 1, Some(1), Some(1001)),
            (1, 1, Some(0), Some(1003)),
        ]
    );
    // A vote may be NULL (old rows); created defaults to now_as_millis().
    db.execute("INSERT INTO votes (zid, pid, tid) VALUES ($1, 3, 0)", &[&zid]).unwrap();
    let (vote, created): (Option<i16>, i64) = db
        .query_one("SELECT vote, created FROM votes WHERE zid = $1 AND pid = 3", &[&zid])
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(vote, None);
    assert!(created >= before - 5_000);
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn polis_tid_trigger_numbers_statements_itself() {
    // Polis's tid_auto trigger overwrites any tid given with MAX(tid) + 1 of the conversation: a
    // test's explicit tids are kept only when inserted in order from 0.
    let Some(pg) = PgCluster::start() else { return };
    pg.create_database("polis");
    let mut db = pg.client("polis");
    let zid = seed_conversation(&mut db);
    let tid: i32 = db
        .query_one("INSERT INTO comments (tid, zid, pid, uid, txt) VALUES (7, $1, 0, 1, 'gap') RETURNING tid", &[&zid])
        .unwrap()
        .get(0);
    assert_eq!(tid, 3);
    // Another conversation starts again at 0.
    let zid2: i32 = db.query_one("INSERT INTO conversations DEFAULT VALUES RETURNING zid", &[]).unwrap().get(0);
    assert_ne!(zid2, zid);
    let tid: i32 = db
        .query_one("INSERT INTO comments (tid, zid, pid, uid, txt) VALUES (5, $1, 0, 1, 'gap') RETURNING tid", &[&zid2])
        .unwrap()
        .get(0);
    assert_eq!(tid, 0);
    // (zid, txt) is unique.
    let err = db.execute("INSERT INTO comments (tid, zid, pid, uid, txt) VALUES (0, $1, 0, 1, 'gap')", &[&zid2]);
    assert!(err.is_err());
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn math_ticks_upsert_increments_and_math_tables_upsert() {
    let Some(pg) = PgCluster::start() else { return };
    pg.create_database("polis");
    let mut db = pg.client("polis");
    let zid = seed_conversation(&mut db);

    // math_tick starts at its default, 0, and each further upsert adds one; per math_env.
    let ticks: Vec<i64> =
        (0..3).map(|_| db.query_one(INC_MATH_TICK, &[&zid, &MATH_ENV]).unwrap().get::<_, i64>(0)).collect();
    assert_eq!(ticks, vec![0, 1, 2]);
    let other_env: i64 = db.query_one(INC_MATH_TICK, &[&zid, &"prod"]).unwrap().get(0);
    assert_eq!(other_env, 0);
    let (caching_tick, modified): (i64, i64) = db
        .query_one("SELECT caching_tick, modified FROM math_ticks WHERE zid = $1 AND math_env = $2", &[&zid, &MATH_ENV])
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(caching_tick, 0);
    assert!(modified > 0);

    // math_main: caching_tick = 1 + the largest of that math_env (1 when there is none).
    let blob = serde_json::json!({"n": 3, "tids": [0, 1, 2], "lastVoteTimestamp": 1005, "math_tick": 2});
    let mut caching_ticks = Vec::new();
    for math_tick in [2_i64, 3] {
        db.query_one(UPLOAD_MATH_MAIN, &[&zid, &MATH_ENV, &1005_i64, &math_tick, &blob.to_string(), &MATH_ENV])
            .unwrap();
        caching_ticks.push(
            db.query_one("SELECT caching_tick FROM math_main WHERE zid = $1 AND math_env = $2", &[&zid, &MATH_ENV])
                .unwrap()
                .get::<_, i64>(0),
        );
    }
    assert_eq!(caching_ticks, vec![1, 2]);
    let (data, math_tick, last_vote): (String, i64, i64) = db
        .query_one(
            "SELECT data::text, math_tick, last_vote_timestamp FROM math_main WHERE zid = $1 AND math_env = $2",
            &[&zid, &MATH_ENV],
        )
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&data).unwrap(), blob);
    assert_eq!((math_tick, last_vote), (3, 1005));

    // math_bidtopid and math_ptptstats: upserts keyed by (zid, math_env).
    for table in ["math_bidtopid", "math_ptptstats"] {
        for math_tick in [2_i64, 3] {
            let sql = format!(
                "insert into {table} (zid, math_env, math_tick, data) values ($1, $2, $3, $4::text::jsonb) \
                 on conflict (zid, math_env) do update set modified = now_as_millis(), data = excluded.data, \
                 math_tick = excluded.math_tick returning zid"
            );
            let data = serde_json::json!({"zid": zid, "bidToPid": [[0, 1], [2]], "lastVoteTimestamp": 1005});
            db.query_one(&sql, &[&zid, &MATH_ENV, &math_tick, &data.to_string()]).unwrap();
        }
        let (rows, max_tick): (i64, Option<i64>) = db
            .query_one(&format!("SELECT count(*), max(math_tick) FROM {table} WHERE zid = $1"), &[&zid])
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        assert_eq!((rows, max_tick), (1, Some(3)), "{table}");
    }
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn polis_schema_has_polis_column_types_and_defaults() {
    let Some(pg) = PgCluster::start() else { return };
    pg.create_database("polis");
    let mut db = pg.client("polis");
    create_polis_schema(&mut db);
    let column = |db: &mut postgres::Client, table: &str, col: &str| -> (String, String, Option<String>) {
        let row = db
            .query_one(
                "SELECT data_type, is_nullable, column_default FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &col],
            )
            .unwrap_or_else(|e| panic!("{table}.{col}: {e:?}"));
        (row.get(0), row.get(1), row.get(2))
    };
    let expect = |t: (String, String, Option<String>), ty: &str, nullable: &str, default: Option<&str>| {
        assert_eq!((t.0.as_str(), t.1.as_str(), t.2.as_deref()), (ty, nullable, default));
    };
    expect(column(&mut db, "votes", "vote"), "smallint", "YES", None);
    expect(column(&mut db, "votes", "created"), "bigint", "YES", Some("now_as_millis()"));
    expect(column(&mut db, "votes", "weight_x_32767"), "smallint", "YES", Some("0"));
    expect(column(&mut db, "comments", "txt"), "character varying", "NO", None);
    expect(column(&mut db, "comments", "mod"), "integer", "NO", Some("0"));
    expect(column(&mut db, "comments", "is_meta"), "boolean", "NO", Some("false"));
    expect(column(&mut db, "math_ticks", "math_tick"), "bigint", "NO", Some("0"));
    expect(column(&mut db, "math_ticks", "caching_tick"), "bigint", "NO", Some("0"));
    expect(column(&mut db, "math_ticks", "math_env"), "character varying", "NO", None);
    expect(column(&mut db, "math_main", "data"), "jsonb", "NO", None);
    expect(column(&mut db, "math_main", "caching_tick"), "bigint", "NO", Some("0"));
    expect(column(&mut db, "math_main", "math_tick"), "bigint", "NO", Some("'-1'::integer"));
    expect(column(&mut db, "math_main", "last_vote_timestamp"), "bigint", "NO", None);
    expect(column(&mut db, "math_bidtopid", "math_tick"), "bigint", "NO", Some("'-1'::integer"));
    expect(column(&mut db, "math_ptptstats", "data"), "jsonb", "NO", None);
    // The unique constraints the worker's ON CONFLICT clauses need.
    for (table, cols) in [
        ("math_ticks", "zid, math_env"),
        ("math_main", "zid, math_env"),
        ("math_bidtopid", "zid, math_env"),
        ("math_ptptstats", "zid, math_env"),
        ("votes_latest_unique", "zid, pid, tid"),
        ("comments", "zid, tid"),
        ("comments", "zid, txt"),
        ("conversations", "zid"),
    ] {
        let found: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 \
                 AND indexdef LIKE 'CREATE UNIQUE INDEX % USING btree (' || $2 || ')'",
                &[&table, &cols],
            )
            .unwrap()
            .get(0);
        assert_eq!(found, 1, "unique ({cols}) on {table}");
    }
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn rows_survive_a_restart_and_a_crash() {
    let Some(pg) = PgCluster::start() else { return };
    pg.create_database("polis");
    let mut db = pg.client("polis");
    let zid = seed_conversation(&mut db);
    assert_eq!(db.query_one(INC_MATH_TICK, &[&zid, &MATH_ENV]).unwrap().get::<_, i64>(0), 0);
    let votes = votes_of(&mut db, zid);
    let port = pg.port();

    pg.restart();
    assert_eq!(pg.port(), port);
    assert!(db.simple_query("SELECT 1").is_err(), "the old connection should be gone after a restart");
    let mut db = pg.client("polis");
    assert_eq!(votes_of(&mut db, zid), votes);
    assert_eq!(db.query_one(INC_MATH_TICK, &[&zid, &MATH_ENV]).unwrap().get::<_, i64>(0), 1);

    // An immediate stop is a crash: committed rows come back through recovery.
    drop(db);
    pg.stop_immediate();
    assert!(!pg.is_running());
    assert!(pg.try_client("polis").is_err());
    pg.start_again();
    let mut db = pg.client("polis");
    assert_eq!(votes_of(&mut db, zid), votes);
    assert_eq!(db.query_one(INC_MATH_TICK, &[&zid, &MATH_ENV]).unwrap().get::<_, i64>(0), 2);
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn clusters_run_side_by_side_and_vanish_on_drop() {
    let Some(first) = PgCluster::start() else { return };
    let second = std::thread::spawn(PgCluster::try_start).join().unwrap().expect("a second cluster starts");
    assert_ne!(first.port(), second.port());
    assert_ne!(first.root_dir(), second.root_dir());
    first.create_database("polis");
    second.create_database("polis");
    let mut a = first.client("polis");
    let mut b = second.client("polis");
    create_polis_schema(&mut a);
    create_polis_schema(&mut b);
    a.batch_execute("INSERT INTO conversations (topic) VALUES ('only in a')").unwrap();
    let in_b: i64 = b.query_one("SELECT count(*) FROM conversations", &[]).unwrap().get(0);
    assert_eq!(in_b, 0);
    // Enough connections for a pool of workers.
    let max: String = a.query_one("SHOW max_connections", &[]).unwrap().get(0);
    assert!(max.parse::<u32>().unwrap() >= 100);

    let (root, url) = (second.root_dir().to_path_buf(), second.url("polis"));
    drop(b);
    drop(second);
    assert!(!root.exists(), "{} should be deleted with its cluster", root.display());
    assert!(postgres::Client::connect(&url, postgres::NoTls).is_err());
    // The first cluster is untouched.
    let in_a: i64 = a.query_one("SELECT count(*) FROM conversations", &[]).unwrap().get(0);
    assert_eq!(in_a, 1);
}
