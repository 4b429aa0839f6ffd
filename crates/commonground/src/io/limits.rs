//! The input sizes the readers accept, so that memory stays bounded whatever a file holds.
//!
//! Without them a file that is one huge line (a 2 GiB `votes.csv` without a newline, 800 MiB of
//! commas) grows the CSV reader's record buffer until the process aborts on a failed allocation.
//! Each limit is far above anything Polis writes: a statement is at most 1,000 characters
//! (Polis's `comments.txt` check), a `votes.csv` line about 50 bytes, and the widest line, the
//! header of `participants-votes.csv`, holds one id per statement (a 100,000-statement
//! conversation: under 1 MiB). Going over one is an error naming the file, line and limit.
//!
//! It also names the text encodings the readers refuse: they read UTF-8 (with or without a
//! byte-order mark); a UTF-16 or UTF-32 file (Excel's "Unicode text") is named as such.

/// Longest CSV line, in bytes.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Longest CSV record (a row whose quoted fields span lines), in bytes: past it, a quote was
/// most likely never closed.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Longest CSV field, in bytes.
pub const MAX_FIELD_BYTES: usize = 1 << 20;
/// Longest JSON string, in bytes.
pub const MAX_JSON_FIELD_BYTES: usize = 1 << 20;
/// Largest JSON file: an API dump is parsed whole, at several times its size in memory (a
/// million votes are about 80 MB of JSON); larger conversations come as CSV exports, which
/// stream.
pub const MAX_JSON_FILE_BYTES: u64 = 1 << 30;

/// A size in words: `16 MiB`, `1 MiB`.
pub(crate) fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The encoding of a text that is not UTF-8 but one of the Unicode encodings a spreadsheet saves,
/// told from its first bytes (a byte-order mark, or the zero bytes of ASCII text in UTF-16 or
/// UTF-32); `None` for anything else (UTF-8, with or without its byte-order mark, included).
pub(crate) fn foreign_encoding(start: &[u8]) -> Option<&'static str> {
    match start {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32 (little-endian)"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32 (big-endian)"),
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        [a, 0, 0, 0, ..] if *a != 0 => Some("UTF-32 (little-endian, no byte-order mark)"),
        [0, 0, 0, a, ..] if *a != 0 => Some("UTF-32 (big-endian, no byte-order mark)"),
        [a, 0, ..] if *a != 0 => Some("UTF-16 (little-endian, no byte-order mark)"),
        [0, a, ..] if *a != 0 => Some("UTF-16 (big-endian, no byte-order mark)"),
        _ => None,
    }
}

/// The error message for a file in `encoding`.
pub(crate) fn encoding_message(encoding: &str) -> String {
    format!(
        "the file is {encoding} text; commonground reads UTF-8: convert it (e.g. `iconv -f UTF-16 -t UTF-8`, or save \
         as \"CSV UTF-8\")"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_encodings_are_named_and_utf8_is_not() {
        let utf16le: Vec<u8> = "\u{feff}vote".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let utf16be: Vec<u8> = "vote".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(foreign_encoding(&utf16le), Some("UTF-16 (little-endian)"));
        assert_eq!(foreign_encoding(&utf16be), Some("UTF-16 (big-endian, no byte-order mark)"));
        assert_eq!(foreign_encoding(&[0xFF, 0xFE, 0, 0, b'v', 0, 0, 0]), Some("UTF-32 (little-endian)"));
        assert_eq!(foreign_encoding("\u{feff}vote".as_bytes()), None);
        assert_eq!(foreign_encoding(b"vote"), None);
        assert_eq!(foreign_encoding(b""), None);
    }
}
