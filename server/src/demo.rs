//! `homevisit-server demo`: a team server on a temporary embedded database, an OT and an AP
//! with a tablet each, offline edits (one of them a concurrent change of a child's weight in an
//! M&H assessment), sync in both directions, and a readable account of what happened: what each
//! device did, bytes and round trips, the conflict that surfaced, its resolution and the final
//! statuses. Everything is real: the server, the protocol, the stores and the rules.

use std::{collections::HashMap, fmt::Write as _, path::Path, sync::Arc};

use chrono::{Days, Utc};
use homevisit_core::{
    model::{
        common::Service,
        equipment::Category,
        user::{Actor, Role},
    },
    records::{FieldValue, Records, SystemClock},
    rules::config::RulesConfig,
    store::Store,
    sync::{SyncClient, SyncReport},
    RecordId,
};
use uuid::Uuid;

use crate::{admin, App, ServerConfig, SqliteStore};

type DemoResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Device {
    name: &'static str,
    records: Records,
    client: SyncClient<Store>,
}

impl Device {
    async fn sync(&self, out: &mut String, what: &str) -> DemoResult<SyncReport> {
        let report = self.client.sync(|_| {}).await?;
        let _ = writeln!(
            out,
            "  {:<11} sync ({what}): sent {} doc(s), received {} doc(s), {} B out / {} B in, \
             {} round trip(s)",
            self.name,
            report.docs_sent,
            report.docs_received,
            report.bytes_sent,
            report.bytes_received,
            report.round_trips
        );
        Ok(report)
    }
}

