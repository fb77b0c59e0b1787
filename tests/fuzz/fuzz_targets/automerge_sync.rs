//! cargo-fuzz target `automerge_sync`: the body is `homevisit_tests::fuzz::automerge_sync` (docs/FUZZING.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| homevisit_tests::fuzz::automerge_sync(data));
