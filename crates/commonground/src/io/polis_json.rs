//! Writes an [`Analysis`] as the Polis math JSON: the shape of the `math_main.data` blob that the
//! Polis API serves at `/api/v3/math/pca2` (`conv_man.clj` whitelist, polis-math.md §7), so that a
//! Polis client or report can read commonground's results unchanged.
//!
//! Polis's math uses agree = -1: the centre and components are negated here (projections,
//! statement projections and cluster centres are unchanged under negating both). Map keys are ids
//! as strings, as cheshire writes integer keys; `repness-test` is a 32-bit float, as Polis stores it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::stats::{RepfulFor, VoteCounts};
use crate::votes::Id;

fn key(id: &Id) -> String {
    match id {
        Id::Int(n) => n.to_string(),
        Id::Str(s) => s.clone(),
    }
}

/// The Polis math blob.
#[derive(Debug, Serialize)]
pub struct PolisMath {
    pub pca: PolisPca,
    #[serde(rename = "base-clusters")]
    pub base_clusters: FoldedClusters,
    #[serde(rename = "group-clusters")]
    pub group_clusters: Vec<PolisGroupCluster>,
    pub repness: BTreeMap<String, Vec<PolisRepness>>,
    pub consensus: PolisConsensus,
    #[serde(rename = "group-aware-consensus")]
    pub group_aware_consensus: BTreeMap<String, f64>,
    #[serde(rename = "comment-priorities")]
    pub comment_priorities: BTreeMap<String, f64>,
    #[serde(rename = "votes-base")]
    pub votes_base: BTreeMap<String, BucketVotes>,
    #[serde(rename = "group-votes")]
    pub group_votes: BTreeMap<String, PolisGroupVotes>,
    #[serde(rename = "in-conv")]
    pub in_conv: Vec<Id>,
    #[serde(rename = "user-vote-counts")]
    pub user_vote_counts: BTreeMap<String, usize>,
    pub tids: Vec<Id>,
    pub n: usize,
    #[serde(rename = "n-cmts")]
    pub n_cmts: usize,
    #[serde(rename = "mod-out")]
    pub mod_out: Vec<Id>,
    #[serde(rename = "mod-in")]
    pub mod_in: Vec<Id>,
    #[serde(rename = "meta-tids")]
    pub meta_tids: Vec<Id>,
    #[serde(rename = "lastVoteTimestamp")]
    pub last_vote_timestamp: Option<i64>,
    #[serde(rename = "lastModTimestamp")]
    pub last_mod_timestamp: Option<i64>,
    pub math_tick: u64,
}

#[derive(Debug, Serialize)]
pub struct PolisPca {
    pub center: Vec<f64>,
    pub comps: Vec<Vec<f64>>,
    #[serde(rename = "comment-projection")]
    pub comment_projection: [Vec<f64>; 2],
    #[serde(rename = "comment-extremity")]
    pub comment_extremity: Vec<f64>,
}

