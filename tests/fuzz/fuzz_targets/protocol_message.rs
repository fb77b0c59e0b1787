//! cargo-fuzz target `protocol_message`: the body is `homevisit_tests::fuzz::protocol_message` (docs/FUZZING.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| homevisit_tests::fuzz::protocol_message(data));
