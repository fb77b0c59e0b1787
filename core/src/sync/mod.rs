//! Sync with the team server over the automerge-repo network protocol (DESIGN.md "Sync").
//!
//! `protocol` holds the wire messages (automerge-repo's plus the HomeVisit `hv-*` extensions);
//! the wire form is specified in docs/PROTOCOL.md.

pub mod protocol;

pub use protocol::{Extension, HomeVisitMetadata, Message, PeerMetadata, ProtocolError};
