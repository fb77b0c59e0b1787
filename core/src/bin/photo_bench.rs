//! Photo benchmark (docs/BENCHMARKS.md "Photos"). Prints, never asserts.
//!
//! `cargo run --release -p homevisit-core --bin photo_bench [-- --quick]`
//!
//! Adding a 12-megapixel camera JPEG (4,000 × 3,000) to a record: sanitise (decode, EXIF
//! orientation, re-encode without metadata, thumbnail) and store (blobs and the metadata item
//! in one transaction of the encrypted store), against a baseline measured in the same run on
//! the same bytes: a plain decode and JPEG re-encode with the `image` crate. Peak RSS is
//! `VmHWM` from /proc/self/status, reset before each phase (`/proc/self/clear_refs` ← 5).

use std::{
    io::Cursor,
    sync::Arc,
    time::{Duration, Instant},
};

use homevisit_core::{
    attachments,
    model::{
        common::Service,
        user::{Actor, Role},
    },
    records::{PhotoInput, Records, SystemClock},
    report::samples,
    rules::config::RulesConfig,
    store::{Store, StoreKey},
};
use uuid::Uuid;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Peak resident set size since the last reset, in MiB (0 when /proc is unavailable).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn current_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn reset_peak() {
    // Linux: writing 5 resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn phase<T>(runs: usize, mut f: impl FnMut(usize) -> T) -> (Duration, f64, f64) {
    reset_peak();
    let base = current_mib();
    let mut times = Vec::with_capacity(runs);
    for n in 0..runs {
        let t = Instant::now();
        let out = f(n);
        times.push(t.elapsed());
        drop(out);
    }
    (median(times), base, peak_mib())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 9 };
    let inputs: Vec<Vec<u8>> = (0..runs as u32)
        .map(|s| samples::photo_jpeg(4_000, 3_000, s))
        .collect();
    let mean_bytes = inputs.iter().map(Vec::len).sum::<usize>() / inputs.len().max(1);
    println!(
        "input: {runs} JPEGs of 4000 x 3000 (12 MP), {:.2} MB each on average",
        mean_bytes as f64 / 1e6
    );

    let (t_base, rss0_base, peak_base) = phase(runs, |n| {
        let img = image::load_from_memory(&inputs[n]).unwrap_or_default();
        let mut out = Vec::new();
        let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut Cursor::new(&mut out), 85)
            .encode_image(&img.to_rgb8());
        out
    });

    let (t_san, rss0_san, peak_san) = phase(runs, |n| attachments::sanitise(&inputs[n]).ok());

    let dir = std::env::temp_dir().join(format!("photo_bench-{}", Uuid::new_v4()));
    let _ = std::fs::create_dir_all(&dir);
    let store = match Store::create_new(dir.join("bench.db"), StoreKey::Raw([0x42; 32])) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("photo_bench: {e}");
            return;
        }
    };
    let actor = Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: None,
    };
    let records = Records::new(
        store.clone(),
        actor,
        RulesConfig::default(),
        Arc::new(SystemClock),
    );
    let visit = records
        .create_child(
            "Amara",
            "Okafor",
            chrono::NaiveDate::from_ymd_opt(2016, 5, 1).unwrap_or_default(),
        )
        .and_then(|c| records.create_assessment(c, Service::Health));
    let Ok(visit) = visit else {
        eprintln!("photo_bench: could not create the record");
        return;
    };
    let input = PhotoInput {
        section: Some("D".into()),
        caption: "Stairs from the hall".into(),
        taken_at: None,
    };
    let mut failures = 0;
    let (t_add, rss0_add, peak_add) = phase(runs, |n| {
        if records.add_photo(visit, &input, &inputs[n]).is_err() {
            failures += 1;
        }
    });
    let stored = store.blob_counts().unwrap_or_default();
    let _ = store.close();
    let _ = std::fs::remove_dir_all(&dir);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("median of {runs} runs each; peak RSS = VmHWM during the phase (RSS at its start)");
    println!(
        "baseline: image decode + JPEG q85 encode     {:8.1} ms   peak {:6.1} MiB (start {:6.1})",
        ms(t_base),
        peak_base,
        rss0_base
    );
    println!(
        "sanitise: strip + orientation + thumbnail    {:8.1} ms   peak {:6.1} MiB (start {:6.1})",
        ms(t_san),
        peak_san,
        rss0_san
    );
    println!(
        "add_photo: sanitise + store (SQLCipher, 1 tx){:8.1} ms   peak {:6.1} MiB (start {:6.1})",
        ms(t_add),
        peak_add,
        rss0_add
    );
    println!(
        "ratio add_photo / baseline: {:.2}; stored {} blobs, {:.2} MB ({} failures)",
        ms(t_add) / ms(t_base).max(f64::MIN_POSITIVE),
        stored.blobs,
        stored.bytes as f64 / 1e6,
        failures
    );
}
