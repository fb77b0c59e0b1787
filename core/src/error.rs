//! The core's internal error type. The FFI crate converts it, in one place, into the public
//! `HomeVisitError` the apps see.

use crate::ids::{IdError, RecordId};

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store file cannot be opened or created ([`Error::StoreFile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreFileProblem {
    /// Opening: there is no file at the path (a store was expected there).
    Missing,
    /// Opening: the file is empty (0 bytes, no write-ahead log): not a store, and never
    /// silently turned into a new empty one.
    Empty,
    /// The path is a directory or another non-file.
    NotAFile,
    /// The file (or its folder) cannot be read: permissions, a path through a file, an I/O
    /// error.
    Unreadable,
    /// Creating: a store (or other data) already exists at the path.
    AlreadyExists,
}

impl std::fmt::Display for StoreFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "no store exists at this path",
            Self::Empty => "the file is empty, not a store",
            Self::NotAFile => "the path is a directory, not a store file",
            Self::Unreadable => "the file cannot be read",
            Self::AlreadyExists => "a store already exists at this path",
        })
    }
}

/// Everything that can go wrong inside the core, with enough context to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database key does not open this store. The file is left untouched.
    #[error("the store key is wrong for this database")]
    WrongKey,
    /// The store (or one record in it) is damaged; it is kept for recovery, never deleted.
    #[error("corrupt data{}: {detail}", record.map(|r| format!(" in record {r}")).unwrap_or_default())]
    Corrupt {
        /// The damaged record, when the damage is confined to one.
        record: Option<RecordId>,
        /// What was found.
        detail: String,
    },
    /// Automerge bytes from a peer that would cost more than the document limits once loaded
    /// (operations, changes, inflated bytes; docs/adr/0017-operation-count-limit.md): refused
    /// before automerge loads them, so nothing was stored and the record is as it was. The
    /// detail starts with `too-many-ops:`.
    #[error("{detail}{}", record.map(|r| format!(" (record {r})")).unwrap_or_default())]
    TooManyOps {
        /// The record the bytes were for.
        record: Option<RecordId>,
        /// What the limit is and what the bytes would have cost.
        detail: String,
    },
    /// The store was closed; open it again.
    #[error("the store is closed")]
    DatabaseClosed,
    /// The store file cannot be opened (or created) as asked: nothing was created, changed or
    /// deleted. Opening never makes a new, empty store where one was expected.
    #[error("store file {path}: {problem}")]
    StoreFile {
        /// What is wrong with the file.
        problem: StoreFileProblem,
        /// The path that was asked for.
        path: String,
    },
    /// No record with this id exists locally.
    #[error("record {0} not found")]
    NotFound(RecordId),
    /// An identifier could not be parsed.
    #[error("invalid identifier: {0}")]
    InvalidId(String),
    /// Input that can never be stored (wrong type, malformed value).
    #[error("[{rule_id}] {detail}")]
    InvalidInput {
        /// The rule the input breaks (usually `FLD-FORMAT`).
        rule_id: String,
        /// Plain-language description.
        detail: String,
    },
    /// Submit or sign refused: the record has blocking validation issues (ERRORs, or WARNs
    /// without a current acknowledgement).
    #[error("the record has {} blocking issue(s): {}", issues.len(), issues.iter().map(|i| i.message.as_str()).collect::<Vec<_>>().join("; "))]
    Validation {
        /// The blocking issues, each with its rule ID.
        issues: Vec<crate::rules::issue::Issue>,
    },
    /// The actor may not do this (role, HCPC registration, self-approval, forbidden transition).
    #[error("[{rule_id}] {detail}")]
    NotPermitted {
        /// The rule that refuses it, e.g. `EQ-ROLE`.
        rule_id: String,
        /// Plain-language reason.
        detail: String,
    },
    /// The record is signed: direct edits are refused (`RK-SIGN-LOCK`); use an addendum.
    #[error("[RK-SIGN-LOCK] record {0} is signed; add an addendum instead")]
    SignedRecord(RecordId),
    /// The record has unresolved conflicts on clinical fields (`CF-BLOCK`).
    #[error("[CF-BLOCK] unresolved conflict on: {}", paths.join(", "))]
    Conflict {
        /// The conflicting field paths.
        paths: Vec<String>,
    },
    /// The server refused the device's token (missing, unknown or malformed).
    #[error("the server did not accept this device's credentials")]
    Unauthorized,
    /// The server revoked this device; its local data has been wiped (`SAF-DEVICE-LOST`).
    #[error("this device has been revoked by the team server; local data was wiped")]
    Revoked,
    /// A network or protocol failure talking to the server; the store is consistent and sync
    /// can be retried.
    #[error("network error: {0}")]
    Network(String),
    /// A long query was interrupted on request.
    #[error("the operation was interrupted")]
    Interrupted,
    /// The device's disk is full; nothing was partially written.
    #[error("the device storage is full; nothing was saved")]
    DiskFull,
    /// An SQLite error that has no more specific meaning.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// An automerge error that has no more specific meaning.
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A bug: an invariant did not hold. Reported, never a panic.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<IdError> for Error {
    fn from(e: IdError) -> Self {
        Self::InvalidId(e.to_string())
    }
}
