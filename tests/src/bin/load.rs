//! Load: N simulated tablets with offline edits reconnect to the team server at once.
//!
//! The real `homevisit-server` binary runs as a child process on loopback over a real SQLite
//! database in a temporary directory; each tablet is a real encrypted `homevisit-core` store
//! with a real `SyncClient` over a real WebSocket. Tablets are grouped in teams of at most
//! `--team-size` (default 50; a server hosts many teams, and full convergence inside one team
//! costs every tablet every teammate's records). Every tablet first receives its team's S
//! shared records, then, offline, creates K records and makes K edits to shared records
//! (seeded); then all tablets of all teams call `sync` at the same instant (a barrier). The program prints p50/p99/max
//! sync time, errors, the server's RSS and CPU (from /proc), and checks convergence: after a
//! second round (to pull the others' edits) every tablet holds exactly the expected records
//! with heads equal to the server's. Exit status 0 only if it converged with no error.
//!
//! With `--database postgres://…` the server runs on PostgreSQL, and `--instances N` starts N
//! server processes on that one database; tablet `i` connects to instance `i mod N`, so every
//! team's edits cross instances. The server CPU and RSS are then summed over the instances.
//! The first round's server CPU is also printed per 1,000 synced records (documents sent plus
//! received), the figure docs/BENCHMARKS.md compares between backends.
//!
//! ```sh
//! cargo build --locked -p homevisit-server -p homevisit-tests --bins
//! target/debug/load --devices 50 --edits 4 --seed 1
//! target/debug/load --devices 200 --database postgres://hv@127.0.0.1:5432/load --instances 2
//! ```

#[path = "sim/mod.rs"]
mod sim;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use homevisit_core::RecordId;
use homevisit_server::Location;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sim::{convergence, flag, flags, quantile_ms, ServerProcess, SimDevice, R};
use tokio::sync::{Barrier, Semaphore};

/// One round's outcome per device: how long `sync` took and whether it failed.
struct Round {
    times: Vec<Duration>,
    errors: Vec<String>,
    wall: Duration,
    cpu: f64,
    sent: u64,
    received: u64,
}

impl Round {
    fn print(&self, name: &str) {
        let mut t = self.times.clone();
        t.sort();
        println!(
            "{name}: p50={:.0} ms  p99={:.0} ms  max={:.0} ms  wall={:.2} s  errors={}  docs sent={} received={}  server cpu={:.2} s ({:.0}% of one core, {:.2} s per 1,000 synced records)",
            quantile_ms(&t, 0.5),
            quantile_ms(&t, 0.99),
            quantile_ms(&t, 1.0),
            self.wall.as_secs_f64(),
            self.errors.len(),
            self.sent,
            self.received,
            self.cpu,
            100.0 * self.cpu / self.wall.as_secs_f64().max(1e-9),
            1000.0 * self.cpu / ((self.sent + self.received) as f64).max(1.0),
        );
        for e in self.errors.iter().take(5) {
            println!("  error: {e}");
        }
    }
}

/// Every device syncs once, all released together by a barrier.
async fn round(
    devices: &Arc<Vec<SimDevice>>,
    servers: &[ServerProcess],
    limit: Duration,
) -> R<Round> {
    let n = devices.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let devices = Arc::clone(devices);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let start = Instant::now();
            // A session that does not end within the limit counts as an error, so that the
            // program always ends and reports.
            let result = tokio::time::timeout(limit, devices[i].client.sync(|_| {}))
                .await
                .map_err(|_| format!("no result within {} s", limit.as_secs()));
            (start.elapsed(), result)
        }));
    }
    let cpu0 = cpu_seconds(servers)?;
    let start = Instant::now();
    barrier.wait().await;
    let mut out = Round {
        times: Vec::with_capacity(n),
        errors: Vec::new(),
        wall: Duration::ZERO,
        cpu: 0.0,
        sent: 0,
        received: 0,
    };
    for (i, task) in tasks.into_iter().enumerate() {
        let (took, result) = task.await?;
        out.times.push(took);
        match result {
            Err(e) => out.errors.push(format!("device {i}: {e}")),
            Ok(Err(e)) => out.errors.push(format!("device {i}: {e}")),
            Ok(Ok(report)) if report.complete => {
                out.sent += report.docs_sent;
                out.received += report.docs_received;
            }
            Ok(Ok(report)) => out.errors.push(format!(
                "device {i}: incomplete ({} rejected, {} failed)",
                report.rejected.len(),
                report.failed.len()
            )),
        }
    }
    out.wall = start.elapsed();
    out.cpu = cpu_seconds(servers)? - cpu0;
    Ok(out)
}