/// Base clusters "folded" into parallel arrays (`fold-clusters`), sorted by id.
#[derive(Debug, Serialize)]
pub struct FoldedClusters {
    pub id: Vec<u32>,
    pub members: Vec<Vec<Id>>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub count: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct PolisGroupCluster {
    pub id: u32,
    pub members: Vec<u32>,
    pub center: [f64; 2],
}

/// A representative statement: the consensus entry's fields, then the group comparison.
#[derive(Debug, Serialize)]
pub struct PolisRepness {
    #[serde(flatten)]
    pub entry: PolisConsensusEntry,
    pub repness: f64,
    #[serde(rename = "repness-test")]
    pub repness_test: f32,
    #[serde(rename = "repful-for")]
    pub repful_for: RepfulFor,
    #[serde(rename = "n-agree", skip_serializing_if = "Option::is_none")]
    pub n_agree: Option<u32>,
    #[serde(rename = "best-agree", skip_serializing_if = "Option::is_none")]
    pub best_agree: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct PolisConsensusEntry {
    pub tid: Id,
    #[serde(rename = "n-success")]
    pub n_success: u32,
    #[serde(rename = "n-trials")]
    pub n_trials: u32,
    #[serde(rename = "p-success")]
    pub p_success: f64,
    #[serde(rename = "p-test")]
    pub p_test: f64,
}

#[derive(Debug, Serialize)]
pub struct PolisConsensus {
    pub agree: Vec<PolisConsensusEntry>,
    pub disagree: Vec<PolisConsensusEntry>,
}

/// Per-statement counts over base clusters, indexed by position in sorted base-cluster ids.
#[derive(Debug, Serialize)]
pub struct BucketVotes {
    #[serde(rename = "A")]
    pub agree: Vec<u32>,
    #[serde(rename = "D")]
    pub disagree: Vec<u32>,
    #[serde(rename = "S")]
    pub seen: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct PolisGroupVotes {
    pub id: u32,
    #[serde(rename = "n-members")]
    pub n_members: usize,
    pub votes: BTreeMap<String, VoteCounts>,
}

impl PolisMath {
    /// Builds the Polis blob from an analysis.
    pub fn from_analysis(a: &Analysis) -> PolisMath {
        let tids: Vec<Id> = a.statements.iter().map(|s| s.id.clone()).collect();
        let by_tid = |f: &dyn Fn(usize) -> f64| -> BTreeMap<String, f64> {
            tids.iter().enumerate().map(|(j, t)| (key(t), f(j))).collect()
        };
        let repness = a
            .groups
            .iter()
            .zip(&a.repness)
            .map(|(g, entries)| {
                let list = entries
                    .iter()
                    .map(|e| PolisRepness {
                        entry: PolisConsensusEntry {
                            tid: e.statement.clone(),
                            n_success: e.n_success,
                            n_trials: e.n_trials,
                            p_success: e.p_success,
                            p_test: e.p_test,
                        },
                        repness: e.repness,
                        repness_test: e.repness_test,
                        repful_for: e.repful_for,
                        n_agree: e.n_agree,
                        best_agree: e.best_agree.then_some(true),
                    })
                    .collect();
                (g.id.to_string(), list)
            })
            .collect();
        let consensus_list = |list: &[crate::stats::ConsensusEntry<Id>]| {
            list.iter()
                .map(|e| PolisConsensusEntry {
                    tid: e.statement.clone(),
                    n_success: e.n_success,
                    n_trials: e.n_trials,
                    p_success: e.p_success,
                    p_test: e.p_test,
                })
                .collect()
        };
        let votes_base = tids
            .iter()
            .enumerate()
            .map(|(j, t)| {
                let col = |f: fn(&VoteCounts) -> u32| a.votes_base.iter().map(|b| f(&b[j])).collect();
                (key(t), BucketVotes { agree: col(|c| c.agree), disagree: col(|c| c.disagree), seen: col(|c| c.seen) })
            })
            .collect();
        PolisMath {
            pca: PolisPca {
                center: a.pca.center.iter().map(|c| -c).collect(),
                comps: a.pca.comps.iter().map(|pc| pc.iter().map(|x| -x).collect()).collect(),
                comment_projection: [
                    a.statements.iter().map(|s| s.projection[0]).collect(),
                    a.statements.iter().map(|s| s.projection[1]).collect(),
                ],
                comment_extremity: a.statements.iter().map(|s| s.extremity).collect(),
            },
            base_clusters: FoldedClusters {
                id: a.base_clusters.iter().map(|c| c.id).collect(),
                members: a.base_clusters.iter().map(|c| c.members.clone()).collect(),
                x: a.base_clusters.iter().map(|c| c.center[0]).collect(),
                y: a.base_clusters.iter().map(|c| c.center[1]).collect(),
                count: a.base_clusters.iter().map(|c| c.members.len()).collect(),
            },
            group_clusters: a
                .groups
                .iter()
                .map(|g| PolisGroupCluster { id: g.id, members: g.base_clusters.clone(), center: g.center })
                .collect(),
            repness,
            consensus: PolisConsensus {
                agree: consensus_list(&a.consensus.agree),
                disagree: consensus_list(&a.consensus.disagree),
            },
            group_aware_consensus: by_tid(&|j| a.statements[j].group_aware_consensus),
            comment_priorities: by_tid(&|j| a.statements[j].priority),
            votes_base,
            group_votes: a
                .groups
                .iter()
                .map(|g| {
                    let votes = tids.iter().zip(&g.votes).map(|(t, c)| (key(t), *c)).collect();
                    (g.id.to_string(), PolisGroupVotes { id: g.id, n_members: g.n_members, votes })
                })
                .collect(),
            in_conv: a.participants.iter().filter(|p| p.in_conv).map(|p| p.id.clone()).collect(),
            user_vote_counts: a.participants.iter().map(|p| (key(&p.id), p.n_votes)).collect(),
            tids: tids.clone(),
            n: a.n_participants,
            n_cmts: a.n_statements,
            mod_out: a.moderation.moderated_out.clone(),
            mod_in: a.moderation.moderated_in.clone(),
            meta_tids: a.moderation.meta.clone(),
            last_vote_timestamp: a.last_vote_timestamp,
            last_mod_timestamp: None,
            math_tick: a.tick,
        }
    }

