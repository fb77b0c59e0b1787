#!/usr/bin/env bash
# Builds HomeVisitFFI.xcframework (static libraries for iPhone/iPad and the simulators) and
# generates the Swift bindings into the HomeVisitCore package. Runs on a Mac with Xcode and
# rustup; see ios/README.md.
#
#   bash ios/build-xcframework.sh              # release build (the one to ship)
#   PROFILE=dev bash ios/build-xcframework.sh  # debug build, faster to iterate
#
# Encryption at rest: SQLCipher built against Apple's CommonCrypto (Security.framework), not the
# vendored OpenSSL the Linux and Android builds use: OpenSSL's Apple assembly needs nothing we
# lack on a Mac, but CommonCrypto is the platform's FIPS-validated crypto and adds no code
# (TOOLCHAIN.md §7). libsqlite3-sys takes its CommonCrypto branch when rusqlite's
# `bundled-sqlcipher` feature is on *without* `…-vendored-openssl`, the host and the target are
# both Apple, and no OPENSSL_DIR / OPENSSL_LIB_DIR / OPENSSL_INCLUDE_DIR is set: it compiles
# SQLCipher with -DSQLCIPHER_CRYPTO_CC and links Security and CoreFoundation. The FFI crate
# exposes that as the cargo feature named in $CRYPTO_FEATURE (default `sqlcipher-commoncrypto`).
#
# Outputs (none of them committed; see ios/.gitignore):
#   ios/HomeVisitFFI.xcframework           the binaryTarget of ios/Package.swift
#   ios/Sources/HomeVisitCore/HomeVisitCore.swift   the generated Swift bindings
#   ios/build/                             intermediate files
set -euo pipefail

IOS_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$IOS_DIR/.." && pwd)
cd "$ROOT"

PROFILE=${PROFILE:-release}
CRYPTO_FEATURE=${CRYPTO_FEATURE:-sqlcipher-commoncrypto}
FEATURES="$CRYPTO_FEATURE,tls"
export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-16.0}
# Separate from the Linux build's target/ so the two never invalidate each other.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/apple}
DEVICE=aarch64-apple-ios
SIMULATORS=(aarch64-apple-ios-sim x86_64-apple-ios)
LIB=libhomevisit_ffi.a
BUILD=$IOS_DIR/build
XCFRAMEWORK=$IOS_DIR/HomeVisitFFI.xcframework
SWIFT_OUT=$IOS_DIR/Sources/HomeVisitCore

die() { echo "build-xcframework: $*" >&2; exit 1; }

[ "$(uname -s)" = Darwin ] || die "runs on macOS with Xcode only (xcodebuild, lipo, Apple SDKs)"
command -v xcodebuild >/dev/null || die "xcodebuild not found: install Xcode and run xcode-select"
command -v rustup >/dev/null || die "rustup not found (https://rustup.rs)"
grep -qE "^$CRYPTO_FEATURE *=" bindings/Cargo.toml || die \
  "bindings/Cargo.toml has no feature '$CRYPTO_FEATURE'. It must enable rusqlite's
  'bundled-sqlcipher' (without vendored OpenSSL) through homevisit-core, e.g.
    core/Cargo.toml:     $CRYPTO_FEATURE = [\"rusqlite/bundled-sqlcipher\"]
    bindings/Cargo.toml: $CRYPTO_FEATURE = [\"homevisit-core/$CRYPTO_FEATURE\"]
  (see ios/README.md, 'SQLCipher on Apple')."

# Any of these would send libsqlite3-sys to an OpenSSL instead of CommonCrypto.
for v in OPENSSL_DIR OPENSSL_LIB_DIR OPENSSL_INCLUDE_DIR; do
  unset "$v"
  for t in "$DEVICE" "${SIMULATORS[@]}"; do
    unset "$(echo "$t" | tr 'a-z-' 'A-Z_')_$v"
  done
done

rustup target add "$DEVICE" "${SIMULATORS[@]}"

case "$PROFILE" in
  release) OUT_SUBDIR=release ;;
  dev) OUT_SUBDIR=debug ;;
  *) die "PROFILE must be release or dev" ;;
esac

for target in "$DEVICE" "${SIMULATORS[@]}"; do
  echo "== cargo build $target ($PROFILE, features $FEATURES)"
  cargo build --locked --profile "$PROFILE" --target "$target" -p homevisit-ffi --lib \
    --no-default-features --features "$FEATURES"
done

lib_of() { echo "$CARGO_TARGET_DIR/$1/$OUT_SUBDIR/$LIB"; }

# The libraries must carry SQLCipher's CommonCrypto provider and no OpenSSL.
for target in "$DEVICE" "${SIMULATORS[@]}"; do
  symbols=$(nm -g "$(lib_of "$target")" 2>/dev/null || true)
  grep -q ' T _sqlcipher_cc_setup$' <<<"$symbols" \
    || die "$target: SQLCipher was not built with CommonCrypto (no _sqlcipher_cc_setup)"
  if grep -qE ' [TU] _(EVP_CIPHER_CTX_new|OPENSSL_init_crypto)$' <<<"$symbols"; then
    die "$target: the library references OpenSSL; unset OPENSSL_* and check the features"
  fi
done

rm -rf "$BUILD" && mkdir -p "$BUILD/headers" "$BUILD/simulator" "$BUILD/swift"

echo "== lipo simulator slices (arm64 + x86_64)"
lipo -create "$(lib_of aarch64-apple-ios-sim)" "$(lib_of x86_64-apple-ios)" \
  -output "$BUILD/simulator/$LIB"
lipo -info "$BUILD/simulator/$LIB"

echo "== generate Swift bindings (uniffi library mode on the device library, bindings/uniffi.toml)"
# uniffi-bindgen runs on the Mac itself; built with the same features so the FFI checksums match.
cargo run --locked --profile "$PROFILE" -p homevisit-ffi --bin uniffi-bindgen \
  --no-default-features --features "$FEATURES" -- \
  generate "$(lib_of "$DEVICE")" --language swift --out-dir "$BUILD/swift" --no-format
[ -f "$BUILD/swift/HomeVisitCore.swift" ] || die "uniffi-bindgen did not write HomeVisitCore.swift"
cp "$BUILD/swift/HomeVisitFFI.h" "$BUILD/headers/"
# An XCFramework's headers directory needs the module map under this exact name.
cp "$BUILD/swift/HomeVisitFFI.modulemap" "$BUILD/headers/module.modulemap"

echo "== xcodebuild -create-xcframework"
rm -rf "$XCFRAMEWORK"
xcodebuild -create-xcframework \
  -library "$(lib_of "$DEVICE")" -headers "$BUILD/headers" \
  -library "$BUILD/simulator/$LIB" -headers "$BUILD/headers" \
  -output "$XCFRAMEWORK"

mkdir -p "$SWIFT_OUT"
cp "$BUILD/swift/HomeVisitCore.swift" "$SWIFT_OUT/HomeVisitCore.swift"

echo "built $XCFRAMEWORK"
echo "generated $SWIFT_OUT/HomeVisitCore.swift"
echo "next: open ios/App (see ios/README.md) or 'xcodebuild -scheme HomeVisit -destination \"generic/platform=iOS Simulator\" build' in ios/"
