//! Record identity: 16 random bytes (UUID v4) that are also the record's automerge-repo
//! document id, written on the wire in automerge-repo's base58check form.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a record id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not a hyphenated UUID.
    #[error("not a UUID: {0}")]
    NotUuid(String),
    /// Not base58check, or not 16 bytes once decoded.
    #[error("not a document id: {0}")]
    NotDocumentId(String),
    /// Does not start with `automerge:`.
    #[error("an automerge URL starts with `automerge:`")]
    NotAutomergeUrl,
}

/// The identity of one record (and of its automerge document).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(Uuid);

impl RecordId {
    /// A fresh random (v4) id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }

    /// The 16 bytes of the id.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The UUID form.
    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// The automerge-repo document id: base58check of the 16 bytes.
    pub fn to_document_id(&self) -> String {
        bs58::encode(self.as_bytes()).with_check().into_string()
    }

    /// Parses an automerge-repo document id (base58check of 16 bytes).
    pub fn from_document_id(s: &str) -> Result<Self, IdError> {
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|e| IdError::NotDocumentId(format!("not base58check: {e}")))?;
        let arr: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| IdError::NotDocumentId(format!("{} bytes, not 16", bytes.len())))?;
        Ok(Self::from_bytes(arr))
    }

    /// The `automerge:<document id>` URL that opens this record in any automerge-repo peer.
    pub fn to_automerge_url(&self) -> String {
        format!("automerge:{}", self.to_document_id())
    }

    /// Parses `automerge:<document id>`.
    pub fn from_automerge_url(s: &str) -> Result<Self, IdError> {
        let rest = s
            .strip_prefix("automerge:")
            .ok_or(IdError::NotAutomergeUrl)?;
        Self::from_document_id(rest)
    }
}

impl Default for RecordId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0.hyphenated())
    }
}

impl FromStr for RecordId {
    type Err = IdError;

    /// Accepts the hyphenated UUID form only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|e| IdError::NotUuid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_id_round_trips_through_base58check() {
        for _ in 0..100 {
            let id = RecordId::new();
            let doc_id = id.to_document_id();
            assert_eq!(RecordId::from_document_id(&doc_id).unwrap(), id);
            assert_eq!(
                RecordId::from_automerge_url(&id.to_automerge_url()).unwrap(),
                id
            );
        }
    }

    #[test]
    fn document_id_matches_automerge_repo_form() {
        // automerge-repo: bs58check.encode(uuid bytes); all-zero UUID as a fixed vector.
        let id = RecordId::from_bytes([0u8; 16]);
        let doc_id = id.to_document_id();
        // base58 of 20 bytes with 16 leading zeros starts with 16 '1's.
        assert!(doc_id.starts_with("1111111111111111"), "{doc_id}");
        assert_eq!(RecordId::from_document_id(&doc_id).unwrap(), id);
    }

    #[test]
    fn corrupted_document_id_is_rejected() {
        let id = RecordId::new();
        let mut doc_id = id.to_document_id().into_bytes();
        let last = doc_id.len() - 1;
        doc_id[last] = if doc_id[last] == b'2' { b'3' } else { b'2' };
        let bad = String::from_utf8(doc_id).unwrap();
        assert!(matches!(
            RecordId::from_document_id(&bad),
            Err(IdError::NotDocumentId(_))
        ));
        assert!(RecordId::from_automerge_url("doc:abc").is_err());
        assert!("not-a-uuid".parse::<RecordId>().is_err());
    }

    #[test]
    fn new_ids_are_version_4() {
        assert_eq!(RecordId::new().uuid().get_version_num(), 4);
    }
}
