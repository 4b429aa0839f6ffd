//! Each participant's votes, found where they lie in a batch: as runs of consecutive votes when
//! the input is grouped by participant, else as a list made by a counting sort.
//!
//! Two passes visit every participant's votes in input order: the tie check of the readers
//! ([`super::VoteBatch::contradictory_ties`]) and the cold build of the vote matrix
//! ([`super::VoteMatrix::with_owned_batch`]). The general way to find them is a counting sort that
//! lists the votes by participant: one `u32` per vote (200 MB on 50 million votes, on top of the
//! batch, which is what set the peak memory of a large load) written in random order. But a vote
//! table written participant by participant (a generated conversation, a DataFrame grouped by
//! participant, a database dump ordered by participant) holds each participant's votes in one or
//! a few runs of consecutive rows. The runs then say the same in 8 bytes a run (16 MB for a
//! million participants), and the votes are read in order instead of gathered. Both forms give
//! each participant's votes in input order, so whatever reads them gets the same result.

use rayon::prelude::*;

/// Votes per parallel job of the passes over the participant column; fixed, so that which form
/// [`VotesByParticipant::of`] picks does not depend on the number of threads.
const CHUNK: usize = 1 << 20;

/// Runs are kept only while they average at least this many votes; beyond that the list (4 bytes
/// a vote) is as small as the runs (8 bytes a run).
const MIN_VOTES_PER_RUN: usize = 4;

/// Each participant's votes as runs of consecutive votes of the batch (see the [module docs](self)).
#[derive(Debug)]
pub(super) struct ParticipantRuns {
    /// Participant `p`'s runs are `runs[first[p]..first[p + 1]]`, in input order.
    first: Vec<usize>,
    /// Each run's first vote and its length.
    runs: Vec<(u32, u32)>,
}

impl ParticipantRuns {
    /// The runs of `participants` (each vote's participant, below `n_participants`), or `None`
    /// when there are too many of them (fewer than [`MIN_VOTES_PER_RUN`] votes a run on average,
    /// judged per chunk of [`CHUNK`] votes) or too many votes for a `u32` position.
    pub(super) fn of(participants: &[u32], n_participants: usize) -> Option<ParticipantRuns> {
        let n = participants.len();
        u32::try_from(n).ok()?;
        // Where each run starts, per chunk; a chunk gives up as soon as it has too many.
        let starts: Vec<Option<Vec<u32>>> = participants
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let offset = c * CHUNK;
                let cap = chunk.len() / MIN_VOTES_PER_RUN + 1;
                let mut previous = offset.checked_sub(1).map(|i| participants[i]);
                let mut starts = Vec::new();
                for (k, &p) in chunk.iter().enumerate() {
                    if previous != Some(p) {
                        if starts.len() == cap {
                            return None;
                        }
                        starts.push((offset + k) as u32);
                        previous = Some(p);
                    }
                }
                Some(starts)
            })
            .collect();
        let starts: Vec<u32> = starts.into_iter().collect::<Option<Vec<Vec<u32>>>>()?.concat();
        // Counting sort of the runs by participant (stable: input order within a participant).
        let mut first = vec![0usize; n_participants + 1];
        for &s in &starts {
            first[participants[s as usize] as usize + 1] += 1;
        }
        for p in 0..n_participants {
            first[p + 1] += first[p];
        }
        let mut fill = first[..n_participants].to_vec();
        let mut runs = vec![(0u32, 0u32); starts.len()];
        for (k, &s) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(n as u32);
            let p = participants[s as usize] as usize;
            runs[fill[p]] = (s, end - s);
            fill[p] += 1;
        }
        Some(ParticipantRuns { first, runs })
    }

    /// Participant `p`'s number of votes.
    pub(super) fn count(&self, p: usize) -> usize {
        self.runs[self.first[p]..self.first[p + 1]].iter().map(|&(_, len)| len as usize).sum()
    }

    /// Participant `p`'s votes when they are one run: its first position and length.
    #[inline]
    pub(super) fn single(&self, p: usize) -> Option<(u32, u32)> {
        match self.runs[self.first[p]..self.first[p + 1]] {
            [run] => Some(run),
            _ => None,
        }
    }

    /// Participant `p`'s runs (ranges of positions in the batch), in input order.
    #[inline]
    pub(super) fn ranges(&self, p: usize) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.runs[self.first[p]..self.first[p + 1]]
            .iter()
            .map(|&(start, len)| start as usize..start as usize + len as usize)
    }

    /// Participant `p`'s votes (positions in the batch), in input order.
    #[inline]
    pub(super) fn votes(&self, p: usize) -> impl Iterator<Item = usize> + '_ {
        self.ranges(p).flatten()
    }
}

