//! Cross-fitted group membership for the bridging intervals: each vote counted in the group its
//! participant would be in *without that vote*.
//!
//! The groups are formed from the same votes the bridging intervals count. A participant whose
//! vote on statement j looks like group g's is more likely to be put in g, so within a found group
//! the observed votes on j look more like the group than its members' true rates do: the 90%
//! intervals of side-takers' agreement covered the found groups' true rates 61-80% of the time
//! with 30% of votes observed (docs/groups.md). Cross-fitting removes that selection: participant
//! i's vote on j is counted in the group the assignment rule gives i from i's other votes. Given
//! the others, the vote on j is then an unselected draw of i's opinion, and the Beta posteriors
//! the intervals read are honest again.
//!
//! The assignment rule is the one that made the groups, with the vote taken out:
//!
//! - **discovery** (the latent-class mixture, `mixture.rs`): i is in the group of highest
//!   `ln w_g + Σ_votes ln P(vote | θ_g)`; without j, j's term is subtracted under every group and
//!   the argmax taken again. O(votes × k), inside discovery's own assignment pass;
//! - **the opinion map** (Polis's rule and a fixed k, [`map_reassignments`]): i is in the group of
//!   the base cluster whose centre is nearest to i's projection. Polis's projection is
//!   sparsity-aware, `sqrt(m / n_i) · Σ_voted (v_ij − mean_j) · pc_j` with `n_i` counting the
//!   moderated-out statements as voted (`pca/algorithm.rs`), so without j the sum loses j's term
//!   and the scale becomes `sqrt(m / (n_i − 1))`. The components and the base-cluster centres are
//!   kept: one vote moves them by O(1 / participants). A vote moves the point by `δ`; when `δ` is
//!   less than the point's distance to every bisector between its nearest centre and a centre of
//!   another group (at least half the gap between the two nearest, the triangle inequality's
//!   margin), the group cannot change and no scan is needed; a vote that moves farther is still
//!   cleared when its move's projection on each such bisector's normal stays short of it, and
//!   only otherwise are the centres scanned: those within twice the moved point's distance to
//!   the nearest centre from that centre (the moved point's own nearest is no farther from it).
//!   Most participants are far from every border: the largest move any one vote can make (from
//!   the largest loading and the participant's count of votes) clears them before their votes are
//!   read, and the largest move of their own votes clears most of the rest before the moved points
//!   are computed. O(votes near a border), plus one pass over the centres per participant and a
//!   scan of a few centres for the few votes that may cross a bisector.
//!
//! Only the pivotal votes are kept ([`ReassignedVote`]): those whose removal changes the rule's
//! group. A participant whose k-means cluster is not the one nearest their point (k-means stops
//! before every point sits with its nearest centre) keeps their cluster's group for every vote that
//! does not move them across a border, so without pivotal votes the cross-fitted counts are the
//! plain ones exactly. Only the bridging extension reads them (side-takers' agreement, pass rate,
//! their minimum and the flag); Polis's outputs (group-votes, repness, consensus, the Polis math
//! JSON, votes-base) count every vote in its participant's group, as Polis does.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::kmeans::Cluster;
use crate::pca::Pca;
use crate::stats::VoteCounts;
use crate::votes::VoteMatrix;

/// Participants per parallel job: the map's reassignment is a few operations per vote.
const ROWS_PER_JOB: usize = 4096;

/// A vote counted, for the bridging intervals, in another group than its participant's: without
/// it, the assignment rule puts the participant in group `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignedVote {
    /// The participant's row in the vote matrix.
    pub row: usize,
    /// The statement's column in the vote matrix.
    pub column: usize,
    /// The vote: 1 agree, -1 disagree, 0 pass.
    pub vote: i8,
    /// The participant's group id.
    pub from: u32,
    /// The group id the participant would have without this vote.
    pub to: u32,
}

