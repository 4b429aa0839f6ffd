//! Readers for Polis exports and API dumps (to be written).
