//! Fuzz target bodies (docs/FUZZING.md). Each `pub fn <target>(data: &[u8])` is what one
//! cargo-fuzz target in `tests/fuzz/fuzz_targets/` runs on every input, and what
//! `tests/tests/integration/fuzz_regressions.rs` replays on stable for every checked-in seed and every
//! saved crash. A body returns normally for any input; a panic (including a failed invariant
//! assert) is a finding.
//!
//! Every decoder of bytes a peer controls is covered: the CBOR protocol frame, the automerge
//! sync message inside it and the server's receive path, whole-document transfers (`hv-doc`)
//! with the server's scope and attribution checks, the `/sync` token and URL parsing and
//! document-id parsing, and the hydration of a record from a document another peer wrote.
//!
//! [`seed_corpus`] builds the checked-in seed inputs from real messages and from documents
//! saved by the real store.

use std::sync::{Once, OnceLock};

use automerge::{
    sync::{self as am_sync, SyncDoc},
    transaction::{CommitOptions, Transactable},
    ActorId, AutoCommit, Automerge, ChangeHash, LoadOptions, ObjId, ObjType, OnPartialLoad,
    ReadDoc, ScalarValue, Value, ROOT,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        assessment::Assessment,
        child::Child,
        common::{from_json, to_json, Record, Schema},
        equipment::EquipmentRequest,
        referral::Referral,
        risk::RiskAssessment,
        user::{Actor, Role},
    },
    rules::{
        assessment::{self as assessment_rules, AssessmentContext},
        child::validate_child,
        equipment::{self as equipment_rules, EquipmentContext},
        fields::Stage,
        mh::{self, MhContext},
    },
    store::{project, Store},
    sync::guard,
    sync::protocol::{
        ChangedDocument, Extension, HomeVisitMetadata, Message, PeerMetadata, RemoteHeads,
        MAX_MESSAGE_BYTES,
    },
    RecordId,
};
use homevisit_server::{
    auth::{token_from_request, token_hash},
    checks::{default_checks, CheckContext},
    docs::root_team_ids,
    store::DeviceAuth,
};
use uuid::Uuid;

/// The fuzz targets, by name (the cargo-fuzz binary names and the corpus directory names).
pub const TARGETS: [&str; 5] = [
    "protocol_message",
    "automerge_sync",
    "whole_document",
    "sync_auth",
    "record_hydration",
];

/// Runs the body of fuzz target `target` on `data`; `false` for an unknown target name.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "protocol_message" => protocol_message(data),
        "automerge_sync" => automerge_sync(data),
        "whole_document" => whole_document(data),
        "sync_auth" => sync_auth(data),
        "record_hydration" => record_hydration(data),
        _ => return false,
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Fixed identities, so that inputs replay the same way on every run.

const TEAM: Uuid = Uuid::from_u128(0x7e4a_11b0_2c5d_4f7a_9e3b_0a1c_2d3e_4f50);
const OT: Uuid = Uuid::from_u128(0x4b0c_3f3e_8f52_4a4b_9a43_3c1c_7f0e_8a11);
const DEVICE: Uuid = Uuid::from_u128(0x0d6e_1a58_52a4_4b7f_a6a9_6f1c_2b9d_0e33);
const CHILD: Uuid = Uuid::from_u128(0x5f1d_2a3b_4c5d_4e6f_8a7b_9c0d_1e2f_3a4b);
const RECORD: Uuid = Uuid::from_u128(0x6a2e_3b4c_5d6e_4f70_8b8c_9d0e_1f2a_3b4c);
#[allow(non_snake_case)]
fn CHILD_ID() -> RecordId {
    RecordId::from_uuid(CHILD)
}
#[allow(non_snake_case)]
fn RECORD_ID() -> RecordId {
    RecordId::from_uuid(RECORD)
}

fn actor() -> Actor {
    Actor {
        user_id: OT,
        role: Role::Ot,
        device_id: DEVICE,
        team_id: TEAM,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: NaiveDate::from_ymd_opt(2030, 1, 1),
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 10, 42, 7)
        .single()
        .unwrap_or_default()
}

