//! `sync_bench`: the HomeVisit side of the sync benchmark (docs/BENCHMARKS.md, "Sync against
//! the automerge-repo sync server"). A device is a real encrypted `homevisit-core` store with
//! its `SyncClient`; the driver `tests/interop-js/bench/run.mjs` runs these commands, puts a
//! byte- and frame-counting proxy between the device and the server, and runs the same
//! documents through a stock automerge-repo client and server.
//!
//! ```text
//! sync_bench seed --store PATH --team TEAM_ID --user USER_ID --count N --export DIR
//!     creates N child records in one transaction and writes each document's saved bytes to
//!     DIR/<document id> (the same documents are imported into the JS side)
//!     → {"created":N,"bytes":…}
//! sync_bench edit --store PATH --team TEAM_ID --user USER_ID --count N --value TEXT
//!     sets `preferred_name` to TEXT in N records (the first N ids in order) → {"edited":N}
//!     (setting the value a field already has is no change: give a new TEXT each round)
//! sync_bench sync --store PATH --url ws://…/sync --token TOKEN
//!     one sync session, timed from connect to the stored cursor → the report and "wall_ms"
//! ```
//!
//! Each command prints one JSON line on stdout; errors go to stderr with a non-zero exit code.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Instant};

use chrono::Utc;
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    store::{Store, StoreKey},
    sync::SyncClient,
    RecordId,
};
use serde_json::{json, Value};
use uuid::Uuid;

use homevisit_tests::cli::{main_with, Args, BoxError};

/// The store key of every benchmark device (a fixture, not a secret).
const KEY: [u8; 32] = [9u8; 32];

const GIVEN: [&str; 8] = [
    "Amara", "Kwame", "Ife", "Tolu", "Zuri", "Nia", "Olu", "Sade",
];
const FAMILY: [&str; 6] = ["Okafor", "Mensah", "Adeyemi", "Bello", "Smith", "Jones"];

fn main() -> ExitCode {
    main_with("sync_bench", run)
}

fn count(args: &Args) -> Result<usize, BoxError> {
    Ok(args.get("count")?.parse()?)
}

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

fn run(args: &[String]) -> Result<Value, BoxError> {
    let (command, rest) = args
        .split_first()
        .ok_or("usage: sync_bench seed|edit|sync --store PATH …")?;
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
        "seed" => {
            let actor = actor(&args)?;
            let n = count(&args)?;
            let out = PathBuf::from(args.get("export")?);
            std::fs::create_dir_all(&out)?;
            let now = Utc::now();
            let mut docs = Vec::with_capacity(n);
            for i in 0..n {
                let id = RecordId::new();
                let mut d = doc::create(Schema::Child, id, actor.team_id, None, &actor, now)?;
                for (path, value) in [
                    ("given_name", GIVEN[i % GIVEN.len()]),
                    ("family_name", FAMILY[i % FAMILY.len()]),
                    ("date_of_birth", "2016-04-12"),
                    ("school_name", "Riverside Primary"),
                ] {
                    doc::set_scalar(&mut d, path, Scalar::Str(value.into()), &actor, now)?;
                }
                docs.push((id, d));
            }
            let ids: Vec<RecordId> = docs.iter().map(|(id, _)| *id).collect();
            store.create_batch(docs)?;
            let mut bytes = 0u64;
            for id in &ids {
                let saved = store
                    .save_document(*id)?
                    .ok_or_else(|| format!("record {id} vanished from the store"))?;
                bytes += saved.len() as u64;
                std::fs::write(out.join(id.to_document_id()), saved)?;
            }
            Ok(json!({ "created": n, "bytes": bytes }))
        }
        "edit" => {
            let actor = actor(&args)?;
            let n = count(&args)?;
            let value = args.get("value")?;
            let mut ids = store.ids()?;
            ids.sort();
            if ids.len() < n {
                return Err(
                    format!("the store holds {} records, fewer than {n}", ids.len()).into(),
                );
            }
            for id in ids.iter().take(n) {
                store.edit(*id, |d| {
                    doc::set_scalar(
                        d,
                        "preferred_name",
                        Scalar::Str(value.into()),
                        &actor,
                        Utc::now(),
                    )
                })?;
            }
            Ok(json!({ "edited": n }))
        }
        "sync" => {
            let client = SyncClient::new(args.get("url")?, args.get("token")?, Arc::clone(&store))?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let start = Instant::now();
            let r = runtime.block_on(client.sync(|_| {}))?;
            let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
            Ok(json!({
                "wall_ms": wall_ms,
                "docs_sent": r.docs_sent,
                "docs_received": r.docs_received,
                "docs_synced": r.docs_synced,
                "bytes_sent": r.bytes_sent,
                "bytes_received": r.bytes_received,
                "handshake_bytes": r.handshake_bytes,
                "round_trips": r.round_trips,
                "failed": r.failed.len(),
                "rejected": r.rejected.len(),
                "cursor": r.cursor,
                "records": store.document_count()?,
                "unsynced": store.unsynced_ids()?.len(),
            }))
        }
        other => Err(format!("unknown command {other:?}").into()),
    }
}
