//! Writing an analysis for the people and programs that read it: the human summary, the shareable
//! HTML report (and its compact card for notebooks), the CSV tables, and the Polis math JSON that a
//! Polis client or report reads unchanged.
//!
//! Every writer reads only the [`Analysis`](crate::Analysis), the one place every output comes
//! from, and computes nothing of its own; commonground's own JSON is the `Analysis` serialised
//! with serde and needs no writer here. Both are re-exported from [`crate::io`].

mod csv_tables;
mod html;
mod polis_json;
mod summary;

pub use csv_tables::{csv_tables, CsvTable};
pub use html::{html_card, html_report};
pub use polis_json::PolisMath;
pub use summary::{summary, terminal_safe};