/// Runs the demo in `dir` (a fresh temporary directory) and returns the account it prints.
pub async fn run(dir: &Path) -> DemoResult<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "HomeVisit demo — a team server and two tablets, all on this machine\n"
    );

    // The team server on an embedded SQLite database, as `serve` runs it.
    let server_dir = dir.join("server");
    std::fs::create_dir_all(&server_dir)?;
    let admin_store = SqliteStore::open_dir(&server_dir)?;
    let team = admin::add_team(&admin_store, "Luton children's OT (demo)").await?;
    let until = Utc::now().date_naive().checked_add_days(Days::new(365));
    let ot_user = admin::add_user(
        &admin_store,
        team,
        "Olu Adeyemi",
        "ot",
        Some("OT123456".into()),
        until,
    )
    .await?;
    let ap_user = admin::add_user(&admin_store, team, "Priya Shah", "ap", None, None).await?;
    let (ot_dev, ot_token) = admin::add_device(&admin_store, ot_user, "OT tablet").await?;
    let (ap_dev, ap_token) = admin::add_device(&admin_store, ap_user, "AP tablet").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = App::new(SqliteStore::open_dir(&server_dir)?, ServerConfig::default());
    let server = tokio::spawn(crate::serve(listener, app));
    let url = format!("ws://{addr}/sync");
    let _ = writeln!(
        out,
        "server    listening on {addr}, data in {}",
        server_dir.display()
    );
    let _ = writeln!(out, "team      {team}");
    let _ = writeln!(
        out,
        "OT        Olu Adeyemi  (user {ot_user}, device {ot_dev})"
    );
    let _ = writeln!(
        out,
        "AP        Priya Shah   (user {ap_user}, device {ap_dev})\n"
    );

    let names: HashMap<Uuid, &str> = [(ot_user, "Olu (OT)"), (ap_user, "Priya (AP)")].into();
    let device =
        |name: &'static str, user: Uuid, dev: Uuid, role: Role, token: &str, file: &str| {
            // The demo's device stores are unencrypted (plain mode exists for tests and the demo
            // only); the apps always open an encrypted store with a key from the platform keystore.
            let store = Arc::new(Store::create_new_plain_for_tests_and_demo(dir.join(file))?);
            let actor = Actor {
                user_id: user,
                role,
                device_id: dev,
                team_id: team,
                hcpc_number: (role != Role::Ap).then(|| "OT123456".to_owned()),
                hcpc_verified_until: if role == Role::Ap { None } else { until },
            };
            let records = Records::new(
                store.clone(),
                actor,
                RulesConfig::default(),
                Arc::new(SystemClock),
            );
            let client = SyncClient::new(url.clone(), token.to_owned(), store)?;
            DemoResult::Ok(Device {
                name,
                records,
                client,
            })
        };
    let ot = device("OT tablet", ot_user, ot_dev, Role::Ot, &ot_token, "ot.db")?;
    let ap = device("AP tablet", ap_user, ap_dev, Role::Ap, &ap_token, "ap.db")?;

    let today = Utc::now().date_naive();
    let _ = writeln!(
        out,
        "1. The OT records a new child and starts an M&H risk assessment"
    );
    let child = ot
        .records
        .create_child("Amira", "Okafor", today - Days::new(9 * 365))?;
    ot.records
        .set_field(child, "nhs_number", FieldValue::Str("9434765919".into()))?;
    ot.records.record_weight(child, "32.4", today)?;
    let ra = ot.records.create_risk_assessment(child)?;
    ot.records
        .set_field(ra, "child_weight_kg", FieldValue::Decimal("32.4".into()))?;
    ot.records.set_field(
        ra,
        "child_weight_measured_on",
        FieldValue::Str(today.to_string()),
    )?;
    let banner = ot.records.banner(child)?;
    let _ = writeln!(
        out,
        "  OT tablet   child {} (NHS {}), weight 32.4 kg; risk assessment {ra}",
        banner.name,
        banner.nhs_number.unwrap_or_default()
    );
    status_line(&mut out, &ot, &[child, ra])?;
    ot.sync(&mut out, "first upload").await?;
    status_line(&mut out, &ot, &[child, ra])?;

    let _ = writeln!(
        out,
        "\n2. The AP's tablet syncs and receives the child's records"
    );
    ap.sync(&mut out, "first download").await?;
    let _ = writeln!(
        out,
        "  AP tablet   caseload: {:?}",
        ap.records
            .store()
            .caseload()?
            .iter()
            .map(|c| format!(
                "{} {}",
                c.given_name.clone().unwrap_or_default(),
                c.family_name.clone().unwrap_or_default()
            ))
            .collect::<Vec<_>>()
    );

    let _ = writeln!(out, "\n3. Both work offline in the family home (no signal)");
    ot.records
        .set_field(ra, "child_weight_kg", FieldValue::Decimal("33.0".into()))?;
    let _ = writeln!(out, "  OT tablet   re-weighs: child_weight_kg = 33.0 kg");
    ap.records
        .set_field(ra, "child_weight_kg", FieldValue::Decimal("31.8".into()))?;
    let _ = writeln!(out, "  AP tablet   re-weighs: child_weight_kg = 31.8 kg");
    let req =
        ap.records
            .create_equipment_request(child, Service::SocialCare, Category::BathingAids)?;
    ap.records.set_field(
        req,
        "measurements.bath_rim_height_mm.value",
        FieldValue::Int(560),
    )?;
    let _ = writeln!(
        out,
        "  AP tablet   drafts a bathing-aids request, bath rim height 560 mm"
    );
    status_line(&mut out, &ap, &[ra, req])?;

    let _ = writeln!(out, "\n4. Back in signal: both tablets sync");
    ap.sync(&mut out, "upload offline work").await?;
    ot.sync(&mut out, "upload offline work").await?;
    ap.sync(&mut out, "receive the OT's change").await?;

    let _ = writeln!(
        out,
        "\n5. The weight is a clinical field: no device picked a winner silently"
    );
    for d in [&ot, &ap] {
        for c in d.records.conflicts(ra)? {
            // Lowest value first, so the account reads the same on every run and device.
            let mut sorted: Vec<_> = c.values.iter().collect();
            sorted.sort_by_key(|v| v.value.as_i64());
            let values: Vec<String> = sorted
                .into_iter()
                .map(|v| {
                    let who = v
                        .user_id()
                        .and_then(|u| names.get(&u).copied())
                        .unwrap_or("unattributed");
                    format!("{} kg by {who}", tenths(&v.value))
                })
                .collect();
            let _ = writeln!(
                out,
                "  {:<11} CONFLICT on {}: {}",
                d.name,
                c.path,
                values.join(" vs ")
            );
        }
    }
    match ot.records.sign(ra) {
        Err(homevisit_core::Error::Validation { issues }) => {
            for i in issues.iter().filter(|i| i.rule_id == "CF-BLOCK") {
                let _ = writeln!(out, "  OT tablet   signing refused: {}", i.message);
            }
            let _ = writeln!(
                out,
                "  OT tablet   ({} blocking issue(s) in all: the demo form is still a draft)",
                issues.len()
            );
        }
        Err(e) => {
            let _ = writeln!(out, "  OT tablet   signing refused: {e}");
        }
        Ok(_) => {
            let _ = writeln!(out, "  OT tablet   (unexpected) signing went through");
        }
    }

    let _ = writeln!(
        out,
        "\n6. The OT resolves it (33.0 kg, weighed on calibrated scales)"
    );
    ot.records
        .resolve(ra, "child_weight_kg", &serde_json::json!(330))?;
    ot.sync(&mut out, "upload the resolution").await?;
    ap.sync(&mut out, "receive the resolution").await?;
    let remaining = ap.records.conflicts(ra)?.len() + ot.records.conflicts(ra)?.len();
    let _ = writeln!(out, "  open conflicts on both tablets: {remaining}");

    let _ = writeln!(out, "\n7. Reconnect with nothing changed");
    let r = ap.sync(&mut out, "nothing to do").await?;
    let _ = writeln!(
        out,
        "  AP tablet   {} round trip(s), {} bytes in all",
        r.round_trips,
        r.bytes_sent + r.bytes_received
    );

    let _ = writeln!(out, "\nFinal statuses");
    for d in [&ot, &ap] {
        status_line(&mut out, d, &[child, ra, req])?;
    }
    server.abort();
    Ok(out)
}

fn tenths(v: &serde_json::Value) -> String {
    match v.as_i64() {
        Some(t) => format!("{}.{}", t / 10, (t % 10).abs()),
        None => v.to_string(),
    }
}

fn status_line(out: &mut String, d: &Device, ids: &[RecordId]) -> DemoResult<()> {
    let mut parts = Vec::new();
    for id in ids {
        let label = match d.records.store().record_summary(*id)? {
            Some(s) => s.schema.trim_start_matches("homevisit/").to_owned(),
            None => "absent".to_owned(),
        };
        let status = match d.records.store().sync_status(*id) {
            Ok(s) => s.as_str().to_owned(),
            Err(_) => "not on this device".to_owned(),
        };
        parts.push(format!("{label}={status}"));
    }
    let _ = writeln!(out, "  {:<11} status: {}", d.name, parts.join(", "));
    Ok(())
}
