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

use std::sync::OnceLock;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::runs::ParticipantRuns;
use super::{Id, Vote, VoteBatch, VoteEvent};

/// A sparse participant x statement matrix of votes (agree = +1, disagree = -1, pass = 0).
/// A missing vote is simply not stored. Immutable: updates build a new matrix
/// ([`VoteMatrix::with_votes`]) in O(existing votes + batch log batch).
#[derive(Debug, Clone, Default)]
pub struct VoteMatrix {
    participants: Vec<Id>,
    statements: Vec<Id>,
    /// Built on first use ([`VoteMatrix::participant_map`]): an analysis of one batch never
    /// looks a participant up, and the map of a million ids is about 80 MB.
    participant_index: OnceLock<FxHashMap<Id, u32>>,
    statement_index: FxHashMap<Id, u32>,
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
        VoteMatrix::default().with_owned_batch(VoteBatch::from_events(events))
    }

    /// Builds the matrix from a batch of votes (a cold rebuild); see [`VoteMatrix::with_batch`].
    pub fn from_batch(batch: &VoteBatch) -> VoteMatrix {
        VoteMatrix::default().with_batch(batch)
    }

    /// [`VoteMatrix::with_batch`] for vote events.
    pub fn with_votes(&self, batch: &[VoteEvent]) -> VoteMatrix {
        self.with_batch(&VoteBatch::from_events(batch))
    }

    /// The matrix Polis's worker rebuilds from all votes when it restarts (`load-or-init`): the
    /// same votes, read as one batch, so in cold-build order (columns in ascending statement id,
    /// rows in first-vote order under that sort) instead of the order the history first saw them.
    /// O(votes log votes).
    pub fn rebuilt(&self) -> VoteMatrix {
        let mut batch = VoteBatch::new();
        batch.reserve(self.values.len());
        for (r, participant) in self.participants.iter().enumerate() {
            let range = self.indptr[r]..self.indptr[r + 1];
            for (&j, &v) in self.indices[range.clone()].iter().zip(&self.values[range]) {
                if let Some(vote) = Vote::from_value(v as i64) {
                    batch.push(participant, &self.statements[j as usize], vote, None);
                }
            }
        }
        let mut out = VoteMatrix::default().with_owned_batch(batch);
        out.last_timestamp = self.last_timestamp;
        out
    }

    /// A new matrix with `batch` applied on top of this one, as the Polis worker applies one poll
    /// of votes: new participants and statements are appended in first-appearance order under
    /// the sort (statement, participant, timestamp); a vote on a cell that already holds one
    /// replaces it (arrival order wins across batches; within a batch the latest timestamp, then
    /// the later event).
    ///
    /// Cost: O(existing votes + batch) plus a sort of each participant's few batch votes. The
    /// first-appearance order is derived without sorting the batch: new statements appear in
    /// ascending id, and a new participant first appears at the smallest statement id it voted on,
    /// ties broken by participant id. Memory: the new matrix plus one `u32` per batch vote.
    pub fn with_batch(&self, batch: &VoteBatch) -> VoteMatrix {
        let mut out = self.ids_only();
        if batch.is_empty() {
            out.indptr = if self.indptr.is_empty() { vec![0] } else { self.indptr.clone() };
            out.indices = self.indices.clone();
            out.values = self.values.clone();
            return out;
        }
        let placed = out.place(self, batch);
        let Placed { column, start, bucket, kept, row_chunks } = &placed;
        let (cell_statement, values) = (batch.statements(), batch.values());

        // Merge each old row with its kept batch votes, in parallel over the same row chunks,
        // each writing its own part of the new arrays.
        let n_rows = out.participants.len();
        let total = out.indptr[n_rows];
        out.indices = vec![0; total];
        out.values = vec![0; total];
        let mut parts = Vec::with_capacity(row_chunks.len());
        let (mut rest_indices, mut rest_values): (&mut [u32], &mut [i8]) = (&mut out.indices, &mut out.values);
        for rows in row_chunks {
            let len = out.indptr[rows.end] - out.indptr[rows.start];
            let (indices, tail_indices) = rest_indices.split_at_mut(len);
            let (values, tail_values) = rest_values.split_at_mut(len);
            parts.push((rows.clone(), indices, values));
            (rest_indices, rest_values) = (tail_indices, tail_values);
        }
        parts.into_par_iter().for_each(|(rows, indices, out_values)| {
            let mut at = 0;
            for r in rows {
                let (old_cols, old_vals) = self.old_row(r);
                let new = &bucket[start[r]..start[r] + kept[r]];
                let mut j = 0;
                for &i in new {
                    let (col, val) = (column[cell_statement[i as usize] as usize], values[i as usize]);
                    while j < old_cols.len() && old_cols[j] < col {
                        (indices[at], out_values[at]) = (old_cols[j], old_vals[j]);
                        (at, j) = (at + 1, j + 1);
                    }
                    if j < old_cols.len() && old_cols[j] == col {
                        j += 1; // replaced by the newer vote
                    }
                    (indices[at], out_values[at]) = (col, val);
                    at += 1;
                }
                let tail = old_cols.len() - j;
                indices[at..at + tail].copy_from_slice(&old_cols[j..]);
                out_values[at..at + tail].copy_from_slice(&old_vals[j..]);
                at += tail;
            }
        });
        out
    }

    /// [`VoteMatrix::with_batch`], taking the batch: the same matrix, built with less memory.
    ///
    /// On an empty matrix (a cold build, every analysis of a whole vote file) the batch's own
    /// arrays become the matrix's: the list of the batch's votes by row, which the build needs
    /// anyway, is turned in place into the column indices, and the batch's participant column and
    /// timestamps are freed before the values are copied. The peak is then the batch plus one
    /// `u32` per vote, where [`VoteMatrix::with_batch`] holds the batch, that list and the new
    /// matrix at once (on 50 million votes: 850 MB instead of 1.1 GB). Otherwise it is
    /// [`VoteMatrix::with_batch`].
    pub fn with_owned_batch(&self, batch: VoteBatch) -> VoteMatrix {
        if !self.participants.is_empty() || !self.statements.is_empty() || batch.is_empty() {
            return self.with_batch(&batch);
        }
        let mut out = self.ids_only();
        if let Some(runs) = ParticipantRuns::of(batch.participants(), batch.participant_ids().len()) {
            out.build_from_runs(self, batch, &runs);
            return out;
        }
        let Placed { column, start, mut bucket, kept, row_chunks } = out.place(self, &batch);
        let (statements, values) = batch.into_statements_and_values();

        // Each row's kept votes move to the front of the list, to the row's place in the matrix
        // (never to the right of where they are: a row starts no later than its votes did).
        let n_rows = out.participants.len();
        for r in 0..n_rows {
            if out.indptr[r] != start[r] {
                bucket.copy_within(start[r]..start[r] + kept[r], out.indptr[r]);
            }
        }
        let total = out.indptr[n_rows];
        bucket.truncate(total);
        bucket.shrink_to_fit();
        // Vote i's value, then its column in i's place: the list becomes the column indices.
        out.values = vec![0; total];
        let chunks = row_chunks.iter().map(|rows| out.indptr[rows.end] - out.indptr[rows.start]);
        let mut parts = Vec::with_capacity(row_chunks.len());
        let (mut rest_cells, mut rest_values): (&mut [u32], &mut [i8]) = (&mut bucket, &mut out.values);
        for len in chunks {
            let (cells, tail_cells) = rest_cells.split_at_mut(len);
            let (part_values, tail_values) = rest_values.split_at_mut(len);
            parts.push((cells, part_values));
            (rest_cells, rest_values) = (tail_cells, tail_values);
        }
        parts.into_par_iter().for_each(|(cells, part_values)| {
            for (cell, value) in cells.iter_mut().zip(part_values) {
                let i = *cell as usize;
                *value = values[i];
                *cell = column[statements[i] as usize];
            }
        });
        out.indices = bucket;
        out
    }

    /// The cold build of [`VoteMatrix::with_owned_batch`] for a batch that holds each
    /// participant's votes in a few runs of consecutive votes (see `runs.rs`): each row is read
    /// from its runs, without the list of the batch's votes by row (one `u32` per vote), and its
    /// votes, sorted and the latest of each cell kept, written straight into the matrix, whose
    /// column indices take the batch's participant column's place. The peak is the batch plus the
    /// matrix's values (on 50 million votes: 650 + 50 MB, the same as freeing the participant
    /// column for fresh indices), and no vote is written in random order.
    /// The same matrix as [`VoteMatrix::with_batch`]: each row gets the same votes, keyed and kept
    /// by the same rule.
    fn build_from_runs(&mut self, old: &VoteMatrix, batch: VoteBatch, runs: &ParticipantRuns) {
        let (column, row) = self.place_ids(old, &batch);
        let n_rows = self.participants.len();
        let mut participant_of_row = vec![0u32; n_rows];
        for (p, &r) in row.iter().enumerate() {
            participant_of_row[r as usize] = p as u32;
        }
        drop(row);
        let (participant_column, statements, values, times) = batch.into_columns();
        // Each row's votes when they are one run (nearly every row of a table written participant
        // by participant), found once in row order: the pass below then reads a row's place from
        // this array instead of through the participant's entry in the runs, a chain of two
        // dependent loads from tables of 8 MB each per row at a million participants.
        let single: Vec<Option<(u32, u32)>> =
            participant_of_row.par_iter().with_min_len(MERGE_CHUNK_ROWS).map(|&p| runs.single(p as usize)).collect();
        // Each chunk of rows writes its rows at the place its votes would take if no cell
        // repeated; the chunks then close up the gaps their repeated cells left.
        let row_chunks = row_chunks(n_rows, MERGE_CHUNK_ROWS);
        let chunk_votes: Vec<usize> = row_chunks
            .par_iter()
            .map(|rows| {
                rows.clone()
                    .map(|r| {
                        single[r].map_or_else(|| runs.count(participant_of_row[r] as usize), |(_, len)| len as usize)
                    })
                    .sum()
            })
            .collect();
        let n_votes: usize = chunk_votes.iter().sum();
        // The participant column, read no more, becomes the column indices: one vote's `u32` each,
        // every one written below before it is read, in pages already mapped, where a fresh
        // array's 200 MB (at 50 million votes) would be faulted in and zeroed by the kernel first.
        debug_assert_eq!(participant_column.len(), n_votes);
        self.indices = participant_column;
        self.indices.resize(n_votes, 0);
        self.values = vec![0; n_votes];
        let mut parts = Vec::with_capacity(row_chunks.len());
        let (mut rest_indices, mut rest_values): (&mut [u32], &mut [i8]) = (&mut self.indices, &mut self.values);
        for (rows, &len) in row_chunks.iter().zip(&chunk_votes) {
            let (indices, tail_indices) = rest_indices.split_at_mut(len);
            let (part_values, tail_values) = rest_values.split_at_mut(len);
            parts.push((rows.clone(), indices, part_values));
            (rest_indices, rest_values) = (tail_indices, tail_values);
        }
        let lens: Vec<Vec<usize>> = parts
            .into_par_iter()
            .map(|(rows, indices, part_values)| {
                let mut keyed: Vec<u64> = Vec::new();
                let mut at = 0;
                rows.map(|r| {
                    // Rows are in first-vote order, not input order, so each row's votes lie
                    // somewhere else in the batch's 250 MB: the votes of the row `ROWS_AHEAD`
                    // on are read now, so that their cache misses overlap this row's sort instead
                    // of stalling the pass when it gets there (the read is all it does).
                    if let Some(&Some((start, len))) = single.get(r + ROWS_AHEAD) {
                        let (first, last) = (start as usize, (start + len - 1) as usize);
                        std::hint::black_box((statements[first], statements[last], values[first]));
                    }
                    keyed.clear();
                    match single[r] {
                        Some((start, len)) => keyed
                            .extend((start..start + len).map(|i| cell_key(column[statements[i as usize] as usize], i))),
                        None => {
                            for votes in runs.ranges(participant_of_row[r] as usize) {
                                keyed.extend(votes.map(|i| cell_key(column[statements[i] as usize], i as u32)));
                            }
                        }
                    }
                    let kept = keep_latest_per_column(&mut keyed, |i| times.get(i));
                    for &k in &keyed[..kept] {
                        (indices[at], part_values[at]) = ((k >> 32) as u32, values[k as u32 as usize]);
                        at += 1;
                    }
                    kept
                })
                .collect()
            })
            .collect();
        drop((statements, values, times));
        self.indptr = Vec::with_capacity(n_rows + 1);
        self.indptr.push(0);
        let (mut from, mut to) = (0, 0);
        for (chunk_lens, votes) in lens.iter().zip(chunk_votes) {
            let kept: usize = chunk_lens.iter().sum();
            if from != to {
                self.indices.copy_within(from..from + kept, to);
                self.values.copy_within(from..from + kept, to);
            }
            for &len in chunk_lens {
                self.indptr.push(self.indptr.last().copied().unwrap_or(0) + len);
            }
            (from, to) = (from + votes, to + kept);
        }
        self.indices.truncate(to);
        self.indices.shrink_to_fit();
        self.values.truncate(to);
        self.values.shrink_to_fit();
    }

    /// This matrix's participants and statements (and last timestamp), without any vote: where a
    /// new matrix starts.
    fn ids_only(&self) -> VoteMatrix {
        VoteMatrix {
            participants: self.participants.clone(),
            statements: self.statements.clone(),
            participant_index: OnceLock::new(),
            statement_index: self.statement_index.clone(),
            indptr: Vec::new(),
            indices: Vec::new(),
            values: Vec::new(),
            last_timestamp: self.last_timestamp,
        }
    }

    /// Row `r` of this matrix, empty beyond its rows.
    fn old_row(&self, r: usize) -> (&[u32], &[i8]) {
        if r + 1 < self.indptr.len() {
            self.row(r)
        } else {
            (&[], &[])
        }
    }

    /// Adds the batch's new statements and participants to `self` (a copy of `old`'s ids, without
    /// votes) in first-appearance order under the batch sort, and updates the last timestamp;
    /// returns each batch statement's column and each batch participant's row.
    fn place_ids(&mut self, old: &VoteMatrix, batch: &VoteBatch) -> (Vec<u32>, Vec<u32>) {
        if let Some(t) = batch.last_timestamp() {
            self.last_timestamp = Some(self.last_timestamp.map_or(t, |l| l.max(t)));
        }

        // The batch's statements and participants come interned (dense local ids, input order).
        let statement_ids = batch.statement_ids();
        let participant_ids = batch.participant_ids();
        let (cell_participant, cell_statement) = (batch.participants(), batch.statements());

        // Statements: rank by id (the batch sort order); new ones become columns in that order.
        let mut by_id: Vec<u32> = (0..statement_ids.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| statement_ids[a as usize].cmp(&statement_ids[b as usize]));
        let mut rank = vec![0u32; statement_ids.len()];
        for (r, &s) in by_id.iter().enumerate() {
            rank[s as usize] = r as u32;
        }
        let mut column = vec![0u32; statement_ids.len()];
        for &s in &by_id {
            let id = &statement_ids[s as usize];
            column[s as usize] = index_of(&mut self.statements, &mut self.statement_index, id);
        }

        // Participants: new ones in order of (smallest statement rank voted on, participant id).
        // (Minima are exact, so the parallel split does not matter.)
        let n_local = participant_ids.len();
        let first_rank = cell_participant
            .par_chunks(CELL_CHUNK)
            .zip(cell_statement.par_chunks(CELL_CHUNK))
            .fold(
                || vec![u32::MAX; n_local],
                |mut acc, (ps, ss)| {
                    for (&p, &s) in ps.iter().zip(ss) {
                        acc[p as usize] = acc[p as usize].min(rank[s as usize]);
                    }
                    acc
                },
            )
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, &y)| *x = (*x).min(y));
                a
            })
            .unwrap_or_default();
        let mut row = vec![0u32; participant_ids.len()];
        let mut new_participants: Vec<u32> = Vec::new();
        if old.participants.is_empty() {
            new_participants = (0..n_local as u32).collect();
        } else {
            let existing = old.participant_map();
            for (p, id) in participant_ids.iter().enumerate() {
                match existing.get(id) {
                    Some(&r) => row[p] = r,
                    None => new_participants.push(p as u32),
                }
            }
        }
        let int_ids: Option<Vec<i64>> = new_participants
            .iter()
            .map(|&p| if let Id::Int(n) = participant_ids[p as usize] { Some(n) } else { None })
            .collect();
        match int_ids {
            // Integer ids (Polis's): one contiguous sort of plain keys.
            Some(ints) => {
                let mut keyed: Vec<(u32, i64, u32)> =
                    new_participants.iter().zip(ints).map(|(&p, n)| (first_rank[p as usize], n, p)).collect();
                keyed.sort_unstable();
                new_participants = keyed.into_iter().map(|(_, _, p)| p).collect();
            }
            None => new_participants.sort_unstable_by(|&a, &b| {
                first_rank[a as usize]
                    .cmp(&first_rank[b as usize])
                    .then_with(|| participant_ids[a as usize].cmp(&participant_ids[b as usize]))
            }),
        }
        // The batch's ids are distinct and the new ones are not among the old: no lookup needed.
        self.participants.reserve(new_participants.len());
        for &p in &new_participants {
            row[p as usize] = self.participants.len() as u32;
            self.participants.push(participant_ids[p as usize].clone());
        }
        (column, row)
    }

    /// The part of [`VoteMatrix::with_batch`] shared by both builds: adds the batch's new
    /// statements and participants to `self` (a copy of `old`'s ids, without votes) in
    /// first-appearance order, lists the batch's votes by row keeping the latest of each cell, and
    /// sets `self.indptr` to the merged rows' bounds.
    fn place(&mut self, old: &VoteMatrix, batch: &VoteBatch) -> Placed {
        let (column, row) = self.place_ids(old, batch);
        let cell_participant = batch.participants();
        let cell_statement = batch.statements();

        // Bucket the batch by row (counting sort), then per row order by column and keep the
        // latest event per cell: by timestamp, then by position in the batch.
        let n_rows = self.participants.len();
        let mut start = cell_participant
            .par_chunks(CELL_CHUNK)
            .fold(
                || vec![0usize; n_rows + 1],
                |mut acc, ps| {
                    ps.iter().for_each(|&p| acc[row[p as usize] as usize + 1] += 1);
                    acc
                },
            )
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, &y)| *x += y);
                a
            })
            .unwrap_or_else(|| vec![0; n_rows + 1]);
        for r in 0..n_rows {
            start[r + 1] += start[r];
        }
        let mut fill = start.clone();
        let mut bucket = vec![0u32; batch.len()];
        for (i, &p) in cell_participant.iter().enumerate() {
            let r = row[p as usize] as usize;
            bucket[fill[r]] = i as u32;
            fill[r] += 1;
        }
        drop(fill);
        // Per row, in parallel over fixed chunks of rows (each owns its rows' part of `bucket`):
        // order the row's batch votes by (column, timestamp, position), keep the last of each
        // column at the front of the row's part, and count the merged row's length.
        let time = |i: usize| batch.timestamp(i);
        let row_chunks = row_chunks(n_rows, MERGE_CHUNK_ROWS);
        let mut bucket_parts = Vec::with_capacity(row_chunks.len());
        let mut rest: &mut [u32] = &mut bucket;
        for rows in &row_chunks {
            let (part, tail) = rest.split_at_mut(start[rows.end] - start[rows.start]);
            bucket_parts.push(part);
            rest = tail;
        }
        let counts: Vec<Vec<(usize, usize)>> = bucket_parts
            .into_par_iter()
            .zip(row_chunks.par_iter())
            .map(|(part, rows)| {
                let offset = start[rows.start];
                // The sort keys, computed once per vote into one scratch buffer per chunk.
                let mut keyed: Vec<u64> = Vec::new();
                rows.clone()
                    .map(|r| {
                        let cells = &mut part[start[r] - offset..start[r + 1] - offset];
                        keyed.clear();
                        keyed.extend(cells.iter().map(|&i| cell_key(column[cell_statement[i as usize] as usize], i)));
                        let kept = keep_latest_per_column(&mut keyed, time);
                        for (cell, &k) in cells.iter_mut().zip(&keyed[..kept]) {
                            *cell = k as u32;
                        }
                        let (old_cols, _) = old.old_row(r);
                        let replaced = keyed[..kept]
                            .iter()
                            .filter(|&&k| old_cols.binary_search(&((k >> 32) as u32)).is_ok())
                            .count();
                        (kept, old_cols.len() + kept - replaced)
                    })
                    .collect()
            })
            .collect();
        let kept: Vec<usize> = counts.iter().flatten().map(|&(k, _)| k).collect();
        self.indptr = Vec::with_capacity(n_rows + 1);
        self.indptr.push(0);
        for (_, len) in counts.iter().flatten() {
            self.indptr.push(self.indptr.last().copied().unwrap_or(0) + len);
        }
        Placed { column, start, bucket, kept, row_chunks }
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
        self.participant_map().get(id).map(|&i| i as usize)
    }
    /// Participant id -> row, built on first use.
    fn participant_map(&self) -> &FxHashMap<Id, u32> {
        self.participant_index.get_or_init(|| {
            let mut map = FxHashMap::default();
            map.reserve(self.participants.len());
            map.extend(self.participants.iter().enumerate().map(|(r, id)| (id.clone(), r as u32)));
            map
        })
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

    /// The matrix as plain arrays (ids in row and column order, CSR arrays), for a serialised
    /// conversation state. [`VoteMatrix::from_parts`] rebuilds exactly this matrix.
    pub fn to_parts(&self) -> MatrixParts {
        MatrixParts {
            participants: self.participants.clone(),
            statements: self.statements.clone(),
            indptr: self.indptr.iter().map(|&i| i as u64).collect(),
            indices: self.indices.clone(),
            values: self.values.clone(),
            last_timestamp: self.last_timestamp,
        }
    }

    /// Rebuilds a matrix from [`VoteMatrix::to_parts`], checking every invariant the pipeline
    /// relies on (one row per participant, columns in range and ascending within a row, values in
    /// {-1, 0, 1}, no id twice), so that a damaged state is an error, never a panic or a wrong
    /// analysis. O(votes).
    pub fn from_parts(parts: MatrixParts) -> Result<VoteMatrix, String> {
        let MatrixParts { participants, statements, indptr, indices, values, last_timestamp } = parts;
        let (n, m) = (participants.len(), statements.len());
        let indptr: Vec<usize> = if indptr.is_empty() && n == 0 {
            vec![0]
        } else {
            indptr
                .iter()
                .map(|&i| usize::try_from(i).map_err(|_| "row pointer out of range".to_string()))
                .collect::<Result<_, _>>()?
        };
        if indptr.len() != n + 1 || indptr[0] != 0 || indptr[n] != indices.len() || indices.len() != values.len() {
            return Err(format!(
                "matrix arrays disagree: {n} participants, {} row pointers, {} columns, {} values",
                indptr.len(),
                indices.len(),
                values.len()
            ));
        }
        for r in 0..n {
            if indptr[r] > indptr[r + 1] {
                return Err(format!("row pointers decrease at row {r}"));
            }
            let cols = &indices[indptr[r]..indptr[r + 1]];
            if cols.windows(2).any(|w| w[0] >= w[1]) || cols.last().is_some_and(|&c| c as usize >= m) {
                return Err(format!("row {r} (participant {}) has columns out of order or range", participants[r]));
            }
        }
        if let Some(v) = values.iter().find(|v| !(-1..=1).contains(*v)) {
            return Err(format!("vote value {v} is not one of -1, 0, 1"));
        }
        let index = |ids: &[Id], what: &str| -> Result<FxHashMap<Id, u32>, String> {
            let mut map = FxHashMap::default();
            map.reserve(ids.len());
            for (i, id) in ids.iter().enumerate() {
                if map.insert(id.clone(), i as u32).is_some() {
                    return Err(format!("{what} {id} appears twice"));
                }
            }
            Ok(map)
        };
        Ok(VoteMatrix {
            participant_index: OnceLock::from(index(&participants, "participant")?),
            statement_index: index(&statements, "statement")?,
            participants,
            statements,
            indptr,
            indices,
            values,
            last_timestamp,
        })
    }
}

