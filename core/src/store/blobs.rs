//! Photo bytes in the encrypted store (schema v6, docs/PHOTOS.md): `blobs` keyed by the
//! SHA-256 of their bytes, stored once however many records use them, and `blob_refs`, which
//! record item uses which blob. Written only inside the transaction of the document change
//! that adds the photo's metadata item ([`Store::edit_with_blobs`](super::Store::edit_with_blobs)),
//! so a crash leaves the whole photo or nothing.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::db::SqlResult;
use crate::{error::Result, ids::RecordId};

/// Whether a blob is a full picture or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    /// The full, sanitised picture.
    Full,
    /// The list screens' thumbnail.
    Thumbnail,
}

impl BlobKind {
    fn code(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Thumbnail => "thumbnail",
        }
    }
}

/// Bytes to store with what the store keeps beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlob {
    /// SHA-256 of `bytes`, lower-case hex.
    pub hash: String,
    /// MIME type (`image/jpeg`).
    pub media_type: String,
    /// Full picture or thumbnail.
    pub kind: BlobKind,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// SHA-256 of `bytes`, lower-case hex.
    pub hash: String,
    /// MIME type.
    pub media_type: String,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Inserts blobs not yet stored (deduplicated by hash) and the references of record item
/// `item_id` to them.
pub(crate) fn write(
    tx: &Transaction<'_>,
    record: RecordId,
    item_id: &str,
    blobs: &[NewBlob],
    now_ms: i64,
) -> Result<()> {
    for b in blobs {
        tx.execute(
            "INSERT INTO blobs(hash, media_type, kind, byte_size, width_px, height_px, bytes,
                               created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(hash) DO NOTHING",
            params![
                b.hash,
                b.media_type,
                b.kind.code(),
                b.bytes.len() as i64,
                b.width_px,
                b.height_px,
                b.bytes,
                now_ms
            ],
        )
        .sql()?;
        tx.execute(
            "INSERT INTO blob_refs(record_id, item_id, hash) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![record.to_string(), item_id, b.hash],
        )
        .sql()?;
    }
    Ok(())
}

/// The blob with `hash`, if stored.
pub(crate) fn read(conn: &Connection, hash: &str) -> Result<Option<Blob>> {
    conn.query_row(
        "SELECT hash, media_type, width_px, height_px, bytes FROM blobs WHERE hash = ?1",
        [hash],
        |r| {
            Ok(Blob {
                hash: r.get(0)?,
                media_type: r.get(1)?,
                width_px: r.get(2)?,
                height_px: r.get(3)?,
                bytes: r.get(4)?,
            })
        },
    )
    .optional()
    .sql()
}

/// How many blobs and references are stored, and their total bytes.
pub(crate) fn counts(conn: &Connection) -> Result<BlobCounts> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM blobs), (SELECT coalesce(sum(byte_size), 0) FROM blobs),
                (SELECT count(*) FROM blob_refs)",
        [],
        |r| {
            Ok(BlobCounts {
                blobs: r.get::<_, i64>(0)?.max(0) as u64,
                bytes: r.get::<_, i64>(1)?.max(0) as u64,
                refs: r.get::<_, i64>(2)?.max(0) as u64,
            })
        },
    )
    .sql()
}

/// What the blob tables hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlobCounts {
    /// Distinct blobs.
    pub blobs: u64,
    /// Their bytes in total.
    pub bytes: u64,
    /// Record item references to them.
    pub refs: u64,
}
