//! Synthetic deliberations with a known answer: the workload of the benchmarks and the ground
//! truth of the bridging evaluation.
//!
//! A conversation is planted as follows.
//! - **Groups.** Each participant belongs to one of `groups` opinion groups, of unequal sizes
//!   (weights 1, 1.5, 2, ..., or the `group_shares` given).
//! - **Statements.** Each statement has, for each group, the probability that a member who does not
//!   pass agrees with it. *Bridging* statements are agreed by every group (0.70–0.92); *divisive*
//!   ones are agreed by some groups (0.60–0.85) and rejected by the others (0.05–0.25); *mixed*
//!   ones sit in between (0.30–0.60) for everyone. The planted bridging score of a statement is its
//!   lowest per-group agree probability.
//! - **Participation** is heavy-tailed, as in real Polis data: the number of votes of a participant
//!   follows a Pareto law (shape 1.5) scaled so that the total is close to `votes`, capped at the
//!   number of statements; which statements a participant sees is skewed towards early statements
//!   (weight `1/sqrt(j + 10)`), as Polis's routing shows early statements more.
//! - **Votes**: a pass with probability `pass_rate`, else agree or disagree by the group's profile.
//!
//! Every participant draws from its own random stream (`Rng::fork(seed, participant)`), so the
//! output is identical whatever the number of threads.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::votes::{Id, ModerationStatus, Statement, Vote, VoteEvent};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticParams {
    pub participants: usize,
    pub statements: usize,
    /// Target total number of votes (passes included); the result is within a few percent.
    pub votes: usize,
    pub groups: usize,
    pub seed: u64,
    /// Planted bridging statements; default `max(1, statements / 20)`.
    pub bridging: Option<usize>,
    /// Share of votes that are passes.
    pub pass_rate: f64,
    /// Relative sizes of the groups (one per group, e.g. `[60, 25, 10, 5]`); default: weights 1,
    /// 1.5, 2, ...
    #[serde(default)]
    pub group_shares: Option<Vec<f64>>,
    /// Statements added over time: the first 30% are there from the start and the rest appear
    /// evenly as participants arrive, so participant i (of n) can vote only on the first
    /// `ceil(statements × (0.3 + 0.7 i / n))`. Early statements then get more votes, late
    /// participants see statements early ones never saw, and the total falls below `votes`.
    #[serde(default)]
    pub staggered: bool,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            participants: 1000,
            statements: 100,
            votes: 20_000,
            groups: 3,
            seed: 0,
            bridging: None,
            pass_rate: 0.15,
            group_shares: None,
            staggered: false,
        }
    }
}

/// The kind of a planted statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    Bridging,
    Divisive,
    Mixed,
}

/// The planted answer, written as `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub params: SyntheticParams,
    /// Planted group of participant `i` (participant ids are 0..participants).
    pub participant_group: Vec<u32>,
    /// Statement ids of the planted bridging statements.
    pub bridging_statements: Vec<i64>,
    /// Kind of statement `j`.
    pub kind: Vec<StatementKind>,
    /// `agree_probability[j][g]`: probability that a member of group g who does not pass agrees with j.
    pub agree_probability: Vec<Vec<f64>>,
    /// Planted bridging score of statement j: `min_g agree_probability[j][g]`.
    pub bridging_score: Vec<f64>,
}

/// A planned synthetic deliberation; votes are drawn on demand, per participant.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub truth: Truth,
    /// Votes to cast per participant.
    votes_per_participant: Vec<u32>,
    /// Cumulative statement popularity weights, for weighted draws.
    cumulative: Vec<f64>,
}

/// Start of the synthetic conversation (2024-01-01) and the spacing of arrivals, in ms.
const T0: i64 = 1_704_067_200_000;
const ARRIVAL_MS: i64 = 1_000;
const VOTE_MS: i64 = 3_000;

impl SyntheticParams {
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, message: &str| {
            Err(Error::InvalidParameter { name: name.into(), message: message.into() })
        };
        if self.participants == 0 {
            return bad("participants", "must be at least 1");
        }
        if self.statements == 0 {
            return bad("statements", "must be at least 1");
        }
        if self.groups == 0 {
            return bad("groups", "must be at least 1");
        }
        if self.votes < self.participants {
            return bad("votes", "must be at least the number of participants (everyone votes once)");
        }
        if self.votes as u128 > self.participants as u128 * self.statements as u128 {
            return bad("votes", "exceeds participants x statements");
        }
        if !(0.0..1.0).contains(&self.pass_rate) {
            return bad("pass_rate", "must be in [0, 1)");
        }
        if let Some(shares) = &self.group_shares {
            if shares.len() != self.groups {
                return bad("group_shares", "needs one share per group");
            }
            if !shares.iter().all(|s| s.is_finite() && *s > 0.0) {
                return bad("group_shares", "every share must be a finite number > 0");
            }
        }
        if self.bridging.is_some_and(|b| b > self.statements) {
            return bad("bridging", "exceeds the number of statements");
        }
        Ok(())
    }
}

