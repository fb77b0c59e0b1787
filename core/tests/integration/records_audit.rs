//! The local audit log (`RK-AUDIT`): viewing, printing and exporting a record writes an entry
//! (user, device, record, action, instant; a purpose for exports), offline, and nobody can
//! edit or delete an entry — not through the service and not with SQL on the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::{
        common::Service,
        user::{Actor, Role},
    },
    records::{Clock, Records},
    rules::{config::RulesConfig, record_keeping::AuditAction},
    store::{db::apply_key, Encryption, Store, StoreKey},
    Error, RecordId,
};
use rusqlite::Connection;
use uuid::Uuid;

const KEY: [u8; 32] = [9u8; 32];

#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct World {
    dir: tempfile::TempDir,
    store: Arc<Store>,
    clock: Arc<TestClock>,
    team: Uuid,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_new(dir.path().join("audit.db"), StoreKey::Raw(KEY)).unwrap();
        Self {
            dir,
            store: Arc::new(store),
            clock: Arc::new(TestClock(Mutex::new(
                "2026-03-15T10:00:00Z".parse().unwrap(),
            ))),
            team: Uuid::new_v4(),
        }
    }

    fn ot(&self) -> Records {
        let actor = Actor {
            user_id: Uuid::new_v4(),
            role: Role::Ot,
            device_id: Uuid::new_v4(),
            team_id: self.team,
            hcpc_number: Some("OT123456".into()),
            hcpc_verified_until: Some(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
        };
        Records::new(
            self.store.clone(),
            actor,
            RulesConfig::default(),
            self.clock.clone(),
        )
    }

    fn child(&self, r: &Records) -> RecordId {
        r.create_child(
            "Amara",
            "Okafor",
            NaiveDate::from_ymd_opt(2016, 5, 1).unwrap(),
        )
        .unwrap()
    }

    /// A second, raw connection to the same encrypted file, as someone with the key and a
    /// SQLite shell would have.
    fn raw(&self) -> Connection {
        let conn = Connection::open(self.dir.path().join("audit.db")).unwrap();
        apply_key(&conn, &Encryption::Key(StoreKey::Raw(KEY))).unwrap();
        conn
    }
}

#[test]
fn viewing_a_record_writes_a_view_entry_with_who_where_and_when() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    assert!(
        ot.audit_log(child).unwrap().is_empty(),
        "creating is not viewing"
    );

    ot.view(child).unwrap();
    // A refresh a few minutes later is the same viewing; after the window it is a new one.
    *w.clock.0.lock().unwrap() = "2026-03-15T10:05:00Z".parse().unwrap();
    ot.view(child).unwrap();
    assert_eq!(ot.audit_log(child).unwrap().len(), 1);
    *w.clock.0.lock().unwrap() = "2026-03-15T10:10:00Z".parse().unwrap();
    ot.view(child).unwrap();
    assert_eq!(
        ot.audit_log(child).unwrap().len(),
        1,
        "covered up to the window's end"
    );
    *w.clock.0.lock().unwrap() = "2026-03-15T10:10:01Z".parse().unwrap();
    ot.view(child).unwrap();

    let log = ot.audit_log(child).unwrap();
    assert_eq!(log.len(), 2);
    let first = &log[0].entry;
    assert_eq!(first.action, AuditAction::View);
    assert_eq!(first.user_id, ot.actor().user_id);
    assert_eq!(first.device_id, ot.actor().device_id);
    assert_eq!(first.record_id, child);
    assert_eq!(first.at.to_rfc3339(), "2026-03-15T10:00:00+00:00");
    assert_eq!(first.purpose, None);
    assert_eq!(log[1].entry.at.to_rfc3339(), "2026-03-15T10:10:01+00:00");
    assert!(log[0].seq < log[1].seq);
    assert_ne!(log[0].id, log[1].id);
    assert!(
        log.iter().all(|e| e.uploaded_at.is_none()),
        "written offline"
    );
}

#[test]
fn another_user_or_device_viewing_is_logged_separately() {
    let w = World::new();
    let a = w.ot();
    let b = w.ot();
    let child = w.child(&a);
    a.view(child).unwrap();
    b.view(child).unwrap();
    a.view(child).unwrap();
    let log = a.audit_log(child).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].entry.user_id, a.actor().user_id);
    assert_eq!(log[1].entry.user_id, b.actor().user_id);
    // A print is always logged, even right after a view.
    a.record_print(child, None).unwrap();
    a.record_print(child, None).unwrap();
    assert_eq!(a.audit_log(child).unwrap().len(), 4);
}

#[test]
fn viewing_a_missing_record_is_not_found_and_logs_nothing() {
    let w = World::new();
    let ot = w.ot();
    let ghost = RecordId::new();
    assert!(matches!(ot.view(ghost), Err(Error::NotFound(id)) if id == ghost));
    assert!(w.store.audit_log(None).unwrap().is_empty());
}

