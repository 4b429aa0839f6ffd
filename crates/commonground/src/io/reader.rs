//! The input formats behind one trait, [`Reader`], and the registry [`READERS`] that
//! [`super::load`] walks: the first reader that recognises a folder reads it.
//!
//! A new format is a module with its reader (modelled on `api.rs`, or in `polis_export/` for a
//! CSV export), an [`InputFormat`] variant and one line here. `load`'s detection, its
//! unknown-format error (which lists every reader's files) and its acceptance of a vote file in
//! place of the folder all come from this list.

use std::path::Path;

use super::api::PolisApiDumpReader;
use super::polis_export::{PolisExportMatrixReader, PolisExportReader};
use super::{ConversationData, InputFormat};
use crate::error::{Error, Result};

/// One input format: how to recognise a folder of it and how to read one.
pub trait Reader: Sync {
    /// A short name for notes: "CSV export", "CSV export matrix", "API dump".
    fn name(&self) -> &'static str;
    /// The format [`Reader::read`] reports in [`super::SourceInfo::format`].
    fn format(&self) -> InputFormat;
    /// The file that holds the votes: [`super::load`] also accepts its path for the folder's.
    fn vote_file(&self) -> &'static str;
    /// Whether [`super::load`] takes a file of this name for its folder: the vote file, or one of
    /// its other names (`votes.feather` for `votes.arrow`).
    fn accepts_file(&self, name: &str) -> bool {
        name == self.vote_file()
    }
    /// The format's files as the unknown-format error lists them, e.g. "votes.csv (+ comments.csv)
    /// for a Polis export".
    fn layout(&self) -> &'static str;
    /// Whether the folder `dir` holds this format. Cheap: it looks at file names only.
    fn detect(&self, dir: &Path) -> bool;
    /// Reads the conversation in `dir`.
    fn read(&self, dir: &Path) -> Result<ConversationData>;
}

/// Every reader, in the order [`super::load`] tries them: where the files of several formats sit
/// in one folder, the first wins (a Polis export beats an API dump, which exporting tools save
/// beside it) and the others are noted.
#[cfg(not(feature = "columnar"))]
pub static READERS: &[&dyn Reader] = &[&PolisExportReader, &PolisExportMatrixReader, &PolisApiDumpReader];
/// With the columnar vote tables last: a folder that also holds `votes.csv` reads the CSV.
#[cfg(feature = "columnar")]
pub static READERS: &[&dyn Reader] = &[
    &PolisExportReader,
    &PolisExportMatrixReader,
    &PolisApiDumpReader,
    &super::columnar::ParquetReader,
    &super::columnar::ArrowIpcReader,
];

/// Every reader's files, for the unknown-format error: "a, b, or c".
pub(crate) fn expected_files() -> String {
    let layouts: Vec<&str> = READERS.iter().map(|r| r.layout()).collect();
    match layouts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}, or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

/// What a folder entry is when it is not a regular file ("a directory", "a FIFO (named pipe)",
/// ...); `None` for a regular file (or a link to one) and for an entry that does not exist.
pub(crate) fn not_a_file(path: &Path) -> Option<&'static str> {
    let kind = std::fs::metadata(path).ok()?.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// The error for a folder entry a reader needs as a regular file.
pub(crate) fn not_a_file_error(path: &Path, kind: &str) -> Error {
    Error::UnknownFormat { path: path.to_path_buf(), message: format!("is {kind}, not a regular file") }
}

/// Whether an optional file of a folder is there: `Ok(false)` when absent, an error when the name
/// is taken by something that is not a regular file (read as absent, it would silently drop the
/// statements).
pub(crate) fn optional_file(path: &Path) -> Result<bool> {
    match not_a_file(path) {
        Some(kind) => Err(not_a_file_error(path, kind)),
        None => Ok(path.is_file()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_reader_with_its_own_vote_file() {
        let mut formats = vec![InputFormat::PolisExport, InputFormat::PolisExportMatrix, InputFormat::PolisApiDump];
        if cfg!(feature = "columnar") {
            formats.extend([InputFormat::Parquet, InputFormat::ArrowIpc]);
        }
        assert_eq!(READERS.len(), formats.len());
        for format in formats {
            assert_eq!(READERS.iter().filter(|r| r.format() == format).count(), 1, "{format:?}");
        }
        let mut files: Vec<&str> = READERS.iter().map(|r| r.vote_file()).collect();
        files.sort_unstable();
        files.dedup();
        assert_eq!(files.len(), READERS.len());
    }

    #[test]
    fn the_expected_files_list_every_layout_in_order() {
        let csv_and_json = "votes.csv (+ comments.csv) for a Polis export, participants-votes.csv (+ comments.csv) \
                            for an export matrix";
        let expected = if cfg!(feature = "columnar") {
            format!(
                "{csv_and_json}, votes.json (+ comments.json) for a Polis API dump, votes.parquet (+ comments.csv) for \
                 a Parquet vote table, or votes.arrow, votes.feather or votes.ipc (+ comments.csv) for an Arrow IPC \
                 vote table"
            )
        } else {
            format!("{csv_and_json}, or votes.json (+ comments.json) for a Polis API dump")
        };
        assert_eq!(expected_files(), expected);
    }
}
