# Sourced by .ci/run: FHIR export samples validated by an independent library (fhir.resources R4B).
rm -rf target/fhir-samples
if target/debug/fhir_samples target/fhir-samples >"$LOG/fhir-samples.log" 2>&1; then
  "$TOOLS/venv/bin/python" tests/fhir/validate_fhir.py target/fhir-samples >"$LOG/fhir.log" 2>&1
  grep -E '^FAIL' "$LOG/fhir.log" | head -20
  line=$(grep -E '^fhir: [0-9]+ passed, [0-9]+ failed' "$LOG/fhir.log" | tail -1)
  if [ -n "$line" ]; then
    echo "$line"
    PASS=$((PASS + $(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
    FAIL=$((FAIL + $(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
  else
    tail -20 "$LOG/fhir.log"; bad "fhir validator produced no summary"
  fi
else
  tail -20 "$LOG/fhir-samples.log"; bad "fhir_samples"
fi