/// The pivotal votes of the clustered participants on the opinion map (Polis's rule and a fixed
/// number of groups): see the module docs. `projections` are [`crate::pca::participant_projections`]
/// of the same `matrix`, `moderated_out` and `pca`; `base` the base clusters (members are rows) and
/// `groups` their groups (members are base-cluster ids). In row order, each row's votes in column
/// order; the same whatever the number of threads. The bounds that spare most vote reads hold
/// for those projections only (each is its unscaled sum times `sqrt(m / n)`).
pub fn map_reassignments(
    matrix: &VoteMatrix,
    moderated_out: &[bool],
    pca: &Pca,
    projections: &[[f64; 2]],
    base: &[Cluster],
    groups: &[Cluster],
) -> Vec<ReassignedVote> {
    // Without a second component every point is the origin, and with one group there is no
    // border: nothing can move.
    if pca.n_comps < 2 || groups.len() < 2 {
        return Vec::new();
    }
    let group_of_base: std::collections::HashMap<usize, u32> =
        groups.iter().flat_map(|g| g.members.iter().map(move |&b| (b, g.id))).collect();
    // The base clusters that lie in a group: their centres and groups, and each group's position
    // in `groups` (for the per-group nearest centre).
    let centres: Vec<([f64; 2], u32)> =
        base.iter().filter_map(|b| group_of_base.get(&(b.id as usize)).map(|&g| (b.center, g))).collect();
    let dense: Vec<usize> = centres.iter().map(|&(_, g)| groups.iter().position(|x| x.id == g).unwrap_or(0)).collect();
    let mut clustered: Vec<(usize, u32)> = base
        .iter()
        .filter_map(|b| group_of_base.get(&(b.id as usize)).map(|&g| (b, g)))
        .flat_map(|(b, g)| b.members.iter().map(move |&row| (row, g)))
        .collect();
    clustered.sort_unstable();
    let m = matrix.n_statements();
    let n_out = moderated_out.iter().filter(|&&out| out).count();
    let voted = |c: u32| !moderated_out.get(c as usize).copied().unwrap_or(false);
    // The farthest one vote can move an unscaled sum: `|v − mean_j| · |(pc1_j, pc2_j)|` with
    // `|v − mean_j| ≤ 1 + |mean_j|` for v in {−1, 0, 1}, over the statements in play. NaN
    // anywhere makes it NaN, and a NaN reach bound decides nothing (every vote is then read).
    let largest_move = (0..m as u32).filter(|&c| voted(c)).fold(0.0f64, |acc, c| {
        let c = c as usize;
        let l = (1.0 + pca.center[c].abs()) * pca.comps[0][c].hypot(pca.comps[1][c]);
        if acc.is_nan() || l.is_nan() {
            f64::NAN
        } else {
            acc.max(l)
        }
    });
    // Half the inverse distance between every two centres, shrunk by a relative 1e-9 (the
    // rounding of the distances it is compared with): the bisector margins below divide by it.
    // Row-major, `centres.len()²` entries (10,000 for Polis's 100 base clusters).
    let half_inverse_gap: Vec<f64> = centres
        .iter()
        .flat_map(|&(a, _)| centres.iter().map(move |&(b, _)| (1.0 - 1e-9) / (2.0 * squared(a, b).sqrt())))
        .collect();
    // Every centre's centres by their squared distance from it (ties: in `centres` order); a
    // centre with a NaN coordinate is never the nearest, so it is left out (no gap is NaN).
    let by_gap: Vec<Vec<(f64, usize)>> = centres
        .iter()
        .map(|&(a, _)| {
            let mut row: Vec<(f64, usize)> = centres
                .iter()
                .enumerate()
                .map(|(i, &(b, _))| (squared(a, b), i))
                .filter(|&(gap, _)| !gap.is_nan())
                .collect();
            row.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            row
        })
        .collect();
    clustered
        .par_chunks(ROWS_PER_JOB)
        .flat_map_iter(|chunk| {
            let (mut out, mut shifted, mut crossings) = (Vec::new(), Vec::new(), Vec::new());
            let mut distances = vec![0.0f64; centres.len()];
            for &(row, own) in chunk {
                let (cols, vals) = matrix.row(row);
                let x = projections[row];
                // The nearest centre (ties: the first), in one pass over the centres; every
                // squared distance is kept for the border's distance and the bisectors.
                let (mut d1, mut rule, mut rule_dense, mut first) = (f64::INFINITY, u32::MAX, usize::MAX, 0);
                for (i, ((&(c, g), &gd), slot)) in centres.iter().zip(&dense).zip(&mut distances).enumerate() {
                    let d = squared(x, c);
                    *slot = d;
                    if d < d1 {
                        (d1, rule, rule_dense, first) = (d, g, gd, i);
                    }
                }
                // The nearest centre of another group than the rule's: the border's distance.
                // From the kept distances, once the rule's group is known (a running minimum per
                // group, carried through memory from centre to centre, cost more).
                let other = distances
                    .iter()
                    .zip(&dense)
                    .map(|(&d, &gd)| if gd != rule_dense { d } else { f64::INFINITY })
                    .fold(f64::INFINITY, f64::min);
                let mut margin = 0.5 * (other.sqrt() - d1.sqrt());
                let mut widened = false;
                // The margin of the bisectors instead of the triangle inequality's: a point moved
                // by less than its distance to every bisector between the nearest centre and a
                // centre of another group stays nearer that centre, so in the rule's group. At
                // least the half gap above (never narrower), computed only when the half gap
                // does not clear the participant.
                let gaps = &half_inverse_gap[first * centres.len()..][..centres.len()];
                // No bisector is farther than the nearest centre of another group, so a move
                // that reaches that far is not worth their pass over the centres.
                let farthest = other.sqrt();
                let widen = |margin: &mut f64, widened: &mut bool, needed: f64| {
                    if !*widened && needed < farthest {
                        *widened = true;
                        let bisectors = bisector_margin(&distances, &dense, rule_dense, d1, gaps);
                        if bisectors > *margin {
                            *margin = bisectors;
                        }
                    }
                    *margin
                };
                // Without a vote the point is `s' (p − δ)` where x = `s p`: it moves by at most
                // `(s'/s − 1)|x| + s' · largest_move`. Both scales fall as the participant's
                // count of votes `n` rises, and `n ≥ max(votes in the row, moderated-out
                // statements)`, so the bound needs no vote read; a participant it keeps clear
                // of the border has no pivotal vote. The slack covers the rounding of the
                // computed points, which the bound on the exact ones does not.
                let n_least = cols.len().max(n_out).max(2) as f64;
                let scale_without = (m as f64 / (n_least - 1.0)).sqrt();
                let ratio = (n_least / (n_least - 1.0)).sqrt();
                let norm_x = x[0].hypot(x[1]);
                let bound = (ratio - 1.0) * norm_x + scale_without * largest_move;
                let needed = bound * (1.0 + 1e-9) + 1e-12 * (norm_x + scale_without * largest_move + 1.0);
                if needed < margin || needed < widen(&mut margin, &mut widened, needed) {
                    continue;
                }
                // Polis's projection, unscaled, as `participant_projections` sums it, and the
                // largest term: the same bound with the participant's own votes.
                let (mut p, mut n_voted, mut largest_term) = ([0.0f64; 2], n_out, 0.0f64);
                for (&c, &v) in cols.iter().zip(vals).filter(|&(&c, _)| voted(c)) {
                    let d = v as f64 - pca.center[c as usize];
                    let term = [d * pca.comps[0][c as usize], d * pca.comps[1][c as usize]];
                    p[0] += term[0];
                    p[1] += term[1];
                    largest_term = largest_term.max(term[0] * term[0] + term[1] * term[1]);
                    n_voted += 1;
                }
                // Each vote's point without it, and how far the farthest moves.
                let scale = (m as f64 / (n_voted.max(2) - 1) as f64).sqrt();
                let ratio = scale / (m as f64 / n_voted.max(1) as f64).sqrt();
                let largest_term = largest_term.sqrt();
                let bound = (ratio - 1.0).abs() * norm_x + scale * largest_term;
                let needed = bound * (1.0 + 1e-9) + 1e-12 * (norm_x + scale * largest_term + 1.0);
                if needed < margin || needed < widen(&mut margin, &mut widened, needed) {
                    continue;
                }
                shifted.clear();
                shifted.extend(cols.iter().zip(vals).filter(|&(&c, _)| voted(c)).map(|(&c, &v)| {
                    let d = v as f64 - pca.center[c as usize];
                    (
                        c,
                        v,
                        [scale * (p[0] - d * pca.comps[0][c as usize]), scale * (p[1] - d * pca.comps[1][c as usize])],
                    )
                }));
                let reach = shifted.iter().map(|s| squared(x, s.2)).fold(0.0, f64::max).sqrt();
                if reach < margin || reach < widen(&mut margin, &mut widened, reach) {
                    continue;
                }
                // The bisectors a vote's move can cross: those of the centres of other groups
                // within reach, each as its unit normal from the nearest centre and the distance
                // a point may move along it and stay on the nearest centre's side. The margin
                // leaves room for the rounding of the squared distances at the moved point (up
                // to `(|x − c| + reach)²`) and of the move's projection on the normal.
                let c1 = centres[first].0;
                crossings.clear();
                crossings.extend(
                    centres
                        .iter()
                        .zip(&dense)
                        .zip(&distances)
                        .zip(gaps)
                        .filter(|&(((_, &gd), _), _)| gd != rule_dense)
                        .filter_map(|(((&(c, _), _), &d), &inverse)| {
                            let along = ((d - d1) - 1e-9 * (d + d1 + 4.0 * reach * reach)) * inverse - 1e-9 * reach;
                            // NaN is kept: it clears no vote.
                            let far = reach * (1.0 + 1e-9);
                            (along.is_nan() || far.is_nan() || along <= far).then(|| {
                                let gap = squared(c, c1).sqrt();
                                ([(c[0] - c1[0]) / gap, (c[1] - c1[1]) / gap], along)
                            })
                        }),
                );
                for &(c, v, without) in &shifted {
                    if squared(x, without).sqrt() < margin {
                        continue;
                    }
                    let moved = [without[0] - x[0], without[1] - x[1]];
                    if crossings.iter().all(|&(u, along)| moved[0] * u[0] + moved[1] * u[1] < along) {
                        continue;
                    }
                    // The nearest centre to the moved point is no farther from it than the
                    // nearest centre c1, so within twice that distance of c1: the centres by
                    // their distance from c1 are walked that far (a small slack for rounding
                    // keeps every tie), the first in `centres` order kept among equals.
                    let to_first = squared(without, c1);
                    let limit = 4.0 * to_first * (1.0 + 1e-9) + 1e-12;
                    let (mut best, mut to) = ((f64::INFINITY, usize::MAX), u32::MAX);
                    for &(gap, i) in &by_gap[first] {
                        if limit.is_nan() || gap > limit {
                            break;
                        }
                        let d = (squared(without, centres[i].0), i);
                        if d.0 < best.0 || (d.0 == best.0 && i < best.1) {
                            (best, to) = (d, centres[i].1);
                        }
                    }
                    // The rule's group changes: the vote is pivotal.
                    if to != rule && to != own {
                        out.push(ReassignedVote { row, column: c as usize, vote: v, from: own, to });
                    }
                }
            }
            out
        })
        .collect()
}

