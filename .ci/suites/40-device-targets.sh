# Sourced by .ci/run: the core type-checks for the devices' targets (TOOLCHAIN.md §7).
# Android: every line of Rust and the C of SQLCipher/OpenSSL, compiled against glibc headers.
# iOS: every line of Rust with plain SQLite (SQLCipher's OpenSSL needs Apple's SDK).
# A target whose standard library cannot be installed is skipped, not failed.
if rustup target list --installed 2>/dev/null | grep -qx aarch64-linux-android \
   || timeout 180 rustup target add aarch64-linux-android >"$LOG/rustup-android.log" 2>&1; then
  if CC_aarch64_linux_android=aarch64-linux-gnu-gcc AR_aarch64_linux_android=aarch64-linux-gnu-ar \
     cargo check --locked --target aarch64-linux-android -p homevisit-ffi >"$LOG/android-check.log" 2>&1; then
    ok "cargo check --target aarch64-linux-android -p homevisit-ffi"
  else
    grep -E -A8 '^error' "$LOG/android-check.log" | head -40
    bad "cargo check --target aarch64-linux-android -p homevisit-ffi"
  fi
else
  skip "android target check" "rust-std for aarch64-linux-android could not be installed"
fi

if rustup target list --installed 2>/dev/null | grep -qx aarch64-apple-ios \
   || timeout 180 rustup target add aarch64-apple-ios >"$LOG/rustup-ios.log" 2>&1; then
  if CC_aarch64_apple_ios="$ROOT/.ci/ios-cc" AR_aarch64_apple_ios=ar SDKROOT=/tmp IPHONEOS_DEPLOYMENT_TARGET=13.0 \
     cargo check --locked --target aarch64-apple-ios -p homevisit-ffi --no-default-features --features plain-sqlite \
     >"$LOG/ios-check.log" 2>&1; then
    ok "cargo check --target aarch64-apple-ios -p homevisit-ffi (plain-sqlite)"
  else
    grep -E -A8 '^error' "$LOG/ios-check.log" | head -40
    bad "cargo check --target aarch64-apple-ios -p homevisit-ffi (plain-sqlite)"
  fi
else
  skip "ios target check" "rust-std for aarch64-apple-ios could not be installed"
fi
