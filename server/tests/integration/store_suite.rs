//! Conformance suite for [`ServerStore`]: written once, generic over the trait, instantiated
//! for every implementation: the embedded SQLite database and PostgreSQL (a fresh database per
//! test on the cluster named by `HOMEVISIT_TEST_POSTGRES`, which `.ci/run` starts).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use automerge::ChangeHash;
use homevisit_core::{model::user::Role, RecordId};
use homevisit_server::store::{
    BlobAppend, BlobOffer, BlobRead, ChangeReceipt, DocumentCommit, NewFlag, NewUser, RevokeBy,
    ServerStore, StoreError, TeamId,
};
use sha2::{Digest, Sha256};

fn hash(n: u8) -> ChangeHash {
    ChangeHash([n; 32])
}

fn user(team: TeamId, role: Role) -> NewUser {
    NewUser {
        team_id: team,
        name: "Olu".into(),
        role,
        hcpc_number: None,
        hcpc_verified_until: None,
    }
}

fn commit(
    team: TeamId,
    doc: RecordId,
    expected: Option<u64>,
    chunk: &[u8],
    heads: u8,
) -> DocumentCommit {
    DocumentCommit {
        team_id: team,
        document_id: doc,
        expected_seq: expected,
        chunk: chunk.to_vec(),
        compact: false,
        heads: vec![hash(heads)],
        flags: vec![],
        receipts: vec![],
    }
}

