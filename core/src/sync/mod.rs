//! Sync with the team server over the automerge-repo network protocol (DESIGN.md "Sync").
//!
//! `protocol` holds the wire messages (automerge-repo's plus the HomeVisit `hv-*` extensions);
//! the wire form is specified in docs/PROTOCOL.md. `client` is the device side of a session
//! (docs/SYNC-CLIENT.md), written against the `local::LocalDocs` view of the store; `backoff`
//! spaces out its retries and `progress` is what it reports.

pub mod backoff;
pub mod client;
pub mod guard;
pub mod local;
pub mod opcount;
pub mod orphans;
pub mod progress;
pub mod protocol;

pub use backoff::BackoffPolicy;
pub use client::{SyncClient, SyncConfig};
pub use local::LocalDocs;
pub use opcount::{CostError, DocumentCost, DocumentLimits};
pub use progress::{DocumentProblem, SyncProgress, SyncReport};
pub use protocol::{Extension, HomeVisitMetadata, Message, PeerMetadata, ProtocolError};
