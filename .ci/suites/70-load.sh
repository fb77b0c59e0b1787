# Sourced by .ci/run: load and soak against the real server binary (docs/BENCHMARKS.md).
# 50 tablets with offline edits reconnect at once and must converge with no error; then a
# 30-second soak of random edits and reconnects must converge with no error; then 200 tablets
# over two server instances sharing one PostgreSQL database (the cluster .ci/run started) must
# converge with no error. The binaries are built by the workspace build step; this suite costs
# a few minutes of wall time on 2 cores.
if cargo build --locked -p homevisit-server -p homevisit-tests --bins >"$LOG/load-build.log" 2>&1; then
  if timeout 300 target/debug/load --devices 50 --edits 4 --seed 1 >"$LOG/load.log" 2>&1; then
    grep -E '^(load|round|server|convergence|result)' "$LOG/load.log"
    ok "load: 50 devices reconnect at once and converge"
  else
    tail -30 "$LOG/load.log"
    bad "load: 50 devices reconnect at once and converge"
  fi
  if timeout 300 target/debug/soak --seconds 30 --devices 6 --sample-secs 2 --seed 1 >"$LOG/soak.log" 2>&1; then
    grep -E '^(soak|activity|server|errors|convergence|result)' "$LOG/soak.log"
    ok "soak: 30 s of random edits and reconnects converge"
  else
    tail -30 "$LOG/soak.log"
    bad "soak: 30 s of random edits and reconnects converge"
  fi
  if [ -n "${HOMEVISIT_TEST_POSTGRES:-}" ]; then
    LOAD_DB="${HOMEVISIT_TEST_POSTGRES%/*}/hv_load_$$"
    psql "$HOMEVISIT_TEST_POSTGRES" -qc "CREATE DATABASE hv_load_$$" >"$LOG/load-pg.log" 2>&1
    if timeout 900 target/debug/load --devices 200 --edits 2 --shared 10 --seed 1 \
        --database "$LOAD_DB" --instances 2 >>"$LOG/load-pg.log" 2>&1; then
      grep -E '^(load|round|server|convergence|result)' "$LOG/load-pg.log"
      ok "load: 200 devices over 2 PostgreSQL-backed instances converge"
    else
      tail -30 "$LOG/load-pg.log"
      bad "load: 200 devices over 2 PostgreSQL-backed instances converge"
    fi
  else
    bad "load on PostgreSQL: no test cluster (HOMEVISIT_TEST_POSTGRES unset)"
  fi
else
  grep -E -A12 '^error' "$LOG/load-build.log" | head -40
  bad "build load/soak programs"
fi
