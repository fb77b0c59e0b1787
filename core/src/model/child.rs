//! See `DOMAIN.md` §3.
