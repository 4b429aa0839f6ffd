//! A [`super::VoteBatch`]'s timestamp column, in 4 or 5 bytes a vote instead of 8.
//!
//! Timestamps are epoch milliseconds, and the votes of one conversation are close together: a
//! million-participant conversation that ran for two weeks spans 1.2 × 10⁹ ms, which an offset of
//! 32 bits from one base holds exactly. The column therefore keeps one `u32` per vote, an offset
//! from a base set half the 32-bit range before the first timestamp it saw (±24.8 days around it);
//! when a timestamp falls outside, it adds one byte per vote (40-bit offsets, ±17 years around the
//! first), and only beyond that does it keep full `i64`s. On the 50-million-vote conversation this
//! is 200 MB where a `Vec<i64>` took 400, and the vote matrix is built while the batch is held, so
//! the 200 MB come off the peak memory of every large load.
//!
//! Every timestamp reads back exactly as pushed; a vote without one reads back `None`, and so does
//! a vote stamped `i64::MIN` (which orders first, as a missing timestamp does everywhere).

/// How a timestamp that is not there orders: first (`timestamp.unwrap_or(i64::MIN)`).
pub(super) const NO_TIME: i64 = i64::MIN;

/// The offset that stands for "no timestamp" while the offsets are 32 bits wide.
const NONE_32: u32 = u32::MAX;
/// The offset that stands for "no timestamp" once they are 40 bits wide.
const NONE_40: u64 = (1 << 40) - 1;
/// Where the first timestamp sits in a fresh 32-bit range: at its middle.
const HALF_32: i64 = 1 << 31;
/// How far the base moves down when the offsets grow to 40 bits, so that the first timestamp
/// again sits at the middle of the range.
const SHIFT_40: i64 = (1 << 39) - HALF_32;

/// A batch's timestamps (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub(super) enum Times {
    /// No vote has a timestamp.
    #[default]
    None,
    /// Vote `i`'s timestamp is `base + offset(i)`, the offset `lo[i]`, or `lo[i] | hi[i] << 32`
    /// once `hi` is not empty (one byte per vote, from the first timestamp that needed it on).
    /// [`NONE_32`], then [`NONE_40`], stands for a vote without one.
    Offsets { base: i64, lo: Vec<u32>, hi: Vec<u8> },
    /// Vote `i`'s timestamp, [`NO_TIME`] for none: when the votes span more than 40 bits of ms.
    Full(Vec<i64>),
}

impl Times {
    /// Vote `i`'s timestamp, if it has one (and there is a vote `i`).
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<i64> {
        match self {
            Times::None => None,
            Times::Offsets { base, lo, hi } => {
                let lo = *lo.get(i)?;
                if hi.is_empty() {
                    (lo != NONE_32).then(|| base + i64::from(lo))
                } else {
                    let offset = u64::from(lo) | u64::from(hi[i]) << 32;
                    (offset != NONE_40).then(|| base + offset as i64)
                }
            }
            Times::Full(full) => full.get(i).copied().filter(|&t| t != NO_TIME),
        }
    }

    /// Whether any vote has a timestamp.
    pub(super) fn any(&self) -> bool {
        match self {
            Times::None => false,
            Times::Offsets { lo, hi, .. } if hi.is_empty() => lo.iter().any(|&o| o != NONE_32),
            Times::Offsets { lo, hi, .. } => {
                lo.iter().zip(hi).any(|(&l, &h)| u64::from(l) | u64::from(h) << 32 != NONE_40)
            }
            Times::Full(full) => full.iter().any(|&t| t != NO_TIME),
        }
    }

