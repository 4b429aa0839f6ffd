//! Vote events in columnar form: the compact way to hold tens of millions of votes.
//!
//! A [`VoteEvent`] carries two [`Id`]s and an optional timestamp: about 88 bytes a vote once
//! boxed in a `Vec`. A [`VoteBatch`] interns the ids once and keeps one `u32` per participant and
//! statement reference, one `i8` vote and, when the input has them, a timestamp in 4 bytes (an
//! offset, while the votes span less than ±24 days around the first; 5 bytes within ±17 years,
//! else 8: see `times.rs`): 9 bytes a vote without timestamps, 13 with. A 50-million-vote
//! `votes.csv` thus fits in 650 MB while it is read, and [`crate::VoteMatrix`] builds its rows
//! straight from the interned indices.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::runs::VotesByParticipant;
use super::times::{Times, NO_TIME};
use super::{Id, Vote, VoteEvent};

/// Vote events in columnar form, in input order (see the [module docs](self)).
///
/// ```
/// use commonground::{Vote, VoteBatch, VoteEvent};
/// let mut batch = VoteBatch::new();
/// batch.push(&7.into(), &"s1".into(), Vote::Agree, Some(1_700_000_000_000));
/// batch.push(&8.into(), &"s1".into(), Vote::Pass, None);
/// assert_eq!(batch.len(), 2);
/// assert_eq!(batch.event(1), VoteEvent::new(8, "s1", Vote::Pass));
/// assert_eq!(batch.statement_ids().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct VoteBatch {
    participant_ids: Interner,
    statement_ids: Interner,
    participants: Vec<u32>,
    statements: Vec<u32>,
    values: Vec<i8>,
    /// Each vote's timestamp, if any vote has one. A vote stamped `i64::MIN` reads back as
    /// unstamped, which orders the same (first).
    times: Times,
}

impl VoteBatch {
    pub fn new() -> VoteBatch {
        VoteBatch::default()
    }

    /// The events in columnar form, in the same order.
    pub fn from_events(events: &[VoteEvent]) -> VoteBatch {
        let mut batch = VoteBatch::default();
        batch.reserve(events.len());
        for e in events {
            batch.push(&e.participant, &e.statement, e.vote, e.timestamp);
        }
        batch
    }

    pub fn reserve(&mut self, additional: usize) {
        self.participants.reserve(additional);
        self.statements.reserve(additional);
        self.values.reserve(additional);
    }

    /// Appends one vote event.
    pub fn push(&mut self, participant: &Id, statement: &Id, vote: Vote, timestamp: Option<i64>) {
        let p = self.participant_ids.intern(participant);
        let s = self.statement_ids.intern(statement);
        self.push_interned(p, s, vote.value(), timestamp);
    }

    /// [`VoteBatch::push`] for integer ids (Polis's), which need no [`Id`] until they are new;
    /// `value` is the vote's value, -1, 0 or 1.
    #[inline]
    pub(crate) fn push_ints(&mut self, participant: i64, statement: i64, value: i8, timestamp: Option<i64>) {
        let p = self.participant_ids.intern_int(participant);
        let s = self.statement_ids.intern_int(statement);
        self.push_interned(p, s, value, timestamp);
    }

    /// [`VoteBatch::push_ints`] for whole columns (a decoded Parquet page, an Arrow batch), one
    /// column at a time: each pass is a tight loop without the per-vote branches of a push (the
    /// timestamp column's kind, four capacity checks). The two interners are independent, so
    /// interning every participant and then every statement gives the indices the vote-by-vote
    /// pushes give. `values` are -1, 0 or 1; `times`, when given, epoch ms, one per vote.
    #[cfg(any(test, feature = "columnar"))]
    pub(crate) fn extend_ints(
        &mut self,
        participants: &[i64],
        statements: &[i64],
        values: &[i64],
        times: Option<&[i64]>,
    ) {
        debug_assert!(participants.len() == values.len() && statements.len() == values.len());
        debug_assert!(values.iter().all(|v| (-1..=1).contains(v)));
        let before = self.values.len();
        self.participant_ids.cover(participants.iter().copied(), participants.len());
        self.statement_ids.cover(statements.iter().copied(), statements.len());
        let interner = &mut self.participant_ids;
        self.participants.extend(participants.iter().map(|&p| interner.intern_int(p)));
        let interner = &mut self.statement_ids;
        self.statements.extend(statements.iter().map(|&s| interner.intern_int(s)));
        self.values.extend(values.iter().map(|&v| v as i8));
        self.extend_times(before, times);
    }

    /// The timestamps of the votes after the first `before` (all of them when given, else none),
    /// once the other columns hold them.
    #[cfg(any(test, feature = "columnar"))]
    fn extend_times(&mut self, before: usize, times: Option<&[i64]>) {
        match times {
            Some(times) => self.times.extend_stamped(before, times),
            None => (before..self.values.len()).for_each(|len| self.times.push(len, None)),
        }
        self.reserve_times();
    }

