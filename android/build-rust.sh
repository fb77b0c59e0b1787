#!/usr/bin/env bash
# Builds the core's FFI library for Android devices and generates the Kotlin bindings the
# library module compiles. Needs the Android NDK (ANDROID_NDK_HOME, or found by cargo-ndk under
# ANDROID_HOME/ndk) and, once: `cargo install cargo-ndk --locked` and
# `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`.
#
#   bash android/build-rust.sh            # release .so files for arm64-v8a, armeabi-v7a, x86_64
#   PROFILE=dev bash android/build-rust.sh  # debug build (faster, larger)
#
# Output: android/homevisit/src/main/jniLibs/<abi>/libhomevisit_ffi.so and gen/kotlin (the
# bindings; the Gradle module reads ../gen/kotlin). Neither is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
JNI=android/homevisit/src/main/jniLibs
API=${ANDROID_API:-26}   # minSdk of the app

if ! cargo ndk --version >/dev/null 2>&1; then
  echo "cargo-ndk is missing: cargo install cargo-ndk --locked" >&2
  exit 1
fi
for t in aarch64-linux-android armv7-linux-androideabi x86_64-linux-android; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done

args=(--locked -p homevisit-ffi)
if [ "$PROFILE" = release ]; then args+=(--release); fi
# cargo-ndk sets the NDK's clang as CC/AR for the C of SQLCipher and vendored OpenSSL, and
# copies each libhomevisit_ffi.so into $JNI/<abi>/.
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -P "$API" -o "$JNI" build "${args[@]}"

# Bindings: generated from the host library (same uniffi metadata as the device builds).
# Without JVM=1: the Android flavour of the Kotlin (bindings/uniffi.toml).
OUT=gen bash bindings/generate.sh
ls -l "$JNI"/*/libhomevisit_ffi.so
echo "bindings in gen/kotlin; native libraries in $JNI"
