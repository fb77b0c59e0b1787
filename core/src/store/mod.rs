//! The encrypted, crash-safe local document store (DESIGN.md "Local store").
//!
//! Each record is one automerge document kept as a snapshot plus incremental change chunks in
//! an SQLCipher database (docs/adr/0001, 0002). Every save is one transaction holding the new
//! changes, the record's projection rows and its sync status, committed with
//! `synchronous = FULL` (docs/adr/0003); increments are folded into snapshots by a size/count
//! policy (docs/adr/0004). List screens read the projections and never load documents.
//!
//! - `schema`: SQL and `user_version` migrations; `db`: connections, key, pragmas.
//! - `store`: the [`Store`] object; `cache`: the bounded document cache.
//! - `projection`: document → list rows; `query`: the list queries.
//! - `sync_state`: per-record sync status, sync states, `sync_meta`.
//! - `audit`: the append-only local audit log (`RK-AUDIT`).
//! - `blobs`: photo bytes, content-addressed, and which record item uses them.
//! - `events`: change events published after every commit.

mod audit;
pub mod blobs;
mod cache;
pub mod db;
pub mod events;
pub mod projection;
mod query;
pub mod schema;
#[allow(clippy::module_inception)]
mod store;
pub mod sync_state;

pub use audit::LoggedAudit;
pub use blobs::{Blob, BlobCounts, BlobKind, NewBlob};
pub use cache::CacheStats;
pub use db::{Encryption, StoreKey};
pub use events::{ChangeEvent, ChangeOrigin, ChangeSubscription};
pub use projection::{project, ChildProjection, Projection};
pub use query::{CaseloadEntry, RecordSummary};
pub use store::{
    CompactionPolicy, DocumentStorage, RebuildReport, Store, StoreInterruptHandle, StoreOptions,
};
pub use sync_state::SyncStatus;