    /// [`VoteBatch::extend_ints`] for columns whose distinct ids, in first-appearance order, are
    /// already known (`firsts`: participants', statements', as [`first_appearances`] gives them,
    /// found on another thread): only those are interned, in order, which gives every id the
    /// index the vote-by-vote pushes give; the columns are then written through the interners'
    /// tables in parallel, straight into the reserved space. A 50-million-row Arrow table decoded
    /// slice by slice into batches of their own, then appended, wrote (and faulted in) every
    /// column twice and called the interner once per id and vote, one thread a slice. `values`
    /// are -1, 0 or 1; `times`, when given, epoch ms, one per vote.
    #[cfg(any(test, feature = "columnar"))]
    pub(crate) fn extend_ints_seen(
        &mut self,
        participants: &[i64],
        statements: &[i64],
        values: &[i8],
        times: Option<&[i64]>,
        firsts: [&[i64]; 2],
    ) {
        use rayon::prelude::*;
        debug_assert!(participants.len() == values.len() && statements.len() == values.len());
        debug_assert!(values.iter().all(|v| (-1..=1).contains(v)));
        let before = self.values.len();
        for (interner, firsts) in [(&mut self.participant_ids, firsts[0]), (&mut self.statement_ids, firsts[1])] {
            interner.cover(firsts.iter().copied(), 4 * firsts.len());
            firsts.iter().for_each(|&n| {
                interner.intern_int(n);
            });
        }
        self.participant_ids.write_indices(&mut self.participants, participants);
        self.statement_ids.write_indices(&mut self.statements, statements);
        self.values.par_extend(values.par_iter().copied());
        self.extend_times(before, times);
    }

    /// Room in the timestamp column for every vote the other columns have room for: a column
    /// started (or taken over from a chunk) after the batch was reserved has only its first votes'.
    fn reserve_times(&mut self) {
        self.times.reserve(self.values.capacity() - self.values.len());
    }

    fn push_interned(&mut self, participant: u32, statement: u32, value: i8, timestamp: Option<i64>) {
        self.participants.push(participant);
        self.statements.push(statement);
        self.times.push(self.values.len(), timestamp);
        self.values.push(value);
    }

    /// Appends another batch (say, a chunk parsed on its own, with its own interned ids): its ids
    /// are interned here, in its first-appearance order, so appending chunks in input order gives
    /// the batch one sequential pass would have built.
    pub fn append(&mut self, chunk: VoteBatch) {
        self.append_all(vec![chunk]);
    }

    /// Appends `chunks` in order, as one [`VoteBatch::append`] after the other would. Only the
    /// interning of each chunk's ids (a few thousand, in order) is sequential; the columns are
    /// copied through the id maps in parallel, straight into the reserved space. The append of a
    /// file's last chunks runs after every other part of its parse, and on 50 million votes it
    /// writes 650 MB of fresh pages, which one thread alone faulted in.
    pub fn append_all(&mut self, chunks: Vec<VoteBatch>) {
        use rayon::prelude::*;
        let maps: Vec<(Vec<u32>, Vec<u32>)> = chunks
            .iter()
            .map(|chunk| {
                for (interner, ids) in [
                    (&mut self.participant_ids, &chunk.participant_ids.ids),
                    (&mut self.statement_ids, &chunk.statement_ids.ids),
                ] {
                    let ints = ids.iter().filter_map(|id| if let Id::Int(n) = id { Some(*n) } else { None });
                    interner.cover(ints, 4 * ids.len());
                }
                let participants = chunk.participant_ids.ids.iter().map(|id| self.participant_ids.intern(id)).collect();
                let statements = chunk.statement_ids.ids.iter().map(|id| self.statement_ids.intern(id)).collect();
                (participants, statements)
            })
            .collect();
        self.reserve(chunks.iter().map(VoteBatch::len).sum());
        for (chunk, (participant_map, statement_map)) in chunks.into_iter().zip(maps) {
            let before = self.values.len();
            self.participants.par_extend(chunk.participants.par_iter().map(|&p| participant_map[p as usize]));
            self.statements.par_extend(chunk.statements.par_iter().map(|&s| statement_map[s as usize]));
            self.values.par_extend(chunk.values.par_iter().copied());
            self.times.append(before, chunk.times, chunk.values.len());
            self.reserve_times();
        }
    }

