//! The worker against a real PostgreSQL holding Polis's schema: the math it stores equals the
//! library's on the same votes, in one batch or many; it migrates from a Polis blob with Polis's
//! groups; bad rows are skipped and logged without stopping it; it survives a database restart.
//! (Killing it, several workers at once: `commonground-cli/tests/worker_processes.rs`.)

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commonground::io::{self, PolisMath};
use commonground::{Batching, Conversation, ConversationState, Params, Statement, VoteBatch};
use commonground_worker::{Config, Worker};
use serde_json::Value;
use support::fixtures::{insert_conversation, insert_votes, math_main, polis_database, without_worker_fields};

fn bundled_example() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/vtaiwan.uberx"))
}

fn once(url: &str) -> commonground_worker::RunSummary {
    let mut config = Config::new(url);
    config.once = true;
    config.worker_id = "test".into();
    Worker::new(config, Arc::new(AtomicBool::new(false))).run().expect("worker run")
}

fn polis_json(conv: &Conversation) -> Value {
    serde_json::to_value(PolisMath::from_analysis(conv.analysis().unwrap())).unwrap()
}

/// The Polis math JSON of all `data`'s votes analysed at once (`analyze --format polis`).
fn one_batch_json(data: &io::ConversationData) -> Value {
    let analysis = commonground::analyze(&data.votes, &data.statements, &Params::default()).unwrap();
    serde_json::to_value(PolisMath::from_analysis(&analysis)).unwrap()
}

/// A conversation fed `batches` in the order the worker reads votes.
fn fed(statements: &[Statement], batches: &[VoteBatch]) -> Conversation {
    let mut conversation = Conversation::new(Params::default()).unwrap();
    conversation.set_statements(statements.to_vec());
    for batch in batches {
        conversation.update(&in_read_order(batch)).unwrap();
    }
    conversation
}

/// `math_main.math_tick` of a conversation, if stored (None too while the database is away).
fn stored_tick(db: &mut postgres::Client, zid: i32) -> Option<i64> {
    db.query_opt("SELECT math_tick FROM math_main WHERE zid = $1", &[&zid]).ok().flatten().map(|r| r.get(0))
}

/// A batch in the order the worker reads votes (`ORDER BY tid, pid, created`).
fn in_read_order(batch: &VoteBatch) -> VoteBatch {
    let mut events: Vec<_> = batch.events().collect();
    events
        .sort_by(|a, b| (&a.statement, &a.participant, a.timestamp).cmp(&(&b.statement, &b.participant, b.timestamp)));
    VoteBatch::from_events(&events)
}

fn stored_state(client: &mut postgres::Client, zid: i32) -> ConversationState {
    let bytes: Vec<u8> =
        client.query_one("SELECT state FROM commonground_state WHERE zid = $1", &[&zid]).unwrap().get(0);
    ConversationState::from_bytes(&bytes).unwrap()
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn one_pass_over_vtaiwan_stores_the_math_that_analyze_gives() {
    let Some((_pg, url, mut db)) = polis_database("vtaiwan") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 7, &data.statements, 1_400_000_000_000);
    insert_votes(&mut db, 7, &data.votes, 0..data.votes.len(), 1_400_000_000_000);

    let summary = once(&url);
    assert_eq!(summary.updated, vec![(7, 0)], "one update, Polis's first math_tick (0)");
    let (stored, tick) = math_main(&mut db, 7, "prod").unwrap();
    assert_eq!(tick, 0);
    assert_eq!(stored["math_tick"], 0);

    let analysis = commonground::analyze(&data.votes, &data.statements, &Params::default()).unwrap();
    let expected = serde_json::to_value(PolisMath::from_analysis(&analysis)).unwrap();
    assert_eq!(without_worker_fields(stored.clone()), without_worker_fields(expected));
    let newest_mod = data.statements.iter().filter_map(|s| s.created).max().unwrap();
    assert_eq!(stored["lastModTimestamp"], newest_mod);

    // The rest of Polis's contract: math_ticks, caching_tick, last_vote_timestamp, bidToPid.
    let row = db
        .query_one("SELECT last_vote_timestamp, caching_tick FROM math_main WHERE zid = 7 AND math_env = 'prod'", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), analysis.last_vote_timestamp.unwrap());
    assert_eq!(row.get::<_, i64>(1), 1);
    let bid: Value = db.query_one("SELECT data FROM math_bidtopid WHERE zid = 7", &[]).unwrap().get(0);
    let members: Vec<Value> =
        analysis.base_clusters.iter().map(|b| serde_json::to_value(&b.members).unwrap()).collect();
    assert_eq!(bid["bidToPid"], Value::Array(members));
    assert_eq!(bid["zid"], 7);

    // Nothing new: a second pass stores nothing.
    assert_eq!(once(&url).updated, vec![]);
    assert_eq!(math_main(&mut db, 7, "prod").unwrap().1, 0);
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn votes_arriving_in_twenty_batches_give_the_math_of_a_conversation_fed_the_same_batches() {
    let Some((_pg, url, mut db)) = polis_database("batches") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 3, &data.statements, 1_400_000_000_000);
    let batches = Batching { window_ms: 1, max_updates: Some(20), ..Batching::default() }.split(&data.votes);
    assert_eq!(batches.len(), 20);

    let mut reference = Conversation::new(Params::default()).unwrap();
    reference.set_statements(data.statements.clone());
    let mut ticks = vec![];
    for batch in &batches {
        insert_votes(&mut db, 3, batch, 0..batch.len(), 0);
        reference.update(&in_read_order(batch)).unwrap();
        let summary = once(&url);
        assert_eq!(summary.updated.len(), 1);
        ticks.push(summary.updated[0].1);
    }
    assert_eq!(ticks, (0..20).collect::<Vec<i64>>());
    let (stored, _) = math_main(&mut db, 3, "prod").unwrap();
    assert_eq!(without_worker_fields(stored), without_worker_fields(polis_json(&reference)));
    // Not only the output: the stored state is the reference's, warm starts and all.
    assert_eq!(stored_state(&mut db, 3), reference.state());
}

