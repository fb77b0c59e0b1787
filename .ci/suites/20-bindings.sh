# Sourced by .ci/run: generated bindings tested from Kotlin (JVM), Python and checked for Swift/C.
TOOLS=${HOMEVISIT_TOOLS:-$HOME/.cache/homevisit-ci}
KOTLINC=$TOOLS/kotlinc-2.4.20
PY=$TOOLS/venv/bin/python

if JVM=1 OUT=gen bash bindings/generate.sh >"$LOG/generate.log" 2>&1; then
  ok "generate bindings (kotlin, swift, python)"

  # Kotlin on the JVM: generated bindings + tests/kotlin, JNA + JUnit 4 from Debian.
  K=$KOTLINC/lib
  CP=/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$K/kotlin-test.jar:$K/kotlinx-coroutines-core-jvm.jar
  rm -rf target/kt && mkdir -p target/kt
  if "$KOTLINC/bin/kotlinc" -jvm-target 17 -nowarn -d target/kt -cp "$CP" \
      $(find gen/kotlin -name '*.kt') tests/kotlin/*.kt >"$LOG/kotlinc.log" 2>&1; then
    classes=$(grep -lE '^class [A-Za-z]+Test\b' tests/kotlin/*.kt | xargs -n1 basename | sed 's/\.kt$//' | tr '\n' ' ')
    # shellcheck disable=SC2086
    java -Djna.library.path="$ROOT/target/debug" -cp "target/kt:$CP:$K/kotlin-stdlib.jar" RunTestsKt $classes \
      >"$LOG/kotlin.log" 2>&1
    cat "$LOG/kotlin.log" | grep -E '^(FAIL|kotlin:)' || tail -20 "$LOG/kotlin.log"
    line=$(grep -E '^kotlin: [0-9]+ passed, [0-9]+ failed' "$LOG/kotlin.log" | tail -1)
    if [ -n "$line" ]; then
      PASS=$((PASS + $(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
      FAIL=$((FAIL + $(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
    else
      bad "kotlin tests produced no summary"
    fi
  else
    grep -E 'error:' "$LOG/kotlinc.log" | head -30
    bad "kotlinc (generated bindings + tests/kotlin)"
  fi

  # Python with pytest.
  PYTHONPATH=gen/python "$PY" -m pytest -q -p no:cacheprovider tests/python >"$LOG/pytest.log" 2>&1
  tail -3 "$LOG/pytest.log"
  pline=$(tail -1 "$LOG/pytest.log")
  pp=$(echo "$pline" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  pf=$(echo "$pline" | grep -oE '[0-9]+ (failed|error)' | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
  PASS=$((PASS + ${pp:-0})); FAIL=$((FAIL + ${pf:-0}))
  if [ "${pp:-0}" -eq 0 ] && [ "${pf:-0}" -eq 0 ]; then bad "pytest ran no test"; fi

  # Every String of the exported API is classified (bindings/string-api.txt); a new one fails
  # until it is listed, so a code list cannot slip in as a string. The check must catch one.
  GEN_KT=gen/kotlin/app/homevisit/core/homevisit_ffi.kt
  if python3 bindings/tools/string_api_check.py "$GEN_KT" bindings/string-api.txt >"$LOG/string-api.log" 2>&1; then
    ok "exported Strings classified: $(tail -1 "$LOG/string-api.log")"
  else
    head -20 "$LOG/string-api.log"; bad "exported Strings classified (bindings/string-api.txt)"
  fi
  STRING_PROBE=$(mktemp)
  sed 's/^data class RiskScore (/data class RiskScore (\n    var `category`: kotlin.String,/' "$GEN_KT" >"$STRING_PROBE"
  # (The checker exits 1 here; its output is read whole so that pipefail does not hide the match.)
  PROBE_OUT=$(python3 bindings/tools/string_api_check.py "$STRING_PROBE" bindings/string-api.txt 2>&1 || true)
  if grep -q 'new String in the exported API: RiskScore.category' <<<"$PROBE_OUT"; then
    ok "string api check catches a new String field"
  else
    bad "string api check catches a new String field"
  fi
  rm -f "$STRING_PROBE"

  # Swift: tree-sitter parse of the generated bindings (TOOLCHAIN.md §6).
  if "$PY" tests/swift/swift_syntax_check.py $(find gen/swift -name '*.swift') >"$LOG/swift-gen.log" 2>&1; then
    ok "swift syntax: generated bindings"
  else
    tail -20 "$LOG/swift-gen.log"; bad "swift syntax: generated bindings"
  fi
  # The C header compiles, and every function it declares is exported by the library.
  if printf '#include "HomeVisitFFI.h"\n' | gcc -fsyntax-only -std=c11 -Wall -Wextra -Werror -pedantic \
      -D_Nullable= -D_Nonnull= -I gen/swift -x c - >"$LOG/header.log" 2>&1; then
    ok "C header compiles (gcc -Wall -Wextra -Werror -pedantic)"
  else
    cat "$LOG/header.log" | head -20; bad "C header compiles"
  fi
  missing=$(comm -23 <(grep -oE '\b(uniffi|ffi)_[A-Za-z0-9_]+ *\(' gen/swift/HomeVisitFFI.h | tr -d ' (' | sort -u) \
                     <(nm -D --defined-only target/debug/libhomevisit_ffi.so | awk '{print $3}' | sort -u))
  if [ -z "$missing" ]; then ok "every header function is exported"; else echo "$missing" | head; bad "header symbols exported"; fi
else
  tail -30 "$LOG/generate.log"
  bad "generate bindings"
fi
