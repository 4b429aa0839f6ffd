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

#[path = "worker_processes/common.rs"]
mod common;

use common::*;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use commonground::{Batching, Conversation, Id, Params, Statement, Vote, VoteBatch};
use serde_json::Value;
use support::fixtures::{insert_conversation, insert_votes, math_main, polis_database, without_worker_fields};

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn killing_the_worker_at_random_points_loses_nothing_and_counts_nothing_twice() {
    let Some((_pg, url, mut db)) = polis_database(DB) else { return };
    let test_start = Instant::now();
    let scratch = Scratch::new("kill");
    const ROUNDS: usize = 32;
    const MAX_KILLS_PER_ROUND: usize = 3;

    // The bundled example and two small generated conversations, each cut into 32 batches in
    // time order.
    let data = example();
    let batching = Batching { window_ms: 1, max_updates: Some(ROUNDS), ..Batching::default() };
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

#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn four_workers_share_forty_conversations_and_never_compute_one_twice_at_once() {
    let Some((pg, url, mut db)) = polis_database(DB) else { return };
    let test_start = Instant::now();
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
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn sigterm_during_polling_exits_zero_and_releases_claims() {
    let Some((_pg, url, mut db)) = polis_database(DB) else { return };
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

/// A worker that stalls holding a claim for longer than `--overlap` (a long update, a frozen VM,
/// a dead host the server notices only after the TCP keepalives, ~30 s) and then dies: the other
/// workers' poll window has moved past the conversation's votes, they never look at it again, and
/// its votes stay unprocessed until it gets another vote.
#[test]
#[cfg_attr(
    not(postgres_server),
    ignore = "needs PostgreSQL 15 server binaries (PG_BIN or /usr/lib/postgresql/15/bin); .ci/run installs them"
)]
fn a_conversation_whose_claim_holder_stalls_and_dies_is_taken_over() {
    let Some((_pg, url, mut db)) = polis_database(DB) else { return };
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
