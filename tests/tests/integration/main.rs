//! One test binary for the crate's integration tests: each module was once its own binary,
//! and linking automerge and SQLCipher into every one of them dominated the build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_audit;
mod disk_full_sync;
mod fuzz_regressions;
mod postgres_failover;
mod postgres_instances;
mod postgres_operations;
mod server_blocking;
mod server_half_open;
mod server_hardening;
mod server_limits;
mod server_rules;
mod server_tls;
mod sync_auth;
mod sync_bloom_false_positive;
mod sync_care;
mod sync_convergence;
mod sync_faults;
mod sync_hostile;
mod sync_hostile_docs;
mod sync_live;
mod sync_reconnect;
mod sync_reject;
mod sync_status;
mod sync_tls;
