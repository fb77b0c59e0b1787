# Sourced by .ci/run: every cargo-fuzz target in tests/fuzz for a bounded time, on stable Rust
# (docs/FUZZING.md, docs/adr/0012-fuzzing-on-stable.md). One check per target. A crash is a
# failure; its input is copied to tests/fuzz-regressions/<target>/ (replayed from then on by
# tests/tests/integration/fuzz_regressions.rs once checked in) and its path printed.
#
# Cost (docs/FUZZING.md "CI budget"): cargo-fuzz install ~1 min (once; cached in
# ~/.cargo/bin); the fuzz build in its own target directory (tests/fuzz/target): ~13 min of CPU
# cold with the vendored OpenSSL, less with the system libcrypto used here, 1 s warm; then
# HOMEVISIT_FUZZ_SECONDS (default 25) per target.
FUZZ_SECONDS=${HOMEVISIT_FUZZ_SECONDS:-25}
FUZZ_TARGETS="protocol_message automerge_sync whole_document sync_auth record_hydration"
# The same flags for build and run, or `cargo fuzz run` rebuilds. `--sanitizer none` because
# sanitizers need a nightly compiler; `--dev` builds the fuzz workspace's dev profile
# (tests/fuzz/Cargo.toml: opt-level 1, debug assertions and overflow checks on), which compiles
# in less time than cargo-fuzz's release default at opt-level 3 (docs/FUZZING.md "CI budget").
FUZZ_FLAGS="--fuzz-dir tests/fuzz --sanitizer none --dev"

fuzz_skip_all() {
  for t in $FUZZ_TARGETS; do skip "fuzz $t" "$1"; done
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  note "installing cargo-fuzz"
  if ! cargo install cargo-fuzz --locked >"$LOG/cargo-fuzz-install.log" 2>&1; then
    tail -5 "$LOG/cargo-fuzz-install.log"
  fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  fuzz_skip_all "cargo-fuzz could not be installed: see target/ci/cargo-fuzz-install.log"
else
  # SQLCipher's OpenSSL: the fuzz build has its own target directory, so link the system
  # libcrypto rather than compile the vendored OpenSSL a second time (the crypto is not what
  # is fuzzed). Without the headers the vendored build is used, only slower.
  FUZZ_ENV="OPENSSL_NO_VENDOR=0"
  if dpkg -s libssl-dev >/dev/null 2>&1 ||
     { apt-get update -qq && apt-get install -y -qq --no-install-recommends libssl-dev; } >"$LOG/fuzz-apt.log" 2>&1; then
    FUZZ_ENV="OPENSSL_NO_VENDOR=1"
  fi
  fuzz_start=$(date +%s)
  # shellcheck disable=SC2086
  if ! env "$FUZZ_ENV" cargo fuzz build $FUZZ_FLAGS >"$LOG/fuzz-build.log" 2>&1; then
    grep -E -A12 '^error' "$LOG/fuzz-build.log" | head -60
    tail -20 "$LOG/fuzz-build.log"
    bad "cargo fuzz build"
    fuzz_skip_all "the fuzz build failed"
  else
    echo "fuzz build: $(( $(date +%s) - fuzz_start ))s"
    FUZZ_BIN=tests/fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/debug
    for t in $FUZZ_TARGETS; do
      work=target/fuzz/corpus/$t
      artifacts=target/fuzz/artifacts/$t
      rm -rf "$artifacts" && mkdir -p "$work" "$artifacts"
      # The binary `cargo fuzz run` would start, without cargo's rebuild check (half a minute
      # per target on a busy machine). New inputs go to the scratch corpus (first directory);
      # the checked-in seeds are read only.
      "$FUZZ_BIN/$t" "$work" "tests/fuzz/corpus/$t" \
        -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$LOG/fuzz-$t.log" 2>&1
      rc=$?
      runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$LOG/fuzz-$t.log" | grep -oE '[0-9]+$' || true)
      # A panic, a timeout (-timeout s on one input) or running out of memory; `slow-unit-*`
      # files are only reports.
      crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null)
      if [ "$rc" -eq 0 ] && [ -z "$crashes" ]; then
        echo "fuzz $t: ${runs:-?} runs in ${FUZZ_SECONDS}s, no crash"
        ok "fuzz $t"
      else
        grep -E -B2 -A20 'panicked at|ERROR: libFuzzer|==ERROR' "$LOG/fuzz-$t.log" | head -40
        mkdir -p "tests/fuzz-regressions/$t"
        for c in $crashes; do
          cp "$c" "tests/fuzz-regressions/$t/"
          echo "fuzz $t: crashing input saved as tests/fuzz-regressions/$t/$(basename "$c")"
        done
        [ -n "$crashes" ] || tail -20 "$LOG/fuzz-$t.log"
        bad "fuzz $t"
      fi
    done
    echo "fuzz suite: $(( $(date +%s) - fuzz_start ))s"
  fi
fi