    /// Number of vote events.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The distinct participant ids, in first-appearance order.
    pub fn participant_ids(&self) -> &[Id] {
        &self.participant_ids.ids
    }
    /// The distinct statement ids, in first-appearance order.
    pub fn statement_ids(&self) -> &[Id] {
        &self.statement_ids.ids
    }
    /// Each vote's participant, as an index into [`VoteBatch::participant_ids`].
    pub fn participants(&self) -> &[u32] {
        &self.participants
    }
    /// Each vote's statement, as an index into [`VoteBatch::statement_ids`].
    pub fn statements(&self) -> &[u32] {
        &self.statements
    }
    /// Each vote's value (agree = +1, disagree = -1, pass = 0).
    pub fn values(&self) -> &[i8] {
        &self.values
    }
    /// Vote `i`'s timestamp (epoch ms), if it has one.
    pub fn timestamp(&self, i: usize) -> Option<i64> {
        self.times.get(i)
    }
    /// Whether any vote has a timestamp.
    pub fn has_timestamps(&self) -> bool {
        self.times.any()
    }
    /// The number of votes without a timestamp and the number whose timestamp falls outside
    /// `range` (see `Times::census`).
    pub(crate) fn timestamp_census(&self, range: &std::ops::RangeInclusive<i64>) -> (usize, usize) {
        self.times.census(self.len(), range)
    }
    /// The latest timestamp, if any vote has one.
    pub fn last_timestamp(&self) -> Option<i64> {
        self.times.max()
    }
    /// The number of (participant, statement) cells whose latest time (or, without timestamps,
    /// the whole cell) holds votes that disagree: two different votes with the same timestamp,
    /// or without one. [`crate::VoteMatrix`] keeps the one later in the input (the documented
    /// rule); the readers warn with this count, because the input's row order then decides the
    /// vote.
    pub fn contradictory_ties(&self) -> usize {
        use rayon::prelude::*;
        let n = self.participant_ids.ids.len();
        // Each participant's votes (as runs when the input is grouped by participant, else listed
        // by a counting sort), then each participant's votes sorted by (statement, time) and the
        // last run of each statement looked at.
        let by_participant = VotesByParticipant::of(&self.participants, n);
        let time = |i: usize| self.times.get(i).unwrap_or(NO_TIME);
        let m = self.statement_ids.ids.len();
        (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .map_init(
                || (Vec::new(), vec![u32::MAX; m]),
                |(keys, seen): &mut (Vec<(u32, i64, i8)>, Vec<u32>), p| {
                    // Most participants vote once on each statement: nothing to decide, no sort.
                    // (`seen[s] == p`: participant p voted on s before.)
                    let mut repeats = false;
                    by_participant.for_each(p, |i| {
                        let s = self.statements[i] as usize;
                        repeats |= std::mem::replace(&mut seen[s], p as u32) == p as u32;
                    });
                    if !repeats {
                        return 0;
                    }
                    keys.clear();
                    by_participant.for_each(p, |i| keys.push((self.statements[i], time(i), self.values[i])));
                    keys.sort_unstable();
                    // Per statement, the run of votes at its latest time: contradictory when it holds
                    // more than one value (the sort puts them first and last in the run).
                    let mut conflicts = 0;
                    let mut end = keys.len();
                    while end > 0 {
                        let (statement, t, last_value) = keys[end - 1];
                        let mut run = end - 1;
                        while run > 0 && keys[run - 1].0 == statement && keys[run - 1].1 == t {
                            run -= 1;
                        }
                        conflicts += (keys[run].2 != last_value) as usize;
                        while run > 0 && keys[run - 1].0 == statement {
                            run -= 1;
                        }
                        end = run;
                    }
                    conflicts
                },
            )
            .sum()
    }

    /// Vote `i` as an event.
    pub fn event(&self, i: usize) -> VoteEvent {
        VoteEvent {
            participant: self.participant_ids.ids[self.participants[i] as usize].clone(),
            statement: self.statement_ids.ids[self.statements[i] as usize].clone(),
            vote: Vote::from_value(i64::from(self.values[i])).expect("stored votes are -1, 0 or 1"),
            timestamp: self.timestamp(i),
        }
    }
    /// The votes as events, in order.
    pub fn events(&self) -> impl ExactSizeIterator<Item = VoteEvent> + '_ {
        (0..self.len()).map(|i| self.event(i))
    }
    pub fn to_events(&self) -> Vec<VoteEvent> {
        self.events().collect()
    }

    /// The votes at `rows` (indices into this batch), in that order, as a new batch.
    pub fn select(&self, rows: &[usize]) -> VoteBatch {
        let mut out = VoteBatch::default();
        out.reserve(rows.len());
        let mut participant_map: FxHashMap<u32, u32> = FxHashMap::default();
        let mut statement_map: FxHashMap<u32, u32> = FxHashMap::default();
        for &i in rows {
            let p = *participant_map.entry(self.participants[i]).or_insert_with(|| {
                out.participant_ids.intern(&self.participant_ids.ids[self.participants[i] as usize])
            });
            let s = *statement_map
                .entry(self.statements[i])
                .or_insert_with(|| out.statement_ids.intern(&self.statement_ids.ids[self.statements[i] as usize]));
            out.push_interned(p, s, self.values[i], self.timestamp(i));
        }
        out
    }