fn uploader() -> DeviceAuth {
    DeviceAuth {
        device_id: DEVICE,
        user_id: OT,
        team_id: TEAM,
        role: Role::Ot,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
        revoked: false,
    }
}

const SCHEMAS: [Schema; 5] = [
    Schema::Child,
    Schema::Referral,
    Schema::Assessment,
    Schema::RiskAssessment,
    Schema::EquipmentRequest,
];

/// A real record document of `schema` as the document layer creates and edits it.
fn record_document(schema: Schema) -> AutoCommit {
    let a = actor();
    let (id, child) = match schema {
        Schema::Child => (CHILD_ID(), None),
        _ => (RECORD_ID(), Some(CHILD_ID())),
    };
    let mut d = doc::create(schema, id, TEAM, child, &a, at()).unwrap();
    d.set_actor(ActorId::from(&[0x11u8; 16][..]));
    if schema == Schema::Child {
        doc::set_scalar(&mut d, "given_name", Scalar::Str("Amara".into()), &a, at()).unwrap();
        doc::set_scalar(
            &mut d,
            "family_name",
            Scalar::Str("Okafor".into()),
            &a,
            at(),
        )
        .unwrap();
        doc::set_scalar(
            &mut d,
            "date_of_birth",
            Scalar::Str("2019-05-04".into()),
            &a,
            at(),
        )
        .unwrap();
        let mut alert = serde_json::Map::new();
        alert.insert("text".into(), "Dog in the house".into());
        doc::add_item(&mut d, "alerts", alert, &a, at()).unwrap();
    }
    d
}

/// One base document per schema, built once per process.
fn base_documents() -> &'static [Automerge] {
    static BASES: OnceLock<Vec<Automerge>> = OnceLock::new();
    BASES.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|s| {
                let mut d = record_document(*s);
                Automerge::load(&d.save()).unwrap()
            })
            .collect()
    })
}

/// A document as the device's store decodes received bytes (core/src/store/store.rs
/// `decode_document`): guarded, refusing a partial load.
fn device_load(data: &[u8]) -> Option<AutoCommit> {
    guard::check_chunks(data).ok()?;
    guard::guarded("a document", || {
        AutoCommit::load_with_options(
            data,
            LoadOptions::new().on_partial_load(OnPartialLoad::Error),
        )
    })
    .ok()?
    .ok()
}

