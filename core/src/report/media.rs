//! Photos and the family's drawn signatures in a report.
//!
//! The caller reads them from the store into [`ReportMedia`](super::ReportMedia) (the bytes
//! live in the encrypted store, never in the record). Photos print with their caption, in
//! the order given: in a visit report after section I, and only when the visit's consent
//! covers photographs (`HV-A-CONSENT`); otherwise one line says how many were left out and
//! why. Drawn signatures print after the record's own signature. A picture whose stored bytes
//! cannot be read prints as a line saying so: nothing is dropped silently.

use super::{
    layout::{Block, MediaRef},
    pdf, ReportInput, Subject,
};
use crate::model::assessment::ConsentScope;

/// Tallest a photo is set, in points (about a third of the page).
const PHOTO_MAX_HEIGHT: f32 = 260.0;
/// Tallest a drawn signature is set, in points.
const SIGNATURE_MAX_HEIGHT: f32 = 70.0;

/// Photo blocks of the record, under a heading; nothing when it has none.
pub(super) fn photos(input: &ReportInput<'_>) -> Vec<Block> {
    let photos = &input.media.photos;
    if photos.is_empty() {
        return Vec::new();
    }
    let mut b = vec![Block::Heading("Photographs".into())];
    if let Subject::Visit(a) = input.subject {
        let consented = a
            .sections
            .a
            .consent
            .as_ref()
            .is_some_and(|c| c.scope.contains(&ConsentScope::Photos));
        if !consented {
            b.push(Block::Alert(format!(
                "{} not printed: the visit's consent does not cover photographs (HV-A-CONSENT).",
                count(photos.len(), "photograph")
            )));
            return b;
        }
    }
    for (n, p) in photos.iter().enumerate() {
        b.push(picture(
            MediaRef::Photo(n),
            p,
            PHOTO_MAX_HEIGHT,
            &format!("Photo {}", n + 1),
        ));
    }
    b
}

/// The family's signatures as drawn, under a heading; nothing when there are none.
pub(super) fn family_signatures(input: &ReportInput<'_>) -> Vec<Block> {
    let sigs = &input.media.signatures;
    if sigs.is_empty() {
        return Vec::new();
    }
    let mut b = vec![Block::Heading("Signed by the family".into())];
    for (n, s) in sigs.iter().enumerate() {
        b.push(picture(
            MediaRef::Signature(n),
            s,
            SIGNATURE_MAX_HEIGHT,
            &format!("Signature {}", n + 1),
        ));
    }
    b
}

fn picture(media: MediaRef, img: &super::ReportImage, max_height: f32, name: &str) -> Block {
    if !pdf::usable(img) {
        return Block::Alert(format!(
            "{name} could not be printed: its stored image cannot be read. {}",
            img.caption
        ));
    }
    Block::Image {
        media,
        width_px: img.width_px,
        height_px: img.height_px,
        max_height,
        caption: format!("{name}. {}", img.caption),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what} was")
    } else {
        format!("{n} {what}s were")
    }
}