    /// The statement and value columns, the rest dropped: what [`crate::VoteMatrix`]'s build
    /// still reads once it has placed the votes by row.
    pub(crate) fn into_statements_and_values(self) -> (Vec<u32>, Vec<i8>) {
        (self.statements, self.values)
    }

    /// The participant, statement, value and timestamp columns, the ids dropped: what the vote
    /// matrix's cold build from runs still reads once it has placed the participants, and the
    /// participant column, which it reuses as the matrix's column indices.
    pub(super) fn into_columns(self) -> (Vec<u32>, Vec<u32>, Vec<i8>, Times) {
        (self.participants, self.statements, self.values, self.times)
    }

    /// Flips every vote's sign (agree <-> disagree), for input in Polis's raw sign.
    pub fn flip_signs(&mut self) {
        self.values.iter_mut().for_each(|v| *v = -*v);
    }

    /// Per distinct statement (in [`VoteBatch::statement_ids`] order): the number of +1 and of -1
    /// votes.
    /// Counted in parallel over fixed chunks of votes (integer sums: the same whatever the split).
    pub(crate) fn statement_tallies(&self) -> Vec<(u64, u64)> {
        use rayon::prelude::*;
        let m = self.statement_ids.ids.len();
        self.statements
            .par_chunks(TALLY_CHUNK)
            .zip(self.values.par_chunks(TALLY_CHUNK))
            .fold(
                || vec![(0u64, 0u64); m],
                |mut t, (statements, values)| {
                    // Without a branch on the vote: votes in random order mispredict one in two.
                    for (&s, &v) in statements.iter().zip(values) {
                        let tally = &mut t[s as usize];
                        tally.0 += u64::from(v == 1);
                        tally.1 += u64::from(v == -1);
                    }
                    t
                },
            )
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| (x.0, x.1) = (x.0 + y.0, x.1 + y.1));
                a
            })
            .unwrap_or_else(|| vec![(0, 0); m])
    }
}

impl PartialEq for VoteBatch {
    /// Equal when they hold the same events in the same order (however the ids were interned).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.events().eq(other.events())
    }
}

impl From<Vec<VoteEvent>> for VoteBatch {
    fn from(events: Vec<VoteEvent>) -> Self {
        VoteBatch::from_events(&events)
    }
}

impl FromIterator<VoteEvent> for VoteBatch {
    fn from_iter<T: IntoIterator<Item = VoteEvent>>(iter: T) -> Self {
        let mut batch = VoteBatch::default();
        for e in iter {
            batch.push(&e.participant, &e.statement, e.vote, e.timestamp);
        }
        batch
    }
}

/// Votes per parallel job of [`VoteBatch::statement_tallies`].
const TALLY_CHUNK: usize = 1 << 20;

/// Distinct ids in first-appearance order, with their index. Integer ids (Polis's) are looked up
/// by value: in a direct table over a window of values while the ids seen stay dense (Polis's
/// `tid`s and `pid`s count up from 0; a chunk of a file read in parallel sees a run of them that
/// starts anywhere), others in a map that hashes a plain `i64`; the last id looked up is
/// remembered, as consecutive votes often share a participant.
#[derive(Debug, Clone, Default)]
struct Interner {
    ids: Vec<Id>,
    /// `dense[k]` is the index of `Id::Int(dense_base + k)` + 1, or 0 if not seen.
    dense: Vec<u32>,
    dense_base: i64,
    ints: FxHashMap<i64, u32>,
    strs: FxHashMap<String, u32>,
    last: Option<(i64, u32)>,
}

/// How far the direct table may reach beyond 4 entries per id: a 10,000-statement conversation's
/// ids fit from the first one seen, wherever it falls among them.
const DENSE_SLACK: usize = 1 << 16;

impl Interner {
    fn intern(&mut self, id: &Id) -> u32 {
        let next = self.ids.len() as u32;
        match id {
            Id::Int(n) => self.intern_int(*n),
            Id::Str(text) => match self.strs.get(text) {
                Some(&i) => i,
                None => {
                    self.strs.insert(text.clone(), next);
                    self.ids.push(id.clone());
                    next
                }
            },
        }
    }

    /// Appends the index of each of `ids` (every one interned) to `column`, in parallel: straight
    /// from the direct table when every integer id is in it.
    #[cfg(any(test, feature = "columnar"))]
    fn write_indices(&self, column: &mut Vec<u32>, ids: &[i64]) {
        use rayon::prelude::*;
        if self.ints.is_empty() {
            let (dense, base) = (&self.dense[..], self.dense_base);
            column.par_extend(ids.par_iter().map(|&n| dense[n.wrapping_sub(base) as usize] - 1));
        } else {
            column.par_extend(ids.par_iter().map(|&n| match self.in_window(n).map(|k| self.dense[k]) {
                Some(i) if i != 0 => i - 1,
                _ => self.ints[&n],
            }));
        }
    }

