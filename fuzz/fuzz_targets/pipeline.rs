//! cargo-fuzz target `pipeline`: see crates/commonground/tests/robustness/targets.rs, which the suite
//! also runs through proptest (tests/robustness.rs).
#![no_main]

#[path = "../../crates/commonground/tests/robustness/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::pipeline(data));
