//! Benchmarks only: see `benches/stages.rs` and `compare_reddwarf.py`.
