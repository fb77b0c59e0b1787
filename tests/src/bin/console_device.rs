//! `console_device`: a tablet for the team console's browser test (tests/console). The real
//! encrypted `homevisit-core` store, the core's record service and its `SyncClient`, driven
//! from the command line; each command prints one JSON line on stdout, errors go to stderr
//! with exit code 1. The user acts in `--role` (ap, ot or approver) of `--team`, on the
//! device the server registered as `--device D` (every command that edits takes it).
//!
//! ```text
//! console_device seed   --store P --team T --user U --role R --device D --child-name NAME [--url U --token K]
//!     → {"child":"<uuid>","request":"<uuid>"}   a child (with a home-safety alert) and a
//!        submitted bathing-aids request by this user; synced when --url is given
//! console_device sync   --store P --url U --token K  → {"revoked":bool,"documents":n,…report}
//! console_device status --store P --team T --user U --role R --device D --id REQUEST → {"status":"approved"}
//! console_device view   --store P --team T --user U --role R --device D --id RECORD  → {"viewed":true}
//!        (offline: the core writes its RK-AUDIT view entry, uploaded at the next sync)
//! console_device audit  --store P  → {"pending":n}  entries the server does not have yet
//! ```

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use chrono::NaiveDate;
use homevisit_core::{
    model::{
        common::Service,
        equipment::{Category, EquipmentRequest, Status},
        user::{Actor, Role},
    },
    records::{FieldValue, Records, SystemClock},
    rules::{
        config::RulesConfig,
        workflow::{self, TransitionInput},
    },
    store::{Store, StoreKey},
    sync::SyncClient,
    Error, RecordId,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use homevisit_tests::cli::{main_with, Args, BoxError};

/// The store key of every test tablet (a test fixture, not a secret).
const KEY: [u8; 32] = [9u8; 32];

fn main() -> ExitCode {
    main_with("console_device", run)
}

fn run(args: &[String]) -> Result<Value, BoxError> {
    let (command, rest) = args
        .split_first()
        .ok_or("usage: console_device seed|sync|status|view|audit --store PATH …")?;
    let args = Args::parse(rest)?;
    // `seed` sets up a new tablet; every other command opens the one it made.
    let path = PathBuf::from(args.get("store")?);
    let store = Arc::new(if command == "seed" {
        Store::create_new(path, StoreKey::Raw(KEY))?
    } else {
        Store::open(path, StoreKey::Raw(KEY))?
    });
    match command.as_str() {
        "seed" => {
            let records = records(&store, &args)?;
            let child = records.create_child(
                args.get("child-name")?,
                args.opt("family-name").unwrap_or("Example"),
                NaiveDate::from_ymd_opt(2016, 5, 14).ok_or("date")?,
            )?;
            records.add_item(
                child,
                "alerts",
                obj(json!({ "kind": "home_safety", "text": "Dog in the house" })),
            )?;
            let req = records.create_equipment_request(
                child,
                Service::SocialCare,
                Category::BathingAids,
            )?;
            records.add_item(
                req,
                "items",
                obj(json!({ "description": "Bath seat", "quantity": 1 })),
            )?;
            records.set_text(
                req,
                "clinical_justification",
                "Cannot sit unsupported in the bath",
            )?;
            let today = chrono::Utc::now().date_naive().to_string();
            for (key, v) in [("weight_kg", 324), ("bath_rim_height_mm", 550)] {
                records.set_field(
                    req,
                    &format!("measurements.{key}.value"),
                    FieldValue::Int(v),
                )?;
                records.set_field(
                    req,
                    &format!("measurements.{key}.measured_on"),
                    FieldValue::Str(today.clone()),
                )?;
            }
            records.transition(
                req,
                Status::Submitted,
                TransitionInput::at(chrono::Utc::now()),
            )?;
            if let (Some(url), Some(token)) = (args.opt("url"), args.opt("token")) {
                sync(&store, url, token)?;
            }
            Ok(json!({ "child": child.to_string(), "request": req.to_string() }))
        }
        "sync" => {
            let url = args.get("url")?;
            let token = args.get("token")?;
            match sync(&store, url, token) {
                Ok(report) => Ok(json!({
                    "revoked": false,
                    "documents": store.document_count()?,
                    "docs_sent": report.docs_sent,
                    "docs_received": report.docs_received,
                    "pending_audit": store.pending_audit(10_000)?.len(),
                })),
                Err(Error::Revoked) => Ok(json!({
                    "revoked": true,
                    "documents": store.document_count()?,
                })),
                Err(e) => Err(e.into()),
            }
        }
        "status" => {
            let records = records(&store, &args)?;
            let id: RecordId = args.get("id")?.parse()?;
            let req: EquipmentRequest = records.typed(id)?;
            Ok(json!({ "status": workflow::status(&req).code() }))
        }
        "view" => {
            let records = records(&store, &args)?;
            let id: RecordId = args.get("id")?.parse()?;
            records.view(id)?;
            Ok(json!({ "viewed": true }))
        }
        "audit" => Ok(json!({ "pending": store.pending_audit(10_000)?.len() })),
        other => Err(format!("unknown command {other:?}").into()),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The record service as `--user` in `--role` on this tablet.
fn records(store: &Arc<Store>, args: &Args) -> Result<Records, BoxError> {
    let role = Role::parse(args.get("role")?).ok_or("--role must be ap, ot or approver")?;
    // The id the server registered this tablet under: the server attributes every change to
    // the connection's device, and flags a change that claims another (RK-ATTRIB).
    let device_id = Uuid::parse_str(args.get("device")?)?;
    let registered = matches!(role, Role::Ot | Role::Approver);
    let actor = Actor {
        user_id: Uuid::parse_str(args.get("user")?)?,
        role,
        device_id,
        team_id: Uuid::parse_str(args.get("team")?)?,
        hcpc_number: registered.then(|| "OT12345".into()),
        hcpc_verified_until: if registered {
            NaiveDate::from_ymd_opt(2030, 1, 1)
        } else {
            None
        },
    };
    Ok(Records::new(
        Arc::clone(store),
        actor,
        RulesConfig::default(),
        Arc::new(SystemClock),
    ))
}

/// One sync session with the team server.
fn sync(
    store: &Arc<Store>,
    url: &str,
    token: &str,
) -> Result<homevisit_core::sync::SyncReport, Error> {
    let client = SyncClient::new(url, token, Arc::clone(store))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    runtime.block_on(client.sync(|_| {}))
}