impl Synthetic {
    /// Plans the deliberation: groups, statement profiles, votes per participant. O(participants + statements x groups).
    pub fn new(params: SyntheticParams) -> Result<Synthetic> {
        params.check()?;
        let (n, m, g) = (params.participants, params.statements, params.groups);
        let mut rng = Rng::new(params.seed);
        let n_bridging = params.bridging.unwrap_or((m / 20).max(1));

        // Statement kinds: the bridging ones spread evenly; a third of the rest mixed.
        let mut kind = vec![StatementKind::Divisive; m];
        for b in 0..n_bridging {
            kind[b * m / n_bridging] = StatementKind::Bridging;
        }
        for k in kind.iter_mut() {
            if *k == StatementKind::Divisive && rng.below(3) == 0 {
                *k = StatementKind::Mixed;
            }
        }
        let range = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
        let agree_probability: Vec<Vec<f64>> = kind
            .iter()
            .map(|k| match k {
                StatementKind::Bridging => (0..g).map(|_| range(&mut rng, 0.70, 0.92)).collect(),
                StatementKind::Mixed => (0..g).map(|_| range(&mut rng, 0.30, 0.60)).collect(),
                StatementKind::Divisive => {
                    // Each group for or against; with two or more groups, at least one of each.
                    let mut favour: Vec<bool> = (0..g).map(|_| rng.below(2) == 0).collect();
                    if g >= 2 && (favour.iter().all(|&f| f) || favour.iter().all(|&f| !f)) {
                        let flip = rng.below(g as u64) as usize;
                        favour[flip] = !favour[flip];
                    }
                    favour
                        .iter()
                        .map(|&f| if f { range(&mut rng, 0.60, 0.85) } else { range(&mut rng, 0.05, 0.25) })
                        .collect()
                }
            })
            .collect();
        let bridging_score =
            agree_probability.iter().map(|p| p.iter().copied().fold(f64::INFINITY, f64::min)).collect();

        // Unequal groups: weights 1, 1.5, 2, ..., unless the shares are given.
        let weights: Vec<f64> =
            params.group_shares.clone().unwrap_or_else(|| (0..g).map(|i| 1.0 + 0.5 * i as f64).collect());
        let total: f64 = weights.iter().sum();
        let participant_group: Vec<u32> = (0..n)
            .map(|_| {
                let mut u = rng.uniform() * total;
                let mut chosen = g - 1;
                for (i, w) in weights.iter().enumerate() {
                    if u < *w {
                        chosen = i;
                        break;
                    }
                    u -= w;
                }
                chosen as u32
            })
            .collect();

        // Pareto(1.5) participation, scaled by bisection so the capped total is close to `votes`.
        let draws: Vec<f64> = (0..n).map(|_| (1.0 - rng.uniform()).powf(-1.0 / 1.5)).collect();
        let count = |scale: f64| -> Vec<u32> {
            draws.iter().map(|d| ((scale * d).round() as usize).clamp(1, m) as u32).collect()
        };
        let (mut lo, mut hi) = (0.0f64, (params.votes as f64 / n as f64) * 4.0 + m as f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            let sum: usize = count(mid).iter().map(|&c| c as usize).sum();
            if sum < params.votes {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let votes_per_participant = count(hi);

        let mut cumulative = Vec::with_capacity(m);
        let mut acc = 0.0;
        for j in 0..m {
            acc += 1.0 / ((j + 10) as f64).sqrt();
            cumulative.push(acc);
        }
        let bridging_statements = (0..m).filter(|&j| kind[j] == StatementKind::Bridging).map(|j| j as i64).collect();
        Ok(Synthetic {
            truth: Truth { params, participant_group, bridging_statements, kind, agree_probability, bridging_score },
            votes_per_participant,
            cumulative,
        })
    }

    /// Participant `i`'s votes: (statement, vote, timestamp), drawn from its own random stream.
    pub fn participant_votes(&self, i: usize) -> Vec<(u32, Vote, i64)> {
        let params = &self.truth.params;
        let m = if params.staggered {
            let share = 0.3 + 0.7 * i as f64 / params.participants as f64;
            ((params.statements as f64 * share).ceil() as usize).clamp(1, params.statements)
        } else {
            params.statements
        };
        let k = (self.votes_per_participant[i] as usize).min(m);
        let mut rng = Rng::fork(params.seed, i as u64 + 1);
        // Which statements: weighted draws without replacement (rejection) while sparse; a uniform
        // partial shuffle when the participant sees most statements.
        let mut chosen: Vec<u32> = Vec::with_capacity(k);
        if k * 2 <= m {
            let mut seen = std::collections::HashSet::with_capacity(k * 2);
            let total = self.cumulative[m - 1];
            while chosen.len() < k {
                let u = rng.uniform() * total;
                let j = self.cumulative.partition_point(|&c| c <= u).min(m - 1) as u32;
                if seen.insert(j) {
                    chosen.push(j);
                }
            }
        } else {
            let mut all: Vec<u32> = (0..m as u32).collect();
            for t in 0..k {
                let r = t + rng.below((m - t) as u64) as usize;
                all.swap(t, r);
            }
            all.truncate(k);
            chosen = all;
        }
        let group = self.truth.participant_group[i] as usize;
        let arrival = T0 + i as i64 * ARRIVAL_MS;
        chosen
            .into_iter()
            .enumerate()
            .map(|(t, j)| {
                let vote = if rng.uniform() < params.pass_rate {
                    Vote::Pass
                } else if rng.uniform() < self.truth.agree_probability[j as usize][group] {
                    Vote::Agree
                } else {
                    Vote::Disagree
                };
                (j, vote, arrival + t as i64 * VOTE_MS)
            })
            .collect()
    }

    /// All votes as events, in participant order. Holds every vote in memory: for large
    /// conversations, stream them with [`Synthetic::write_polis_export`] instead.
    pub fn votes(&self) -> Vec<VoteEvent> {
        (0..self.truth.params.participants)
            .into_par_iter()
            .flat_map_iter(|i| {
                self.participant_votes(i).into_iter().map(move |(j, v, t)| VoteEvent::new(i as i64, j as i64, v).at(t))
            })
            .collect()
    }

    /// The statements, with texts naming their planted kind.
    pub fn statements(&self) -> Vec<Statement> {
        self.truth
            .kind
            .iter()
            .enumerate()
            .map(|(j, k)| Statement {
                id: Id::Int(j as i64),
                text: Some(format!("Synthetic statement {j} ({})", format!("{k:?}").to_lowercase())),
                moderation: ModerationStatus::Accepted,
                is_meta: false,
                author: Some(Id::Int(0)),
                created: Some(T0 - 1000 + j as i64),
            })
            .collect()
    }

    /// Writes a Polis export folder — `votes.csv`, `comments.csv` — and `truth.json`, streaming the
    /// votes in blocks of participants (memory bounded by one block, not by the conversation).
    pub fn write_polis_export(&self, dir: &Path) -> Result<()> {
        self.write_folder(dir, VoteFileFormat::Csv)
    }

    /// Writes the folder with the votes in `format` (`votes.csv` or a columnar `votes.parquet`),
    /// `comments.csv` and `truth.json`: the same votes, in the same order, whatever the format.
    pub fn write_folder(&self, dir: &Path, format: VoteFileFormat) -> Result<()> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source: std::io::Error| Error::Io { path: path.clone(), source }
        };
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let m = self.truth.params.statements;
        let mut agrees = vec![0u64; m];
        let mut disagrees = vec![0u64; m];
        let mut out = match format {
            VoteFileFormat::Csv => VoteSink::csv(&dir.join("votes.csv"))?,
            #[cfg(feature = "columnar")]
            VoteFileFormat::Table(table) => {
                let path = dir.join(table.vote_files()[0]);
                VoteSink::Table(crate::io::columnar::VoteTableWriter::create(&path, table, false, true)?)
            }
        };
        const BLOCK: usize = 65_536;
        let n = self.truth.params.participants;
        for start in (0..n).step_by(BLOCK) {
            let block: Vec<Vec<(u32, Vote, i64)>> =
                (start..(start + BLOCK).min(n)).into_par_iter().map(|i| self.participant_votes(i)).collect();
            for votes in &block {
                for &(j, v, _) in votes {
                    match v {
                        Vote::Agree => agrees[j as usize] += 1,
                        Vote::Disagree => disagrees[j as usize] += 1,
                        Vote::Pass => {}
                    }
                }
            }
            out.write_block(start, &block)?;
        }
        out.finish()?;

        let comments_path = dir.join("comments.csv");
        let mut c = std::io::BufWriter::new(std::fs::File::create(&comments_path).map_err(io_err(&comments_path))?);
        let mut text =
            String::from("timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n");
        for s in self.statements() {
            let Id::Int(j) = s.id else { continue };
            use std::fmt::Write as _;
            let _ = writeln!(
                text,
                "{},,{j},0,{},{},1,{}",
                s.created.unwrap_or(T0),
                agrees[j as usize],
                disagrees[j as usize],
                s.text.unwrap_or_default()
            );
        }
        c.write_all(text.as_bytes()).and_then(|_| c.flush()).map_err(io_err(&comments_path))?;

        let truth_path = dir.join("truth.json");
        let json = serde_json::to_string(&self.truth).map_err(|e| Error::Parse {
            location: crate::error::Location::new(&truth_path, None),
            message: e.to_string(),
        })?;
        std::fs::write(&truth_path, json).map_err(io_err(&truth_path))
    }
}

