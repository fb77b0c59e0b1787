//! The uniffi surface of the HomeVisit core for Kotlin, Swift and Python. Thin: it converts
//! types and errors; the logic lives in `homevisit-core` (`records`, `store`, `sync`).
//!
//! Errors are one enum, [`HomeVisitError`], converted from the core's error in one place. No
//! function here panics on input; uniffi catches any panic at the boundary and reports it as
//! an internal error instead of crashing the app.

uniffi::setup_scaffolding!();

/// An FFI enum with the same variants as a core enum, and the conversions both ways.
macro_rules! mirror_enum {
    ($(#[$m:meta])* $name:ident => $core:ty { $($(#[$vm:meta])* $v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl From<$name> for $core {
            fn from(x: $name) -> Self { match x { $($name::$v => <$core>::$v),+ } }
        }
        impl From<$core> for $name {
            fn from(x: $core) -> Self { match x { $(<$core>::$v => $name::$v),+ } }
        }
    };
}

pub mod codes;

pub mod audit;
pub mod care;
pub mod error;
pub mod observe;
pub mod report;
pub mod screens;
pub mod store;
pub mod sync;
pub mod types;

pub use error::HomeVisitError;

/// The version of the core library and of the ruleset it implements, e.g. `0.1.0 (ruleset 2026.1)`.
#[uniffi::export]
pub fn core_version() -> String {
    format!(
        "{} (ruleset {})",
        env!("CARGO_PKG_VERSION"),
        homevisit_core::RULESET_VERSION
    )
}

/// Checks an NHS number (`CH-NHS-FORMAT`, `CH-NHS-CHECK`, `CH-NHS-PATTERN`): the issues it
/// raises, none when valid. Spaces are ignored.
#[uniffi::export]
pub fn check_nhs_number(nhs_number: String) -> Vec<types::ValidationIssue> {
    homevisit_core::rules::nhs::issues("nhs_number", &nhs_number)
        .into_iter()
        .map(types::ValidationIssue::from)
        .collect()
}
