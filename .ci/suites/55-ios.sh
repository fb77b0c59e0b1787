# Sourced by .ci/run: the iOS package and app (ios/), checked without a Swift compiler
# (TOOLCHAIN.md §6). Python only, a few seconds:
# - every Swift file of the package (with the bindings 20-bindings.sh generated into gen/swift)
#   and of the app parses with tree-sitter-swift, 0 error nodes; the checker itself is shown to
#   catch an injected syntax error;
# - the Swift calls into the generated bindings use methods, labels and cases that exist;
# - the view models mirror the JVM-tested Kotlin presenters (state fields, events, cases);
# - every SwiftUI view reads only state and events its view model has.
# Building the XCFramework and the app needs a Mac (ios/README.md).
IOS_PY=${TOOLS:-$HOME/.cache/homevisit-ci}/venv/bin/python
ios_swift_check() { # name, log, files…
  local name=$1 log=$2
  shift 2
  if [ "$#" -eq 0 ]; then bad "$name (no files)"; return; fi
  if "$IOS_PY" tests/swift/swift_syntax_check.py "$@" >"$LOG/$log" 2>&1; then
    ok "$name: $(tail -1 "$LOG/$log")"
  else
    grep -vE '^swift syntax:' "$LOG/$log" | head -20; bad "$name"
  fi
}

mapfile -t IOS_PACKAGE < <(find ios/Package.swift ios/Sources ios/Tests -name '*.swift' 2>/dev/null | sort)
IOS_GEN=${IOS_GEN:-gen/swift/HomeVisitCore.swift}
if [ -f "$IOS_GEN" ]; then
  ios_swift_check "swift syntax: ios package + generated bindings" ios-package.log "${IOS_PACKAGE[@]}" "$IOS_GEN"
else
  ios_swift_check "swift syntax: ios package (no gen/swift: see 20-bindings)" ios-package.log "${IOS_PACKAGE[@]}"
fi
mapfile -t IOS_APP < <(find ios/App -name '*.swift' | sort)
ios_swift_check "swift syntax: ios app" ios-app.log "${IOS_APP[@]}"

# The syntax check must fail on a broken file: a copy of a view with one closing brace removed.
IOS_BROKEN=$(mktemp -d)
sed '0,/^    }$/{/^    }$/d}' ios/App/HomeVisit/Views/SyncStatusView.swift >"$IOS_BROKEN/Broken.swift"
if "$IOS_PY" tests/swift/swift_syntax_check.py "$IOS_BROKEN/Broken.swift" >"$LOG/ios-broken.log" 2>&1; then
  cat "$LOG/ios-broken.log"; bad "swift syntax check catches a missing brace"
else
  ok "swift syntax check catches a missing brace ($(grep -c -E 'ERROR|MISSING' "$LOG/ios-broken.log") problem line(s))"
fi
rm -rf "$IOS_BROKEN"

if [ -f "$IOS_GEN" ]; then
  if python3 ios/tools/check_ffi_calls.py "$IOS_GEN" . >"$LOG/ios-ffi.log" 2>&1; then
    ok "ios calls match the generated bindings: $(tail -1 "$LOG/ios-ffi.log")"
  else
    head -30 "$LOG/ios-ffi.log"; bad "ios calls match the generated bindings"
  fi
else
  skip "ios calls match the generated bindings" "gen/swift was not generated"
fi

if python3 ios/tools/check_mirror.py . >"$LOG/ios-mirror.log" 2>&1; then
  ok "ios view models mirror the Kotlin presenters: $(tail -1 "$LOG/ios-mirror.log")"
else
  head -40 "$LOG/ios-mirror.log"; bad "ios view models mirror the Kotlin presenters"
fi

if python3 ios/tools/check_view_state.py . >"$LOG/ios-views.log" 2>&1; then
  ok "ios views read only their view model's state: $(tail -1 "$LOG/ios-views.log")"
else
  head -40 "$LOG/ios-views.log"; bad "ios views read only their view model's state"
fi