#[test]
fn printing_logs_a_print_entry_and_keeps_an_optional_purpose() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    ot.record_print(child, None).unwrap();
    ot.record_print(child, Some("  for the family  ".into()))
        .unwrap();
    let log = ot.audit_log(child).unwrap();
    assert_eq!(
        log.iter().map(|e| e.entry.action).collect::<Vec<_>>(),
        [AuditAction::Print, AuditAction::Print]
    );
    assert_eq!(log[0].entry.purpose, None);
    assert_eq!(log[1].entry.purpose.as_deref(), Some("for the family"));
}

#[test]
fn an_export_needs_a_purpose_and_logs_every_exported_record() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    let form = ot.create_assessment(child, Service::Health).unwrap();
    let risk = ot.create_risk_assessment(child).unwrap();

    let refused = ot
        .export_fhir(child, "   ", "https://fhir.example.org")
        .unwrap_err();
    assert!(
        matches!(&refused, Error::InvalidInput { rule_id, .. } if rule_id == "RK-AUDIT"),
        "{refused:?}"
    );
    assert!(
        w.store.audit_log(None).unwrap().is_empty(),
        "nothing exported, nothing logged"
    );

    let bundle = ot
        .export_fhir(
            child,
            "transfer of care to the wheelchair service",
            "https://fhir.example.org",
        )
        .unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let types: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert!(types.contains(&"Patient"), "{types:?}");
    assert!(types.contains(&"QuestionnaireResponse"), "{types:?}");
    assert!(types.contains(&"RiskAssessment"), "{types:?}");

    for id in [child, form, risk] {
        let log = ot.audit_log(id).unwrap();
        assert_eq!(log.len(), 1, "{id}");
        assert_eq!(log[0].entry.action, AuditAction::Export);
        assert_eq!(
            log[0].entry.purpose.as_deref(),
            Some("transfer of care to the wheelchair service")
        );
    }
}

#[test]
fn audit_entries_cannot_be_edited_or_deleted_even_with_sql() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    ot.view(child).unwrap();
    let before = w.store.audit_log(None).unwrap();

    let raw = w.raw();
    for sql in [
        "UPDATE audit_log SET purpose = 'nothing to see'",
        "UPDATE audit_log SET user_id = '00000000-0000-0000-0000-000000000000'",
        "UPDATE audit_log SET at = '2020-01-01T00:00:00+00:00'",
        "DELETE FROM audit_log",
    ] {
        let err = raw.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("RK-AUDIT"), "{sql}: {err}");
    }
    drop(raw);
    assert_eq!(w.store.audit_log(None).unwrap(), before);
}

#[test]
fn upload_bookkeeping_marks_each_entry_once() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    ot.view(child).unwrap();
    ot.record_print(child, None).unwrap();
    let pending = w.store.pending_audit(10).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(w.store.pending_audit(1).unwrap(), pending[..1].to_vec());

    let t1: DateTime<Utc> = "2026-03-16T08:00:00Z".parse().unwrap();
    w.store.mark_audit_uploaded(&[pending[0].id], t1).unwrap();
    let left = w.store.pending_audit(10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, pending[1].id);

    // Marking again (a retried acknowledgement) keeps the first instant.
    let t2: DateTime<Utc> = "2026-03-17T08:00:00Z".parse().unwrap();
    w.store
        .mark_audit_uploaded(&[pending[0].id, pending[1].id], t2)
        .unwrap();
    let log = w.store.audit_log(Some(child)).unwrap();
    assert_eq!(log[0].uploaded_at, Some(t1));
    assert_eq!(log[1].uploaded_at, Some(t2));
    assert!(w.store.pending_audit(10).unwrap().is_empty());

    // And SQL cannot move an uploaded instant either.
    let raw = w.raw();
    let err = raw
        .execute("UPDATE audit_log SET uploaded_at = NULL", [])
        .unwrap_err();
    assert!(err.to_string().contains("RK-AUDIT"), "{err}");
}

#[test]
fn wiping_a_revoked_device_removes_the_log_and_keeps_it_append_only() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    ot.view(child).unwrap();
    w.store.wipe().unwrap();
    assert!(w.store.audit_log(None).unwrap().is_empty());

    // The store still works and the log is still protected.
    let again = w.child(&ot);
    ot.view(again).unwrap();
    let err = w.raw().execute("DELETE FROM audit_log", []).unwrap_err();
    assert!(err.to_string().contains("RK-AUDIT"), "{err}");
    assert_eq!(w.store.audit_log(None).unwrap().len(), 1);
}

#[test]
fn a_closed_store_refuses_to_show_a_record_it_cannot_log() {
    let w = World::new();
    let ot = w.ot();
    let child = w.child(&ot);
    w.store.close().unwrap();
    assert!(matches!(ot.view(child), Err(Error::DatabaseClosed)));
}