    /// The latest timestamp, if any vote has one.
    pub(super) fn max(&self) -> Option<i64> {
        match self {
            Times::None => None,
            Times::Offsets { base, lo, hi } if hi.is_empty() => {
                lo.iter().filter(|&&o| o != NONE_32).max().map(|&o| base + i64::from(o))
            }
            Times::Offsets { base, lo, hi } => lo
                .iter()
                .zip(hi)
                .map(|(&l, &h)| u64::from(l) | u64::from(h) << 32)
                .filter(|&o| o != NONE_40)
                .max()
                .map(|o| base + o as i64),
            Times::Full(full) => full.iter().copied().filter(|&t| t != NO_TIME).max(),
        }
    }

    /// Of `n` votes, the number without a timestamp and the number whose timestamp falls outside
    /// `range`: the readers' census of a vote file's timestamps. Counted in parallel (integer sums:
    /// the same whatever the split); 32-bit offsets are compared as they lie, against the range
    /// moved by the base, in a loop without branches, rather than each read back through
    /// [`Times::get`] (on 50 million votes that pass was a tenth of the Parquet load).
    pub(super) fn census(&self, n: usize, range: &std::ops::RangeInclusive<i64>) -> (usize, usize) {
        use rayon::prelude::*;
        let add = |a: (usize, usize), b: (usize, usize)| (a.0 + b.0, a.1 + b.1);
        match self {
            Times::Offsets { base, lo, hi } if hi.is_empty() => {
                // `base + o` is in the range when `o` is in `from..=to`. Saturated ends are exact
                // enough: an offset is below 2^32, far from either end of `i64`.
                let (from, to) = (range.start().saturating_sub(*base), range.end().saturating_sub(*base));
                let counted = lo
                    .par_chunks(CENSUS_CHUNK)
                    .map(|chunk| {
                        chunk.iter().fold((0, 0), |(missing, outside), &o| {
                            let (none, o) = (o == NONE_32, i64::from(o));
                            (missing + none as usize, outside + (!none & (o < from || o > to)) as usize)
                        })
                    })
                    .reduce(|| (0, 0), add);
                (counted.0 + n.saturating_sub(lo.len()), counted.1)
            }
            _ => (0..n)
                .into_par_iter()
                .with_min_len(CENSUS_CHUNK)
                .map(|i| match self.get(i) {
                    None => (1, 0),
                    Some(t) => (0, !range.contains(&t) as usize),
                })
                .reduce(|| (0, 0), add),
        }
    }

    /// Appends vote `len`'s timestamp, `len` being the number of votes before it.
    #[inline]
    pub(super) fn push(&mut self, len: usize, time: Option<i64>) {
        let time = time.filter(|&t| t != NO_TIME);
        match self {
            Times::None => {
                if let Some(t) = time {
                    let base = t.saturating_sub(HALF_32);
                    let mut lo = Vec::with_capacity(len + 1);
                    lo.resize(len, NONE_32);
                    *self = Times::Offsets { base, lo, hi: Vec::new() };
                    self.push(len, Some(t));
                }
            }
            Times::Offsets { base, lo, hi } if hi.is_empty() => match time {
                None => lo.push(NONE_32),
                Some(t) => match offset(*base, t, NONE_32.into()) {
                    Some(o) => lo.push(o as u32),
                    None => {
                        self.widen(t);
                        self.push(len, Some(t));
                    }
                },
            },
            Times::Offsets { base, lo, hi } => {
                let o = match time {
                    None => Some(NONE_40),
                    Some(t) => offset(*base, t, NONE_40),
                };
                match o {
                    Some(o) => {
                        lo.push(o as u32);
                        hi.push((o >> 32) as u8);
                    }
                    None => {
                        self.widen(time.unwrap_or(NO_TIME));
                        self.push(len, time);
                    }
                }
            }
            Times::Full(full) => full.push(time.unwrap_or(NO_TIME)),
        }
    }

