//! The README's first command, `homevisit-server demo`, runs end to end: a real server, two
//! devices, offline edits, a clinical conflict visible on both, its resolution, and statuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn demo_shows_the_conflict_on_both_tablets_resolves_it_and_ends_synced() {
    let out = Command::new(env!("CARGO_BIN_EXE_homevisit-server"))
        .arg("demo")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for tablet in ["OT tablet", "AP tablet"] {
        assert!(
            text.contains(&format!(
                "{tablet:<11} CONFLICT on child_weight_kg: 31.8 kg by Priya (AP) vs 33.0 kg by Olu (OT)"
            )),
            "SAF-SILENT-CONFLICT: {tablet} must show the weight conflict\n{text}"
        );
    }
    assert!(text.contains("signing refused: [CF-BLOCK]"), "{text}");
    assert!(text.contains("open conflicts on both tablets: 0"), "{text}");
    assert!(
        text.contains("sync (nothing to do): sent 0 doc(s), received 0 doc(s)"),
        "{text}"
    );
    assert!(text.contains("AP tablet   1 round trip(s)"), "{text}");
    let finals: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "Final statuses")
        .collect();
    assert_eq!(finals.len(), 3, "{text}");
    for line in &finals[1..] {
        assert!(
            line.ends_with("child=synced, risk_assessment=synced, equipment_request=synced"),
            "{line}"
        );
    }
}
