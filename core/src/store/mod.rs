//! The encrypted, crash-safe local document store (DESIGN.md "Local store").