    /// Appends `times` (each a timestamp, [`NO_TIME`] read as none) after this column's `len`
    /// votes, as pushing them one by one would: the runs that fit the 32-bit offsets go in one
    /// tight pass each, and a timestamp that does not (the first one, one that widens the column)
    /// goes through [`Times::push`].
    #[cfg(any(test, feature = "columnar"))]
    pub(super) fn extend_stamped(&mut self, mut len: usize, times: &[i64]) {
        let mut rest = times;
        while !rest.is_empty() {
            if let Times::Offsets { base, lo, hi } = self {
                if hi.is_empty() {
                    let base = *base;
                    // `NO_TIME` never fits (it is below any base), so it takes the push below.
                    let fits = |&t: &i64| offset(base, t, NONE_32.into()).is_some();
                    let fit = if rest.len() >= PARALLEL_RUN && all_fit(rest, fits) {
                        // A whole slice of a large table (`VoteBatch::extend_ints_seen`): on
                        // every thread, straight into the reserved space.
                        use rayon::prelude::*;
                        lo.par_extend(rest.par_iter().map(|&t| (t - base) as u32));
                        rest.len()
                    } else {
                        let fit = rest.iter().position(|t| !fits(t)).unwrap_or(rest.len());
                        lo.extend(rest[..fit].iter().map(|&t| (t - base) as u32));
                        fit
                    };
                    len += fit;
                    rest = &rest[fit..];
                    if rest.is_empty() {
                        break;
                    }
                }
            }
            self.push(len, Some(rest[0]));
            len += 1;
            rest = &rest[1..];
        }
    }

    /// Appends the `added` timestamps of `other` after this column's `len` votes.
    pub(super) fn append(&mut self, len: usize, other: Times, added: usize) {
        if matches!(other, Times::None) {
            if !matches!(self, Times::None) {
                (len..len + added).for_each(|i| self.push(i, None));
            }
            return;
        }
        if matches!(self, Times::None) {
            if len == 0 {
                *self = other;
                return;
            }
            *self = other.none_like(len);
        }
        let range = other.range();
        if let (Times::Offsets { base, lo, hi }, Times::Offsets { base: other_base, lo: other_lo, hi: other_hi }) =
            (&mut *self, &other)
        {
            let fits = |t: i64| offset(*base, t, NONE_32.into()).is_some();
            if hi.is_empty() && other_hi.is_empty() && range.is_some_and(|(first, last)| fits(first) && fits(last)) {
                // The common case (the chunks of one file, read in parallel): one add per vote.
                // In parallel, straight into the reserved space (see `VoteBatch::append_all`).
                use rayon::prelude::*;
                let delta = *other_base - *base;
                lo.par_extend(other_lo.par_iter().map(|&o| {
                    if o == NONE_32 {
                        NONE_32
                    } else {
                        (i64::from(o) + delta) as u32
                    }
                }));
                return;
            }
        }
        if let Some((first, last)) = range {
            self.widen(first);
            self.widen(last);
        }
        for i in 0..added {
            self.push(len + i, other.get(i));
        }
    }

    /// Makes room for `additional` more votes (nothing while no vote has a timestamp).
    pub(super) fn reserve(&mut self, additional: usize) {
        match self {
            Times::None => {}
            Times::Offsets { lo, hi, .. } => {
                lo.reserve(additional);
                if !hi.is_empty() {
                    hi.reserve(additional);
                }
            }
            Times::Full(full) => full.reserve(additional),
        }
    }

    /// A column of this kind (and base) holding `len` votes without a timestamp.
    fn none_like(&self, len: usize) -> Times {
        match self {
            Times::None => Times::None,
            Times::Offsets { base, hi, .. } if hi.is_empty() => {
                Times::Offsets { base: *base, lo: vec![NONE_32; len], hi: Vec::new() }
            }
            Times::Offsets { base, .. } => {
                Times::Offsets { base: *base, lo: vec![NONE_40 as u32; len], hi: vec![(NONE_40 >> 32) as u8; len] }
            }
            Times::Full(_) => Times::Full(vec![NO_TIME; len]),
        }
    }

