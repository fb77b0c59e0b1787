# Sourced by .ci/run: the repository needs nothing beside it. A copy of the committed tree in a
# temporary directory, with no ../shared (or anything else) next to it, runs the rule-index
# test, which reads the domain specification; the copy shares this run's target directory, so
# only homevisit-core itself is compiled again.
SC_DIR=$(mktemp -d)
if git archive --format=tar HEAD | (mkdir -p "$SC_DIR/repo" && tar -x -C "$SC_DIR/repo"); then
  if [ -e "$SC_DIR/shared" ]; then
    bad "self-contained: the temporary directory already has a shared/ beside the copy"
  elif (cd "$SC_DIR/repo" && CARGO_TARGET_DIR=$ROOT/target timeout 900 cargo nextest run --locked \
        -p homevisit-core --test integration -E 'test(/rule_index::/)' --no-fail-fast) \
        >"$LOG/self-contained.log" 2>&1; then
    ok "self-contained: the rule-index test passes in a copy with nothing beside it"
  else
    tail -30 "$LOG/self-contained.log"
    bad "self-contained: the rule-index test passes in a copy with nothing beside it"
  fi
else
  bad "self-contained: git archive of HEAD"
fi
rm -rf "$SC_DIR"
