//! Schema migrations from every earlier version's real database file.
//!
//! `core/tests/fixtures/store-vN.db` is a store written by schema version N, encrypted with
//! [`FIXTURE_KEY`]. They were produced by `generate_store_fixtures` below (ignored in normal
//! runs): `cargo nextest run --locked -p homevisit-core --test store_migration --run-ignored
//! only generate_store_fixtures`. A version's file is generated once, when that version is
//! current, and never regenerated: it stands for what devices in the field hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::{Path, PathBuf};

use automerge::{AutoCommit, ChangeHash};
use homevisit_core::{
    doc,
    model::common::Schema,
    rules::record_keeping::{AuditAction, AuditEntry},
    store::{
        db::apply_key,
        project,
        schema::{self, CURRENT_VERSION},
        Encryption, Store, StoreKey, SyncStatus,
    },
    RecordId,
};
use rusqlite::{params, Connection};
use store_support::*;
use uuid::Uuid;

/// The key the fixtures are encrypted with (test data only).
const FIXTURE_KEY: [u8; 32] = *b"homevisit-store-fixture-key-0001";

/// The records every fixture holds.
const CHILD: [u8; 16] = [0x11; 16];
const FORM: [u8; 16] = [0x22; 16];
const TEAM: &str = "7d444840-9dc0-41d6-bd1d-8f7a2b5d6a10";

fn fixture(version: i64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/store-v{version}.db"))
}

fn ids() -> (RecordId, RecordId) {
    (RecordId::from_bytes(CHILD), RecordId::from_bytes(FORM))
}

/// The fixture's documents: a child, and a form about the child with one later edit (so the
/// file holds a snapshot and an increment).
fn documents() -> (AutoCommit, AutoCommit, Vec<u8>) {
    let (child, form) = ids();
    let a = ot(Uuid::parse_str(TEAM).unwrap());
    let child_doc = child_doc(&a, child, "Amara", "Okafor", "2016-05-01", "9434765919");
    let mut form_doc = record_doc(&a, Schema::Assessment, form, child);
    let saved = form_doc.get_heads();
    set(&mut form_doc, &a, "sections.A.visit_date", "2026-03-15").unwrap();
    let increment = form_doc.save_after(&saved);
    (child_doc, form_doc, increment)
}

fn open_raw(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    apply_key(&conn, &Encryption::Key(StoreKey::Raw(FIXTURE_KEY))).unwrap();
    conn
}

