//! The participant x statement vote matrix, stored sparse (CSR): only cast votes are stored.
//!
//! Row and column order reproduce Polis's NamedMatrix (`named_matrix.clj`): rows and columns are
//! appended in first-appearance order, and the worker reads each batch of votes
//! `ORDER BY tid, pid, created` (`postgres.clj`). A cold build therefore has its columns in
//! ascending statement id and its rows in first-vote order under that sort. k-means initialisation
//! and tie-breaks depend on this order, so we keep it rather than sorting participants.
//!
//! Memory: one `u32` column index and one `i8` value per stored vote, plus one `usize` per
//! participant: about 5 bytes a vote, 250 MB for 50M votes.

use std::collections::HashMap;

use super::{Id, Vote, VoteEvent};

/// A sparse participant x statement matrix of votes (agree = +1, disagree = -1, pass = 0).
/// A missing vote is simply not stored. Immutable: updates build a new matrix
/// ([`VoteMatrix::with_votes`]) in O(existing votes + batch log batch).
#[derive(Debug, Clone, Default)]
pub struct VoteMatrix {
    participants: Vec<Id>,
    statements: Vec<Id>,
    participant_index: HashMap<Id, u32>,
    statement_index: HashMap<Id, u32>,
    /// Row r's votes are `indices[indptr[r]..indptr[r+1]]` (ascending column) and the same range of `values`.
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<i8>,
    last_timestamp: Option<i64>,
}

impl VoteMatrix {
    /// Builds the matrix from vote events, as one batch (a cold rebuild). The latest vote on each
    /// (participant, statement) wins: by timestamp when present, else by position in `events`.
    pub fn from_events(events: &[VoteEvent]) -> VoteMatrix {
        VoteMatrix::default().with_votes(events)
    }

    /// A new matrix with `batch` applied on top of this one, as the Polis worker applies one poll
    /// of votes: new participants and statements are appended in first-appearance order under
    /// the sort (statement, participant, timestamp); a vote on a cell that already holds one
    /// replaces it (arrival order wins across batches). Cost: O(votes) for the merge plus
    /// O(batch log batch) for the sort; existing rows are copied, not re-sorted.
    pub fn with_votes(&self, batch: &[VoteEvent]) -> VoteMatrix {
        let mut out = VoteMatrix {
            participants: self.participants.clone(),
            statements: self.statements.clone(),
            participant_index: self.participant_index.clone(),
            statement_index: self.statement_index.clone(),
            indptr: Vec::new(),
            indices: Vec::new(),
            values: Vec::new(),
            last_timestamp: self.last_timestamp,
        };
        if batch.is_empty() {
            out.indptr = self.indptr.clone();
            out.indices = self.indices.clone();
            out.values = self.values.clone();
            if out.indptr.is_empty() {
                out.indptr.push(0);
            }
            return out;
        }
        // Polis's batch order: tid, pid, created; a stable sort keeps input order among equal keys.
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|&a, &b| {
            let (ea, eb) = (&batch[a], &batch[b]);
            ea.statement
                .cmp(&eb.statement)
                .then_with(|| ea.participant.cmp(&eb.participant))
                .then_with(|| ea.timestamp.unwrap_or(i64::MIN).cmp(&eb.timestamp.unwrap_or(i64::MIN)))
        });
        // Map ids to dense indices (appending new ones) and keep the last event per cell.
        let mut cells: Vec<(u32, u32, i8)> = Vec::with_capacity(batch.len());
        for &i in &order {
            let e = &batch[i];
            let col = index_of(&mut out.statements, &mut out.statement_index, &e.statement);
            let row = index_of(&mut out.participants, &mut out.participant_index, &e.participant);
            if let Some(ts) = e.timestamp {
                out.last_timestamp = Some(out.last_timestamp.map_or(ts, |t| t.max(ts)));
            }
            match cells.last_mut() {
                Some(last) if last.0 == row && last.1 == col => last.2 = e.vote.value(),
                _ => cells.push((row, col, e.vote.value())),
            }
        }
        cells.sort_unstable_by_key(|&(r, c, _)| (r, c));

