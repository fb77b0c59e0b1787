//! Where photos and the family's drawn signatures go in a report.
//!
//! The record model has neither yet (photos with captions and annotations, and signatures as
//! drawn, arrive with the photo issue). When they exist, [`photos`] returns, for each photo
//! with `photos` in the visit's consent scope (`HV-A-CONSENT`), an image block with its
//! caption after section I, and [`family_signatures`] returns the drawn signatures after
//! section J. Until then both return nothing, and the reports say nothing about photos
//! rather than claiming there are none. docs/REPORTS.md says the same.

use super::{layout::Block, ReportInput};

/// Photo blocks of the record (none: the model has no photos yet).
pub(super) fn photos(_input: &ReportInput<'_>) -> Vec<Block> {
    Vec::new()
}

/// The family's signatures as drawn (none: the model has no drawn signatures yet).
pub(super) fn family_signatures(_input: &ReportInput<'_>) -> Vec<Block> {
    Vec::new()
}
