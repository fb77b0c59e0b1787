//! The uniffi surface of the HomeVisit core. Thin: it converts types and errors; the logic
//! lives in `homevisit-core`.

uniffi::setup_scaffolding!();

/// The version of the core library and of the ruleset it implements, e.g. `0.1.0 (ruleset 2026.1)`.
#[uniffi::export]
pub fn core_version() -> String {
    format!(
        "{} (ruleset {})",
        env!("CARGO_PKG_VERSION"),
        homevisit_core::RULESET_VERSION
    )
}
