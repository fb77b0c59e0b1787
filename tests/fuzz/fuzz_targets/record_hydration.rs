//! cargo-fuzz target `record_hydration`: the body is `homevisit_tests::fuzz::record_hydration` (docs/FUZZING.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| homevisit_tests::fuzz::record_hydration(data));