/// The distance from a point to the nearest bisector between its nearest centre (squared
/// distance `d1`, in group `rule_dense`) and a centre of another group, from the point's squared
/// distances to every centre and `gaps`, the nearest centre's row of `1 / (2 |c1 − c|)` shrunk by
/// 1e-9: `(d_c − d1) / (2 |c1 − c|)`, the numerator less 1e-9 of `d_c + d1`, so that a point moved
/// by less is nearer the rule's group than any other also after rounding (the squared distances
/// the nearest centre is chosen by err by about 1e-15 of themselves). NaN when any term is.
fn bisector_margin(distances: &[f64], dense: &[usize], rule_dense: usize, d1: f64, gaps: &[f64]) -> f64 {
    let (mut least, mut nan) = (f64::INFINITY, false);
    for ((&d, &gd), &inverse) in distances.iter().zip(dense).zip(gaps) {
        if gd != rule_dense {
            let m = ((d - d1) - 1e-9 * (d + d1)) * inverse;
            nan |= m.is_nan();
            least = least.min(m);
        }
    }
    if nan {
        f64::NAN
    } else {
        least
    }
}

fn squared(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// The groups' vote counts with every reassigned vote moved from its participant's group to the
/// group it would be in without it: the counts the bridging intervals read. `group_votes[g]` are
/// the counts of the group `group_ids[g]` (Polis's group-votes); a reassigned vote that names a
/// group not among them is left where it is.
pub fn cross_fitted_votes(
    group_ids: &[u32],
    group_votes: &[Vec<VoteCounts>],
    reassigned: &[ReassignedVote],
) -> Vec<Vec<VoteCounts>> {
    let position = |id: u32| group_ids.iter().position(|&g| g == id);
    let mut counts = group_votes.to_vec();
    for r in reassigned {
        let (Some(from), Some(to)) = (position(r.from), position(r.to)) else { continue };
        let (agree, disagree) = (u32::from(r.vote == 1), u32::from(r.vote == -1));
        let Some(cell) = counts[from].get_mut(r.column) else { continue };
        // Every reassigned vote was counted in its participant's group, so nothing goes below 0.
        cell.agree = cell.agree.saturating_sub(agree);
        cell.disagree = cell.disagree.saturating_sub(disagree);
        cell.seen = cell.seen.saturating_sub(1);
        let cell = &mut counts[to][r.column];
        cell.agree += agree;
        cell.disagree += disagree;
        cell.seen += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    /// Three statements; component 1 reads statement 0 and 1, component 2 statement 2; centre 0.
    fn pca() -> Pca {
        Pca { center: vec![0.0; 3], comps: [vec![1.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]], n_comps: 2, iterations: [0, 0] }
    }

    #[test]
    fn a_vote_that_carries_its_participant_across_the_border_is_counted_on_the_other_side() {
        // Participant 0 agrees with 0 and disagrees with 1: Σ = (1 − 1, 0) = (0, 0), scale
        // √(3/2), so at the origin. Participant 1 agrees with 0 and 1 and passes on 2: Σ = (2, 0),
        // scale 1, at (2, 0).
        let votes = [
            VoteEvent::new(0, 0, Vote::Agree),
            VoteEvent::new(0, 1, Vote::Disagree),
            VoteEvent::new(1, 0, Vote::Agree),
            VoteEvent::new(1, 1, Vote::Agree),
            VoteEvent::new(1, 2, Vote::Pass),
        ];
        let matrix = VoteMatrix::from_events(&votes);
        let pca = pca();
        let projections = crate::pca::participant_projections(&matrix, &[false; 3], &pca);
        assert_eq!(projections, vec![[0.0, 0.0], [2.0, 0.0]]);
        // Base clusters centred at x = -0.4 (group 7) and x = 0.6 (group 9): the border is x = 0.1.
        let base = [
            Cluster { id: 0, members: vec![0], center: [-0.4, 0.0] },
            Cluster { id: 1, members: vec![1], center: [0.6, 0.0] },
        ];
        let groups = [
            Cluster { id: 7, members: vec![0], center: [-0.4, 0.0] },
            Cluster { id: 9, members: vec![1], center: [0.6, 0.0] },
        ];
        let moved = map_reassignments(&matrix, &[false; 3], &pca, &projections, &base, &groups);
        // Without its agree on 0, participant 0 is at √3 · (−1, 0), still group 7; without its
        // disagree on 1, at √3 · (1, 0): group 9. Participant 1 without any one vote stays at
        // x ≥ √(3/2) · 1 > 0.1: no vote of theirs is pivotal.
        assert_eq!(moved, vec![ReassignedVote { row: 0, column: 1, vote: -1, from: 7, to: 9 }]);
        // The counts the intervals read: that disagree moves from group 7 to group 9.
        let plain = crate::stats::base_and_group_votes(&matrix, &base, &groups).group_votes;
        let cross = cross_fitted_votes(&[7, 9], &plain, &moved);
        let vc = |agree, disagree, seen| VoteCounts { agree, disagree, seen };
        assert_eq!(plain[0][1], vc(0, 1, 1));
        assert_eq!((cross[0][1], cross[1][1]), (vc(0, 0, 0), vc(1, 1, 2)));
        assert_eq!((cross[0][0], cross[1][0], cross[1][2]), (plain[0][0], plain[1][0], plain[1][2]));
    }

    #[test]
    fn moderated_out_statements_count_in_the_scale_and_never_move_a_vote() {
        // Participant 0 agrees with 0, disagrees with 1 and agrees with 2, which is moderated
        // out: Σ = (0, 0) and n = 3 (statement 2 counts as voted), so at the origin. Without the
        // disagree, Σ = (1, 0) and n = 2: at √(3/2) ≈ 1.22, short of the border at x = 1.3
        // between centres at -0.4 and 3.0. Counting only the two votes on statements in play
        // (n = 1 without one) would put it at √3 ≈ 1.73, across; the vote on statement 2 is
        // never pivotal (it is not in the projection).
        let votes = [
            VoteEvent::new(0, 0, Vote::Agree),
            VoteEvent::new(0, 1, Vote::Disagree),
            VoteEvent::new(0, 2, Vote::Agree),
        ];
        let matrix = VoteMatrix::from_events(&votes);
        let out = [false, false, true];
        let pca = pca();
        let projections = crate::pca::participant_projections(&matrix, &out, &pca);
        assert_eq!(projections, vec![[0.0, 0.0]]);
        let base = [
            Cluster { id: 0, members: vec![0], center: [-0.4, 0.0] },
            Cluster { id: 1, members: vec![], center: [3.0, 0.0] },
        ];
        let groups = [
            Cluster { id: 0, members: vec![0], center: [-0.4, 0.0] },
            Cluster { id: 1, members: vec![1], center: [3.0, 0.0] },
        ];
        assert!(map_reassignments(&matrix, &out, &pca, &projections, &base, &groups).is_empty());
        // With the border at x = 1.0 (centres -0.4 and 2.4) the disagree is pivotal.
        let base = [base[0].clone(), Cluster { id: 1, members: vec![], center: [2.4, 0.0] }];
        let moved = map_reassignments(&matrix, &out, &pca, &projections, &base, &groups);
        assert_eq!(moved, vec![ReassignedVote { row: 0, column: 1, vote: -1, from: 0, to: 1 }]);
    }

    #[test]
    fn a_vote_that_moves_its_participant_far_along_the_border_is_not_pivotal_and_one_across_it_is() {
        // Participant 0 agrees with 0 and 2: Σ = (1, 1), scale √(3/2), at (1.22, 1.22); nearest
        // centre (1.5, 0) of group 9 (distance 1.26), the other group's at (-1, 0) (2.54): half
        // the gap is 0.64 and the bisector x = 0.25 is 0.97 away. Without the agree on 2 the point
        // is √3 · (1, 0) = (1.73, 0), a move of 1.33 (past both margins) along the border: still
        // nearest (1.5, 0). Without the agree on 0 it is (0, 1.73), across x = 0.25: nearer
        // (-1, 0) (distance² 4 against 5.25), so group 7.
        // (Participant 1, outside every base cluster, passes on 1 so that the matrix has three
        // statements.)
        let votes =
            [VoteEvent::new(0, 0, Vote::Agree), VoteEvent::new(0, 2, Vote::Agree), VoteEvent::new(1, 1, Vote::Pass)];
        let matrix = VoteMatrix::from_events(&votes);
        let pca = pca();
        let projections = crate::pca::participant_projections(&matrix, &[false; 3], &pca);
        let base = [
            Cluster { id: 0, members: vec![], center: [-1.0, 0.0] },
            Cluster { id: 1, members: vec![0], center: [1.5, 0.0] },
        ];
        let groups = [
            Cluster { id: 7, members: vec![0], center: [-1.0, 0.0] },
            Cluster { id: 9, members: vec![1], center: [1.5, 0.0] },
        ];
        let moved = map_reassignments(&matrix, &[false; 3], &pca, &projections, &base, &groups);
        assert_eq!(moved, vec![ReassignedVote { row: 0, column: 0, vote: 1, from: 9, to: 7 }]);
    }

    #[test]
    fn a_participant_far_from_every_border_has_no_pivotal_vote() {
        // Ten participants who all agree with 0 and 1 (two statements in the matrix): at (2, 0),
        // with either vote out at √(2/1) · (1, 0) ≈ (1.41, 0), far from the border at x = 0.1.
        let votes: Vec<VoteEvent> =
            (0..10).flat_map(|p| [VoteEvent::new(p, 0, Vote::Agree), VoteEvent::new(p, 1, Vote::Agree)]).collect();
        let matrix = VoteMatrix::from_events(&votes);
        let pca = pca();
        let projections = crate::pca::participant_projections(&matrix, &[false; 3], &pca);
        let base = [
            Cluster { id: 0, members: vec![], center: [-0.4, 0.0] },
            Cluster { id: 1, members: (0..10).collect(), center: [0.6, 0.0] },
        ];
        let groups = [
            Cluster { id: 0, members: vec![0], center: [-0.4, 0.0] },
            Cluster { id: 1, members: vec![1], center: [0.6, 0.0] },
        ];
        assert!(map_reassignments(&matrix, &[false; 3], &pca, &projections, &base, &groups).is_empty());
    }
}