    /// [`Interner::intern`] for `Id::Int(n)`.
    #[inline]
    fn intern_int(&mut self, n: i64) -> u32 {
        if let Some((last, i)) = self.last {
            if last == n {
                return i;
            }
        }
        let next = self.ids.len() as u32;
        let i = match self.dense_slot(n) {
            Some(k) => {
                if self.dense[k] == 0 {
                    self.dense[k] = next + 1;
                }
                self.dense[k] - 1
            }
            None => *self.ints.entry(n).or_insert(next),
        };
        self.last = Some((n, i));
        if i == next {
            self.ids.push(Id::Int(n));
        }
        i
    }

    /// `n`'s place in the direct table, which grows (either way, doubling) to hold it while it
    /// stays within [`DENSE_SLACK`] + 4 entries per id and no id went to the map (which would
    /// then have to be searched too); `None` when `n` is for the map.
    #[inline]
    fn dense_slot(&mut self, n: i64) -> Option<usize> {
        if let Some(k) = self.in_window(n) {
            return Some(k);
        }
        if !self.ints.is_empty() {
            return None;
        }
        self.grow_to(n, 4 * self.ids.len() + DENSE_SLACK)
    }

    /// `n`'s place in the direct table, if the window holds it.
    #[inline]
    fn in_window(&self, n: i64) -> Option<usize> {
        n.checked_sub(self.dense_base).and_then(|k| usize::try_from(k).ok()).filter(|&k| k < self.dense.len())
    }

    /// Grows the direct table (either way, doubling, at most to `limit` entries) to hold `n`, and
    /// gives its place; `None`, with the table unchanged, when that would take more.
    fn grow_to(&mut self, n: i64, limit: usize) -> Option<usize> {
        let len = self.dense.len();
        if len == 0 {
            // The first id: a small window that starts a little below it, as later ids may.
            self.dense_base = n.saturating_sub(16);
            self.dense = vec![0; 64];
            return self.in_window(n).or_else(|| {
                self.dense.clear();
                None
            });
        }
        let low = i128::from(self.dense_base.min(n));
        let high = i128::from(self.dense_base) + len as i128 - 1;
        let high = high.max(i128::from(n));
        let needed = usize::try_from(high - low + 1).ok().filter(|&w| w <= limit)?;
        let grown = needed.next_power_of_two().min(limit).max(needed);
        if n < self.dense_base {
            // Grow downwards: the table's values move up by the added length.
            let added = grown - len;
            let base = i64::try_from(i128::from(self.dense_base) - added as i128).ok()?;
            let mut table = vec![0; grown];
            table[added..].copy_from_slice(&self.dense);
            self.dense = table;
            self.dense_base = base;
        } else {
            self.dense.resize(grown, 0);
        }
        self.in_window(n)
    }

    /// Readies the direct table for the integer ids `ids` (their range) when it may hold them: the limit
    /// of [`Interner::dense_slot`] (4 entries per id seen) plus `room` entries for the ids to
    /// come. Ids in random order (a table of participants drawn at random, not in arrival order)
    /// would otherwise, as soon as one fell beyond the small window the first ones grew, all go
    /// through the map: a hash lookup per vote instead of an index. The indices do not change
    /// (first appearance decides them either way), only where they are looked up.
    ///
    /// `room` is 4 per id for a chunk's distinct ids; for a column of votes, whose distinct ids
    /// are not known, it is one per vote, so the table never takes more than the column's own
    /// indices (4 bytes a vote), however far apart a few ids are.
    fn cover(&mut self, ids: impl Iterator<Item = i64>, room: usize) {
        if !self.ints.is_empty() {
            return;
        }
        let Some((min, max)) = ids.fold(None, |range, n| match range {
            None => Some((n, n)),
            Some((lo, hi)) => Some((n.min(lo), n.max(hi))),
        }) else {
            return;
        };
        let limit = (4 * self.ids.len()).saturating_add(room).saturating_add(DENSE_SLACK);
        if self.in_window(min).or_else(|| self.grow_to(min, limit)).is_some() && self.in_window(max).is_none() {
            self.grow_to(max, limit);
        }
    }
}

/// The distinct values of `ids` in first-appearance order (what interning them would list), found
/// with a bitset over their range; `None` when the range is wider than 64 values per id plus 2^20
/// (a bitset larger than 8 bytes a vote plus 128 KiB), for ids too sparse for it.
#[cfg(any(test, feature = "columnar"))]
pub(crate) fn first_appearances(ids: &[i64]) -> Option<Vec<i64>> {
    let Some(&first) = ids.first() else { return Some(Vec::new()) };
    let (min, max) = ids.iter().fold((first, first), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    let width = u64::try_from(i128::from(max) - i128::from(min) + 1).ok()?;
    if width > 64 * ids.len() as u64 + (1 << 20) {
        return None;
    }
    let mut seen = vec![0u64; width.div_ceil(64) as usize];
    let mut out = Vec::new();
    let mut last = first;
    for (i, &n) in ids.iter().enumerate() {
        // Consecutive votes often share a participant: one compare for them.
        if n == last && i > 0 {
            continue;
        }
        last = n;
        let k = n.wrapping_sub(min) as u64;
        let (word, bit) = ((k >> 6) as usize, 1u64 << (k & 63));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            out.push(n);
        }
    }
    Some(out)
}

