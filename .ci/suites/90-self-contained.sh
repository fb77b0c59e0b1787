# Sourced by .ci/run: the repository needs nothing beside it. The committed tree is copied into
# a temporary directory with nothing next to it (no ../shared), and the rule-index test, which
# reads the domain specification and every test source, runs against that copy
# (HOMEVISIT_WORKSPACE names the tree it checks; the binary is the one built above: the run is
# workspace-wide, as the main test run is, so the features resolve the same and nothing is
# rebuilt — `-p homevisit-core` alone resolved fewer features and recompiled ~60 crates, 4.5 min).
SC_DIR=$(mktemp -d)
mkdir -p "$SC_DIR/repo"
if git archive --format=tar HEAD | tar -x -C "$SC_DIR/repo"; then
  if [ "$(ls -A "$SC_DIR")" != "repo" ]; then
    bad "self-contained: the temporary directory holds more than the copy"
  elif HOMEVISIT_WORKSPACE="$SC_DIR/repo" timeout 300 cargo nextest run --locked --workspace \
        -E 'package(homevisit-core) & binary(integration) & test(/rule_index::/)' --no-fail-fast \
        >"$LOG/self-contained.log" 2>&1; then
    ok "self-contained: the rule-index test passes against a copy with nothing beside it"
  else
    tail -30 "$LOG/self-contained.log"
    bad "self-contained: the rule-index test passes against a copy with nothing beside it"
  fi
else
  bad "self-contained: git archive of HEAD"
fi
rm -rf "$SC_DIR"
