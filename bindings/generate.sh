#!/usr/bin/env bash
# Builds the HomeVisit FFI library for the host and generates the Kotlin, Swift and Python
# bindings into gen/<language> (android/ and ios/ take them from there).
#
#   bash bindings/generate.sh            # host build (debug), all three languages
#   JVM=1 bash bindings/generate.sh      # Kotlin for the JVM (no android.* imports), as CI tests it
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gen}
LIB=target/debug/libhomevisit_ffi.so
# The whole workspace, as CI builds it: `-p` would unify features differently and rebuild.
cargo build --locked -q --workspace
BINDGEN=target/debug/uniffi-bindgen
rm -rf "$OUT"
for lang in kotlin swift python; do
  args=()
  if [ "$lang" = kotlin ] && [ "${JVM:-0}" = 1 ]; then args=(--config bindings/jvm.toml); fi
  "$BINDGEN" generate "$LIB" --language "$lang" --out-dir "$OUT/$lang" --no-format "${args[@]}"
done
cp "$LIB" "$OUT/python/"
echo "generated: $(find "$OUT" -type f | wc -l) files in $OUT/"