/// What the analysis accepts as votes: a slice of [`VoteEvent`]s (convenient) or a [`VoteBatch`]
/// (compact, for large inputs). Events are converted to a batch on the way in.
pub trait Votes {
    /// The votes as a batch: borrowed when they already are one.
    fn as_batch(&self) -> Cow<'_, VoteBatch>;
}

impl Votes for VoteBatch {
    fn as_batch(&self) -> Cow<'_, VoteBatch> {
        Cow::Borrowed(self)
    }
}

impl Votes for [VoteEvent] {
    fn as_batch(&self) -> Cow<'_, VoteBatch> {
        Cow::Owned(VoteBatch::from_events(self))
    }
}

impl Votes for Vec<VoteEvent> {
    fn as_batch(&self) -> Cow<'_, VoteBatch> {
        Cow::Owned(VoteBatch::from_events(self))
    }
}

impl<const N: usize> Votes for [VoteEvent; N] {
    fn as_batch(&self) -> Cow<'_, VoteBatch> {
        Cow::Owned(VoteBatch::from_events(self))
    }
}

#[cfg(test)]
mod contradictory_ties_tests {
    use super::*;

    #[test]
    fn only_different_votes_at_a_cells_latest_time_are_contradictory() {
        let mut b = VoteBatch::new();
        let (p, q, s, t) = (&Id::Int(1), &Id::Int(2), &Id::Int(10), &Id::Int(11));
        b.push(p, s, Vote::Agree, Some(5));
        b.push(p, s, Vote::Disagree, Some(5)); // tie at the latest time: contradictory
        b.push(p, t, Vote::Agree, Some(1));
        b.push(p, t, Vote::Disagree, Some(1));
        b.push(p, t, Vote::Pass, Some(2)); // a later vote settles the earlier tie
        b.push(q, s, Vote::Agree, Some(3));
        b.push(q, s, Vote::Agree, Some(3)); // same vote twice: nothing to choose
        b.push(q, t, Vote::Agree, None);
        b.push(q, t, Vote::Pass, None); // no time at all: row order decides
        assert_eq!(b.contradictory_ties(), 2);
        assert_eq!(VoteBatch::new().contradictory_ties(), 0);
        // The count does not depend on the row order; here each participant's votes are one run
        // (read as runs), and interleaved (listed by a counting sort).
        let interleaved = b.select(&[0, 5, 1, 6, 2, 7, 3, 8, 4]);
        assert_eq!(interleaved.contradictory_ties(), 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed stream of pseudo-random numbers below a bound (a 64-bit LCG's high bits), for
    /// test tables that must be the same in every run.
    fn random_below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |below| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        }
    }

    #[test]
    fn integer_ids_are_interned_in_first_appearance_order_wherever_their_values_fall() {
        // A run starting high, then lower values (the window grows down), a far value (to the
        // map), then values around both, negatives and the extremes: against a plain map.
        let mut values: Vec<i64> = (500_000..500_300).rev().chain(499_000..499_100).collect();
        values.extend([7, -3, i64::MIN, i64::MAX, 1 << 40, 500_150, 499_050, 12, 7, 0]);
        values.extend((0..2_000).map(|k| (k * 7_919) % 3_001));
        for order in [values.clone(), values.iter().rev().copied().collect()] {
            let mut interner = Interner::default();
            let mut oracle: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
            for &n in &order {
                let next = oracle.len() as u32;
                let expected = *oracle.entry(n).or_insert(next);
                assert_eq!(interner.intern(&Id::Int(n)), expected, "id {n}");
            }
            let mut first_seen: Vec<i64> = Vec::new();
            for &n in &order {
                if !first_seen.contains(&n) {
                    first_seen.push(n);
                }
            }
            assert_eq!(interner.ids, first_seen.into_iter().map(Id::Int).collect::<Vec<_>>());
        }
        // A dense run that starts anywhere stays in the table.
        let mut interner = Interner::default();
        (0..10_000).map(|k| 2_468 + (k * 7_001) % 10_000 - 2_468).for_each(|n| {
            interner.intern(&Id::Int(n));
        });
        assert!(interner.ints.is_empty());
    }

    #[test]
    fn ids_in_random_order_are_looked_up_in_the_direct_table_and_interned_as_pushed() {
        // Participants drawn at random from a range (a numpy table; more votes than the range is
        // wide, as participants vote several times), in three chunks extended by columns and
        // appended, against the same votes pushed one by one.
        let mut random = random_below(12_345);
        let rows = 360_000;
        let participants: Vec<i64> = (0..rows).map(|_| 1_000 + random(120_000) as i64).collect();
        let statements: Vec<i64> = (0..rows).map(|_| random(500) as i64).collect();
        let values: Vec<i64> = (0..rows).map(|_| random(3) as i64 - 1).collect();
        let mut pushed = VoteBatch::new();
        for i in 0..rows {
            pushed.push_ints(participants[i], statements[i], values[i] as i8, None);
        }
        let chunks: Vec<VoteBatch> = [0..130_000, 130_000..250_000, 250_000..rows]
            .into_iter()
            .map(|r| {
                let mut chunk = VoteBatch::new();
                chunk.extend_ints(&participants[r.clone()], &statements[r.clone()], &values[r], None);
                assert!(chunk.participant_ids.ints.is_empty());
                chunk
            })
            .collect();
        let mut appended = VoteBatch::new();
        appended.append_all(chunks);
        assert_eq!(appended.participant_ids(), pushed.participant_ids());
        assert_eq!(appended.participants(), pushed.participants());
        assert_eq!(appended.statements(), pushed.statements());
        assert_eq!(appended, pushed);
        assert!(appended.participant_ids.ints.is_empty() && appended.statement_ids.ints.is_empty());
        // A range too wide for 4 entries per id still goes to the map, with the same indices.
        let sparse: Vec<i64> = participants.iter().map(|&p| p << 20).collect();
        let mut chunk = VoteBatch::new();
        chunk.extend_ints(&sparse, &statements, &values, None);
        assert!(!chunk.participant_ids.ints.is_empty());
        assert_eq!(chunk.participants(), pushed.participants());
    }

    /// First appearances by brute force: each value kept when no earlier one equals it.
    fn firsts_by_brute_force(ids: &[i64]) -> Vec<i64> {
        ids.iter().enumerate().filter(|&(i, n)| !ids[..i].contains(n)).map(|(_, &n)| n).collect()
    }

    #[test]
    fn first_appearances_list_each_id_once_where_it_first_occurs_or_give_up_on_a_range_too_wide() {
        let mut random = random_below(99);
        let runs: Vec<i64> = (0..3_000).map(|i| 40 + i / 7).collect();
        let scattered: Vec<i64> = (0..3_000).map(|_| random(700) as i64 - 350).collect();
        // Bits 63 and 0 of a word, and the last word: values 0, 63, 64 and 127 above the minimum.
        let edges = vec![127, 64, 63, 0, 64, 127, 1, 0];
        for ids in [runs, scattered, edges, vec![5], vec![i64::MAX, i64::MAX - 3, i64::MAX]] {
            assert_eq!(first_appearances(&ids), Some(firsts_by_brute_force(&ids)), "{:?}", &ids[..ids.len().min(8)]);
        }
        assert_eq!(first_appearances(&[]), Some(vec![]));
        // Wider than 64 values per id plus 2^20: the interner's own path.
        assert_eq!(first_appearances(&[0, 1 << 21]), None);
        assert_eq!(first_appearances(&[i64::MIN, i64::MAX]), None);
        assert!(first_appearances(&[0, 1 << 20]).is_some());
    }

    #[test]
    fn extending_by_columns_with_known_first_appearances_gives_the_batch_of_pushes() {
        // Three column sets extended one after the other, each with its first appearances: dense
        // ids in random order, then ids that reach beyond the direct table (to the map), then the
        // first ones again; timestamps that start the column, widen it to 40 bits, then come
        // back; against the same votes pushed one by one.
        let mut random = random_below(7);
        let start = 1_700_000_000_000i64;
        let day = 86_400_000;
        let mut parts = Vec::new();
        for (k, rows) in [5_000, 4_000, 3_000].into_iter().enumerate() {
            let participants: Vec<i64> = (0..rows)
                .map(|_| match k {
                    1 if random(10) == 0 => 1 << 40,
                    _ => 1_000 + random(2_000) as i64,
                })
                .collect();
            let statements: Vec<i64> = (0..rows).map(|_| random(300) as i64).collect();
            let values: Vec<i8> = (0..rows).map(|_| random(3) as i8 - 1).collect();
            let times: Vec<i64> =
                (0..rows).map(|i| start + i as i64 * 1_000 + if k == 1 { 40 * day } else { 0 }).collect();
            parts.push((participants, statements, values, times));
        }
        for stamped in [false, true] {
            let mut pushed = VoteBatch::new();
            let mut extended = VoteBatch::new();
            for (participants, statements, values, times) in &parts {
                for i in 0..values.len() {
                    pushed.push_ints(participants[i], statements[i], values[i], stamped.then(|| times[i]));
                }
                let firsts = [&firsts_by_brute_force(participants)[..], &firsts_by_brute_force(statements)[..]];
                extended.extend_ints_seen(participants, statements, values, stamped.then_some(&times[..]), firsts);
            }
            assert!(!extended.participant_ids.ints.is_empty(), "the far id went to the map");
            assert_eq!(extended, pushed, "stamped: {stamped}");
            assert_eq!(extended.participant_ids(), pushed.participant_ids());
            assert_eq!(extended.statement_ids(), pushed.statement_ids());
            assert_eq!(extended.participants(), pushed.participants());
            assert_eq!(extended.statements(), pushed.statements());
        }
    }

    fn events() -> Vec<VoteEvent> {
        vec![
            VoteEvent::new(3, 1, Vote::Agree),
            VoteEvent::new("x", 2, Vote::Disagree).at(5),
            VoteEvent::new(3, 2, Vote::Pass),
            VoteEvent::new(4, 1, Vote::Agree).at(7),
        ]
    }

    #[test]
    fn a_batch_gives_back_its_events_in_order_with_ids_interned_once() {
        let batch = VoteBatch::from_events(&events());
        assert_eq!(batch.to_events(), events());
        assert_eq!(batch.participant_ids(), &[Id::Int(3), Id::Str("x".into()), Id::Int(4)]);
        assert_eq!(batch.statement_ids(), &[Id::Int(1), Id::Int(2)]);
        assert_eq!(batch.participants(), &[0, 1, 0, 2]);
        assert_eq!(batch.timestamp(0), None);
        assert_eq!(batch.timestamp(1), Some(5));
        assert!(batch.has_timestamps());
        assert!(!VoteBatch::from_events(&[VoteEvent::new(1, 1, Vote::Pass)]).has_timestamps());
    }

    #[test]
    fn appending_chunks_equals_one_sequential_batch() {
        let all = events();
        let mut batch = VoteBatch::from_events(&all[..1]);
        batch.append(VoteBatch::from_events(&all[1..3]));
        batch.append(VoteBatch::from_events(&all[3..]));
        let once = VoteBatch::from_events(&all);
        assert_eq!(batch, once);
        assert_eq!(batch.participant_ids(), once.participant_ids());
        assert_eq!(batch.participants(), once.participants());
        assert_eq!(batch.statements(), once.statements());
    }

    #[test]
    fn extending_by_columns_gives_the_batch_of_vote_by_vote_pushes() {
        // Ids sparse and dense, timestamps that start the column, stay within 32-bit offsets,
        // widen it to 40 bits and then to full values, and one `i64::MIN` (read as none).
        let participants = [5, 5, 900_000_000_000, 6, 5, -3, 6, 7];
        let statements = [0, 1, 1, 2, 70_000, 0, 1, 2];
        let values = [1, -1, 0, 1, 1, -1, 0, 1];
        let day = 86_400_000;
        let start = 1_700_000_000_000;
        let times = [start, start + 1, start + 40 * day, i64::MIN, start - 3, start + 9_000 * day, start, 2];
        for stamped in [false, true] {
            let times = stamped.then_some(&times[..]);
            // Twice, the second extension after a first (the column then has a kind and a base).
            let mut pushed = VoteBatch::new();
            let mut extended = VoteBatch::new();
            for _ in 0..2 {
                for i in 0..values.len() {
                    let t = times.map(|t| t[i]);
                    pushed.push_ints(participants[i], statements[i], values[i] as i8, t);
                }
                extended.extend_ints(&participants, &statements, &values, times);
            }
            assert_eq!(extended, pushed, "stamped: {stamped}");
            assert_eq!(extended.participants(), pushed.participants());
            assert_eq!(extended.statements(), pushed.statements());
            assert_eq!(extended.participant_ids(), pushed.participant_ids());
            assert_eq!(extended.statement_ids(), pushed.statement_ids());
            let read: Vec<Option<i64>> = (0..extended.len()).map(|i| extended.timestamp(i)).collect();
            let expected: Vec<Option<i64>> =
                (0..2 * values.len()).map(|i| times.map(|t| t[i % values.len()]).filter(|&t| t != i64::MIN)).collect();
            assert_eq!(read, expected, "stamped: {stamped}");
        }
    }

    #[test]
    fn select_keeps_the_chosen_votes_in_the_given_order() {
        let batch = VoteBatch::from_events(&events());
        let picked = batch.select(&[3, 1]);
        assert_eq!(picked.to_events(), vec![events()[3].clone(), events()[1].clone()]);
        assert_eq!(picked.participant_ids(), &[Id::Int(4), Id::Str("x".into())]);
    }

    #[test]
    fn tallies_count_agrees_and_disagrees_per_statement_and_a_flip_swaps_them() {
        let mut batch = VoteBatch::from_events(&events());
        assert_eq!(batch.statement_tallies(), vec![(2, 0), (0, 1)]);
        batch.flip_signs();
        assert_eq!(batch.statement_tallies(), vec![(0, 2), (1, 0)]);
    }
}