/// CPU seconds used so far by every server instance together.
fn cpu_seconds(servers: &[ServerProcess]) -> R<f64> {
    servers.iter().map(ServerProcess::cpu_seconds).sum()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> R<bool> {
    let f = flags(&[
        "devices",
        "edits",
        "seed",
        "shared",
        "team-size",
        "sync-timeout-secs",
        "database",
        "instances",
    ])?;
    let n: usize = flag(&f, "devices", 50)?;
    let k: usize = flag(&f, "edits", 4)?;
    let seed: u64 = flag(&f, "seed", 1)?;
    let shared: usize = flag(&f, "shared", 20)?;
    let team_size: usize = flag(&f, "team-size", 50)?;
    let limit = Duration::from_secs(flag(&f, "sync-timeout-secs", 900)?);
    let instances: usize = flag(&f, "instances", 1)?;
    if n == 0 || team_size == 0 || instances == 0 {
        return Err("--devices, --team-size and --instances must be at least 1".into());
    }
    let n_teams = n.div_ceil(team_size);
    let root = tempfile::tempdir()?;
    let location = match f.get("database") {
        Some(url) => Location::Postgres(url.clone()),
        None if instances > 1 => {
            return Err(
                "--instances above 1 needs --database (instances share one database)".into(),
            )
        }
        None => Location::DataDir(root.path().join("server")),
    };
    println!(
        "load: devices={n} teams={n_teams} (up to {team_size} devices each) edits={k} shared={shared} seed={seed} build={} storage={} instances={instances}",
        sim::profile(),
        location.kind()
    );
    let setup = Instant::now();
    // Devices [t * team_size, (t + 1) * team_size) belong to team t.
    let members = |t: usize| t * team_size..((t + 1) * team_size).min(n);
    let mut teams = Vec::with_capacity(n_teams);
    for t in 0..n_teams {
        teams.push(sim::setup_team(&location, &format!("Team {t}"), members(t).len()).await?);
    }
    let max_conn = (2 * n).max(4096).to_string();
    let mut servers = Vec::with_capacity(instances);
    for _ in 0..instances {
        servers.push(
            ServerProcess::start(&location, &["--max-connections".into(), max_conn.clone()])
                .await?,
        );
    }
    let mut devices = Vec::with_capacity(n);
    for (t, team) in teams.iter().enumerate() {
        for (slot, i) in members(t).enumerate() {
            let url = servers[i % instances].url();
            devices.push(SimDevice::new(root.path(), team, slot, &url)?);
        }
    }

    // Shared records: made by each team's first tablet, received by every tablet of the team
    // before going offline.
    let mut expected: Vec<Vec<RecordId>> = vec![Vec::new(); n_teams];
    let mut shared_ids: Vec<Vec<RecordId>> = vec![Vec::new(); n_teams];
    for t in 0..n_teams {
        let first = &devices[members(t).start];
        for s in 0..shared {
            shared_ids[t].push(first.create_child(&format!("Team {t} shared {s}"))?);
        }
        expected[t].extend(&shared_ids[t]);
        first.client.sync(|_| {}).await?;
    }
    let devices = Arc::new(devices);
    {
        let gate = Arc::new(Semaphore::new(32));
        let mut tasks = Vec::new();
        for t in 0..n_teams {
            for i in members(t).skip(1) {
                let devices = Arc::clone(&devices);
                let gate = Arc::clone(&gate);
                tasks.push(tokio::spawn(async move {
                    let _permit = gate.acquire().await;
                    devices[i].client.sync(|_| {}).await
                }));
            }
        }
        for task in tasks {
            task.await??;
        }
    }

    // Offline work, seeded: K new records and K edits of the team's shared records per tablet.
    let mut rng = StdRng::seed_from_u64(seed);
    for (i, d) in devices.iter().enumerate() {
        let t = i / team_size;
        for j in 0..k {
            expected[t].push(d.create_child(&format!("Device {i} child {j}"))?);
            if !shared_ids[t].is_empty() {
                let target = shared_ids[t][rng.gen_range(0..shared_ids[t].len())];
                let rename = rng.gen_ratio(1, 4);
                d.edit(target, &format!("device {i} edit {j}"), rename)?;
            }
        }
    }
    println!(
        "setup: {:.1} s ({} records expected on every tablet of a full team)",
        setup.elapsed().as_secs_f64(),
        expected[0].len()
    );

    let rss = |f: fn(&ServerProcess) -> R<u64>| -> R<u64> { servers.iter().map(f).sum() };
    let rss_start = rss(ServerProcess::rss_kib)?;
    // Sample the servers' RSS (summed over instances) while the rounds run.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        let pids: Vec<u32> = servers.iter().map(|s| s.pid).collect();
        tokio::spawn(async move {
            let mut max = 0u64;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let mut total = 0;
                for pid in &pids {
                    if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                        total += s
                            .lines()
                            .find(|l| l.starts_with("VmRSS:"))
                            .and_then(|l| l.split_whitespace().nth(1))
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0);
                    }
                }
                max = max.max(total);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        })
    };

    let first = round(&devices, &servers, limit).await?;
    first.print("round 1 (all reconnect at once, uploading)");
    let second = round(&devices, &servers, limit).await?;
    second.print("round 2 (all at once again, pulling the others' edits)");
    // Devices whose sync failed retry (not timed) so that convergence can be judged.
    let mut retries = 0;
    let mut failed_again = 0;
    if !first.errors.is_empty() || !second.errors.is_empty() {
        for attempt in 0..3 {
            let again = round(&devices, &servers, limit).await?;
            retries += 1;
            failed_again = again.errors.len();
            println!("retry round {}: errors={}", attempt + 1, again.errors.len());
            if again.errors.is_empty() {
                break;
            }
        }
    }
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let rss_sampled_max = sampler.await?;
    let rss_end = rss(ServerProcess::rss_kib)?;
    let rss_peak = rss(ServerProcess::peak_rss_kib)?;
    println!(
        "server rss: start={rss_start} KiB  max sampled={rss_sampled_max} KiB  peak (VmHWM)={rss_peak} KiB  end={rss_end} KiB"
    );

    let mut problems = Vec::new();
    for (t, team) in teams.iter().enumerate() {
        problems.extend(
            convergence(&location, team.id, &devices[members(t)], &expected[t])
                .await?
                .into_iter()
                .map(|p| format!("team {t}: {p}")),
        );
    }
    let total_records: usize = expected.iter().map(Vec::len).sum();
    let errors = first.errors.len() + second.errors.len();
    if problems.is_empty() {
        println!(
            "convergence: ok ({n} devices in {n_teams} teams, {total_records} records, every device's heads equal the server's)"
        );
    } else {
        println!("convergence: FAILED ({} problems)", problems.len());
        for p in problems.iter().take(10) {
            println!("  {p}");
        }
    }
    println!(
        "result: {} (errors in timed rounds={errors}, retry rounds={retries}, still failing={failed_again})",
        if problems.is_empty() && errors == 0 {
            "ok"
        } else {
            "FAILED"
        }
    );
    for server in servers {
        server.stop().await;
    }
    Ok(problems.is_empty() && errors == 0)
}
