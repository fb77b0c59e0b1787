# Sourced by .ci/run: the Android library layer and presenters compiled with kotlinc and tested
# on the JVM against the host build of the core and a real team server; the Compose and
# Android-only sources (no Android SDK here) checked with the Kotlin grammar and against the
# presenter state they read. Needs gen/kotlin from 20-bindings.sh (and reuses its compiled
# classes in target/kt). Costs one kotlinc run (35-60 s), the tests (about 40 s; three start a
# server) and the checks (about 1 s).
TOOLS=${HOMEVISIT_TOOLS:-$HOME/.cache/homevisit-ci}
KOTLINC=$TOOLS/kotlinc-2.4.20
PY=$TOOLS/venv/bin/python
K=$KOTLINC/lib
ACP=/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$K/kotlin-test.jar:$K/kotlinx-coroutines-core-jvm.jar

if [ -d gen/kotlin ]; then
  rm -rf target/kt-android && mkdir -p target/kt-android
  # 20-bindings.sh compiled gen/kotlin into target/kt in this run: reuse those classes (saves
  # half a minute) when they are newer than the generated sources; else compile gen/kotlin too.
  GEN_SRC=$(find gen/kotlin -name '*.kt' | head -1)
  if [ -f target/kt/app/homevisit/core/Store.class ] && [ target/kt/app/homevisit/core/Store.class -nt "$GEN_SRC" ]; then
    AGEN=(); ACP_RUN="target/kt:$ACP"
  else
    mapfile -t AGEN < <(find gen/kotlin -name '*.kt'); ACP_RUN="$ACP"
  fi
  if "$KOTLINC/bin/kotlinc" -jvm-target 17 -nowarn -d target/kt-android -cp "$ACP_RUN" \
      "${AGEN[@]}" $(find android/homevisit/src/main/kotlin android/homevisit/src/test/kotlin -name '*.kt') \
      >"$LOG/kotlinc-android.log" 2>&1; then
    ok "kotlinc (android library + presenters + tests)"
    aclasses=$(grep -lE '^class [A-Za-z]+Test\b' android/homevisit/src/test/kotlin/app/homevisit/*.kt \
      | xargs -n1 basename | sed 's/\.kt$//; s/^/app.homevisit./' | tr '\n' ' ')
    # shellcheck disable=SC2086
    java -Djna.library.path="$ROOT/target/debug" -Dhomevisit.server="$ROOT/target/debug/homevisit-server" \
      -cp "target/kt-android:$ACP_RUN:$K/kotlin-stdlib.jar" app.homevisit.RunTestsKt $aclasses \
      >"$LOG/kotlin-android.log" 2>&1
    grep -E '^(FAIL|kotlin:)' "$LOG/kotlin-android.log" || tail -20 "$LOG/kotlin-android.log"
    aline=$(grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed' "$LOG/kotlin-android.log" | tail -1)
    if [ -n "$aline" ]; then
      PASS=$((PASS + $(echo "$aline" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
      FAIL=$((FAIL + $(echo "$aline" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
    else
      bad "android kotlin tests produced no summary"
    fi
  else
    grep -E 'error:' "$LOG/kotlinc-android.log" | head -30
    bad "kotlinc (android library + presenters + tests)"
  fi
else
  bad "android: gen/kotlin missing (20-bindings.sh generates it)"
fi

# Every Kotlin file under android/, the Compose app and Android-only sources included.
if "$PY" android/tools/kotlin_syntax_check.py $(find android -name '*.kt') >"$LOG/android-syntax.log" 2>&1; then
  ok "kotlin syntax: android/ ($(tail -1 "$LOG/android-syntax.log"))"
else
  cat "$LOG/android-syntax.log" | tail -20; bad "kotlin syntax: android/"
fi
# The Compose screens read only presenter state that exists.
STATE_TYPES=(--types android/homevisit/src/main/kotlin)
[ -d gen/kotlin ] && STATE_TYPES+=(--types gen/kotlin)
if "$PY" android/tools/state_refs_check.py "${STATE_TYPES[@]}" android/app/src/main/kotlin >"$LOG/android-state.log" 2>&1; then
  ok "compose state references ($(tail -1 "$LOG/android-state.log"))"
else
  cat "$LOG/android-state.log" | tail -20; bad "compose state references"
fi
# Both checks fail on a broken copy (an unknown state field, a missing brace), so they can fail.
broken=$(mktemp -d)
sed '0,/state\.rows/s//state.rowz/' android/app/src/main/kotlin/app/homevisit/app/ui/CaseloadScreen.kt >"$broken/CaseloadScreen.kt"
sed '0,/^}/s///' android/app/src/main/kotlin/app/homevisit/app/ui/SyncStatusScreen.kt >"$broken/SyncStatusScreen.kt"
if ! "$PY" android/tools/state_refs_check.py "${STATE_TYPES[@]}" "$broken/CaseloadScreen.kt" >/dev/null 2>&1 \
   && ! "$PY" android/tools/kotlin_syntax_check.py "$broken/SyncStatusScreen.kt" >/dev/null 2>&1; then
  ok "android checks reject a broken screen"
else
  bad "android checks reject a broken screen"
fi
rm -rf "$broken"