        // Merge the old rows with the new cells, row by row.
        let n_rows = out.participants.len();
        let old_rows = self.indptr.len().saturating_sub(1);
        out.indptr.reserve(n_rows + 1);
        out.indices.reserve(self.indices.len() + cells.len());
        out.values.reserve(self.values.len() + cells.len());
        out.indptr.push(0);
        let mut k = 0;
        for row in 0..n_rows {
            let (old_cols, old_vals): (&[u32], &[i8]) = if row < old_rows {
                let r = self.indptr[row]..self.indptr[row + 1];
                (&self.indices[r.clone()], &self.values[r])
            } else {
                (&[], &[])
            };
            let mut j = 0;
            while k < cells.len() && cells[k].0 as usize == row {
                let (_, col, val) = cells[k];
                while j < old_cols.len() && old_cols[j] < col {
                    out.indices.push(old_cols[j]);
                    out.values.push(old_vals[j]);
                    j += 1;
                }
                if j < old_cols.len() && old_cols[j] == col {
                    j += 1; // replaced by the newer vote
                }
                out.indices.push(col);
                out.values.push(val);
                k += 1;
            }
            out.indices.extend_from_slice(&old_cols[j..]);
            out.values.extend_from_slice(&old_vals[j..]);
            out.indptr.push(out.indices.len());
        }
        out
    }

    /// Number of participants (rows).
    pub fn n_participants(&self) -> usize {
        self.participants.len()
    }
    /// Number of statements (columns): statements with at least one vote.
    pub fn n_statements(&self) -> usize {
        self.statements.len()
    }
    /// Number of stored (cast) votes, passes included.
    pub fn n_votes(&self) -> usize {
        self.indices.len()
    }
    /// External participant ids, in row order.
    pub fn participants(&self) -> &[Id] {
        &self.participants
    }
    /// External statement ids, in column order.
    pub fn statements(&self) -> &[Id] {
        &self.statements
    }
    pub fn participant_index(&self, id: &Id) -> Option<usize> {
        self.participant_index.get(id).map(|&i| i as usize)
    }
    pub fn statement_index(&self, id: &Id) -> Option<usize> {
        self.statement_index.get(id).map(|&i| i as usize)
    }
    /// The latest vote timestamp seen, if any vote carried one.
    pub fn last_timestamp(&self) -> Option<i64> {
        self.last_timestamp
    }
    /// Participant `row`'s votes: (statement column, vote value) pairs in ascending column.
    pub fn row(&self, row: usize) -> (&[u32], &[i8]) {
        let r = self.indptr[row]..self.indptr[row + 1];
        (&self.indices[r.clone()], &self.values[r])
    }
    /// Number of votes participant `row` cast (passes included).
    pub fn row_len(&self, row: usize) -> usize {
        self.indptr[row + 1] - self.indptr[row]
    }
    /// The vote in one cell, if cast.
    pub fn get(&self, row: usize, col: usize) -> Option<Vote> {
        let (cols, vals) = self.row(row);
        cols.binary_search(&(col as u32)).ok().and_then(|i| Vote::from_value(vals[i] as i64))
    }
    /// The raw CSR arrays: (indptr, column indices, values).
    pub fn csr(&self) -> (&[usize], &[u32], &[i8]) {
        (&self.indptr, &self.indices, &self.values)
    }
}

fn index_of(ids: &mut Vec<Id>, index: &mut HashMap<Id, u32>, id: &Id) -> u32 {
    if let Some(&i) = index.get(id) {
        return i;
    }
    let i = ids.len() as u32;
    ids.push(id.clone());
    index.insert(id.clone(), i);
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: i64, s: i64, v: Vote, t: i64) -> VoteEvent {
        VoteEvent::new(p, s, v).at(t)
    }

    #[test]
    fn cold_build_orders_columns_by_statement_and_rows_by_first_vote_under_polis_sort() {
        // Participant 9 votes first in time, but on statement 5; participant 3 votes on statement 1.
        let m = VoteMatrix::from_events(&[
            ev(9, 5, Vote::Agree, 1),
            ev(3, 1, Vote::Pass, 2),
            ev(9, 1, Vote::Disagree, 3),
        ]);
        assert_eq!(m.statements(), &[Id::Int(1), Id::Int(5)]);
        assert_eq!(m.participants(), &[Id::Int(3), Id::Int(9)]);
        assert_eq!(m.get(0, 0), Some(Vote::Pass));
        assert_eq!(m.get(0, 1), None);
        assert_eq!(m.get(1, 0), Some(Vote::Disagree));
        assert_eq!(m.get(1, 1), Some(Vote::Agree));
        assert_eq!(m.n_votes(), 3);
    }

    #[test]
    fn latest_vote_by_timestamp_wins_within_a_batch_whatever_the_input_order() {
        let m = VoteMatrix::from_events(&[ev(1, 1, Vote::Agree, 20), ev(1, 1, Vote::Disagree, 10)]);
        assert_eq!(m.get(0, 0), Some(Vote::Agree));
        assert_eq!(m.n_votes(), 1);
    }

    #[test]
    fn a_later_batch_replaces_cells_and_appends_new_rows_and_columns() {
        let m = VoteMatrix::from_events(&[ev(1, 1, Vote::Agree, 1), ev(2, 2, Vote::Agree, 1)]);
        let m2 = m.with_votes(&[ev(1, 1, Vote::Disagree, 5), ev(3, 0, Vote::Pass, 6), ev(1, 2, Vote::Pass, 7)]);
        assert_eq!(m2.statements(), &[Id::Int(1), Id::Int(2), Id::Int(0)]);
        assert_eq!(m2.participants(), &[Id::Int(1), Id::Int(2), Id::Int(3)]);
        assert_eq!(m2.get(0, 0), Some(Vote::Disagree));
        assert_eq!(m2.get(0, 1), Some(Vote::Pass));
        assert_eq!(m2.get(2, 2), Some(Vote::Pass));
        assert_eq!(m2.n_votes(), 4);
        // The original is untouched.
        assert_eq!(m.get(0, 0), Some(Vote::Agree));
        assert_eq!(m2.last_timestamp(), Some(7));
    }

    #[test]
    fn applying_votes_in_batches_equals_one_batch_when_no_cell_repeats() {
        let events: Vec<VoteEvent> =
            (0..200).map(|i| ev((i * 7) % 13, (i * 5) % 11, Vote::from_value((i % 3) - 1).unwrap(), i)).collect();
        let mut dedup = std::collections::HashMap::new();
        for e in &events {
            dedup.insert((e.participant.clone(), e.statement.clone()), e.vote);
        }
        let once = VoteMatrix::from_events(&events);
        let mut inc = VoteMatrix::default();
        for chunk in events.chunks(17) {
            inc = inc.with_votes(chunk);
        }
        for m in [&once, &inc] {
            assert_eq!(m.n_votes(), dedup.len());
            for ((p, s), v) in &dedup {
                let r = m.participant_index(p).unwrap();
                let c = m.statement_index(s).unwrap();
                assert_eq!(m.get(r, c), Some(*v));
            }
        }
    }
}
