//! Soak: several simulated tablets make random edits, sync and reconnect against the real
//! server binary for `--seconds S` (default 600) while the server's resident memory is
//! sampled every `--sample-secs` (default 5). Prints the RSS series summary (start, max, end,
//! least-squares trend in KiB/min over the whole run and over its second half) and checks
//! convergence at the end. Exit status 0 only if it converged with no sync error.
//!
//! With `--fixed-data 1` nobody creates or edits anything: the server's data stays the same
//! size, and each tablet alternates syncs with nothing to do (70 %) and wiping its store and
//! downloading every record again (30 %, as after a reinstall). Memory that still grows then is
//! not data.
//!
//! ```sh
//! cargo build --locked -p homevisit-server -p homevisit-tests --bins
//! target/debug/soak --seconds 600 --devices 8 --seed 1
//! target/debug/soak --seconds 1800 --devices 8 --shared 100 --fixed-data 1
//! ```

#[path = "sim/mod.rs"]
mod sim;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use homevisit_core::RecordId;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sim::{convergence, flag, flags, ServerProcess, SimDevice, R};

/// Least-squares slope of `(seconds, KiB)` points, in KiB per minute.
fn trend_kib_per_min(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx * 60.0
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> R<bool> {
    let f = flags(&[
        "seconds",
        "devices",
        "seed",
        "shared",
        "sample-secs",
        "fixed-data",
    ])?;
    let seconds: u64 = flag(&f, "seconds", 600)?;
    let n: usize = flag(&f, "devices", 8)?;
    let seed: u64 = flag(&f, "seed", 1)?;
    let shared: usize = flag(&f, "shared", 10)?;
    let sample: u64 = flag(&f, "sample-secs", 5)?;
    let fixed_data = flag::<u8>(&f, "fixed-data", 0)? != 0;
    if n == 0 {
        return Err("--devices must be at least 1".into());
    }
    println!(
        "soak: seconds={seconds} devices={n} shared={shared} seed={seed} fixed data={fixed_data} sample every {sample} s build={}",
        sim::profile()
    );
    let root = tempfile::tempdir()?;
    let data_dir = root.path().join("server");
    let location = homevisit_server::Location::DataDir(data_dir.clone());
    let team = sim::setup_team(&location, "Soak team", n).await?;
    let server = ServerProcess::start(&location, &[]).await?;
    let url = server.url();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        devices.push(SimDevice::new(root.path(), &team, i, &url)?);
    }
    let mut shared_ids = Vec::with_capacity(shared);
    for s in 0..shared {
        shared_ids.push(devices[0].create_child(&format!("Shared {s}"))?);
    }
    devices[0].client.sync(|_| {}).await?;
    let wipes = Arc::new(AtomicU64::new(0));
    let created: Arc<Mutex<Vec<RecordId>>> = Arc::new(Mutex::new(shared_ids.clone()));

    let running = Arc::new(AtomicBool::new(true));
    let syncs = Arc::new(AtomicU64::new(0));
    let reconnects = Arc::new(AtomicU64::new(0));
    let edits = Arc::new(AtomicU64::new(0));
    let errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));

    // RSS sampler.
    let start = Instant::now();
    let samples: Arc<Mutex<Vec<(f64, f64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let samples = Arc::clone(&samples);
        let running = Arc::clone(&running);
        let pid = server.pid;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(sample.max(1)));
            while running.load(Ordering::Relaxed) {
                tick.tick().await;
                let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                    continue;
                };
                if let Some(kib) = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    if let Ok(mut s) = samples.lock() {
                        s.push((start.elapsed().as_secs_f64(), kib));
                    }
                }
            }
        })
    };

    // The devices: each its own task of random work until the time is up.
    let mut tasks = Vec::new();
    for (i, mut device) in devices.into_iter().enumerate() {
        let running = Arc::clone(&running);
        let created = Arc::clone(&created);
        let (syncs, reconnects, edits, errors) = (
            Arc::clone(&syncs),
            Arc::clone(&reconnects),
            Arc::clone(&edits),
            Arc::clone(&errors),
        );
        let shared_ids = shared_ids.clone();
        let wipes = Arc::clone(&wipes);
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(i as u64));
            let mut mine: Vec<RecordId> = Vec::new();
            let mut step = 0u64;
            let fail = |e: String| {
                if let Ok(mut errs) = errors.lock() {
                    errs.push(format!("device {i}: {e}"));
                }
            };
            while running.load(Ordering::Relaxed) {
                step += 1;
                let roll = rng.gen_range(0..100);
                let outcome: R<()> = async {
                    if fixed_data {
                        if roll >= 70 {
                            device.store.wipe()?;
                            wipes.fetch_add(1, Ordering::Relaxed);
                        }
                        let report = device.client.sync(|_| {}).await?;
                        syncs.fetch_add(1, Ordering::Relaxed);
                        if !report.complete {
                            return Err("sync incomplete".into());
                        }
                    } else if roll < 15 {
                        let id = device.create_child(&format!("Device {i} child {step}"))?;
                        mine.push(id);
                        if let Ok(mut c) = created.lock() {
                            c.push(id);
                        }
                        edits.fetch_add(1, Ordering::Relaxed);
                    } else if roll < 55 {
                        // Edit a shared record, or one of this device's own, if it has it.
                        let pool = if mine.is_empty() || rng.gen_bool(0.6) {
                            &shared_ids
                        } else {
                            &mine
                        };
                        let id = pool[rng.gen_range(0..pool.len())];
                        if device.store.contains(id)? {
                            device.edit(id, &format!("d{i} s{step}"), rng.gen_ratio(1, 5))?;
                            edits.fetch_add(1, Ordering::Relaxed);
                        }
                    } else if roll < 90 {
                        let report = device.client.sync(|_| {}).await?;
                        syncs.fetch_add(1, Ordering::Relaxed);
                        if !report.complete {
                            return Err("sync incomplete".into());
                        }
                    } else {
                        device.reconnect()?;
                        reconnects.fetch_add(1, Ordering::Relaxed);
                        device.client.sync(|_| {}).await?;
                        syncs.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                }
                .await;
                if let Err(e) = outcome {
                    fail(e.to_string());
                }
                // Pacing, not synchronisation: a tablet is not edited flat out.
                tokio::time::sleep(Duration::from_millis(rng.gen_range(20..200))).await;
            }
            device
        }));
    }

    tokio::time::sleep(Duration::from_secs(seconds)).await;
    running.store(false, Ordering::Relaxed);
    let mut devices = Vec::with_capacity(n);
    for t in tasks {
        devices.push(t.await?);
    }
    sampler.abort();
    let soak_secs = start.elapsed().as_secs_f64();

    // Settle: two rounds in turn (the second pulls what others uploaded in the first).
    let mut settle_errors = Vec::new();
    for _ in 0..2 {
        for (i, d) in devices.iter().enumerate() {
            match d.client.sync(|_| {}).await {
                Ok(r) if r.complete => {}
                Ok(_) => settle_errors.push(format!("device {i}: settle sync incomplete")),
                Err(e) => settle_errors.push(format!("device {i}: settle sync: {e}")),
            }
        }
    }

    let samples = samples.lock().map_err(|_| "samples poisoned")?.clone();
    let series: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let (first, last) = (
        series.first().copied().unwrap_or(0.0),
        series.last().copied().unwrap_or(0.0),
    );
    let max = series.iter().copied().fold(0.0, f64::max);
    let half = &samples[samples.len() / 2..];
    println!(
        "activity: {:.0} s, {} edits, {} syncs, {} reconnects, {} wipes and full downloads",
        soak_secs,
        edits.load(Ordering::Relaxed),
        syncs.load(Ordering::Relaxed),
        reconnects.load(Ordering::Relaxed),
        wipes.load(Ordering::Relaxed)
    );
    println!(
        "server rss: samples={} start={first:.0} KiB max={max:.0} KiB end={last:.0} KiB trend={:+.1} KiB/min (second half {:+.1} KiB/min) peak (VmHWM)={} KiB",
        series.len(),
        trend_kib_per_min(&samples),
        trend_kib_per_min(half),
        server.peak_rss_kib()?
    );
    let errors = errors.lock().map_err(|_| "errors poisoned")?.clone();
    println!(
        "errors: {} during the soak, {} while settling",
        errors.len(),
        settle_errors.len()
    );
    for e in errors.iter().chain(&settle_errors).take(10) {
        println!("  {e}");
    }
    let expected = created.lock().map_err(|_| "ids poisoned")?.clone();
    let problems = convergence(&location, team.id, &devices, &expected).await?;
    if problems.is_empty() {
        println!(
            "convergence: ok ({n} devices x {} records, heads equal the server's)",
            expected.len()
        );
    } else {
        println!("convergence: FAILED ({} problems)", problems.len());
        for p in problems.iter().take(10) {
            println!("  {p}");
        }
    }
    let ok = problems.is_empty() && errors.is_empty() && settle_errors.is_empty();
    println!("result: {}", if ok { "ok" } else { "FAILED" });
    server.stop().await;
    Ok(ok)
}
