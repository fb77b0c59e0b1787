# Sourced by .ci/run: the sample reports (core/src/report/samples.rs) rendered by
# target/debug/report_samples into target/reports/, then checked as a reader's tools see them:
# pdftotext (poppler-utils) on every page for the child's name, NHS number and "Page n of N",
# units, risk bands, signer and HCPC number, the draft and entered-in-error marks, photos and
# the family's signature (pdfimages), and no stored-unit integers; qpdf --check on every file; pdftoppm renders every page to PNG under
# target/reports/ (kept as CI output). Needs poppler-utils and qpdf (.ci/install.sh). About 10 s.
REP=target/reports
NAME="Zoë Ó Dálaigh-Łukasiewicz"
NHS="NHS No. 943 476 5919"

# Page count of a PDF (pdfinfo prints poppler's MarkInfo warnings on stderr; they are noise).
rep_pages() { pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}'; }
# Text of page $2 of PDF $1.
rep_page_text() { timeout 30 pdftotext -enc UTF-8 -f "$2" -l "$2" "$1" - 2>/dev/null; }
# Every page of $1 contains each of the remaining fixed strings.
rep_every_page() {
  local f=$1; shift
  local n i s
  n=$(rep_pages "$f")
  [ -n "$n" ] && [ "$n" -ge 1 ] || return 1
  for i in $(seq 1 "$n"); do
    local t
    t=$(rep_page_text "$f" "$i") || return 1
    for s in "$@"; do
      grep -qF -- "$s" <<<"$t" || { echo "  $f page $i lacks: $s"; return 1; }
    done
    grep -qF "Page $i of $n" <<<"$t" || { echo "  $f page $i lacks: Page $i of $n"; return 1; }
  done
}
# The whole text of $1 (lines joined, so wrapped phrases read whole) contains each string.
rep_contains() {
  local f=$1; shift
  local t s
  t=$(timeout 60 pdftotext -enc UTF-8 "$f" - 2>/dev/null | tr '\n' ' ' | tr -s ' ')
  for s in "$@"; do
    grep -qF -- "$s" <<<"$t" || { echo "  $f lacks: $s"; return 1; }
  done
}

if ! command -v pdftotext >/dev/null || ! command -v qpdf >/dev/null || ! command -v pdftoppm >/dev/null; then
  bad "reports: poppler-utils and qpdf missing (.ci/install.sh installs them)"
elif [ ! -x target/debug/report_samples ]; then
  bad "reports: target/debug/report_samples missing (cargo build --workspace --all-targets)"