/// Lets a panic inside [`guard::guarded`] unwind to the guard, which turns it into an error as
/// it does in the product, instead of aborting as libFuzzer's panic hook does for any panic.
/// Every other panic still goes to the previous hook.
fn install_panic_filter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let next = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !guard::is_guarding() {
                next(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------------------------
// protocol_message: one WebSocket frame → `Message`.

/// A CBOR frame from a peer: decode with the default limit; a message that decodes must
/// encode and decode back to itself, and a small limit refuses large frames before parsing.
pub fn protocol_message(data: &[u8]) {
    install_panic_filter();
    match Message::decode_with_limit(data, MAX_MESSAGE_BYTES) {
        Ok(msg) => {
            let _ = (msg.type_name(), msg.required_extension(), msg.document_id());
            if let Ok(again) = msg.encode() {
                let back = Message::decode(&again);
                assert_eq!(
                    back.as_ref().ok(),
                    Some(&msg),
                    "re-encoded message does not decode to itself: {back:?}"
                );
            }
            // The server's handler decodes the automerge payloads it carries.
            if let Message::Request { data, .. } | Message::Sync { data, .. } = &msg {
                let _ = guard::decode_sync_message(data);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if data.len() > 64 {
        assert!(Message::decode_with_limit(data, 64).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// The server's acceptance of received changes (server/src/docs.rs `Documents::commit`).

/// What the server does with a candidate document before committing it: scope (root
/// `team_id`), the domain checks (`RK-ATTRIB`), the incremental and full saves. A saved
/// document must load back with the same heads, or the server would store what it cannot read.
fn server_accepts(before: &[ChangeHash], base: Option<&Automerge>, candidate: &Automerge) {
    let team = TEAM.to_string();
    let claimed = root_team_ids(candidate);
    let _in_scope = !claimed.is_empty() && claimed.iter().all(|t| *t == team);
    let new_changes = candidate.get_changes(before);
    let auth = uploader();
    let ctx = CheckContext {
        team_id: TEAM,
        uploader: &auth,
        document: candidate,
        new_changes: &new_changes,
    };
    for check in default_checks() {
        let _ = check.check(&ctx);
    }
    let heads = candidate.get_heads();
    let full = candidate.save();
    let reloaded = Automerge::load(&full).expect("the server's full save does not load");
    assert_eq!(reloaded.get_heads(), heads, "full save lost heads");
    if let Some(base) = base {
        // Stored as the base's save followed by the increment, as the server's chunks are.
        let chunk = candidate.save_after(before);
        let mut rebuilt = Automerge::new();
        rebuilt.load_incremental(&base.save()).unwrap();
        rebuilt
            .load_incremental(&chunk)
            .expect("the server's incremental chunk does not load");
        assert_eq!(rebuilt.get_heads(), heads, "incremental save lost heads");
    }
}

// ---------------------------------------------------------------------------------------------
// automerge_sync: the automerge sync message inside `request`/`sync`.

/// An automerge sync message from a peer, applied as the server's `sync` handler does: to
/// an empty document (a record new to the team) and to a real record, each with a fresh sync
/// state; whatever it adds goes through the server's acceptance path, and the reply is built.
/// The first byte picks the base record; the rest is the message.
pub fn automerge_sync(data: &[u8]) {
    install_panic_filter();
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    // Decoded as the server and the device do: bloom filters automerge cannot use are refused.
    let Ok(message) = guard::decode_sync_message(payload) else {
        return;
    };
    let bases = base_documents();
    let base = &bases[usize::from(pick) % bases.len()];
    for existing in [None, Some(base)] {
        let before = existing.map(|d| d.get_heads()).unwrap_or_default();
        let mut candidate = existing.cloned().unwrap_or_else(Automerge::new);
        let mut state = am_sync::State::new();
        // Guarded as on the server: a panic inside automerge is a refused message, and the
        // candidate copy is dropped.
        let applied = guard::guarded("a sync message", || {
            candidate.receive_sync_message(&mut state, message.clone())
        });
        if !matches!(applied, Ok(Ok(()))) {
            continue;
        }
        if candidate.get_heads() != before {
            server_accepts(&before, existing, &candidate);
        }
        if let Some(reply) = candidate.generate_sync_message(&mut state) {
            let _ = reply.encode();
        }
        let _ = state.encode();
    }
}

// ---------------------------------------------------------------------------------------------
// whole_document: `hv-doc` bytes.

/// Whole-document bytes from a peer: loaded as a new record (`Automerge::load`) and merged
/// into an existing one (`load_incremental`), as the server's `hv-doc` handler does, then
/// through the acceptance path; a device receiving the same bytes hydrates the record.
pub fn whole_document(data: &[u8]) {
    install_panic_filter();
    if let Ok(doc) = guard::load_document(data) {
        server_accepts(&[], None, &doc);
        if let Some(mut device_copy) = device_load(data) {
            hydrate(&mut device_copy);
        }
    }
    let bases = base_documents();
    let base = &bases[data.len() % bases.len()];
    let mut merged = base.clone();
    if guard::load_incremental(&mut merged, data).is_ok() && merged.get_heads() != base.get_heads()
    {
        server_accepts(&base.get_heads(), Some(base), &merged);
    }
}

// ---------------------------------------------------------------------------------------------
// sync_auth: the `/sync` request line and `Authorization` header, and document ids.

/// `data` is up to three NUL-separated parts: the request target (path and query), the
/// `Authorization` header value, and a document id or `automerge:` URL. The token is taken
/// as the server does; a token that hashes is 64 hex digits; a document id that parses
/// prints back to an id that parses to the same record.
pub fn sync_auth(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == 0);
    let target = parts.next().unwrap_or_default();
    let header = parts.next();
    let id_text = parts.next();

    let query = axum::http::Uri::try_from(target)
        .ok()
        .and_then(|u| u.query().map(str::to_owned));
    let mut headers = axum::http::HeaderMap::new();
    if let Some(value) = header.and_then(|h| axum::http::HeaderValue::from_bytes(h).ok()) {
        headers.insert(axum::http::header::AUTHORIZATION, value);
    }
    if let Some(token) = token_from_request(&headers, query.as_deref()) {
        if token_hash(&token).is_some() {
            let t = token.trim();
            assert!(t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    // The query string straight from the bytes, as a client that cannot set headers sends it.
    if let Ok(raw) = std::str::from_utf8(target) {
        if let Some(token) = token_from_request(&axum::http::HeaderMap::new(), Some(raw)) {
            let _ = token_hash(&token);
        }
    }

    for text in [id_text, Some(target)].into_iter().flatten() {
        let Ok(s) = std::str::from_utf8(text) else {
            continue;
        };
        for parsed in [
            RecordId::from_document_id(s),
            RecordId::from_automerge_url(s),
            s.parse::<RecordId>(),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(
                RecordId::from_document_id(&parsed.to_document_id()).ok(),
                Some(parsed)
            );
            assert_eq!(
                RecordId::from_automerge_url(&parsed.to_automerge_url()).ok(),
                Some(parsed)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// record_hydration: a document another peer wrote → typed record, validation, projection.

/// Every way a device reads a record from its document: the generic JSON view, the envelope,
/// the projection for the list screens, the typed model of every schema, the rules run on a
/// typed record, conflicts, signing state, addenda and history. Errors are fine (the record
/// is shown as corrupt); panics are not. A typed record that reads must serialize and read
/// back.
pub fn hydrate(d: &mut AutoCommit) {
    let id = doc::record_id(d).unwrap_or(RECORD_ID());
    let _ = doc::record_schema(d);
    let _ = project(id, d);
    for path in [
        "schema",
        "team_id",
        "record_status.state",
        "alerts",
        "child_id",
    ] {
        let _ = doc::value_at(d, path, None);
    }
    let _ = doc::sign_state(d);
    let _ = doc::record_status(d);
    let _ = doc::effective_view(d);
    let _ = doc::signed_view(d);
    let _ = doc::addenda(d);
    let _ = doc::flags(d);
    let _ = doc::conflicts(d);
    let _ = doc::open_sign_races(d);
    let _ = doc::is_entered_in_error(d);
    let Ok(json) = doc::to_json(d) else {
        return;
    };
    // Only for documents the JSON view accepts (at most 64 levels deep): automerge's diff,
    // which history runs per change, grows with the square of the nesting depth, and one
    // input 1,750 levels deep took seconds — too slow to fuzz (docs/FUZZING.md).
    let _ = doc::history(d);
    let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default();
    if let Some(c) = typed::<Child>(&json) {
        let _ = validate_child(&c, &[], today, Stage::Final);
    }
    let _ = typed::<Referral>(&json);
    if let Some(a) = typed::<Assessment>(&json) {
        let ctx = AssessmentContext {
            stage: Stage::Final,
            service: None,
            photo_attached: false,
            sign_date: Some(today),
        };
        let _ = assessment_rules::validate(&a, &ctx);
    }
    let ra = typed::<RiskAssessment>(&json);
    if let Some(ra) = &ra {
        let ctx = MhContext {
            stage: Stage::Final,
            sign_date: Some(today),
            child_weights: &[],
            ..MhContext::default()
        };
        let _ = mh::validate(ra, &ctx);
    }
    if let Some(req) = typed::<EquipmentRequest>(&json) {
        let ctx = EquipmentContext {
            stage: Stage::Final,
            as_of: today,
            risk_assessment: ra.as_ref(),
            thresholds: Default::default(),
        };
        let _ = equipment_rules::validate(&req, &ctx);
    }
}

fn typed<R: Record>(json: &serde_json::Value) -> Option<R> {
    let r: R = from_json(json.clone()).ok()?;
    let written = to_json(&r).expect("a typed record that reads does not serialize");
    if let Err(e) = from_json::<R>(written) {
        panic!("a typed record does not read back what it wrote: {e}");
    }
    Some(r)
}

/// The first four bytes of every saved automerge document.
const AUTOMERGE_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// A record document shaped by `data`, then hydrated. Input that starts with automerge's
/// magic bytes is a saved document; anything else is a small program of edits a stock
/// automerge client may make to a real record (see [`Program`]): wrong types at known
/// paths, lists where maps belong, deep nesting, huge strings and lists, concurrent edits
/// and arbitrary change messages.
pub fn record_hydration(data: &[u8]) {
    install_panic_filter();
    if data.starts_with(&AUTOMERGE_MAGIC) {
        if let Some(mut d) = device_load(data) {
            hydrate(&mut d);
        }
        return;
    }
    let mut p = Program {
        data,
        pos: 0,
        budget: 12_000,
    };
    let bases = base_documents();
    let base = &bases[usize::from(p.byte()) % bases.len()];
    let mut d = AutoCommit::load(&base.save()).unwrap();
    d.set_actor(ActorId::from(&[0x22u8; 16][..]));
    let mut steps = 0;
    while !p.done() && steps < 64 {
        steps += 1;
        if p.byte() % 8 == 7 {
            // A concurrent edit from another peer, merged: conflicts on the same keys.
            let mut other = d.fork();
            other.set_actor(ActorId::from(&[0x33u8, steps][..]));
            p.step(&mut other);
            let _ = d.merge(&mut other);
        } else {
            p.step(&mut d);
        }
    }
    hydrate(&mut d);
}

/// Known paths of the document layout (docs/DOCUMENT-LAYOUT.md) that edits aim at.
const PATHS: &[&str] = &[
    "schema",
    "schema_version",
    "id",
    "team_id",
    "child_id",
    "created_at",
    "created_by",
    "record_status",
    "record_status.state",
    "acks",
    "flags",
    "sign_race_decisions",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "alerts",
    "weights",
    "weights.w1.value_kg",
    "weights.w1.measured_on",
    "address.postcode",
    "service",
    "status",
    "referral.reasons",
    "referral.referrer.role",
    "sections",
    "sections.a.visit_date",
    "signature",
    "signature.user_id",
    "countersignature",
    "addenda",
    "tasks",
    "tasks.t1.method",
    "tasks.t1.initial.likelihood",
    "lifting_equipment",
    "items",
    "category",
    "risk_assessment_id",
    "measurements.seat_width_mm.value",
];

/// A byte-driven sequence of raw automerge edits.
struct Program<'a> {
    data: &'a [u8],
    pos: usize,
    /// What is left of the input's size budget (list elements, nesting levels, 16-byte units
    /// of string): one 10,000-element list and 2,000 levels fit; building more per input
    /// would only slow the fuzzer down (the reading side is what is under test).
    budget: usize,
}

impl Program<'_> {
    fn spend(&mut self, n: usize) -> usize {
        let n = n.min(self.budget);
        self.budget -= n;
        n
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }

    /// A length-prefixed string (lossy UTF-8), at most 255 bytes of input.
    fn text(&mut self) -> String {
        let n = usize::from(self.byte());
        let end = (self.pos + n).min(self.data.len());
        let s = String::from_utf8_lossy(self.data.get(self.pos..end).unwrap_or_default());
        self.pos = end.max(self.pos);
        s.into_owned()
    }

    fn path(&mut self) -> Vec<String> {
        let b = self.byte();
        if usize::from(b) < PATHS.len() * 4 {
            PATHS[usize::from(b) % PATHS.len()]
                .split('.')
                .map(str::to_owned)
                .collect()
        } else {
            self.text().split('.').map(str::to_owned).collect()
        }
    }

    fn scalar(&mut self) -> ScalarValue {
        match self.byte() % 10 {
            0 => ScalarValue::Null,
            1 => ScalarValue::Boolean(self.byte() & 1 == 1),
            2 => ScalarValue::Int(self.u64() as i64),
            3 => ScalarValue::Uint(self.u64()),
            4 => ScalarValue::F64(f64::from_bits(self.u64())),
            5 => ScalarValue::Counter((self.u64() as i64).into()),
            6 => ScalarValue::Timestamp(self.u64() as i64),
            7 => ScalarValue::Bytes(self.text().into_bytes()),
            8 => ScalarValue::Str(
                [
                    "homevisit/child",
                    "homevisit/assessment",
                    "entered_in_error",
                    "2026-02-30",
                    "9434765919",
                    "ot",
                ][usize::from(self.byte()) % 6]
                    .into(),
            ),
            _ => ScalarValue::Str(self.text().into()),
        }
    }

    /// The object at `segments[..len-1]`, creating maps where nothing is; a scalar on the
    /// way is replaced by a map, as a careless peer would.
    fn parent(&mut self, d: &mut AutoCommit, segments: &[String]) -> Option<(ObjId, String)> {
        let (last, init) = segments.split_last()?;
        let mut obj = ROOT;
        for seg in init {
            obj = match d.get(&obj, seg.as_str()).ok().flatten() {
                Some((Value::Object(ObjType::Map | ObjType::Table), id)) => id,
                Some((Value::Object(ObjType::List), id)) => {
                    let len = d.length(&id);
                    if len == 0 {
                        return None;
                    }
                    match d.get(&id, 0).ok().flatten() {
                        Some((Value::Object(ObjType::Map), inner)) => inner,
                        _ => return None,
                    }
                }
                _ => d.put_object(&obj, seg.as_str(), ObjType::Map).ok()?,
            };
        }
        Some((obj, last.clone()))
    }

    fn step(&mut self, d: &mut AutoCommit) {
        let op = self.byte() % 8;
        let segments = self.path();
        let Some((obj, key)) = self.parent(d, &segments) else {
            return;
        };
        let key = key.as_str();
        let _ = match op {
            // A scalar of any type where the layout expects something else.
            0 | 1 => {
                let v = self.scalar();
                d.put(&obj, key, v).map(drop)
            }
            // A list where a map (or a scalar) belongs, with up to 10,000 elements.
            2 => {
                let want = usize::from(self.u16()) % 10_001;
                let n = self.spend(want);
                let v = self.scalar();
                d.put_object(&obj, key, ObjType::List)
                    .and_then(|list| d.splice(&list, 0, 0, std::iter::repeat_n(v, n)))
            }
            // Deep nesting of maps and lists.
            3 => {
                let want = usize::from(self.u16()) % 2_000;
                let depth = self.spend(want);
                let mut at = d.put_object(&obj, key, ObjType::Map);
                for i in 0..depth {
                    at = at.and_then(|o| {
                        if i % 2 == 0 {
                            d.put_object(&o, "x", ObjType::List)
                        } else {
                            d.put_object(&o, "y", ObjType::Map)
                        }
                    });
                    // A list element is inserted, not put.
                    if let Ok(o) = &at {
                        if matches!(d.object_type(o), Ok(ObjType::List)) {
                            at = d.insert_object(o, 0, ObjType::Map);
                        }
                    }
                }
                at.map(drop)
            }
            // A huge string (up to 1 MiB) or a text object.
            4 => {
                let want = usize::from(self.u16());
                let n = self.spend(want) * 16;
                let c = char::from(b'a' + self.byte() % 26);
                if n.is_multiple_of(2) {
                    d.put(&obj, key, c.to_string().repeat(n)).map(drop)
                } else {
                    d.put_object(&obj, key, ObjType::Text)
                        .and_then(|t| d.splice_text(&t, 0, 0, &c.to_string().repeat(n)))
                }
            }
            // An item map of a `CF-LIST` list with a fuzz item id and fields.
            5 => {
                let item = self.text();
                d.put_object(&obj, key, ObjType::Map).and_then(|m| {
                    let it = d.put_object(&m, item.as_str(), ObjType::Map)?;
                    let field = self.text();
                    let v = self.scalar();
                    d.put(&it, field.as_str(), v)
                })
            }
            // Deleted.
            6 => d.delete(&obj, key),
            // A change with an arbitrary message (the change metadata `RK-ATTRIB` reads).
            _ => {
                let msg = self.text();
                let v = self.scalar();
                let r = d.put(&obj, key, v);
                d.commit_with(CommitOptions::default().with_message(msg));
                r
            }
        };
        if self.byte().is_multiple_of(2) {
            d.commit();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Seed corpora.

/// Seed inputs for every target: `(target, file name, bytes)`. Messages come from the protocol
/// types, documents from the real store (saved records and increments), sync messages from a
/// real sync exchange between a device's copy and an empty peer.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create_new_plain_for_tests_and_demo(dir.path().join("seed.db")).unwrap();
    let a = actor();
    let child = record_document(Schema::Child);
    store.create(CHILD_ID(), child).unwrap();
    let assessment = record_document(Schema::Assessment);
    store.create(RECORD_ID(), assessment).unwrap();
    let before = store.local_heads(CHILD_ID()).unwrap().unwrap_or_default();
    store
        .edit(CHILD_ID(), |d| {
            doc::set_scalar(d, "nhs_number", Scalar::Str("9434765919".into()), &a, at())
        })
        .unwrap();
    let child_doc = store.save_document(CHILD_ID()).unwrap().unwrap();
    let assessment_doc = store.save_document(RECORD_ID()).unwrap().unwrap();
    let increment = store
        .read(CHILD_ID(), |d| Ok(d.save_after(&before)))
        .unwrap();

    out.push((
        "whole_document",
        "child.automerge".into(),
        child_doc.clone(),
    ));
    out.push((
        "whole_document",
        "assessment.automerge".into(),
        assessment_doc.clone(),
    ));
    out.push((
        "whole_document",
        "child-increment.automerge".into(),
        increment,
    ));
    out.push((
        "record_hydration",
        "child.automerge".into(),
        child_doc.clone(),
    ));
    out.push((
        "record_hydration",
        "assessment.automerge".into(),
        assessment_doc.clone(),
    ));
    // Programs: base schema byte, then (merge?, op, path, args…) steps.
    let programs: [(&str, Vec<u8>); 6] = [
        // team_id becomes an integer on a child record.
        (
            "wrong-type-team-id",
            vec![0, 0, 0, 3, 2, 7, 0, 0, 0, 0, 0, 0, 0, 1],
        ),
        // alerts becomes a 300-element list of nulls.
        ("alerts-as-list", vec![0, 0, 2, 17, 44, 1, 0, 1]),
        // given_name is nested 40 levels deep.
        ("deep-given-name", vec![0, 0, 3, 12, 40, 0, 1]),
        // schema deleted from an assessment.
        ("missing-schema", vec![2, 0, 6, 0, 1]),
        // a 64 KiB family name, concurrently with a number.
        (
            "huge-family-name",
            vec![
                0, 0, 4, 13, 0, 16, 3, 1, 7, 0, 13, 2, 42, 0, 0, 0, 0, 0, 0, 0, 1,
            ],
        ),
        // a change with a message that is not attribution JSON.
        (
            "odd-change-message",
            vec![
                1, 0, 7, 15, 5, b'h', b'e', b'l', b'l', b'o', 9, 2, b'x', b'y', 0,
            ],
        ),
    ];
    for (name, bytes) in programs {
        out.push(("record_hydration", format!("{name}.program"), bytes));
    }

    // A real sync exchange: the device has the child, the server has nothing.
    let device_doc = Automerge::load(&child_doc).unwrap();
    let mut empty = Automerge::new();
    let (mut s_dev, mut s_srv) = (am_sync::State::new(), am_sync::State::new());
    let mut sync_messages = Vec::new();
    for _ in 0..6 {
        if let Some(m) = device_doc.generate_sync_message(&mut s_dev) {
            sync_messages.push(m.clone().encode());
            empty.receive_sync_message(&mut s_srv, m).unwrap();
        }
        if let Some(m) = empty.generate_sync_message(&mut s_srv) {
            sync_messages.push(m.clone().encode());
            let mut dev = device_doc.clone();
            dev.receive_sync_message(&mut s_dev, m).unwrap();
        }
    }
    for (i, m) in sync_messages.iter().take(4).enumerate() {
        let mut input = vec![0u8];
        input.extend_from_slice(m);
        out.push(("automerge_sync", format!("exchange-{i}.sync"), input));
    }

    // Protocol frames: one of every message type.
    let peer = |s: &str| s.to_string();
    let data = sync_messages.first().cloned().unwrap_or_default();
    let heads = device_doc.get_heads();
    let small_doc = {
        let mut d = AutoCommit::new();
        d.set_actor(ActorId::from(&[0x44u8; 16][..]));
        d.put(ROOT, "team_id", TEAM.to_string()).unwrap();
        d.save()
    };
    let messages = vec![
        Message::Join {
            sender_id: peer("device-1"),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some("storage-1".into()),
                is_ephemeral: Some(false),
                homevisit: Some(HomeVisitMetadata::all()),
            }),
        },
        Message::Peer {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            selected_protocol_version: "1".into(),
            peer_metadata: None,
        },
        Message::Leave {
            sender_id: peer("device-1"),
        },
        Message::Request {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            document_id: CHILD_ID(),
            data: data.clone(),
        },
        Message::Sync {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            document_id: CHILD_ID(),
            data,
        },
        Message::DocUnavailable {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            document_id: RECORD_ID(),
        },
        Message::Ephemeral {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            count: 3,
            session_id: "s".into(),
            document_id: CHILD_ID(),
            data: vec![0xa0],
        },
        Message::RemoteSubscriptionChange {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            add: vec!["storage-2".into()],
            remove: vec![],
        },
        Message::RemoteHeadsChanged {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            document_id: CHILD_ID(),
            new_heads: [(
                "storage-2".to_string(),
                RemoteHeads {
                    heads: vec![CHILD_ID().to_document_id()],
                    timestamp: 1_773_571_327_000,
                },
            )]
            .into_iter()
            .collect(),
        },
        Message::Error {
            sender_id: None,
            target_id: Some(peer("device-1")),
            message: "malformed CBOR".into(),
        },
        Message::CatchupRequest {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            cursor: 12,
            changed_document_ids: vec![CHILD_ID()],
        },
        Message::CatchupResponse {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            changed: vec![ChangedDocument {
                document_id: CHILD_ID(),
                heads: heads.clone(),
            }],
            missing: vec![RECORD_ID()],
            cursor: 13,
            more: false,
        },
        Message::Doc {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            document_id: RECORD_ID(),
            data: small_doc,
            heads: heads.clone(),
        },
        Message::Ack {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            document_id: CHILD_ID(),
            heads: heads.clone(),
        },
        Message::Reject {
            sender_id: peer("server"),
            target_id: peer("device-1"),
            document_id: RECORD_ID(),
            reason: "not this team's".into(),
        },
        Message::Revoked {
            sender_id: peer("server"),
            reason: "revoked".into(),
        },
        Message::Batch {
            sender_id: peer("device-1"),
            target_id: peer("server"),
            messages: vec![Message::Ack {
                sender_id: peer("server"),
                target_id: peer("device-1"),
                document_id: CHILD_ID(),
                heads,
            }],
        },
    ];
    for m in messages {
        out.push((
            "protocol_message",
            format!("{}.cbor", m.type_name()),
            m.encode().unwrap(),
        ));
    }
    let _ = Extension::ALL;

    // Request targets, Authorization values and document ids.
    let token = "0123456789abcdef".repeat(4);
    let auth_seeds: [(&str, String); 6] = [
        (
            "query-token",
            format!("/sync?token={token}\0\0{}", CHILD_ID().to_document_id()),
        ),
        (
            "bearer",
            format!("/sync\0Bearer {token}\0{}", CHILD_ID().to_automerge_url()),
        ),
        (
            "bearer-lowercase",
            format!("/sync?a=1\0bearer  {token} \0{}", CHILD_ID()),
        ),
        (
            "both",
            format!("/sync?x=&token={token}&token=zz\0Basic abc\0automerge:"),
        ),
        (
            "bad-token",
            "/sync?token=zz\0Bearer\x00111111111111111111111".into(),
        ),
        (
            "absolute",
            format!(
                "ws://127.0.0.1:8080/sync?token={token}\0\0{}",
                RECORD_ID().to_document_id()
            ),
        ),
    ];
    for (name, s) in auth_seeds {
        out.push(("sync_auth", format!("{name}.txt"), s.into_bytes()));
    }
    out
}