/// A [`VoteMatrix`] as plain, serialisable arrays ([`VoteMatrix::to_parts`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatrixParts {
    /// Participant ids in row order.
    pub participants: Vec<Id>,
    /// Statement ids in column order.
    pub statements: Vec<Id>,
    /// Row r's votes are `indices[indptr[r]..indptr[r + 1]]`, the same range of `values`.
    pub indptr: Vec<u64>,
    pub indices: Vec<u32>,
    pub values: Vec<i8>,
    pub last_timestamp: Option<i64>,
}

/// What [`VoteMatrix::place`] gives the merge: each batch statement's column; per row, where its
/// votes start in `bucket` and how many of them are kept (the latest of each cell, first, in
/// ascending column); and the chunks of rows the parallel passes share.
struct Placed {
    column: Vec<u32>,
    start: Vec<usize>,
    bucket: Vec<u32>,
    kept: Vec<usize>,
    row_chunks: Vec<std::ops::Range<usize>>,
}

/// Batch votes per parallel job of [`VoteMatrix::with_batch`]'s passes over the batch.
const CELL_CHUNK: usize = 1 << 22;

/// Rows per parallel job of [`VoteMatrix::with_batch`]'s merge.
const MERGE_CHUNK_ROWS: usize = 16_384;

/// How many rows ahead the cold build from runs reads a row's votes (see `build_from_runs`).
const ROWS_AHEAD: usize = 8;