/// participant -> group, from a Polis math JSON's base clusters and group clusters.
fn groups_of(math: &Value) -> BTreeMap<i64, i64> {
    let base = &math["base-clusters"];
    let mut group_of_base = BTreeMap::new();
    for g in math["group-clusters"].as_array().unwrap() {
        for b in g["members"].as_array().unwrap() {
            group_of_base.insert(b.as_i64().unwrap(), g["id"].as_i64().unwrap());
        }
    }
    let mut out = BTreeMap::new();
    for (i, id) in base["id"].as_array().unwrap().iter().enumerate() {
        for p in base["members"][i].as_array().unwrap() {
            out.insert(p.as_i64().unwrap(), group_of_base[&id.as_i64().unwrap()]);
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn a_database_that_polis_computed_is_taken_over_with_polis_groups() {
    let shared = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/polis-math"));
    if !shared.is_dir() {
        support::skip_or_fail("a_database_that_polis_computed_is_taken_over_with_polis_groups", "no ../shared data");
        return;
    }
    let Some((_pg, url, mut db)) = polis_database("migration") else { return };
    for (zid, name) in [(1, "below-100-ptpts"), (2, "above-100-ptpts"), (3, "25ptpt-3gp-no-strict-with-meta")] {
        let dir = shared.join(name);
        let data = io::load(&dir).unwrap();
        let blob: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("math-pca2.json")).unwrap()).unwrap();
        insert_conversation(&mut db, zid, &data.statements, 0);
        insert_votes(&mut db, zid, &data.votes, 0..data.votes.len(), 0);
        let last = blob["lastVoteTimestamp"].as_i64().unwrap();
        db.execute(
            "INSERT INTO math_main (zid, math_env, data, last_vote_timestamp, math_tick, caching_tick)
             VALUES ($1, 'prod', $2, $3, $4, $5)",
            &[&zid, &blob, &last, &blob["math_tick"].as_i64().unwrap(), &(zid as i64)],
        )
        .unwrap();
        db.execute(
            "INSERT INTO math_ticks (zid, math_env, math_tick) VALUES ($1, 'prod', $2)",
            &[&zid, &blob["math_tick"].as_i64().unwrap()],
        )
        .unwrap();
        // Comments moderated before Polis's last update are not news.
        db.execute("UPDATE comments SET modified = least(modified, $2) WHERE zid = $1", &[&zid, &last]).unwrap();
    }
    // Polis's math is current: nothing to do, and its blobs stay as they are.
    assert_eq!(once(&url).updated, vec![]);

    // A participant re-casts a vote unchanged: the next update resumes from Polis's blob.
    for (zid, name) in [(1, "below-100-ptpts"), (2, "above-100-ptpts"), (3, "25ptpt-3gp-no-strict-with-meta")] {
        let dir = shared.join(name);
        let blob: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("math-pca2.json")).unwrap()).unwrap();
        let data = io::load(&dir).unwrap();
        // The vote participant and statement of the first row hold now (the latest wins), cast again.
        let first = data.votes.event(0);
        let latest = data
            .votes
            .events()
            .filter(|v| v.participant == first.participant && v.statement == first.statement)
            .max_by_key(|v| v.timestamp)
            .unwrap();
        let again = VoteBatch::from_events(&[latest.at(blob["lastVoteTimestamp"].as_i64().unwrap() + 1000)]);
        insert_votes(&mut db, zid, &again, 0..1, 0);
        let summary = once(&url);
        assert!(summary.updated.iter().any(|&(z, _)| z == zid), "{name}: updated");
        let (stored, tick) = math_main(&mut db, zid, "prod").unwrap();
        assert_eq!(tick, blob["math_tick"].as_i64().unwrap() + 1, "{name}: Polis's tick goes on");
        assert_eq!(groups_of(&stored), groups_of(&blob), "{name}: participant -> group");
        assert_eq!(stored["base-clusters"]["id"], blob["base-clusters"]["id"], "{name}: base cluster ids");
        let in_conv =
            |v: &Value| v["in-conv"].as_array().unwrap().iter().map(|p| p.as_i64().unwrap()).collect::<BTreeSet<_>>();
        assert_eq!(in_conv(&stored), in_conv(&blob), "{name}: in-conv");
    }
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn bad_rows_are_skipped_and_the_conversation_goes_on() {
    let Some((_pg, url, mut db)) = polis_database("bad_rows") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 5, &data.statements, 1_400_000_000_000);
    insert_votes(&mut db, 5, &data.votes, 0..data.votes.len(), 0);
    let t = 1_500_000_000_000i64;
    // A vote of 7, a NULL vote, a vote on a statement that does not exist, a negative pid.
    db.batch_execute(&format!(
        "INSERT INTO votes (zid, pid, tid, vote, created) VALUES
           (5, 1, 1, 7, {t}), (5, 2, 1, NULL, {t}), (5, 3, 99999, -1, {t}), (5, -5, 1, -1, {t})"
    ))
    .unwrap();
    // A second conversation in the same poll is not held up.
    let other: Vec<Statement> = data.statements.clone();
    insert_conversation(&mut db, 6, &other, 1_400_000_000_000);
    insert_votes(&mut db, 6, &data.votes, 0..data.votes.len(), 0);

    // A new conversation with statements and no votes yet is not news, nor an error.
    insert_conversation(&mut db, 8, &data.statements[..3], 1_400_000_000_000);

    let mut config = Config::new(&url);
    config.once = true;
    let mut worker = Worker::new(config, Arc::new(AtomicBool::new(false)));
    let summary = worker.run().unwrap();
    assert_eq!(summary.updated.iter().map(|u| u.0).collect::<Vec<_>>(), vec![5, 6]);
    assert!(summary.failed.is_empty());
    assert!(math_main(&mut db, 8, "prod").is_none());
    // The Prometheus endpoint serves the counters.
    let addr = worker.metrics().serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut http = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut http, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut page = String::new();
    std::io::Read::read_to_string(&mut http, &mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    for line in [
        "commonground_worker_bad_rows_total 4\n",
        "commonground_worker_updates_total 2\n",
        "commonground_worker_update_failures_total 0\n",
        "commonground_worker_update_duration_seconds_count 2\n",
        "commonground_worker_lag_seconds{zid=\"5\"}",
    ] {
        assert!(page.contains(line), "{line:?} in {page}");
    }
    let expected = without_worker_fields(one_batch_json(&data));
    let (five, _) = math_main(&mut db, 5, "prod").unwrap();
    let (six, _) = math_main(&mut db, 6, "prod").unwrap();
    // The bad rows changed nothing but the cursor's time.
    let mut five = without_worker_fields(five);
    five["lastVoteTimestamp"] = expected["lastVoteTimestamp"].clone();
    assert_eq!(five, expected);
    assert_eq!(without_worker_fields(six), expected);
}

