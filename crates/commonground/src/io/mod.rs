//! Readers for Polis exports and API dumps (to be written).
mod polis_json;
pub use polis_json::{PolisMath, PolisState};
