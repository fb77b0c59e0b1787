//! cargo-fuzz target `whole_document`: the body is `homevisit_tests::fuzz::whole_document` (docs/FUZZING.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| homevisit_tests::fuzz::whole_document(data));