/// Waits (at most `limit`) until `ok` holds.
fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn the_worker_reconnects_after_a_database_restart_and_goes_on() {
    let Some((pg, url, mut db)) = polis_database("restart") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 9, &data.statements, 1_400_000_000_000);
    let batches = Batching { window_ms: 1, max_updates: Some(3), ..Batching::default() }.split(&data.votes);
    insert_votes(&mut db, 9, &batches[0], 0..batches[0].len(), 0);

    let stop = Arc::new(AtomicBool::new(false));
    let mut config = Config::new(&url);
    config.poll_interval = Duration::from_millis(50);
    let mut worker = Worker::new(config, Arc::clone(&stop));
    let running = std::thread::spawn(move || worker.run());

    assert!(wait_for(Duration::from_secs(30), || stored_tick(&mut db, 9) == Some(0)), "first update");
    pg.restart();
    let mut db = pg.client("restart");
    insert_votes(&mut db, 9, &batches[1], 0..batches[1].len(), 0);
    assert!(wait_for(Duration::from_secs(60), || stored_tick(&mut db, 9) == Some(1)), "update after the restart");
    stop.store(true, Ordering::SeqCst);
    let summary = running.join().unwrap().unwrap();
    assert_eq!(summary.updated, vec![(9, 0), (9, 1)]);

    let reference = fed(&data.statements, &batches[..2]);
    let (stored, _) = math_main(&mut db, 9, "prod").unwrap();
    assert_eq!(without_worker_fields(stored), without_worker_fields(polis_json(&reference)));
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn a_state_this_build_cannot_read_is_rebuilt_from_the_votes_and_the_stored_math() {
    let Some((_pg, url, mut db)) = polis_database("unreadable") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 4, &data.statements, 1_400_000_000_000);
    let batches = Batching { window_ms: 1, max_updates: Some(2), ..Batching::default() }.split(&data.votes);
    insert_votes(&mut db, 4, &batches[0], 0..batches[0].len(), 0);
    assert_eq!(once(&url).updated, vec![(4, 0)]);
    let (before, _) = math_main(&mut db, 4, "prod").unwrap();

    // As after an upgrade that changed the state's format: the bytes no longer read.
    db.execute("UPDATE commonground_state SET state = '\\x00ff'::bytea WHERE zid = 4", &[]).unwrap();
    insert_votes(&mut db, 4, &batches[1], 0..batches[1].len(), 0);
    assert_eq!(once(&url).updated, vec![(4, 1)]);
    let (after, _) = math_main(&mut db, 4, "prod").unwrap();
    // Resumed from the stored math: the group ids carry on.
    let ids = |m: &Value| m["group-clusters"].as_array().unwrap().iter().map(|g| g["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(after["n"].as_u64().unwrap() as usize, stored_state(&mut db, 4).matrix.participants.len());
    // And the state is readable again.
    insert_votes(&mut db, 4, &VoteBatch::from_events(&[batches[1].event(0).at(1_900_000_000_000)]), 0..1, 0);
    assert_eq!(once(&url).updated, vec![(4, 2)]);

    // An unreadable Polis blob for a conversation new to the worker: a cold start.
    insert_conversation(&mut db, 12, &data.statements, 1_400_000_000_000);
    insert_votes(&mut db, 12, &data.votes, 0..data.votes.len(), 0);
    db.execute(
        "INSERT INTO math_main (zid, math_env, data, last_vote_timestamp, math_tick) VALUES (12, 'prod', '{\"pca\": 1}', 0, 5)",
        &[],
    )
    .unwrap();
    assert_eq!(once(&url).updated.iter().map(|u| u.0).collect::<Vec<_>>(), vec![12]);
    let expected = one_batch_json(&data);
    assert_eq!(without_worker_fields(math_main(&mut db, 12, "prod").unwrap().0), without_worker_fields(expected));
}

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn an_idle_conversation_leaves_memory_and_comes_back_from_its_state_unchanged() {
    let Some((_pg, url, mut db)) = polis_database("evict") else { return };
    let data = io::load(&bundled_example()).unwrap();
    insert_conversation(&mut db, 2, &data.statements, 1_400_000_000_000);
    let batches = Batching { window_ms: 1, max_updates: Some(3), ..Batching::default() }.split(&data.votes);
    insert_votes(&mut db, 2, &batches[0], 0..batches[0].len(), 0);

    let stop = Arc::new(AtomicBool::new(false));
    let mut config = Config::new(&url);
    config.poll_interval = Duration::from_millis(50);
    config.idle_evict = Duration::from_millis(200);
    let mut worker = Worker::new(config, Arc::clone(&stop));
    let metrics = worker.metrics().clone();
    let running = std::thread::spawn(move || worker.run());
    assert!(wait_for(Duration::from_secs(30), || stored_tick(&mut db, 2) == Some(0)), "first update");
    assert!(
        wait_for(Duration::from_secs(10), || metrics
            .render()
            .contains("commonground_worker_conversations_in_memory 0\n")),
        "dropped from memory"
    );
    insert_votes(&mut db, 2, &batches[1], 0..batches[1].len(), 0);
    assert!(wait_for(Duration::from_secs(30), || stored_tick(&mut db, 2) == Some(1)), "update after the reload");
    stop.store(true, Ordering::SeqCst);
    running.join().unwrap().unwrap();

    let reference = fed(&data.statements, &batches[..2]);
    assert_eq!(stored_state(&mut db, 2), reference.state());
}
