//! Conversations put into a Polis database as Polis's server would have stored them: a
//! `conversations` row, `comments` with their moderation, and `votes` in Polis's sign (agree = −1).

use commonground::{Id, ModerationStatus, Statement, VoteBatch};

/// A commonground id as a Polis integer id (every fixture here has integer ids).
pub fn int_id(id: &Id) -> i32 {
    match id {
        Id::Int(n) => i32::try_from(*n).expect("id fits a Polis INTEGER"),
        Id::Str(s) => panic!("fixture id {s:?} is not an integer"),
    }
}

/// Polis's tid trigger renumbers comments; fixtures keep their own tids, as a dump restored
/// with its triggers off does.
pub fn keep_fixture_tids(client: &mut postgres::Client) {
    client.batch_execute("ALTER TABLE comments DISABLE TRIGGER USER").unwrap();
}

/// A fresh server with one database holding Polis's schema, fixture tids kept: the server (kept
/// alive by the caller), the database's url and a client. `None` when no server can start (the
/// test is skipped; under CI it fails instead, see [`super::PgCluster::start`]).
pub fn polis_database(name: &str) -> Option<(super::PgCluster, String, postgres::Client)> {
    let pg = super::PgCluster::start()?;
    let url = pg.create_database(name);
    let mut client = pg.client(name);
    super::create_polis_schema(&mut client);
    keep_fixture_tids(&mut client);
    Some((pg, url, client))
}

/// Inserts the conversation row and its statements; `modified` of each comment is its `created`
/// (or `t0`), as Polis sets it when nobody has moderated since.
pub fn insert_conversation(client: &mut postgres::Client, zid: i32, statements: &[Statement], t0: i64) {
    client.execute("INSERT INTO conversations (zid) VALUES ($1) ON CONFLICT DO NOTHING", &[&zid]).unwrap();
    for s in statements {
        let tid = int_id(&s.id);
        let created = s.created.unwrap_or(t0);
        let txt = s.text.clone().unwrap_or_else(|| format!("statement {tid}"));
        let moderation = match s.moderation {
            ModerationStatus::Rejected => -1,
            ModerationStatus::Unmoderated => 0,
            ModerationStatus::Accepted => 1,
        };
        let pid = s.author.as_ref().map(int_id).unwrap_or(0);
        client
            .execute(
                "INSERT INTO comments (zid, tid, pid, uid, created, modified, txt, mod, is_meta)
                 VALUES ($1, $2, $3, $3, $4, $4, $5, $6, $7)",
                &[&zid, &tid, &pid, &created, &txt, &moderation, &s.is_meta],
            )
            .unwrap();
    }
}

/// pid, tid, vote (Polis's sign), created.
type VoteColumns = (Vec<i32>, Vec<i32>, Vec<i16>, Vec<i64>);

/// Inserts votes `range` of `batch` in Polis's sign; a vote without a timestamp gets `t0 + i`.
/// Polis's rule on `votes` upserts `votes_latest_unique`, which one statement cannot do twice for
/// one cell: a re-vote goes into a later statement, as it arrives later on a live site.
pub fn insert_votes(
    client: &mut postgres::Client,
    zid: i32,
    batch: &VoteBatch,
    range: std::ops::Range<usize>,
    t0: i64,
) {
    let mut layers: Vec<VoteColumns> = Vec::new();
    let mut seen: std::collections::HashMap<(i32, i32), usize> = std::collections::HashMap::new();
    for i in range {
        let e = batch.event(i);
        let (pid, tid) = (int_id(&e.participant), int_id(&e.statement));
        let layer = seen.entry((pid, tid)).or_insert(0);
        if layers.len() <= *layer {
            layers.push(Default::default());
        }
        let l = &mut layers[*layer];
        *layer += 1;
        l.0.push(pid);
        l.1.push(tid);
        // Ours: agree = +1. Polis's: agree = −1.
        l.2.push(-(e.vote.value() as i16));
        l.3.push(e.timestamp.unwrap_or(t0 + i as i64));
    }
    for (pids, tids, votes, created) in layers {
        client
            .execute(
                "INSERT INTO votes (zid, pid, tid, vote, created)
                 SELECT $1, * FROM unnest($2::int[], $3::int[], $4::smallint[], $5::bigint[])",
                &[&zid, &pids, &tids, &votes, &created],
            )
            .unwrap();
    }
}

/// The stored math of a conversation: `math_main.data`, with its `math_tick` column.
pub fn math_main(client: &mut postgres::Client, zid: i32, env: &str) -> Option<(serde_json::Value, i64)> {
    client
        .query_opt("SELECT data, math_tick FROM math_main WHERE zid = $1 AND math_env = $2", &[&zid, &env])
        .unwrap()
        .map(|r| (r.get(0), r.get(1)))
}

/// A Polis math JSON without the two fields only a worker knows (`math_tick` comes from
/// `math_ticks`, `lastModTimestamp` from `comments.modified`), for comparing with
/// `analyze --format polis`.
pub fn without_worker_fields(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("math_tick");
        o.remove("lastModTimestamp");
    }
    v
}
