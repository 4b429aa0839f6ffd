//! Columnar vote tables (Parquet, Arrow IPC), specified against the CSV reader: a table holding
//! the rows of a `votes.csv` is read as that `votes.csv` is (the same votes, the same analysis,
//! byte for byte), and a malformed table fails with an error that names the file, the row and the
//! column, as the CSV reader's name the line.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int16Array, Int32Array, Int64Array, Int8Array, RecordBatch,
    RecordBatchIterator, StringArray, TimestampSecondArray, UInt16Array,
};
use commonground::generate::{Synthetic, SyntheticParams, VoteFileFormat};
use commonground::io::columnar::{read_record_batches, read_record_batches_sized, write_vote_table, TableFormat};
use commonground::io::{self, InputFormat};
use commonground::{analyze, Error, Params, VoteBatch};

mod common;
use common::{bundled_example, Scratch};

fn analysis_json(dir: &Path) -> String {
    let data = io::load(dir).unwrap();
    analyze(&data.votes, &data.statements, &Params::default()).unwrap().to_json()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

/// Writes `batches` as a Parquet file with row groups of `group_rows` rows.
fn write_parquet(path: &Path, batches: &[RecordBatch], group_rows: usize) {
    let props =
        parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(group_rows)).build();
    let file = fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

fn write_ipc(path: &Path, batches: &[RecordBatch]) {
    let file = fs::File::create(path).unwrap();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(file, &batches[0].schema()).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

/// The bundled vTaiwan export's votes.csv, as its raw rows (the file's own sign), in each
/// columnar format beside its comments.csv: the same notes, sign decision, votes and analysis.
#[test]
fn vtaiwan_as_parquet_and_arrow_analyses_byte_identically_to_its_csv() {
    let csv_dir = bundled_example();
    let raw = io::read_votes_csv(fs::File::open(csv_dir.join("votes.csv")).unwrap(), Path::new("votes.csv")).unwrap();
    let from_csv = io::load(&csv_dir).unwrap();
    let expected = analysis_json(&csv_dir);
    for format in [TableFormat::Parquet, TableFormat::ArrowIpc] {
        let scratch = Scratch::new(&format!("vtaiwan-{format:?}"));
        fs::copy(csv_dir.join("comments.csv"), scratch.0.join("comments.csv")).unwrap();
        let vote_file = scratch.0.join(format.vote_files()[0]);
        write_vote_table(&vote_file, &VoteBatch::from_events(&raw), format).unwrap();
        let data = io::load(&vote_file).unwrap();
        assert_eq!(data.votes, from_csv.votes, "{format:?}");
        assert_eq!(data.statements, from_csv.statements, "{format:?}");
        assert_eq!(data.source.sign, from_csv.source.sign, "{format:?}");
        let csv_notes: Vec<String> =
            from_csv.source.notes.iter().map(|n| n.replace("votes.csv (as Polis's tallies count them)", "")).collect();
        let name = format.vote_files()[0];
        let notes: Vec<String> = data.source.notes.iter().map(|n| n.replace(name, "")).collect();
        assert_eq!(notes.len(), csv_notes.len(), "{format:?}: {notes:?} vs {csv_notes:?}");
        assert_eq!(analysis_json(&scratch.0), expected, "{format:?}");
    }
}

/// A generated conversation written by the generator in each format: one analysis.
#[test]
fn a_generated_conversation_analyses_the_same_from_csv_parquet_and_arrow() {
    let synthetic = Synthetic::new(SyntheticParams {
        participants: 400,
        statements: 40,
        votes: 8_000,
        seed: 3,
        ..Default::default()
    })
    .unwrap();
    let scratch = Scratch::new("generated");
    let folder = |name: &str, format| {
        let dir = scratch.0.join(name);
        synthetic.write_folder(&dir, format).unwrap();
        dir
    };
    let csv = folder("csv", VoteFileFormat::Csv);
    let parquet = folder("parquet", VoteFileFormat::Table(TableFormat::Parquet));
    let arrow = folder("arrow", VoteFileFormat::Table(TableFormat::ArrowIpc));
    assert_eq!(io::load(&parquet).unwrap().source.format, InputFormat::Parquet);
    assert_eq!(io::load(&arrow).unwrap().source.format, InputFormat::ArrowIpc);
    let expected = analysis_json(&csv);
    assert_eq!(analysis_json(&parquet), expected);
    assert_eq!(analysis_json(&arrow), expected);
}

/// Polis's export names, any integer width, dictionary-encoded text ids, float votes and Arrow
/// timestamps in seconds read as the same values written as a CSV.
#[test]
fn column_names_types_and_encodings_read_as_the_csv_reads_them() {
    let scratch = Scratch::new("types");
    let csv = "timestamp,datetime,comment-id,voter-id,vote\n\
               1700000000,,0,a,1\n1700000001,,1,a,-1\n1700000002,,0,b,0\n1700000003,,1,-4,1\n";
    fs::create_dir_all(scratch.0.join("csv")).unwrap();
    fs::write(scratch.0.join("csv/votes.csv"), csv).unwrap();
    let expected = io::load(&scratch.0.join("csv")).unwrap();

    let voters: DictionaryArray<arrow_array::types::Int8Type> = vec!["a", "a", "b", "-4"].into_iter().collect();
    let tables = [
        batch(vec![
            ("Voter_ID", Arc::new(voters) as ArrayRef),
            ("comment-id", Arc::new(UInt16Array::from(vec![0, 1, 0, 1]))),
            ("vote", Arc::new(Float64Array::from(vec![1.0, -1.0, 0.0, 1.0]))),
            (
                "timestamp",
                Arc::new(TimestampSecondArray::from(vec![1_700_000_000, 1_700_000_001, 1_700_000_002, 1_700_000_003])),
            ),
        ]),
        batch(vec![
            ("participant", Arc::new(StringArray::from(vec!["a", "a", "b", "-4"])) as ArrayRef),
            ("statement", Arc::new(Int8Array::from(vec![0, 1, 0, 1]))),
            ("vote", Arc::new(StringArray::from(vec!["1", "-1", "0", "1.0"]))),
            ("timestamp", Arc::new(Int64Array::from(vec![1_700_000_000, 1_700_000_001, 1_700_000_002, 1_700_000_003]))),
        ]),
    ];
    for (k, table) in tables.iter().enumerate() {
        let dir = scratch.0.join(format!("t{k}"));
        fs::create_dir_all(&dir).unwrap();
        write_parquet(&dir.join("votes.parquet"), std::slice::from_ref(table), 1024);
        let data = io::load(&dir).unwrap();
        assert_eq!(data.votes, expected.votes, "table {k}");
        assert_eq!(data.statements, expected.statements, "table {k}");
    }
}

/// Several row groups (or record batches) decoded on one thread or four: the same votes, in
/// file order.
#[test]
fn row_groups_read_in_parallel_give_the_votes_in_file_order_whatever_the_threads() {
    let synthetic = Synthetic::new(SyntheticParams {
        participants: 300,
        statements: 30,
        votes: 6_000,
        seed: 5,
        ..Default::default()
    })
    .unwrap();
    let votes = VoteBatch::from_events(&synthetic.votes());
    let scratch = Scratch::new("groups");
    let rows = |from: usize, to: usize| {
        let ids = |refs: &[u32], ids: &[commonground::Id]| -> ArrayRef {
            Arc::new(Int32Array::from(
                refs[from..to].iter().map(|&r| ids[r as usize].to_string().parse::<i32>().unwrap()).collect::<Vec<_>>(),
            ))
        };
        batch(vec![
            ("participant", ids(votes.participants(), votes.participant_ids())),
            ("statement", ids(votes.statements(), votes.statement_ids())),
            (
                "vote",
                Arc::new(Int16Array::from(votes.values()[from..to].iter().map(|&v| i16::from(v)).collect::<Vec<_>>())),
            ),
            ("timestamp", Arc::new(Int64Array::from((from..to).map(|i| votes.timestamp(i)).collect::<Vec<_>>()))),
        ])
    };
    let n = votes.len();
    let batches: Vec<RecordBatch> = (0..n).step_by(700).map(|s| rows(s, (s + 700).min(n))).collect();
    let parquet = scratch.0.join("p");
    let arrow = scratch.0.join("a");
    fs::create_dir_all(&parquet).unwrap();
    fs::create_dir_all(&arrow).unwrap();
    write_parquet(&parquet.join("votes.parquet"), &batches, 500);
    write_ipc(&arrow.join("votes.feather"), &batches);
    for dir in [&parquet, &arrow] {
        let one = in_pool(1, || io::load(dir).unwrap());
        let four = in_pool(4, || io::load(dir).unwrap());
        assert_eq!(one.votes, votes, "{}", dir.display());
        assert_eq!(four.votes, votes, "{}", dir.display());
    }
}

/// Record batches in memory (what the Python binding hands over for a pyarrow table or a polars
/// DataFrame) read as the same rows pushed one by one: a batch longer than a slice (a million rows)
/// is cut and decoded on every thread, the votes in stream order whatever the threads; a bad row is
/// named by its place in the whole stream, and a failing stream by what failed.
#[test]
fn record_batches_in_memory_read_in_stream_order_and_name_a_bad_row_by_its_place() {
    let n = 2_500_000usize;
    let participant = |i: usize| ((i * 7919) % 100_003) as i64;
    let statement = |i: usize| format!("s{}", i % 997);
    let vote = |i: usize| (i % 3) as i8 - 1;
    let mut expected = VoteBatch::new();
    for i in 0..n {
        let v = commonground::Vote::from_value(i64::from(vote(i))).unwrap();
        expected.push(&participant(i).into(), &statement(i).as_str().into(), v, None);
    }
    let rows = |from: usize, to: usize, votes: Vec<i8>| {
        let statements: DictionaryArray<arrow_array::types::Int32Type> =
            (from..to).map(&statement).collect::<Vec<_>>().iter().map(String::as_str).collect();
        batch(vec![
            ("participant", ints((from..to).map(participant).collect())),
            ("statement", Arc::new(statements)),
            ("vote", Arc::new(Int8Array::from(votes))),
        ])
    };
    // One long batch, then a short one.
    let split = 2_400_000;
    let batches = vec![rows(0, split, (0..split).map(vote).collect()), rows(split, n, (split..n).map(vote).collect())];
    let read = |batches: Vec<RecordBatch>| {
        let schema = batches[0].schema();
        read_record_batches(RecordBatchIterator::new(batches.into_iter().map(Ok), schema))
    };
    assert_eq!(in_pool(1, || read(batches.clone()).unwrap()), expected);
    assert_eq!(in_pool(2, || read(batches.clone()).unwrap()), expected);

    // Vote 2 on row 2,100,001 (the third slice of the first batch), then on the second batch's first row.
    let mut votes: Vec<i8> = (0..split).map(vote).collect();
    votes[2_100_000] = 2;
    let bad = vec![rows(0, split, votes), batches[1].clone()];
    let e = in_pool(2, || read(bad)).unwrap_err().to_string();
    assert_eq!(e, "record 2100001: vote value \"2\" is not one of -1 (disagree), 0 (pass), 1 (agree)");
    let bad =
        vec![batches[0].clone(), rows(split, n, (split..n).map(|i| if i == split { 3 } else { vote(i) }).collect())];
    let e = in_pool(2, || read(bad)).unwrap_err().to_string();
    assert!(e.starts_with("record 2400001: vote value \"3\""), "{e}");
    // A missing column, with no file to name.
    let no_vote = batch(vec![("participant", ints(vec![1])), ("statement", ints(vec![0]))]);
    let e = read(vec![no_vote]).unwrap_err().to_string();
    assert_eq!(e, "input: the table has no \"vote\" column (nor value; found: \"participant, statement\")");
    // A stream that fails midway.
    let schema = batches[1].schema();
    let failing = vec![
        Ok(batches[1].clone()),
        Err(arrow_schema::ArrowError::IoError("gone".into(), std::io::ErrorKind::Other.into())),
    ];
    let e = read_record_batches(RecordBatchIterator::new(failing, schema)).unwrap_err().to_string();
    assert!(e.starts_with("input: the Arrow stream of the vote table failed") && e.contains("gone"), "{e}");
}

/// Plain integer columns (int64 ids, int8 votes, int64 timestamps in ms: a pyarrow table of a
/// Polis export) read as the same rows pushed one by one, whether a slice is written straight
/// into the votes from its first appearances or, for one that is not plain (timestamps in
/// seconds, a null, ids too sparse for the bitset), decoded row by row: the two paths interleave
/// in stream order, whatever the threads.
#[test]
fn plain_integer_slices_and_the_others_read_as_the_rows_pushed_one_by_one() {
    let n = 3_300_000usize;
    let participant = |i: usize| (i / 40) as i64;
    let statement = |i: usize| ((i * 7_919) % 1_009) as i64;
    let vote = |i: usize| ((i * 31) % 3) as i8 - 1;
    let start = 1_700_000_000_000i64;
    // Rows 1.0M-2.0M (the second slice of the first batch): one timestamp in epoch seconds.
    let seconds_row = 1_500_000;
    let time = |i: usize| if i == seconds_row { 1_700_000_000 } else { start + 250 * i as i64 };
    // The second batch: one participant far beyond the bitset's reach (to the interner's map,
    // which the plain fourth batch then reads), and the third a null timestamp.
    let far_row = 2_600_000;
    let null_row = 3_249_999;
    let id = |i: usize| if i == far_row { 1 << 50 } else { participant(i) };
    let mut expected = VoteBatch::new();
    for i in 0..n {
        let ms = if i == seconds_row { time(i) * 1000 } else { time(i) };
        let v = commonground::Vote::from_value(i64::from(vote(i))).unwrap();
        let t = (i != null_row).then_some(ms);
        expected.push(&id(i).into(), &statement(i).into(), v, t);
    }
    let rows = |from: usize, to: usize| {
        let times: Int64Array = (from..to).map(|i| (i != null_row).then(|| time(i))).collect();
        batch(vec![
            ("participant", ints((from..to).map(id).collect())),
            ("statement", ints((from..to).map(statement).collect())),
            ("vote", Arc::new(Int8Array::from((from..to).map(vote).collect::<Vec<_>>()))),
            ("timestamp", Arc::new(times)),
        ])
    };
    let batches = vec![rows(0, 2_500_000), rows(2_500_000, 3_200_000), rows(3_200_000, 3_250_000), rows(3_250_000, n)];
    let read = |batches: Vec<RecordBatch>| {
        let schema = batches[0].schema();
        read_record_batches(RecordBatchIterator::new(batches.into_iter().map(Ok), schema)).unwrap()
    };
    for threads in [1, 2] {
        let votes = in_pool(threads, || read(batches.clone()));
        assert_eq!(votes, expected, "{threads} threads");
        assert_eq!(votes.participant_ids(), expected.participant_ids());
        assert_eq!(votes.statement_ids(), expected.statement_ids());
        assert_eq!(votes.participants(), expected.participants());
        assert_eq!(votes.statements(), expected.statements());
    }
}

#[test]
fn a_row_count_hint_changes_no_vote_whether_right_short_or_absurd() {
    // The hint a Python object gives (`num_rows`) is only reserved: the votes are those of the
    // unhinted read, and an absurd count (which reserved as it stands would overflow the
    // allocation and abort) is capped.
    let table = batch(vec![
        ("participant", ints(vec![5, 3, 5, 9])),
        ("statement", ints(vec![1, 1, 2, 1])),
        ("vote", Arc::new(Int8Array::from(vec![1, -1, 0, 1]))),
    ]);
    let read_with = |rows: usize| {
        let schema = table.schema();
        read_record_batches_sized(RecordBatchIterator::new(vec![Ok(table.clone())], schema), rows).unwrap()
    };
    let plain = read_record_batches(RecordBatchIterator::new(vec![Ok(table.clone())], table.schema())).unwrap();
    for rows in [0, 1, 4, 1_000, usize::MAX / 2, usize::MAX] {
        assert_eq!(read_with(rows), plain, "hint {rows}");
    }
}

/// `path`, a Parquet file, with a footer that states `rows` rows for each row group (and so their
/// sum for the whole file, as the writer computes it): the data pages are the file's own.
fn with_lying_footer(path: &Path, rows: i64) {
    use parquet::file::metadata::{ParquetMetaDataReader, ParquetMetaDataWriter};
    let bytes = fs::read(path).unwrap();
    let file = fs::File::open(path).unwrap();
    let metadata = ParquetMetaDataReader::new().parse_and_finish(&file).unwrap();
    let footer_len = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap()) as usize;
    let groups = metadata.row_groups().iter().map(|g| g.clone().into_builder().set_num_rows(rows).build().unwrap());
    let lying = metadata.clone().into_builder().set_row_groups(groups.collect()).build();
    let mut out = bytes[..bytes.len() - 8 - footer_len].to_vec();
    ParquetMetaDataWriter::new(&mut out, &lying).finish().unwrap();
    fs::write(path, out).unwrap();
}

/// A Parquet file's row counts come from its footer and may say anything: a file whose footer
/// claims 2^62 rows (one row group, and so the whole file), 2^61 or `i64::MAX / 6` rows for each
/// of several row groups, or a negative count reads as its true votes or fails with an error
/// naming the file, and never aborts on a reservation it cannot make (reserved as stated, 2^62
/// rows overflow the allocation). The counts stay within an `i64` in all because parquet's own
/// writer sums them. A footer that states fewer rows than its columns hold values (one group of 5
/// for 6, three of 1 for 2 each) fails: the Parquet reader would read only the stated rows, and
/// votes must never be dropped without a word.
#[test]
fn a_parquet_footer_that_lies_about_its_row_counts_gives_the_true_votes_or_an_error_naming_the_file() {
    let table = batch(vec![
        ("participant", ints(vec![5, 3, 5, 9, 3, 7])),
        ("statement", ints(vec![1, 1, 2, 1, 2, 2])),
        ("vote", Arc::new(Int8Array::from(vec![1, -1, 0, 1, 1, -1]))),
    ]);
    let scratch = Scratch::new("lying-footer");
    let truth = read_record_batches(RecordBatchIterator::new(vec![Ok(table.clone())], table.schema())).unwrap();
    for (group_rows, rows) in [(6, 1i64 << 62), (2, 1 << 61), (1, i64::MAX / 6), (2, -1), (6, 5), (2, 1)] {
        let dir = scratch.0.join(format!("{group_rows}-{rows}"));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("votes.parquet");
        write_parquet(&path, std::slice::from_ref(&table), group_rows);
        with_lying_footer(&path, rows);
        let stated: i64 = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&fs::File::open(&path).unwrap())
            .unwrap()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .fold(0, i64::wrapping_add);
        assert!(stated != 6, "the footer of {} tells the truth", dir.display());
        match io::load(&dir) {
            Ok(data) => {
                let understated = (0..group_rows as i64).contains(&rows);
                assert!(!understated, "{} understates its rows and was read", dir.display());
                assert_eq!(data.votes, truth, "{}", dir.display());
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("votes.parquet") && e.contains("not a readable Parquet file"), "{e}");
                if (0..group_rows as i64).contains(&rows) {
                    let values = format!("footer states {rows} rows for row group 0, but {group_rows} values");
                    assert!(e.contains(&values), "{e}");
                }
            }
        }
    }
}