    /// The earliest and the latest timestamp, if any vote has one.
    fn range(&self) -> Option<(i64, i64)> {
        if let Times::Offsets { base, lo, hi } = self {
            if hi.is_empty() {
                // Offsets order as their timestamps do.
                let (first, last) = lo
                    .iter()
                    .filter(|&&o| o != NONE_32)
                    .fold((NONE_32, 0), |(first, last), &o| (first.min(o), last.max(o)));
                return (first != NONE_32).then(|| (base + i64::from(first), base + i64::from(last)));
            }
        }
        let mut times = (0..self.len()).filter_map(|i| self.get(i));
        let first = times.next()?;
        Some(times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }

    /// The number of votes the column holds (0 for [`Times::None`]).
    fn len(&self) -> usize {
        match self {
            Times::None => 0,
            Times::Offsets { lo, .. } => lo.len(),
            Times::Full(full) => full.len(),
        }
    }

    /// Makes room for timestamp `t`: 40-bit offsets if they hold it, else full timestamps.
    fn widen(&mut self, t: i64) {
        let Times::Offsets { base, lo, hi } = self else { return };
        if hi.is_empty() {
            if offset(*base, t, NONE_32.into()).is_some() {
                return;
            }
            let wide_base = base.saturating_sub(SHIFT_40);
            if let Some(shift) = base.checked_sub(wide_base).and_then(|s| u64::try_from(s).ok()) {
                if offset(wide_base, t, NONE_40).is_some() {
                    hi.reserve_exact(lo.capacity());
                    for o in lo.iter_mut() {
                        let wide = if *o == NONE_32 { NONE_40 } else { u64::from(*o) + shift };
                        *o = wide as u32;
                        hi.push((wide >> 32) as u8);
                    }
                    *base = wide_base;
                    return;
                }
            }
        } else if offset(*base, t, NONE_40).is_some() {
            return;
        }
        let n = lo.len();
        let full: Vec<i64> = (0..n).map(|i| self.get(i).unwrap_or(NO_TIME)).collect();
        *self = Times::Full(full);
    }
}

/// The shortest run of timestamps [`Times::extend_stamped`] converts in parallel: a Parquet
/// record batch (64 Ki rows, itself decoded beside others) goes in one pass.
#[cfg(any(test, feature = "columnar"))]
const PARALLEL_RUN: usize = 1 << 18;

/// Whether `fits` holds for every one of `times`, whose earliest and latest it is asked about
/// (it holds for a range of them), found in parallel.
#[cfg(any(test, feature = "columnar"))]
fn all_fit(times: &[i64], fits: impl Fn(&i64) -> bool) -> bool {
    use rayon::prelude::*;
    let (min, max) = times
        .par_chunks(CENSUS_CHUNK)
        .map(|chunk| chunk.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t))))
        .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    fits(&min) && fits(&max)
}

/// Votes per parallel job of [`Times::census`].
const CENSUS_CHUNK: usize = 1 << 16;

