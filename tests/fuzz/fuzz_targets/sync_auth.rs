//! cargo-fuzz target `sync_auth`: the body is `homevisit_tests::fuzz::sync_auth` (docs/FUZZING.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| homevisit_tests::fuzz::sync_auth(data));
