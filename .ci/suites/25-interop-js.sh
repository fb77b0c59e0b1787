# Sourced by .ci/run: a stock automerge-repo client (npm packages, Node 20) against the real
# team server binary and HomeVisit devices (tests/interop-js, docs/INTEROP.md), then the sync
# benchmark in its smoke mode (50 documents) so the benchmark itself cannot rot.
# Cost: npm install ~10 s (cached afterwards), tests ~20 s, benchmark smoke ~30 s on 2 cores.
# Uses target/debug/{homevisit-server,interop_device,sync_bench} from the workspace build.
IJS=tests/interop-js
if ! command -v node >/dev/null 2>&1; then
  bad "interop-js: node is not installed"
# `npm ci` first; npm 11 may refuse this lock file because cbor-x's optional native helpers
# (@cbor-extract/*, unused: cbor-x falls back to JS) have no lock entries, so fall back to
# `npm install --no-save`, which installs the versions pinned in package-lock.json unchanged.
elif ! (cd "$IJS" && { npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund; }) \
    >"$LOG/interop-npm.log" 2>&1; then
  tail -20 "$LOG/interop-npm.log"
  bad "interop-js: npm install"
else
  rm -f "$LOG/interop-js.tap"
  (cd "$IJS" && node --test --test-concurrency=1 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$LOG/interop-js.tap" \
      test/interop.test.mjs) >"$LOG/interop-js.log" 2>&1
  grep -E '^\s*(✔|✖)' "$LOG/interop-js.log" | head -40
  ip=$(grep -E '^# pass [0-9]+' "$LOG/interop-js.tap" 2>/dev/null | tail -1 | grep -oE '[0-9]+')
  ifl=$(grep -E '^# fail [0-9]+' "$LOG/interop-js.tap" 2>/dev/null | tail -1 | grep -oE '[0-9]+')
  if [ -z "$ip" ] || [ -z "$ifl" ]; then
    tail -40 "$LOG/interop-js.log"
    bad "interop-js tests produced no summary"
  else
    echo "interop-js: $ip passed, $ifl failed"
    PASS=$((PASS + ip)); FAIL=$((FAIL + ifl))
    if [ "$ip" -eq 0 ] && [ "$ifl" -eq 0 ]; then bad "interop-js ran no test"; fi
  fi

  # The benchmark's smoke mode: every session must do its work (the driver exits non-zero
  # otherwise); its numbers are printed, never judged.
  if (cd "$IJS" && node bench/run.mjs --smoke) >"$LOG/sync-bench.log" 2>&1; then
    cat "$LOG/sync-bench.log" | grep -vE '^bench:'
    ok "sync benchmark (smoke)"
  else
    tail -20 "$LOG/sync-bench.log"
    bad "sync benchmark (smoke)"
  fi
fi
