#!/usr/bin/env bash
# System packages and tools CI needs beyond the base image (Rust, cargo-nextest, Python, Node,
# JDK). Idempotent: a second run on the same machine only checks.
set -euo pipefail
TOOLS=${HOMEVISIT_TOOLS:-$HOME/.cache/homevisit-ci}
mkdir -p "$TOOLS"
export DEBIAN_FRONTEND=noninteractive

need_apt=""
# chromium: the team console browser test (tests/console, TOOLCHAIN §10); postgresql and haproxy:
# the PostgreSQL tests (.ci/postgres.sh); poppler-utils and qpdf: the report checks (35-reports);
# libimage-exiftool-perl: the photo metadata checks (core tests, photos).
for pkg in libjna-java junit4 gcc-aarch64-linux-gnu libc6-dev-arm64-cross llvm chromium postgresql haproxy poppler-utils qpdf libimage-exiftool-perl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt="$need_apt $pkg"
done
if [ -n "$need_apt" ]; then
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $need_apt
fi

# Kotlin compiler from the npm registry (TOOLCHAIN.md §4), unpacked outside the repository.
KOTLIN_VERSION=2.4.20
if [ ! -x "$TOOLS/kotlinc-$KOTLIN_VERSION/bin/kotlinc" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf kotlin-compiler-*.tgz)
  rm -rf "$TOOLS/kotlinc-$KOTLIN_VERSION"
  mv "$tmp/package" "$TOOLS/kotlinc-$KOTLIN_VERSION"
  chmod +x "$TOOLS/kotlinc-$KOTLIN_VERSION/bin/"*
  rm -rf "$tmp"
fi

# Python: pytest for the Python bindings, tree-sitter grammars for Swift and Kotlin syntax checks.
if [ ! -x "$TOOLS/venv/bin/python" ]; then
  python3 -m venv "$TOOLS/venv"
fi
"$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
  'pytest>=8,<9' 'tree-sitter==0.26.1' 'tree-sitter-swift>=0.7,<0.8' 'tree-sitter-kotlin==1.1.0' 'fhir.resources==8.3.0'
echo "tools ready in $TOOLS"