pub async fn devices_authenticate_by_token_hash_and_revoke<S: ServerStore>(s: S) {
    let team = s.create_team("A").await.unwrap();
    let u = s.create_user(user(team, Role::Ap)).await.unwrap();
    let d1 = s.create_device(u, "t1", [1; 32]).await.unwrap();
    let d2 = s.create_device(u, "t2", [2; 32]).await.unwrap();
    let auth = s.authenticate([1; 32]).await.unwrap().unwrap();
    assert_eq!(
        (
            auth.device_id,
            auth.user_id,
            auth.team_id,
            auth.role,
            auth.revoked
        ),
        (d1, u, team, Role::Ap, false)
    );
    assert_eq!(s.authenticate([9; 32]).await.unwrap(), None);
    assert_eq!(
        s.revoke_device(RevokeBy::Device(d1)).await.unwrap(),
        Some(d1)
    );
    assert!(s.authenticate([1; 32]).await.unwrap().unwrap().revoked);
    assert_eq!(
        s.revoke_device(RevokeBy::TokenHash([2; 32])).await.unwrap(),
        Some(d2)
    );
    assert!(s.device(d2).await.unwrap().unwrap().revoked);
    assert_eq!(
        s.revoke_device(RevokeBy::TokenHash([7; 32])).await.unwrap(),
        None
    );
    assert!(matches!(
        s.create_user(user(uuid::Uuid::new_v4(), Role::Ot)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.create_device(uuid::Uuid::new_v4(), "x", [3; 32]).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn commits_append_chunks_and_number_changes_per_team<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let b = s.create_team("B").await.unwrap();
    let d = RecordId::new();
    assert_eq!(s.load_document(a, d).await.unwrap(), None);
    assert_eq!(
        s.commit_document(commit(a, d, None, b"one", 1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.commit_document(commit(a, d, Some(1), b"two", 2))
            .await
            .unwrap(),
        2
    );
    // Each team has its own sequence and its own namespace: the same id in B is another document.
    assert_eq!(
        s.commit_document(commit(b, d, None, b"bee", 9))
            .await
            .unwrap(),
        1
    );
    let doc = s.load_document(a, d).await.unwrap().unwrap();
    assert_eq!(doc.chunks, vec![b"one".to_vec(), b"two".to_vec()]);
    assert_eq!((doc.heads, doc.seq, doc.size_bytes), (vec![hash(2)], 2, 6));
    assert_eq!(
        s.load_document(b, d).await.unwrap().unwrap().chunks,
        vec![b"bee".to_vec()]
    );
    // A stale writer is refused and writes nothing.
    assert!(matches!(
        s.commit_document(commit(a, d, Some(1), b"x", 3)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.commit_document(commit(a, d, None, b"x", 3)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.load_document(a, d).await.unwrap().unwrap().seq, 2);
    // Compaction replaces the chunks.
    let mut c = commit(a, d, Some(2), b"snapshot", 4);
    c.compact = true;
    assert_eq!(s.commit_document(c).await.unwrap(), 3);
    let doc = s.load_document(a, d).await.unwrap().unwrap();
    assert_eq!(
        (doc.chunks, doc.size_bytes),
        (vec![b"snapshot".to_vec()], 8)
    );
}

pub async fn changed_since_pages_through_the_team_feed<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let b = s.create_team("B").await.unwrap();
    let ids: Vec<RecordId> = (0..5).map(|_| RecordId::new()).collect();
    for (i, id) in ids.iter().enumerate() {
        s.commit_document(commit(a, *id, None, b"x", i as u8))
            .await
            .unwrap();
    }
    s.commit_document(commit(b, RecordId::new(), None, b"x", 0))
        .await
        .unwrap();
    // Re-editing a document moves it to the end of the feed, once.
    s.commit_document(commit(a, ids[0], Some(1), b"y", 50))
        .await
        .unwrap();
    let p1 = s.changed_since(a, 0, 2).await.unwrap();
    assert_eq!(
        p1.changed.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![ids[1], ids[2]]
    );
    assert!(p1.more);
    let p2 = s.changed_since(a, p1.cursor, 10).await.unwrap();
    assert_eq!(
        p2.changed.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![ids[3], ids[4], ids[0]]
    );
    assert_eq!(p2.changed[2].1, vec![hash(50)]);
    assert!(!p2.more);
    assert_eq!(p2.cursor, 6);
    let p3 = s.changed_since(a, p2.cursor, 10).await.unwrap();
    assert!(p3.changed.is_empty() && !p3.more);
    assert_eq!(p3.cursor, 6);
    // A cursor from beyond the team's last number (a device that synced with a server since
    // restored from an older backup) lists the whole feed again and comes back to the present.
    let restored = s.changed_since(a, 99, 10).await.unwrap();
    assert_eq!(restored.changed.len(), 5);
    assert_eq!((restored.cursor, restored.more), (6, false));
    let heads = s
        .document_heads(a, vec![ids[4], RecordId::new()])
        .await
        .unwrap();
    assert_eq!(heads[0].1, Some(vec![hash(4)]));
    assert_eq!(heads[1].1, None);
}

pub async fn flags_are_stored_with_their_commit<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let d = RecordId::new();
    let mut c = commit(a, d, None, b"x", 1);
    c.flags = vec![NewFlag {
        rule_id: "RK-ATTRIB".into(),
        change_hash: Some(hash(1)),
        item: Some(uuid::Uuid::from_u128(7)),
        detail: "no message".into(),
    }];
    let seq = s.commit_document(c).await.unwrap();
    let flags = s.flags(a, Some(d)).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(
        (
            flags[0].seq,
            flags[0].document_id,
            flags[0].flag.rule_id.as_str()
        ),
        (seq, d, "RK-ATTRIB")
    );
    assert_eq!(flags[0].flag.change_hash, Some(hash(1)));
    assert_eq!(flags[0].flag.item, Some(uuid::Uuid::from_u128(7)));
    assert_eq!(s.flags(a, Some(RecordId::new())).await.unwrap(), vec![]);
    assert_eq!(s.flags(a, None).await.unwrap().len(), 1);
}

pub async fn sync_states_and_quarantine_persist<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let u = s.create_user(user(a, Role::Ot)).await.unwrap();
    let dev = s.create_device(u, "t", [5; 32]).await.unwrap();
    let d = RecordId::new();
    assert_eq!(s.load_sync_state(dev, d).await.unwrap(), None);
    s.save_sync_state(dev, d, vec![1, 2]).await.unwrap();
    s.save_sync_state(dev, d, vec![3]).await.unwrap();
    assert_eq!(s.load_sync_state(dev, d).await.unwrap(), Some(vec![3]));
    s.quarantine_document(a, d, vec![1], "claims team B")
        .await
        .unwrap();
    s.quarantine_document(a, d, vec![1], "claims team B")
        .await
        .unwrap();
    s.quarantine_document(a, d, vec![2], "claims team B")
        .await
        .unwrap();
    assert_eq!(
        s.quarantined_count(a).await.unwrap(),
        2,
        "identical uploads are kept once"
    );
    assert_eq!(
        s.load_document(a, d).await.unwrap(),
        None,
        "quarantine is outside the namespace"
    );
}

/// `RK-ATTRIB`: the server keeps, per change, the device and user that delivered it and when,
/// in the commit's transaction; a change delivered again keeps its first receipt, and a
/// receipt is the team's only.
pub async fn change_receipts_keep_the_true_author_of_each_change<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let b = s.create_team("B").await.unwrap();
    let u = s.create_user(user(a, Role::Ap)).await.unwrap();
    let dev = s.create_device(u, "t", [9; 32]).await.unwrap();
    let d = RecordId::new();
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let receipt = |h: u8, when: &str| ChangeReceipt {
        change_hash: hash(h),
        document_id: d,
        device_id: dev,
        user_id: u,
        received_at: at(when),
    };
    let mut c = commit(a, d, None, b"x", 1);
    c.receipts = vec![
        receipt(1, "2026-03-15T10:42:07.250Z"),
        receipt(2, "2026-03-15T10:42:07.250Z"),
    ];
    let seq = s.commit_document(c).await.unwrap();
    assert_eq!(
        s.change_receipt(a, hash(1)).await.unwrap(),
        Some(receipt(1, "2026-03-15T10:42:07.250Z"))
    );
    assert_eq!(s.change_receipt(a, hash(3)).await.unwrap(), None);
    assert_eq!(
        s.change_receipt(b, hash(1)).await.unwrap(),
        None,
        "another team's"
    );
    let mut again = commit(a, d, Some(seq), b"y", 2);
    again.receipts = vec![receipt(1, "2026-03-16T09:00:00Z")];
    s.commit_document(again).await.unwrap();
    assert_eq!(
        s.change_receipt(a, hash(1))
            .await
            .unwrap()
            .map(|r| r.received_at),
        Some(at("2026-03-15T10:42:07.250Z")),
        "the first receipt stays"
    );
    // A refused commit stores no receipt.
    let mut stale = commit(a, d, Some(seq), b"z", 3);
    stale.receipts = vec![receipt(4, "2026-03-16T09:00:00Z")];
    assert!(s.commit_document(stale).await.is_err());
    assert_eq!(s.change_receipt(a, hash(4)).await.unwrap(), None);
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub async fn blobs_append_resume_verify_and_stay_in_their_team<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let b = s.create_team("B").await.unwrap();
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let h = sha256(&bytes);
    let quota = 1 << 20;
    let offer = |t| s.offer_blob(t, h, 1000, "image/jpeg".into(), quota);
    assert_eq!(offer(a).await.unwrap(), BlobOffer::Have(0));
    assert_eq!(
        s.append_blob(a, h, 0, bytes[..400].to_vec()).await.unwrap(),
        BlobAppend::Stored(400)
    );
    // Offered again (a new connection): resumes where the stored bytes end.
    assert_eq!(offer(a).await.unwrap(), BlobOffer::Have(400));
    assert_eq!(
        s.append_blob(a, h, 0, bytes[..400].to_vec()).await.unwrap(),
        BlobAppend::WrongOffset(400)
    );
    assert_eq!(
        s.append_blob(a, h, 400, vec![0; 601]).await.unwrap(),
        BlobAppend::BeyondSize(1000)
    );
    // Partial: not readable, and partial bytes count towards the quota.
    assert_eq!(s.read_blob(a, h, 0, 100).await.unwrap(), None);
    assert_eq!(s.blob_usage(a).await.unwrap(), 400);
    assert_eq!(
        s.append_blob(a, h, 400, bytes[400..].to_vec())
            .await
            .unwrap(),
        BlobAppend::Completed(1000)
    );
    assert_eq!(offer(a).await.unwrap(), BlobOffer::Have(1000));
    assert_eq!(
        s.append_blob(a, h, 1000, vec![1]).await.unwrap(),
        BlobAppend::AlreadyComplete(1000)
    );
    assert_eq!(
        s.read_blob(a, h, 0, 4096).await.unwrap(),
        Some(BlobRead {
            size: 1000,
            data: bytes.clone()
        })
    );
    // A range across the stored chunks.
    assert_eq!(
        s.read_blob(a, h, 350, 100).await.unwrap().unwrap().data,
        bytes[350..450].to_vec()
    );
    assert_eq!(
        s.read_blob(a, h, 1000, 100).await.unwrap().unwrap().data,
        Vec::<u8>::new()
    );
    // Another team sees nothing of it and uploads its own copy.
    assert_eq!(s.read_blob(b, h, 0, 100).await.unwrap(), None);
    assert_eq!(
        s.append_blob(b, h, 0, bytes.clone()).await.unwrap(),
        BlobAppend::NotOffered
    );
    assert_eq!(offer(b).await.unwrap(), BlobOffer::Have(0));
    assert_eq!(s.blob_usage(a).await.unwrap(), 1000);
    assert_eq!(s.blob_usage(b).await.unwrap(), 0);
}

pub async fn blobs_with_the_wrong_bytes_leave_nothing_and_quota_refuses<S: ServerStore>(s: S) {
    let a = s.create_team("A").await.unwrap();
    let h = sha256(b"the real photo");
    assert_eq!(
        s.offer_blob(a, h, 5, "image/png".into(), 100)
            .await
            .unwrap(),
        BlobOffer::Have(0)
    );
    assert_eq!(
        s.append_blob(a, h, 0, b"other".to_vec()).await.unwrap(),
        BlobAppend::Mismatch
    );
    assert_eq!(s.read_blob(a, h, 0, 10).await.unwrap(), None);
    assert_eq!(s.blob_usage(a).await.unwrap(), 0);
    assert_eq!(
        s.append_blob(a, h, 0, b"other".to_vec()).await.unwrap(),
        BlobAppend::NotOffered
    );
    // Quota: complete and partial bytes count; the offer that would pass it records nothing.
    let full = vec![3u8; 60];
    let hf = sha256(&full);
    s.offer_blob(a, hf, 60, "image/png".into(), 100)
        .await
        .unwrap();
    s.append_blob(a, hf, 0, full).await.unwrap();
    let hp = sha256(b"partial");
    s.offer_blob(a, hp, 30, "image/png".into(), 100)
        .await
        .unwrap();
    s.append_blob(a, hp, 0, vec![1; 20]).await.unwrap();
    let big = sha256(b"big");
    assert_eq!(
        s.offer_blob(a, big, 21, "image/png".into(), 100)
            .await
            .unwrap(),
        BlobOffer::OverQuota {
            used: 80,
            quota: 100
        }
    );
    assert_eq!(
        s.append_blob(a, big, 0, vec![1]).await.unwrap(),
        BlobAppend::NotOffered
    );
    assert_eq!(
        s.offer_blob(a, big, 20, "image/png".into(), 100)
            .await
            .unwrap(),
        BlobOffer::Have(0)
    );
    // What the team holds already is answered whatever the quota.
    assert_eq!(
        s.offer_blob(a, hf, 60, "image/png".into(), 0)
            .await
            .unwrap(),
        BlobOffer::Have(60)
    );
}

macro_rules! store_suite {
    ($module:ident, $make:expr) => {
        mod $module {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn devices_authenticate_by_token_hash_and_revoke() {
                let (_dir, s) = $make;
                super::devices_authenticate_by_token_hash_and_revoke(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn commits_append_chunks_and_number_changes_per_team() {
                let (_dir, s) = $make;
                super::commits_append_chunks_and_number_changes_per_team(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn changed_since_pages_through_the_team_feed() {
                let (_dir, s) = $make;
                super::changed_since_pages_through_the_team_feed(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn flags_are_stored_with_their_commit() {
                let (_dir, s) = $make;
                super::flags_are_stored_with_their_commit(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn change_receipts_keep_the_true_author_of_each_change() {
                let (_dir, s) = $make;
                super::change_receipts_keep_the_true_author_of_each_change(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn blobs_append_resume_verify_and_stay_in_their_team() {
                let (_dir, s) = $make;
                super::blobs_append_resume_verify_and_stay_in_their_team(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn blobs_with_the_wrong_bytes_leave_nothing_and_quota_refuses() {
                let (_dir, s) = $make;
                super::blobs_with_the_wrong_bytes_leave_nothing_and_quota_refuses(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sync_states_and_quarantine_persist() {
                let (_dir, s) = $make;
                super::sync_states_and_quarantine_persist(s).await;
            }
        }
    };
}

store_suite!(sqlite, {
    let dir = tempfile::tempdir().unwrap();
    let store = homevisit_server::SqliteStore::open_dir(dir.path()).unwrap();
    (dir, store)
});

store_suite!(postgres, {
    let url = super::fresh_postgres_database().await;
    let store = homevisit_server::PgStore::connect(&url).await.unwrap();
    ((), store)
});

/// An empty database on the test cluster; its URL.
pub async fn fresh_postgres_database() -> String {
    const ENV: &str = "HOMEVISIT_TEST_POSTGRES";
    let url = std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "{ENV} is not set: the PostgreSQL storage tests need a cluster. Start one with \
             `eval \"$(bash .ci/postgres.sh start)\"` (Debian's postgresql package), as .ci/run does"
        )
    });
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test cluster at {url}: {e}"));
    let conn = tokio::spawn(connection);
    let name = format!("hv_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = conn.await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}