/// Each participant's votes in input order: as runs when the batch is grouped by participant,
/// else listed by a counting sort (see the [module docs](self)).
pub(super) enum VotesByParticipant {
    Runs(ParticipantRuns),
    /// Participant `p`'s votes are `votes[start[p]..start[p + 1]]`.
    Listed {
        start: Vec<usize>,
        votes: Vec<u32>,
    },
}

impl VotesByParticipant {
    pub(super) fn of(participants: &[u32], n_participants: usize) -> VotesByParticipant {
        if let Some(runs) = ParticipantRuns::of(participants, n_participants) {
            return VotesByParticipant::Runs(runs);
        }
        let mut start = vec![0usize; n_participants + 1];
        for &p in participants {
            start[p as usize + 1] += 1;
        }
        for p in 0..n_participants {
            start[p + 1] += start[p];
        }
        let mut fill = start.clone();
        let mut votes = vec![0u32; participants.len()];
        for (i, &p) in participants.iter().enumerate() {
            votes[fill[p as usize]] = i as u32;
            fill[p as usize] += 1;
        }
        VotesByParticipant::Listed { start, votes }
    }

    /// Calls `f` with each of participant `p`'s votes (positions in the batch), in input order.
    #[inline]
    pub(super) fn for_each(&self, p: usize, mut f: impl FnMut(usize)) {
        match self {
            VotesByParticipant::Runs(runs) => runs.votes(p).for_each(f),
            VotesByParticipant::Listed { start, votes } => {
                votes[start[p]..start[p + 1]].iter().for_each(|&i| f(i as usize))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each participant's votes by a plain scan: the oracle.
    fn scanned(participants: &[u32], n: usize) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); n];
        for (i, &p) in participants.iter().enumerate() {
            out[p as usize].push(i);
        }
        out
    }

    fn listed(by: &VotesByParticipant, n: usize) -> Vec<Vec<usize>> {
        (0..n)
            .map(|p| {
                let mut votes = Vec::new();
                by.for_each(p, |i| votes.push(i));
                votes
            })
            .collect()
    }

    #[test]
    fn grouped_votes_are_found_as_runs_and_scattered_ones_as_a_list_both_in_input_order() {
        // Grouped: participant k votes 5 times in a row, and participant 0 again at the end (two
        // runs), across several chunks of the parallel pass.
        let n = 3 * CHUNK / 5 + 7;
        let mut grouped: Vec<u32> = (0..5 * n).map(|i| (i / 5) as u32).collect();
        grouped.extend([0, 0, 0, 0]);
        let by = VotesByParticipant::of(&grouped, n);
        assert!(matches!(by, VotesByParticipant::Runs(_)));
        assert_eq!(listed(&by, n), scanned(&grouped, n));
        // Interleaved: a new participant at every vote.
        let interleaved: Vec<u32> = (0..50_000).map(|i| (i * 7_919 % 1_000) as u32).collect();
        let by = VotesByParticipant::of(&interleaved, 1_000);
        assert!(matches!(by, VotesByParticipant::Listed { .. }));
        assert_eq!(listed(&by, 1_000), scanned(&interleaved, 1_000));
        // Nothing, and participants without a vote.
        assert_eq!(listed(&VotesByParticipant::of(&[], 2), 2), vec![Vec::<usize>::new(); 2]);
        assert_eq!(listed(&VotesByParticipant::of(&[2, 2, 2, 2], 4), 4), scanned(&[2, 2, 2, 2], 4));
    }
}