else
  rm -rf "$REP" && mkdir -p "$REP"
  if timeout 120 target/debug/report_samples "$REP" >"$LOG/report-samples.log" 2>&1; then
    ok "reports: sample PDFs written ($(ls "$REP"/*.pdf | wc -l) files)"
  else
    tail -20 "$LOG/report-samples.log"; bad "reports: report_samples"
  fi
  all_ok=1
  for f in "$REP"/*.pdf; do
    if ! timeout 60 qpdf --check "$f" >>"$LOG/report-qpdf.log" 2>&1; then all_ok=0; echo "  qpdf --check failed: $f"; fi
  done
  [ $all_ok = 1 ] && ok "reports: qpdf --check on every PDF" || bad "reports: qpdf --check on every PDF"

  all_ok=1
  for f in "$REP"/*.pdf; do rep_every_page "$f" "$NAME" "$NHS" "Born 14 May 2016" || all_ok=0; done
  [ $all_ok = 1 ] && ok "reports: name, date of birth, NHS number and page n of N on every page" \
    || bad "reports: name, date of birth, NHS number and page n of N on every page"

  if rep_every_page "$REP/visit-draft.pdf" "DRAFT — not signed" \
     && rep_every_page "$REP/visit-hostile-text.pdf" "DRAFT — not signed" \
     && rep_every_page "$REP/handling-plan-entered-in-error.pdf" "ENTERED IN ERROR" \
     && rep_contains "$REP/handling-plan-entered-in-error.pdf" "Reason: Written in the wrong child's record"; then
    ok "reports: draft and entered-in-error marks on every page, with the reason"
  else
    bad "reports: draft and entered-in-error marks on every page, with the reason"
  fi
  if ! grep -qF "DRAFT" <<<"$(pdftotext "$REP/visit-signed.pdf" - 2>/dev/null)" \
     && ! grep -qF "DRAFT" <<<"$(pdftotext "$REP/handling-plan-signed.pdf" - 2>/dev/null)"; then
    ok "reports: signed records carry no draft mark"
  else
    bad "reports: signed records carry no draft mark"
  fi

  if rep_contains "$REP/visit-signed.pdf" "Priya Raman — Occupational therapist, HCPC number OT61528" \
       "Tomasz Wiśniewski — Assistant practitioner" "Countersigned on" "16 Mar 2026, 09:30 GMT" \
       "180 mm (as signed) → 195 mm" "Measurement corrected after a second visit" \
     && rep_contains "$REP/handling-plan-signed.pdf" "Priya Raman — Occupational therapist, HCPC number OT61528"; then
    ok "reports: signer, role, HCPC number, countersignature and addendum"
  else
    bad "reports: signer, role, HCPC number, countersignature and addendum"
  fi

  if rep_contains "$REP/handling-plan-signed.pdf" "32.4 kg, measured on 2 Mar 2026" "182.0 kg" "150.0 kg" \
       "138.5 cm" "Extreme risk" "Moderate risk" "10 Jul 2026" \
     && rep_contains "$REP/equipment-request.pdf" "450 mm, taken on 2 Mar 2026" "280 mm" "£2,450.00" \
     && rep_contains "$REP/visit-signed.pdf" "690 mm clear width" "15°"; then
    ok "reports: measurements with units and risk band words"
  else
    bad "reports: measurements with units and risk band words"
  fi

  stored=0
  for f in "$REP"/*.pdf; do
    if pdftotext "$f" - 2>/dev/null | grep -qwE '324|1820|1500|1385|245000'; then stored=1; echo "  stored-unit number in $f"; fi
  done
  [ $stored = 0 ] && ok "reports: no stored-unit numbers (324 for 32.4 kg)" || bad "reports: no stored-unit numbers"

  # Photos and the family's signature as drawn: pdfimages lists 4 JPEGs (embedded as stored)
  # and 1 signature image in the visit with photo consent; the handling plan carries the
  # signature only; captions are text.
  vwp=$(pdfimages -list "$REP/visit-with-photos.pdf" 2>/dev/null | awk 'NR>2 && $3=="image"')
  if [ "$(grep -c . <<<"$vwp")" = 5 ] && [ "$(awk '$9=="jpeg"' <<<"$vwp" | grep -c .)" = 4 ] \
     && [ "$(pdfimages -list "$REP/handling-plan-signed.pdf" 2>/dev/null | awk 'NR>2 && $3=="image"' | grep -c .)" = 1 ] \
     && rep_contains "$REP/visit-with-photos.pdf" "Photo 1. Stairs from the hall: 13 steps, rise 190 mm" \
       "Photo 4. Current seating" "Signed by the family" "Aoife Ó Dálaigh (mother, parental responsibility)"; then
    ok "reports: photos with captions and the family's drawn signature are in the PDF (pdfimages)"
  else
    echo "$vwp"; bad "reports: photos with captions and the family's drawn signature are in the PDF (pdfimages)"
  fi

  hn=$(rep_pages "$REP/visit-hostile-text.pdf")
  if [ -n "$hn" ] && [ "$hn" -gt 10 ] && rep_contains "$REP/visit-hostile-text.pdf" "<script>alert(1)</script> 100%" \
       '\(escaped\)' "مرحبا"; then
    ok "reports: 100,000-character note, RTL text and <, %, \\ render and flow onto $hn pages"
  else
    bad "reports: hostile text report"
  fi

  # The checks can fail: the same per-page check rejects a name the report does not carry.
  if ! rep_every_page "$REP/visit-signed.pdf" "Somebody Else" >/dev/null; then
    ok "reports: page check rejects a missing name"
  else
    bad "reports: page check rejects a missing name"
  fi

  pngs_ok=1
  for f in "$REP"/*.pdf; do
    base=${f%.pdf}
    n=$(rep_pages "$f")
    if ! timeout 120 pdftoppm -png -r 60 "$f" "$base" 2>>"$LOG/report-pdftoppm.log"; then pngs_ok=0; fi
    made=$(ls "$base"-*.png 2>/dev/null | wc -l)
    [ "$made" = "$n" ] || { pngs_ok=0; echo "  $f: $made PNGs for $n pages"; }
  done
  [ $pngs_ok = 1 ] && ok "reports: pdftoppm rendered every page to $REP/*.png" || bad "reports: pdftoppm rendered every page"
fi