/// Writes a v1 file as the v1 store did: its tables only, rows as it wrote them.
fn write_v1(path: &Path) {
    let (child, form) = ids();
    let (mut child_doc, mut form_doc, increment) = documents();
    let mut conn = open_raw(path);
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    schema::migrate_to(&mut conn, 1).unwrap();
    let tx = conn.transaction().unwrap();
    for (id, d, chunk) in [
        (child, &mut child_doc, None),
        (form, &mut form_doc, Some(&increment)),
    ] {
        let p = project(id, d).unwrap();
        let heads: Vec<u8> = d.get_heads().iter().flat_map(|h| h.0).collect();
        let snapshot = match chunk {
            // The snapshot is the document before its increment.
            Some(_) => {
                let before = d.get_changes(&[]).len() - 1;
                let first: Vec<ChangeHash> = vec![d.get_changes(&[])[before - 1].hash()];
                let mut old = d.fork_at(&first).unwrap();
                old.save()
            }
            None => d.save(),
        };
        tx.execute(
            "INSERT INTO documents VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1773568800000, 1773568800000)",
            params![
                id.to_string(),
                snapshot,
                snapshot.len() as i64,
                chunk.is_some() as i64,
                chunk.map_or(0, |c| c.len() as i64),
                heads
            ],
        )
        .unwrap();
        if let Some(c) = chunk {
            tx.execute(
                "INSERT INTO chunks(record_id, bytes) VALUES (?1, ?2)",
                params![id.to_string(), c],
            )
            .unwrap();
        }
        let status = if id == child { "synced" } else { "local_only" };
        tx.execute(
            "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id.to_string(),
                p.schema,
                p.team_id,
                p.child_id.map(|c| c.to_string()),
                p.title,
                p.state,
                p.status,
                p.updated_at,
                status,
                p.conflict_count,
                p.needs_signature,
                p.needs_countersignature
            ],
        )
        .unwrap();
        if let Some(c) = &p.child {
            tx.execute(
                "INSERT INTO children(id, given_name, family_name, preferred_name, date_of_birth,
                                      nhs_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.to_string(),
                    c.given_name,
                    c.family_name,
                    c.preferred_name,
                    c.date_of_birth,
                    c.nhs_number
                ],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT INTO record_sync VALUES (?1, ?2, ?3)",
            params![id.to_string(), status, (id == child).then(|| heads.clone())],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    conn.close().unwrap();
}

/// Writes a v2 file through the store itself.
fn write_v2(path: &Path) {
    let (child, form) = ids();
    let (child_doc, form_doc, _) = documents();
    let store = Store::create_new(path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    let heads = {
        let mut d = child_doc.clone();
        d.get_heads()
    };
    store.create(child, child_doc).unwrap();
    store.create(form, form_doc).unwrap();
    assert_eq!(
        store.mark_acknowledged(child, &heads).unwrap(),
        SyncStatus::Synced
    );
    store.set_meta("sync.cursor", "17").unwrap();
    store
        .apply_remote(child, |_| Ok(()), Some(vec![0x42, 0, 0]))
        .unwrap();
    store.close().unwrap();
}

/// The audit entry the v3 fixture holds.
const AUDIT_USER: &str = "0f0e6d2c-3b4a-4c5d-8e9f-a0b1c2d3e4f5";
const AUDIT_DEVICE: &str = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";

/// Writes a v3 file through the store itself: the v2 content plus one audit entry.
fn write_v3(path: &Path) {
    write_v2(path);
    let (child, _) = ids();
    let store = Store::open(path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    let entry = AuditEntry::new(
        Uuid::parse_str(AUDIT_USER).unwrap(),
        Uuid::parse_str(AUDIT_DEVICE).unwrap(),
        child,
        AuditAction::Export,
        "2026-03-15T11:00:00Z".parse().unwrap(),
        Some("school transition meeting".into()),
    )
    .unwrap();
    store.append_audit(&entry).unwrap();
    store.close().unwrap();
}

/// Version 4 added `records.flag_count` (`CF-RULE-BREACH`); the data is v3's.
fn write_v4(path: &Path) {
    write_v3(path);
}

/// Version 5 added the children's safeguarding and missed-visit columns (projection columns
/// the v3 content leaves empty); the data is v3's.
fn write_v5(path: &Path) {
    write_v3(path);
}

/// The photo the v6 fixture holds: a tiny sanitised JPEG on the form, as a metadata item's
/// blobs (full picture and thumbnail are the same bytes here).
const FIXTURE_PHOTO_ITEM: &str = "5b1f0c9e-3d2a-4e8b-9f10-6a7b8c9d0e1f";

fn fixture_photo() -> homevisit_core::attachments::Sanitised {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        16,
        12,
        image::Rgb([200, 40, 40]),
    ));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    homevisit_core::attachments::sanitise(&png).unwrap()
}

/// Version 6 added photo blobs and their references: the v3 content plus one photo's bytes
/// referenced by an item of the form.
fn write_v6(path: &Path) {
    use homevisit_core::store::{BlobKind, NewBlob};
    write_v3(path);
    let (_, form) = ids();
    let s = fixture_photo();
    let blobs: Vec<NewBlob> = [
        (&s.full, BlobKind::Full),
        (&s.thumbnail, BlobKind::Thumbnail),
    ]
    .into_iter()
    .map(|(i, kind)| NewBlob {
        hash: i.hash.clone(),
        media_type: i.media_type.mime().into(),
        kind,
        width_px: i.width_px,
        height_px: i.height_px,
        bytes: i.bytes.clone(),
    })
    .collect();
    let store = Store::open(path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    let a = ot(Uuid::parse_str(TEAM).unwrap());
    store
        .edit_with_blobs(form, &blobs, |d| {
            set(d, &a, "sections.A.visit_time", "10:30")?;
            Ok(((), FIXTURE_PHOTO_ITEM.to_owned()))
        })
        .unwrap();
    store.close().unwrap();
}

#[test]
#[ignore = "generates the checked-in fixtures; run by hand when a schema version is added"]
fn generate_store_fixtures() {
    for (version, write) in [
        (1, write_v1 as fn(&Path)),
        (2, write_v2),
        (3, write_v3),
        (4, write_v4),
        (5, write_v5),
        (6, write_v6),
    ] {
        let path = fixture(version);
        if path.exists() {
            // Never regenerate a released version's file.
            continue;
        }
        write(&path);
        let conn = open_raw(&path);
        assert_eq!(schema::user_version(&conn).unwrap(), version);
    }
}

fn migrated_copy(version: i64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::copy(fixture(version), &path).unwrap();
    (dir, path)
}

#[test]
fn every_earlier_schema_version_migrates_with_its_data() {
    let (child, form) = ids();
    for version in 1..=CURRENT_VERSION {
        let (_dir, path) = migrated_copy(version);
        {
            let conn = open_raw(&path);
            assert_eq!(
                schema::user_version(&conn).unwrap(),
                version,
                "fixture v{version}"
            );
        }
        let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
        store.check_integrity(true).unwrap();
        assert_eq!(store.document_count().unwrap(), 2);

        // Documents: snapshot + increment load, content intact.
        let child_json = store.read(child, |d| doc::to_json(d)).unwrap();
        assert_eq!(child_json["family_name"], serde_json::json!("Okafor"));
        assert_eq!(child_json["nhs_number"], serde_json::json!("9434765919"));
        let form_json = store.read(form, |d| doc::to_json(d)).unwrap();
        assert_eq!(
            form_json["sections"]["A"]["visit_date"],
            serde_json::json!("2026-03-15")
        );
        let stored_heads = store.local_heads(form).unwrap().unwrap();
        let mut loaded = store.read(form, |d| Ok(d.get_heads())).unwrap();
        let mut expected = stored_heads.clone();
        loaded.sort();
        expected.sort();
        assert_eq!(
            loaded, expected,
            "v{version}: stored heads match the document"
        );

        // Projections and sync status survive; the name index (new in v2) is filled.
        let caseload = store.caseload().unwrap();
        assert_eq!(caseload.len(), 1);
        assert_eq!(caseload[0].record_count, 1);
        assert_eq!(
            store.search_children("okaf").unwrap().len(),
            1,
            "v{version}"
        );
        assert_eq!(store.search_children("943 476 5919").unwrap().len(), 1);
        assert_eq!(store.sync_status(child).unwrap(), SyncStatus::Synced);
        assert_eq!(store.sync_status(form).unwrap(), SyncStatus::LocalOnly);
        assert_eq!(store.unsynced_ids().unwrap(), vec![form]);

        // The migrated store works: sync bookkeeping (v2) and edits.
        store.set_meta("sync.cursor", "99").unwrap();
        let a = ot(Uuid::parse_str(TEAM).unwrap());
        store
            .edit(form, |d| set(d, &a, "sections.A.visit_date", "2026-03-16"))
            .unwrap();
        store.close().unwrap();

        let conn = open_raw(&path);
        assert_eq!(schema::user_version(&conn).unwrap(), CURRENT_VERSION);
    }
}

#[test]
fn the_v2_fixture_keeps_its_sync_bookkeeping() {
    let (child, _) = ids();
    let (_dir, path) = migrated_copy(2);
    let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    assert_eq!(store.meta("sync.cursor").unwrap().as_deref(), Some("17"));
    assert_eq!(
        store.load_sync_state(child).unwrap(),
        Some(vec![0x42, 0, 0])
    );
}

#[test]
fn the_v3_fixture_keeps_its_audit_log() {
    let (child, _) = ids();
    let (_dir, path) = migrated_copy(3);
    let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    let log = store.audit_log(Some(child)).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].entry.action, AuditAction::Export);
    assert_eq!(log[0].entry.user_id.to_string(), AUDIT_USER);
    assert_eq!(log[0].entry.device_id.to_string(), AUDIT_DEVICE);
    assert_eq!(
        log[0].entry.purpose.as_deref(),
        Some("school transition meeting")
    );
    assert_eq!(store.pending_audit(10).unwrap().len(), 1);
}

