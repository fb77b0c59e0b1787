//! One test binary for the crate's integration tests: each module was once its own binary,
//! and linking automerge and SQLCipher into every one of them dominated the build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod blobs;
mod cli;
mod common;
mod console_store;
mod crash;
mod demo;
mod op_limit;
mod store_suite;
mod sync_endpoint;