/// `t`'s offset from `base`, when it is at least 0 and below `none` (the value that stands for no
/// timestamp).
#[inline]
fn offset(base: i64, t: i64, none: u64) -> Option<u64> {
    t.checked_sub(base).and_then(|o| u64::try_from(o).ok()).filter(|&o| o < none)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `times` one by one and checks every value against the plain list, and the kind.
    fn column(times: &[Option<i64>]) -> Times {
        let mut column = Times::None;
        for (i, &t) in times.iter().enumerate() {
            column.push(i, t);
        }
        let read: Vec<Option<i64>> = (0..times.len()).map(|i| column.get(i)).collect();
        let expected: Vec<Option<i64>> = times.iter().map(|t| t.filter(|&t| t != NO_TIME)).collect();
        assert_eq!(read, expected);
        assert_eq!(column.any(), expected.iter().any(Option::is_some));
        assert_eq!(column.max(), expected.iter().flatten().max().copied());
        column
    }

    fn kind(t: &Times) -> &'static str {
        match t {
            Times::None => "none",
            Times::Offsets { hi, .. } if hi.is_empty() => "32",
            Times::Offsets { .. } => "40",
            Times::Full(_) => "full",
        }
    }

    const T: i64 = 1_704_067_200_000; // 2024-01-01 in ms
    const DAY: i64 = 86_400_000;

    #[test]
    fn timestamps_within_24_days_of_the_first_take_four_bytes_and_read_back_exactly() {
        let c = column(&[None, Some(T), Some(T - 24 * DAY), None, Some(T + 24 * DAY), Some(T + 1)]);
        assert_eq!(kind(&c), "32");
    }

    #[test]
    fn a_wider_span_adds_a_byte_and_beyond_17_years_keeps_full_timestamps() {
        let c = column(&[Some(T), None, Some(T + 30 * DAY), Some(T - 300 * DAY), None]);
        assert_eq!(kind(&c), "40");
        let c = column(&[Some(T), None, Some(T - 3 * DAY), Some(T + 20 * 365 * DAY), None, Some(-5), Some(i64::MAX)]);
        assert_eq!(kind(&c), "full");
        // The extremes of i64, and a vote stamped i64::MIN, which reads as none.
        let c = column(&[Some(i64::MIN), None, Some(i64::MIN + 1), Some(i64::MAX), Some(0)]);
        assert_eq!(kind(&c), "full");
        assert_eq!(kind(&column(&[None, Some(i64::MIN), None])), "none");
        assert_eq!(kind(&column(&[Some(i64::MAX), Some(i64::MAX - 5)])), "32");
    }

    #[test]
    fn the_census_counts_missing_and_out_of_range_timestamps_as_reading_each_back_does() {
        // Each kind of column, with timestamps on, inside and outside both ends of the range.
        let range = 0..=T;
        let columns = [
            vec![None, Some(T), Some(T + 1), Some(T - 24 * DAY), None, Some(T - 5)],
            vec![Some(T), None, Some(T + 30 * DAY), Some(T - 300 * DAY), Some(T + 1), None],
            vec![Some(3), None, Some(-1), Some(0), Some(T + 20 * 365 * DAY), Some(i64::MIN + 1)],
            vec![Some(i64::MAX), Some(i64::MAX - 5), None],
            vec![Some(i64::MIN + 2), None, Some(i64::MIN + 3)],
        ];
        for times in &columns {
            let c = column(times);
            let missing = times.iter().filter(|t| t.is_none()).count();
            let outside = times.iter().flatten().filter(|t| !range.contains(t)).count();
            assert_eq!(c.census(times.len(), &range), (missing, outside), "{} column {times:?}", kind(&c));
        }
    }

    #[test]
    fn appending_columns_equals_pushing_their_votes_in_order() {
        let parts: Vec<Vec<Option<i64>>> = vec![
            vec![None, None],
            vec![Some(T + 5), None, Some(T + 2 * DAY)],
            vec![],
            vec![Some(T + 40 * DAY), None],
            vec![None],
            vec![Some(T - 400 * DAY)],
            vec![Some(3), Some(T)],
            vec![None, Some(T + 1)],
        ];
        // Every run of consecutive parts, appended one by one, against the same votes pushed.
        for from in 0..parts.len() {
            for to in from..=parts.len() {
                let (mut appended, mut len) = (Times::None, 0);
                let mut all = Vec::new();
                for part in &parts[from..to] {
                    let mut c = Times::None;
                    part.iter().enumerate().for_each(|(i, &t)| c.push(i, t));
                    appended.append(len, c, part.len());
                    len += part.len();
                    all.extend(part.iter().copied());
                }
                let read: Vec<Option<i64>> = (0..len).map(|i| appended.get(i)).collect();
                assert_eq!(read, all, "parts {from}..{to}");
                assert_eq!(appended.any(), all.iter().any(Option::is_some));
                assert_eq!(appended.len(), if appended.any() { len } else { 0 });
            }
        }
    }
}
