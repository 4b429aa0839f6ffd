//! Reads the state the Polis math worker saved (`math_main.data`, the blob served at
//! `/api/v3/math/pca2`), so that a conversation moves from Polis's worker to commonground without
//! its opinion map jumping.
//!
//! Polis's worker reloads only part of its blob when it restarts (`load-or-init`,
//! docs/algorithm.md §8); this reads that part and nothing more. The blob is in Polis's sign
//! (agree = -1) and keys its maps by ids written as strings; [`crate::Conversation`] makes the
//! conversions when it resumes from it.

use std::collections::BTreeMap;

pub use crate::conversation::PolisState;
use crate::stats::VoteCounts;
use crate::votes::Id;

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
            x.as_array().ok_or_else(|| bad(what))?.iter().map(|i| Id::from_json(i).ok_or_else(|| bad(what))).collect()
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