/// The error of loading a folder holding `table` as votes.parquet (and as votes.arrow).
fn load_error(name: &str, table: RecordBatch, comments: Option<&str>) -> Vec<String> {
    let scratch = Scratch::new(name);
    let mut errors = Vec::new();
    for (file, parquet) in [("votes.parquet", true), ("votes.arrow", false)] {
        let dir = scratch.0.join(file);
        fs::create_dir_all(&dir).unwrap();
        if let Some(c) = comments {
            fs::write(dir.join("comments.csv"), c).unwrap();
        }
        if parquet {
            write_parquet(&dir.join(file), std::slice::from_ref(&table), 2);
        } else {
            write_ipc(&dir.join(file), std::slice::from_ref(&table));
        }
        errors.push(io::load(&dir).map(|_| ()).unwrap_err().to_string());
    }
    errors
}

fn ints(v: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

#[test]
fn malformed_tables_fail_naming_the_file_the_row_and_the_column() {
    let good = || vec![("participant", ints(vec![1, 2, 3])), ("statement", ints(vec![0, 0, 1]))];
    let with = |vote: ArrayRef| {
        let mut c = good();
        c.push(("vote", vote));
        batch(c)
    };

    // A missing column names what it looked for and what it found.
    for e in load_error("missing", batch(good()), None) {
        assert!(e.contains("has no \"vote\" column (nor value; found: \"participant, statement\")"), "{e}");
    }
    // Vote 2 on row 3 (in the second row group of the Parquet file).
    for e in load_error("two", with(ints(vec![1, -1, 2])), None) {
        assert!(e.ends_with(":3: vote value \"2\" is not one of -1 (disagree), 0 (pass), 1 (agree)"), "{e}");
    }
    // A null vote on row 2.
    for e in load_error("null-vote", with(Arc::new(Int64Array::from(vec![Some(1), None, Some(0)]))), None) {
        assert!(e.contains(":2: vote value \"null\""), "{e}");
    }
    // A null id.
    let null_id = batch(vec![
        ("participant", Arc::new(Int64Array::from(vec![Some(1), Some(2), None])) as ArrayRef),
        ("statement", ints(vec![0, 0, 1])),
        ("vote", ints(vec![1, 1, 1])),
    ]);
    for e in load_error("null-id", null_id, None) {
        assert!(e.contains(":3: empty participant (null)"), "{e}");
    }
    // A wrong type names the column and its type.
    for e in load_error("wrong-type", with(Arc::new(arrow_array::BooleanArray::from(vec![true, false, true]))), None) {
        assert!(e.contains("column \"vote\" holds Boolean; expected integers"), "{e}");
    }
    // A vote on a statement comments.csv does not list, at its row.
    let comments = "comment-id,comment-body\n0,first\n";
    for e in load_error("unknown", with(ints(vec![1, 1, 1])), Some(comments)) {
        assert!(e.contains(":3: vote on unknown statement 1"), "{e}");
    }
    // An empty table is an empty conversation.
    let empty = batch(vec![("participant", ints(vec![])), ("statement", ints(vec![])), ("vote", ints(vec![]))]);
    for e in load_error("empty", empty, None) {
        assert!(e.starts_with("empty conversation:") && e.contains("has no votes"), "{e}");
    }
}

/// A negative id is an id, as in a CSV (`-4` reads as the integer -4 in both).
#[test]
fn negative_ids_read_as_the_csv_reads_them() {
    let scratch = Scratch::new("negative");
    fs::write(scratch.0.join("votes.csv"), "voter-id,comment-id,vote\n-4,-1,1\n2,-1,-1\n").unwrap();
    let csv = io::load(&scratch.0).unwrap();
    let dir = scratch.0.join("pq");
    fs::create_dir_all(&dir).unwrap();
    let table =
        batch(vec![("voter-id", ints(vec![-4, 2])), ("comment-id", ints(vec![-1, -1])), ("vote", ints(vec![1, -1]))]);
    write_parquet(&dir.join("votes.parquet"), &[table], 10);
    assert_eq!(io::load(&dir).unwrap().votes, csv.votes);
}

#[test]
fn a_truncated_or_foreign_file_is_not_a_readable_table() {
    let synthetic =
        Synthetic::new(SyntheticParams { participants: 50, statements: 10, votes: 400, ..Default::default() }).unwrap();
    let scratch = Scratch::new("truncated");
    for (format, name) in [(TableFormat::Parquet, "Parquet"), (TableFormat::ArrowIpc, "Arrow IPC")] {
        let dir = scratch.0.join(name);
        synthetic.write_folder(&dir, VoteFileFormat::Table(format)).unwrap();
        let path = dir.join(format.vote_files()[0]);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let e = io::load(&dir).map(|_| ()).unwrap_err();
        assert!(matches!(e, Error::Parse { .. }), "{e}");
        let e = e.to_string();
        assert!(e.contains(&format!("not a readable {name} file")) && e.contains(format.vote_files()[0]), "{e}");
        fs::write(&path, "voter-id,comment-id,vote\n1,1,1\n").unwrap();
        let e = io::load(&dir).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(&format!("not a readable {name} file")), "{e}");
    }
}

/// A folder with votes.csv and votes.parquet reads the CSV, and says it ignored the table.
#[test]
fn votes_csv_wins_over_a_vote_table_beside_it() {
    let scratch = Scratch::new("both");
    fs::write(scratch.0.join("votes.csv"), "voter-id,comment-id,vote\n1,1,1\n").unwrap();
    let table = batch(vec![("voter-id", ints(vec![1])), ("comment-id", ints(vec![1])), ("vote", ints(vec![-1]))]);
    write_parquet(&scratch.0.join("votes.parquet"), &[table], 10);
    let data = io::load(&scratch.0).unwrap();
    assert_eq!(data.source.format, InputFormat::PolisExport);
    assert!(data.source.notes.iter().any(|n| n.contains("votes.parquet is also present")), "{:?}", data.source.notes);
}
