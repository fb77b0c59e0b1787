//! HomeVisit shared core.
//!
//! The pure domain (`model`, `rules`) never touches SQLite or the network; `doc` maps records
//! onto automerge documents; `store` keeps them in an encrypted SQLite database; `sync` speaks
//! the automerge-repo protocol with the team server.

pub mod attachments;
pub mod doc;
pub mod error;
pub mod fhir;
pub mod ids;
pub mod model;
pub mod records;
pub mod report;
pub mod rules;
pub mod store;
pub mod sync;

pub use error::{Error, Result, StoreFileProblem};
pub use ids::{IdError, RecordId};

/// The ruleset version of `DOMAIN.md` this build implements.
pub const RULESET_VERSION: &str = "2026.1";