#[test]
fn earlier_versions_gain_an_empty_append_only_audit_log() {
    for version in 1..=2 {
        let (_dir, path) = migrated_copy(version);
        let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
        assert!(store.audit_log(None).unwrap().is_empty(), "v{version}");
        store.close().unwrap();
        let conn = open_raw(&path);
        let triggers: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 3, "v{version}");
    }
}

#[test]
fn earlier_versions_gain_empty_safeguarding_columns_that_a_rebuild_fills() {
    let (child, _) = ids();
    for version in 1..=4 {
        let (_dir, path) = migrated_copy(version);
        let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
        let entry = store.caseload().unwrap().remove(0);
        assert_eq!(entry.safeguarding_status, None, "v{version}");
        assert_eq!(entry.missed_visit_gap_days, None, "v{version}");
        let a = ot(Uuid::parse_str(TEAM).unwrap());
        store
            .edit(child, |d| {
                set(d, &a, "safeguarding.status", "child_in_need")
            })
            .unwrap();
        store.rebuild_projections().unwrap();
        let entry = store.caseload().unwrap().remove(0);
        assert_eq!(
            entry.safeguarding_status.as_deref(),
            Some("child_in_need"),
            "v{version}"
        );
    }
}

#[test]
fn earlier_versions_gain_empty_blob_tables_and_the_v6_fixture_keeps_its_photo() {
    for version in 1..=5 {
        let (_dir, path) = migrated_copy(version);
        let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
        assert_eq!(
            store.blob_counts().unwrap(),
            homevisit_core::store::BlobCounts::default(),
            "v{version}"
        );
    }
    let (_dir, path) = migrated_copy(6);
    let store = Store::open(&path, StoreKey::Raw(FIXTURE_KEY)).unwrap();
    let counts = store.blob_counts().unwrap();
    assert_eq!((counts.blobs, counts.refs), (2, 2), "{counts:?}");
    let conn = open_raw(&path);
    let hash: String = conn
        .query_row(
            "SELECT hash FROM blob_refs WHERE item_id = ?1 LIMIT 1",
            [FIXTURE_PHOTO_ITEM],
            |r| r.get(0),
        )
        .unwrap();
    let blob = store.blob(&hash).unwrap().unwrap();
    assert_eq!(homevisit_core::attachments::content_hash(&blob.bytes), hash);
    assert_eq!(blob.media_type, "image/jpeg");
}