/// One vote of a row as its sort key: its column, then its position in the batch.
#[inline]
fn cell_key(column: u32, position: u32) -> u64 {
    u64::from(column) << 32 | u64::from(position)
}

/// Sorts one row's votes, keyed by [`cell_key`], and keeps the latest of each column at the
/// front, in ascending column: the one with the latest timestamp (`time` of its position; none
/// counts as earliest), then the later in the batch. Returns how many are kept. Timestamps are
/// read only for a column voted on more than once, which is rare, so that the sort compares
/// plain integers.
fn keep_latest_per_column(keyed: &mut [u64], time: impl Fn(usize) -> Option<i64>) -> usize {
    keyed.sort_unstable();
    let latest = |k: u64| (time(k as u32 as usize).unwrap_or(i64::MIN), k as u32);
    let mut kept = 0;
    let mut k = 0;
    while k < keyed.len() {
        let column = keyed[k] >> 32;
        let mut end = k + 1;
        while end < keyed.len() && keyed[end] >> 32 == column {
            end += 1;
        }
        // Positions ascend within the column, so with equal times the last wins.
        keyed[kept] = if end == k + 1 {
            keyed[k]
        } else {
            keyed[k..end].iter().copied().max_by_key(|&c| latest(c)).unwrap_or(keyed[k])
        };
        kept += 1;
        k = end;
    }
    kept
}

