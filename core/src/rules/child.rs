//! See `DOMAIN.md`.