    /// The blob as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The part of a Polis math blob that the Polis worker reloads when it restarts (`load-or-init`,
/// polis-math.md §8): PCA components, base clusters, the in-conversation set and the last group
/// votes, plus the groups and the tick. A [`crate::Conversation`] resumed from it continues the
/// conversation as the Polis worker would after a restart, with the same group ids: the way to
/// move a live deliberation from the Polis math worker to commonground without its map jumping.
#[derive(Debug, Clone, PartialEq)]
pub struct PolisState {
    pub tick: u64,
    /// Statement ids in the blob's column order (`tids`).
    pub tids: Vec<Id>,
    /// Components as stored, in Polis's sign and `tids` order.
    pub comps: Vec<Vec<f64>>,
    pub in_conv: Vec<Id>,
    /// (id, members, centre) of each base cluster.
    pub base_clusters: Vec<(u32, Vec<Id>, [f64; 2])>,
    /// (id, member base-cluster ids, centre) of each group.
    pub group_clusters: Vec<(u32, Vec<u32>, [f64; 2])>,
    /// In-conversation vote totals per statement, summed over groups (`group-votes`).
    pub group_totals: Vec<(Id, VoteCounts)>,
}

fn json_id(v: &serde_json::Value) -> Option<Id> {
    match v {
        serde_json::Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)).map(Id::Int)
        }
        serde_json::Value::String(s) => Some(Id::parse(s)),
        _ => None,
    }
}

impl PolisState {
    /// Reads the state from a Polis math blob (`math-pca2.json`, API or database form).
    pub fn from_json(text: &str, file: &std::path::Path) -> crate::Result<PolisState> {
        use crate::error::{Error, Location};
        use serde_json::Value;
        let bad = |what: &str| Error::Parse {
            location: Location::new(file, None),
            message: format!("Polis math blob: {what}"),
        };
        let v: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
            location: Location::new(file, Some(e.line() as u64)),
            message: format!("not valid JSON: {e}"),
        })?;
        let ids = |x: &Value, what: &str| -> crate::Result<Vec<Id>> {
            x.as_array().ok_or_else(|| bad(what))?.iter().map(|i| json_id(i).ok_or_else(|| bad(what))).collect()
        };
        let floats = |x: &Value, what: &str| -> crate::Result<Vec<f64>> {
            x.as_array().ok_or_else(|| bad(what))?.iter().map(|f| f.as_f64().ok_or_else(|| bad(what))).collect()
        };
        let tids = ids(&v["tids"], "tids is not a list of ids")?;
        let comps = v["pca"]["comps"]
            .as_array()
            .ok_or_else(|| bad("pca.comps missing"))?
            .iter()
            .map(|c| floats(c, "pca.comps is not a list of numbers"))
            .collect::<crate::Result<Vec<_>>>()?;
        let bc = &v["base-clusters"];
        let bids = ids(&bc["id"], "base-clusters.id")?;
        let xs = floats(&bc["x"], "base-clusters.x")?;
        let ys = floats(&bc["y"], "base-clusters.y")?;
        let members = bc["members"].as_array().ok_or_else(|| bad("base-clusters.members"))?;
        if [xs.len(), ys.len(), members.len()].iter().any(|&l| l != bids.len()) {
            return Err(bad("base-clusters arrays differ in length"));
        }
        let mut base_clusters = Vec::with_capacity(bids.len());
        for (i, id) in bids.iter().enumerate() {
            let Id::Int(id) = id else { return Err(bad("base-cluster id is not an integer")) };
            base_clusters.push((*id as u32, ids(&members[i], "base-clusters.members")?, [xs[i], ys[i]]));
        }
        let mut group_clusters = Vec::new();
        for g in v["group-clusters"].as_array().ok_or_else(|| bad("group-clusters"))? {
            let id = g["id"].as_u64().ok_or_else(|| bad("group-clusters id"))? as u32;
            let members = g["members"]
                .as_array()
                .ok_or_else(|| bad("group-clusters members"))?
                .iter()
                .map(|m| m.as_u64().map(|m| m as u32).ok_or_else(|| bad("group-clusters members")))
                .collect::<crate::Result<Vec<_>>>()?;
            let c = floats(&g["center"], "group-clusters center")?;
            group_clusters.push((id, members, [c.first().copied().unwrap_or(0.0), c.get(1).copied().unwrap_or(0.0)]));
        }
        let mut totals: BTreeMap<Id, VoteCounts> = BTreeMap::new();
        if let Some(gv) = v["group-votes"].as_object() {
            for g in gv.values() {
                for (tid, c) in g["votes"].as_object().into_iter().flatten() {
                    let n = |k: &str| c[k].as_u64().unwrap_or(0) as u32;
                    totals.entry(Id::parse(tid)).or_default().add(&VoteCounts {
                        agree: n("A"),
                        disagree: n("D"),
                        seen: n("S"),
                    });
                }
            }
        }
        Ok(PolisState {
            tick: v["math_tick"].as_u64().unwrap_or(0),
            tids,
            comps,
            in_conv: ids(&v["in-conv"], "in-conv")?,
            base_clusters,
            group_clusters,
            group_totals: totals.into_iter().collect(),
        })
    }
}
