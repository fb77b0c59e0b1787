//! `interop_device`: one HomeVisit device (the real encrypted `homevisit-core` store and its
//! `SyncClient`) driven from the command line, so that a test in another language (the stock
//! automerge-repo client in `tests/interop-js`) can make a record on a device, sync it, and
//! read what arrived. Each command prints one JSON line on stdout; errors go to stderr with a
//! non-zero exit code.
//!
//! ```text
//! interop_device create-child --store PATH --team TEAM_ID --user USER_ID --given-name NAME
//!                             [--url ws://…/sync --token TOKEN]
//!     → {"id":"<uuid>","document_id":"<base58check>","url":"automerge:<…>","synced":bool}
//! interop_device set   --store PATH --team TEAM_ID --user USER_ID --id ID --path PATH --value TEXT
//!     → {"heads":[…]}  (a string field, edited through the document layer)
//! interop_device sync  --store PATH --url ws://…/sync --token TOKEN     → the sync report
//! interop_device get   --store PATH --id ID [--path a.b]               → {"value":…}
//! interop_device status --store PATH --id ID                            → {"status":"synced"}
//! ```
//!
//! `ID` is a UUID, a base58check document id or an `automerge:` URL. The store is keyed with a
//! fixed test key. `create-child` acts as an OT of `--team` (user `--user`) through the
//! document layer, so the record carries `RK-ATTRIB` change metadata as on a tablet.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use chrono::Utc;
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    store::{Store, StoreKey},
    sync::{SyncClient, SyncReport},
    RecordId,
};
use serde_json::{json, Value};
use uuid::Uuid;

use homevisit_tests::cli::{main_with, Args, BoxError};

/// The store key of every interop device (a test fixture, not a secret).
const KEY: [u8; 32] = [7u8; 32];

fn main() -> ExitCode {
    main_with("interop_device", run)
}

fn run(args: &[String]) -> Result<Value, BoxError> {
    let (command, rest) = args
        .split_first()
        .ok_or("usage: interop_device create-child|set|sync|get|status --store PATH …")?;
    let args = Args::parse(rest)?;
    // A path with no file yet is a new tablet: the tool creates its store there; any other
    // path must hold a store (a missing or empty file where one was expected is an error).
    let path = PathBuf::from(args.get("store")?);
    let store = Arc::new(if path.exists() {
        Store::open(path, StoreKey::Raw(KEY))?
    } else {
        Store::create_new(path, StoreKey::Raw(KEY))?
    });
    match command.as_str() {
        "create-child" => {
            let actor = actor(&args)?;
            let id = RecordId::new();
            let now = Utc::now();
            let mut d = doc::create(Schema::Child, id, actor.team_id, None, &actor, now)?;
            doc::set_scalar(
                &mut d,
                "given_name",
                Scalar::Str(args.get("given-name")?.into()),
                &actor,
                now,
            )?;
            store.create(id, d)?;
            let synced = match (args.opt("url"), args.opt("token")) {
                (Some(url), Some(token)) => {
                    let report = sync(&store, url, token)?;
                    report.failed.is_empty() && report.rejected.is_empty()
                }
                _ => false,
            };
            Ok(json!({
                "id": id.uuid().to_string(),
                "document_id": id.to_document_id(),
                "url": id.to_automerge_url(),
                "synced": synced,
                "status": store.sync_status(id)?.as_str(),
            }))
        }
        "set" => {
            let actor = actor(&args)?;
            let id = parse_id(args.get("id")?)?;
            let path = args.get("path")?;
            let value = args.get("value")?;
            store.edit(id, |d| {
                doc::set_scalar(d, path, Scalar::Str(value.into()), &actor, Utc::now())
            })?;
            let heads = store.local_heads(id)?.unwrap_or_default();
            Ok(json!({ "heads": heads.iter().map(|h| h.to_string()).collect::<Vec<_>>() }))
        }
        "sync" => {
            let report = sync(&store, args.get("url")?, args.get("token")?)?;
            Ok(report_json(&report))
        }
        "get" => {
            let id = parse_id(args.get("id")?)?;
            if !store.contains(id)? {
                return Ok(json!({ "present": false, "value": null }));
            }
            let value = match args.opt("path") {
                Some(path) => store.read(id, |d| doc::value_at(d, path, None))?,
                None => Some(store.read(id, |d| doc::to_json(d))?),
            };
            Ok(json!({ "present": true, "value": value }))
        }
        "status" => {
            let id = parse_id(args.get("id")?)?;
            Ok(json!({ "status": store.sync_status(id)?.as_str() }))
        }
        other => Err(format!("unknown command {other:?}").into()),
    }
}

/// The OT of `--team`, user `--user`, on this device.
fn actor(args: &Args) -> Result<Actor, BoxError> {
    Ok(Actor {
        user_id: Uuid::parse_str(args.get("user")?)?,
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: Uuid::parse_str(args.get("team")?)?,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
    })
}

/// A UUID, a base58check document id, or an `automerge:` URL.
fn parse_id(s: &str) -> Result<RecordId, BoxError> {
    if let Ok(uuid) = Uuid::parse_str(s) {
        return Ok(RecordId::from_uuid(uuid));
    }
    if s.starts_with("automerge:") {
        return Ok(RecordId::from_automerge_url(s)?);
    }
    Ok(RecordId::from_document_id(s)?)
}

/// One sync session with the team server.
fn sync(store: &Arc<Store>, url: &str, token: &str) -> Result<SyncReport, BoxError> {
    let client = SyncClient::new(url, token, Arc::clone(store))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(client.sync(|_| {}))?)
}

fn report_json(r: &SyncReport) -> Value {
    json!({
        "docs_sent": r.docs_sent,
        "docs_received": r.docs_received,
        "docs_synced": r.docs_synced,
        "bytes_sent": r.bytes_sent,
        "bytes_received": r.bytes_received,
        "handshake_bytes": r.handshake_bytes,
        "round_trips": r.round_trips,
        "conflicts": r.conflicts,
        "rejected": r.rejected.iter().map(|p| json!({"id": p.id.uuid().to_string(), "reason": p.reason})).collect::<Vec<_>>(),
        "failed": r.failed.iter().map(|p| json!({"id": p.id.uuid().to_string(), "reason": p.reason})).collect::<Vec<_>>(),
        "cursor": r.cursor,
    })
}