/// Camps of the given sizes with sharp, distinct views, every participant voting on every
/// statement: camp `c` agrees with statement `s` when bit `c` of `s + 1` is set, and one vote in
/// ten (drawn from `Rng::new(seed)`, in participant then statement order) goes against the camp.
/// Participants are numbered from 0, camp by camp. Returns the votes and each participant's camp.
///
/// The small planted case of the group tests (the mixture's unit tests, `tests/groups.rs`, the
/// merged-groups report): unlike [`Synthetic`], every camp's view is a hand-checkable bit
/// pattern, so a test can say which statements a camp agrees with.
pub fn planted_camps(sizes: &[usize], statements: usize, seed: u64) -> (Vec<VoteEvent>, Vec<usize>) {
    let mut events = Vec::with_capacity(sizes.iter().sum::<usize>() * statements);
    let mut planted = Vec::new();
    let mut rng = Rng::new(seed);
    for (c, &size) in sizes.iter().enumerate() {
        for _ in 0..size {
            let p = planted.len() as i64;
            for s in 0..statements {
                let agree = ((s + 1) >> c) & 1 == 1;
                let flip = rng.below(10) == 0;
                events.push(VoteEvent::new(p, s as i64, if agree != flip { Vote::Agree } else { Vote::Disagree }));
            }
            planted.push(c);
        }
    }
    (events, planted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Synthetic {
        Synthetic::new(SyntheticParams {
            participants: 3000,
            statements: 60,
            votes: 45_000,
            groups: 3,
            seed: 5,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn vote_total_is_close_to_the_target_and_participation_is_heavy_tailed() {
        let s = small();
        let votes = s.votes();
        let total = votes.len() as f64;
        assert!((total / 45_000.0 - 1.0).abs() < 0.05, "{total} votes");
        let mut per: Vec<u32> = s.votes_per_participant.clone();
        per.sort_unstable();
        let median = per[per.len() / 2] as f64;
        let mean = total / 3000.0;
        assert!(median < mean, "most participants vote less than the mean (median {median}, mean {mean})");
        assert!(*per.last().unwrap() as usize == 60, "the most active see every statement");
    }

    #[test]
    fn each_participant_votes_at_most_once_per_statement() {
        let s = small();
        for i in [0, 7, 2999] {
            let v = s.participant_votes(i);
            let mut ids: Vec<u32> = v.iter().map(|x| x.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), v.len());
        }
    }

    #[test]
    fn groups_vote_their_planted_profiles() {
        let s = small();
        // Empirical agree share among non-pass votes per (statement, group) tracks the plan.
        let (mut agree, mut cast) = (vec![[0f64; 3]; 60], vec![[0f64; 3]; 60]);
        for e in s.votes() {
            let (Id::Int(p), Id::Int(j)) = (e.participant, e.statement) else { unreachable!() };
            let g = s.truth.participant_group[p as usize] as usize;
            if e.vote != Vote::Pass {
                cast[j as usize][g] += 1.0;
                if e.vote == Vote::Agree {
                    agree[j as usize][g] += 1.0;
                }
            }
        }
        let mut worst: f64 = 0.0;
        for j in 0..60 {
            for g in 0..3 {
                if cast[j][g] >= 100.0 {
                    worst = worst.max((agree[j][g] / cast[j][g] - s.truth.agree_probability[j][g]).abs());
                }
            }
        }
        assert!(worst < 0.12, "worst deviation {worst}");
        assert!(s.truth.bridging_statements.iter().all(|&j| s.truth.bridging_score[j as usize] >= 0.70));
    }

    #[test]
    fn same_seed_same_votes_whatever_the_thread_count() {
        let s = small();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| s.votes());
        assert_eq!(one, s.votes());
        let other = Synthetic::new(SyntheticParams { seed: 6, ..s.truth.params.clone() }).unwrap();
        assert_ne!(one, other.votes());
    }

    #[test]
    fn group_shares_set_the_planted_group_sizes() {
        let shares = vec![60.0, 25.0, 10.0, 5.0];
        let s = Synthetic::new(SyntheticParams {
            participants: 20_000,
            statements: 20,
            votes: 40_000,
            groups: 4,
            group_shares: Some(shares.clone()),
            ..Default::default()
        })
        .unwrap();
        for (g, share) in shares.iter().enumerate() {
            let n = s.truth.participant_group.iter().filter(|&&x| x as usize == g).count() as f64;
            // Binomial: the share of 20,000 within 4 standard deviations.
            let p = share / 100.0;
            assert!((n / 20_000.0 - p).abs() < 4.0 * (p * (1.0 - p) / 20_000.0).sqrt(), "group {g}: {n}");
        }
        let p = SyntheticParams { group_shares: Some(vec![1.0, 2.0]), ..Default::default() };
        assert!(matches!(Synthetic::new(p), Err(Error::InvalidParameter { name, .. }) if name == "group_shares"));
    }

    #[test]
    fn staggered_statements_reach_only_later_participants() {
        let p = SyntheticParams {
            participants: 1000,
            statements: 100,
            votes: 20_000,
            staggered: true,
            ..Default::default()
        };
        let s = Synthetic::new(p).unwrap();
        // Participant 0 sees the first 30 statements only; participant 500 the first 65.
        assert!(s.participant_votes(0).iter().all(|v| v.0 < 30));
        assert!(s.participant_votes(500).iter().all(|v| v.0 < 65));
        assert!((0..1000).flat_map(|i| s.participant_votes(i)).any(|v| v.0 >= 95));
    }

    #[test]
    fn impossible_requests_are_parameter_errors() {
        let p = SyntheticParams { participants: 10, statements: 5, votes: 51, ..Default::default() };
        assert!(matches!(Synthetic::new(p), Err(Error::InvalidParameter { name, .. }) if name == "votes"));
        let p = SyntheticParams { groups: 0, ..Default::default() };
        assert!(matches!(Synthetic::new(p), Err(Error::InvalidParameter { name, .. }) if name == "groups"));
    }
}

/// The encodings [`Synthetic::write_folder`] writes the votes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteFileFormat {
    /// `votes.csv`, as Polis exports it.
    Csv,
    /// A columnar vote table (`votes.parquet`, `votes.arrow`).
    #[cfg(feature = "columnar")]
    Table(crate::io::columnar::TableFormat),
}

/// Where [`Synthetic::write_folder`] streams the votes.
enum VoteSink {
    Csv(std::io::BufWriter<std::fs::File>, std::path::PathBuf),
    #[cfg(feature = "columnar")]
    Table(crate::io::columnar::VoteTableWriter),
}

impl VoteSink {
    fn csv(path: &Path) -> Result<VoteSink> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(io)?);
        out.write_all(b"timestamp,datetime,comment-id,voter-id,vote\n").map_err(io)?;
        Ok(VoteSink::Csv(out, path.to_path_buf()))
    }

    /// Writes the votes of participants `start`, `start + 1`, ...
    fn write_block(&mut self, start: usize, block: &[Vec<(u32, Vote, i64)>]) -> Result<()> {
        match self {
            VoteSink::Csv(out, path) => {
                let mut line = String::new();
                for (offset, votes) in block.iter().enumerate() {
                    for &(j, v, t) in votes {
                        line.clear();
                        use std::fmt::Write as _;
                        let _ = writeln!(line, "{t},,{j},{},{}", start + offset, v.value());
                        out.write_all(line.as_bytes()).map_err(|source| Error::Io { path: path.clone(), source })?;
                    }
                }
                Ok(())
            }
            #[cfg(feature = "columnar")]
            VoteSink::Table(writer) => {
                let mut batch = crate::VoteBatch::new();
                batch.reserve(block.iter().map(Vec::len).sum());
                for (offset, votes) in block.iter().enumerate() {
                    let participant = Id::Int((start + offset) as i64);
                    for &(j, v, t) in votes {
                        batch.push(&participant, &Id::Int(i64::from(j)), v, Some(t));
                    }
                }
                writer.write(&batch)
            }
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            VoteSink::Csv(mut out, path) => out.flush().map_err(|source| Error::Io { path, source }),
            #[cfg(feature = "columnar")]
            VoteSink::Table(writer) => writer.finish(),
        }
    }
}
