//! Team configuration of the open questions in `DOMAIN.md` §9.