/// Consecutive ranges of `rows` rows (the last one shorter) covering rows `0..n`.
fn row_chunks(n: usize, rows: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(rows)).map(|c| c * rows..((c + 1) * rows).min(n)).collect()
}

fn index_of(ids: &mut Vec<Id>, index: &mut FxHashMap<Id, u32>, id: &Id) -> u32 {
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
        let m =
            VoteMatrix::from_events(&[ev(9, 5, Vote::Agree, 1), ev(3, 1, Vote::Pass, 2), ev(9, 1, Vote::Disagree, 3)]);
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

    #[test]
    fn a_matrix_built_from_a_taken_batch_equals_one_built_from_a_lent_batch() {
        // Repeated cells (some at the same time), timestamps out of order, rows across several
        // merge chunks, integer and text ids; cold and on top of an existing matrix.
        let mut rng = crate::rng::Rng::new(11);
        let batch: VoteBatch = (0..50_000)
            .map(|k| {
                let p = rng.below(20_000) as i64;
                let s = rng.below(40) as i64;
                let vote = Vote::from_value(rng.below(3) as i64 - 1).unwrap();
                let event = if k % 7 == 0 {
                    VoteEvent::new(format!("p{p}").as_str(), s, vote)
                } else {
                    VoteEvent::new(p, s, vote)
                };
                if k % 5 == 0 {
                    event
                } else {
                    event.at(rng.below(100) as i64)
                }
            })
            .collect();
        let same = |a: &VoteMatrix, b: &VoteMatrix| {
            assert_eq!(a.participants(), b.participants());
            assert_eq!(a.statements(), b.statements());
            assert_eq!(a.csr(), b.csr());
            assert_eq!(a.last_timestamp(), b.last_timestamp());
            for (r, id) in a.participants().iter().enumerate() {
                assert_eq!(b.participant_index(id), Some(r));
            }
        };
        let lent = VoteMatrix::default().with_batch(&batch);
        let taken = VoteMatrix::default().with_owned_batch(batch.clone());
        same(&lent, &taken);
        assert!(lent.n_votes() < batch.len(), "the batch repeats cells");
        let more = batch.select(&(0..batch.len()).step_by(3).collect::<Vec<_>>());
        same(&lent.with_batch(&more), &lent.with_owned_batch(more.clone()));
        // And what both hold: the latest vote of every cell, as a plain map computes it.
        let mut latest = std::collections::HashMap::new();
        for (i, e) in batch.events().enumerate() {
            let at = (e.timestamp.unwrap_or(i64::MIN), i);
            let cell = latest.entry((e.participant.clone(), e.statement.clone())).or_insert((at, e.vote));
            if at >= cell.0 {
                *cell = (at, e.vote);
            }
        }
        assert_eq!(taken.n_votes(), latest.len());
        for ((p, s), (_, vote)) in &latest {
            let (r, c) = (taken.participant_index(p).unwrap(), taken.statement_index(s).unwrap());
            assert_eq!(taken.get(r, c), Some(*vote));
        }
    }

    #[test]
    fn a_batch_grouped_by_participant_builds_the_same_matrix_from_its_runs() {
        // Each participant votes in runs of consecutive rows (as a table written participant by
        // participant), some in a second run later, with repeated cells (some at the same time),
        // votes without a time, and rows across several merge chunks: the runs path of a taken
        // batch against the counting sort of a lent one, and both against a plain map.
        let mut rng = crate::rng::Rng::new(5);
        let mut events = Vec::new();
        for p in 0..40_000i64 {
            let votes = 1 + rng.below(12) as usize;
            for _ in 0..votes {
                let s = rng.below(60) as i64;
                let vote = Vote::from_value(rng.below(3) as i64 - 1).unwrap();
                let event = VoteEvent::new(p * 3 % 40_001, s, vote);
                events.push(if rng.below(10) == 0 { event } else { event.at(rng.below(20) as i64) });
            }
        }
        for p in 0..500i64 {
            events.push(ev(p * 3 % 40_001, 61, Vote::Agree, 1));
            events.push(ev(p * 3 % 40_001, 2, Vote::Disagree, 30));
        }
        let batch = VoteBatch::from_events(&events);
        assert!(ParticipantRuns::of(batch.participants(), batch.participant_ids().len()).is_some());
        let lent = VoteMatrix::default().with_batch(&batch);
        let taken = VoteMatrix::default().with_owned_batch(batch.clone());
        assert_eq!(lent.participants(), taken.participants());
        assert_eq!(lent.statements(), taken.statements());
        assert_eq!(lent.csr(), taken.csr());
        assert_eq!(lent.last_timestamp(), taken.last_timestamp());
        // The latest vote of every cell, as the readers' plain map computes it.
        let latest = crate::io::latest_votes(&events);
        assert_eq!(taken.n_votes(), latest.len());
        assert!(taken.n_votes() < events.len(), "the batch repeats cells");
        for e in latest {
            let (r, c) =
                (taken.participant_index(&e.participant).unwrap(), taken.statement_index(&e.statement).unwrap());
            assert_eq!(taken.get(r, c), Some(e.vote));
        }
    }

    #[test]
    fn rows_across_many_parallel_chunks_hold_the_latest_vote_of_every_cell() {
        // 40,000 participants (three merge chunks), repeated cells within and across batches,
        // timestamps out of order within a batch.
        let mut rng = crate::rng::Rng::new(7);
        let batches: Vec<Vec<VoteEvent>> = (0..3)
            .map(|b| {
                (0..60_000)
                    .map(|_| {
                        let (p, s) = (rng.below(40_000) as i64, rng.below(30) as i64);
                        let v = Vote::from_value(rng.below(3) as i64 - 1).unwrap();
                        ev(p, s, v, b * 1_000_000 + rng.below(1_000) as i64)
                    })
                    .collect()
            })
            .collect();
        let mut expected: std::collections::HashMap<(Id, Id), (i64, usize, Vote)> = std::collections::HashMap::new();
        let mut matrix = VoteMatrix::default();
        for batch in &batches {
            for (i, e) in batch.iter().enumerate() {
                let key = (e.participant.clone(), e.statement.clone());
                let t = e.timestamp.unwrap();
                match expected.get(&key) {
                    Some(&(t0, i0, _)) if (t0, i0) > (t, i) => {}
                    _ => {
                        expected.insert(key, (t, i, e.vote));
                    }
                }
            }
            matrix = matrix.with_votes(batch);
        }
        assert_eq!(matrix.n_votes(), expected.len());
        for ((p, s), (_, _, v)) in &expected {
            let (r, c) = (matrix.participant_index(p).unwrap(), matrix.statement_index(s).unwrap());
            assert_eq!(matrix.get(r, c), Some(*v));
        }
        for r in 0..matrix.n_participants() {
            assert!(matrix.row(r).0.windows(2).all(|w| w[0] < w[1]), "row {r}: columns ascending");
        }
    }
}
