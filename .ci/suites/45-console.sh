# Sourced by .ci/run: the team console in a real browser (tests/console, docs/CONSOLE.md).
# Debian's Chromium, headless, driven by playwright-core (npm) against the real
# `homevisit-server serve` binary, with tablets (target/debug/console_device: the core's store,
# record service and SyncClient) syncing; axe-core checks every page; screenshots go to
# target/console/. Cost: npm ci ~5 s (cached afterwards), the test ~40 s on 2 cores.
# Uses target/debug/{homevisit-server,console_device} from the workspace build.
CON=tests/console
if ! command -v node >/dev/null 2>&1; then
  bad "console: node is not installed"
elif ! command -v chromium >/dev/null 2>&1 \
    && ! { (apt-get update && apt-get install -y --no-install-recommends chromium) >"$LOG/console-apt.log" 2>&1; }; then
  tail -20 "$LOG/console-apt.log"
  bad "console: install chromium"
elif ! (cd "$CON" && npm ci --no-audit --no-fund) >"$LOG/console-npm.log" 2>&1; then
  tail -20 "$LOG/console-npm.log"
  bad "console: npm ci"
else
  rm -f "$LOG/console.tap"
  # Its own process group, so that everything it started (servers, Chromium) is stopped
  # even if the time limit cuts it short.
  (cd "$CON" && exec setsid timeout --kill-after=10 240 node --test --test-concurrency=1 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$LOG/console.tap" \
      console.test.mjs) >"$LOG/console.log" 2>&1 &
  console_pid=$!
  wait "$console_pid"
  kill -- "-$console_pid" 2>/dev/null || true
  grep -E '^\s*(✔|✖)' "$LOG/console.log" | head -40
  cp=$(grep -E '^# pass [0-9]+' "$LOG/console.tap" 2>/dev/null | tail -1 | grep -oE '[0-9]+')
  cf=$(grep -E '^# fail [0-9]+' "$LOG/console.tap" 2>/dev/null | tail -1 | grep -oE '[0-9]+')
  if [ -z "$cp" ] || [ -z "$cf" ]; then
    tail -40 "$LOG/console.log"
    bad "console tests produced no summary"
  else
    echo "console: $cp passed, $cf failed (screenshots in target/console/)"
    PASS=$((PASS + cp)); FAIL=$((FAIL + cf))
    if [ "$cp" -eq 0 ] && [ "$cf" -eq 0 ]; then bad "console ran no test"; fi
  fi
fi
