//! Crash-test child process for `core/tests/integration/photos.rs` (`RK-PHOTO-META`: a photo
//! is stored whole or not at all).
//!
//! `photo_torture <db path>` opens the encrypted store (creating it, a child and a visit
//! record on the first run; the visit's id is kept in `sync_meta` under `torture.record`),
//! then adds photos to the visit in an endless loop, each a different camera-like JPEG. After
//! each `add_photo` *returns* it prints `added <item id>` and flushes. The test kills this
//! process with SIGKILL at random moments and checks that every photo item has both of its
//! blobs and that no blob is left without an item.

use std::{io::Write, sync::Arc};

use homevisit_core::{
    model::{
        common::Service,
        user::{Actor, Role},
    },
    records::{PhotoInput, Records, SystemClock},
    report::samples,
    rules::config::RulesConfig,
    store::{Store, StoreKey},
    Error, RecordId,
};
use uuid::Uuid;

/// The test key (a real app takes it from the platform keystore).
pub const TORTURE_KEY: [u8; 32] = [0x6b; 32];

fn run() -> Result<(), Error> {
    let Some(path) = std::env::args().nth(1) else {
        return Err(Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: "usage: photo_torture <db path>".into(),
        });
    };
    let store = Arc::new(if std::path::Path::new(&path).exists() {
        Store::open(&path, StoreKey::Raw(TORTURE_KEY))?
    } else {
        Store::create_new(&path, StoreKey::Raw(TORTURE_KEY))?
    });
    let team = Uuid::from_u128(0x7d44_4840_9dc0_41d6_bd1d_8f7a_2b5d_6a10);
    let actor = Actor {
        user_id: Uuid::from_u128(1),
        role: Role::Ot,
        device_id: Uuid::from_u128(2),
        team_id: team,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: None,
    };
    let records = Records::new(
        store.clone(),
        actor,
        RulesConfig::default(),
        Arc::new(SystemClock),
    );
    let visit: RecordId = match store.meta("torture.record")? {
        Some(id) => id.parse()?,
        None => {
            let child = records.create_child(
                "Amara",
                "Okafor",
                chrono::NaiveDate::from_ymd_opt(2016, 5, 1).unwrap_or_default(),
            )?;
            let visit = records.create_assessment(child, Service::Health)?;
            store.set_meta("torture.record", &visit.to_string())?;
            visit
        }
    };
    let mut n = records.list_all_photos(visit)?.len() as u32;
    let stdout = std::io::stdout();
    loop {
        let bytes = samples::photo_jpeg(640, 480, n);
        let input = PhotoInput {
            section: Some("D".into()),
            caption: format!("Photo {n}"),
            taken_at: None,
        };
        let p = records.add_photo(visit, &input, &bytes)?;
        let mut out = stdout.lock();
        writeln!(out, "added {}", p.item_id).map_err(|e| Error::Internal(e.to_string()))?;
        out.flush().map_err(|e| Error::Internal(e.to_string()))?;
        n += 1;
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("photo_torture: {e}");
        std::process::exit(1);
    }
}
