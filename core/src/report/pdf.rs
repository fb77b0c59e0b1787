//! Typesetting: sets laid-out pages as a PDF with krilla (docs/adr, PDF library). Every page
//! gets the same frame: the child's name, date of birth and NHS number at the top, the
//! record's state when it is not a signed, active record, who produced the report and when
//! at the bottom with "Page n of N", and a diagonal watermark on drafts and records entered
//! in error. The output is PDF/A-2b with a tag tree (headings and paragraphs, the frame as
//! artifacts), fonts embedded and subset, text extractable.

use std::num::NonZeroU16;

use krilla::{
    color::rgb,
    configure::{Archival, ConfigurationBuilder, Validator},
    geom::{PathBuilder, Point, Rect, Size, Transform},
    image::Image,
    metadata::{DateTime as PdfDateTime, Metadata},
    num::NormalizedF32,
    page::PageSettings,
    paint::Fill,
    surface::Surface,
    tagging::{
        Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagKind, TagTree,
    },
    text::TextDirection,
    Document, SerializeSettings,
};

use super::{
    fonts::{Face, Fonts},
    layout::{
        body_width, wrap, Line, PageLayout, PlacedImage, Role, Style, MARGIN, PAGE_HEIGHT,
        PAGE_WIDTH,
    },
    ImageFormat, ReportImage, ReportMedia,
};
use crate::error::{Error, Result};

/// A line or a picture on a page.
enum Item<'a> {
    Line(&'a Line),
    Image(&'a PlacedImage),
}

/// The picture as krilla embeds it: a JPEG's compressed bytes are copied as they are.
/// `None` when its header cannot be read. Without interpolation: PDF/A-2b forbids the
/// `/Interpolate` flag, and a photo scaled down to the page needs none.
fn image(r: &ReportImage) -> Option<Image> {
    let data = r.bytes.clone().into();
    match r.format {
        ImageFormat::Jpeg => Image::from_jpeg(data, false).ok(),
        ImageFormat::Png => Image::from_png(data, false).ok(),
    }
}

/// Whether `r` can be printed: its header reads and its size is the one recorded.
pub fn usable(r: &ReportImage) -> bool {
    image(r).is_some_and(|i| i.size() == (r.width_px, r.height_px))
}

/// What every page of one report repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The report's title (right of the header), also the PDF title.
    pub title: String,
    /// The child's full name.
    pub child_name: String,
    /// Date of birth and NHS number, e.g. `Born 14 May 2016 · NHS No. 943 476 5919`.
    pub child_ids: String,
    /// The record's state when it is not signed and active (`DRAFT — not signed`,
    /// `ENTERED IN ERROR`), shown in red in the header.
    pub state: Option<String>,
    /// Diagonal text across every page (drafts, entered in error).
    pub watermark: Option<String>,
    /// Who produced the report, when (Europe/London) and for what.
    pub produced: String,
    /// When it was produced (UTC), for the PDF's metadata.
    pub produced_at: chrono::DateTime<chrono::Utc>,
}

/// An sRGB colour.
type Rgb = (u8, u8, u8);

const BLACK: Rgb = (0, 0, 0);
const GREY: Rgb = (90, 90, 90);
const RED: Rgb = (180, 0, 0);
const WATERMARK: Rgb = RED;
const WATERMARK_OPACITY: f32 = 0.22;
const RULE: Rgb = (170, 170, 170);

fn fill((r, g, b): Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn set_text(
    surface: &mut Surface<'_>,
    face: &Face,
    color: Rgb,
    x: f32,
    baseline: f32,
    size: f32,
    text: &str,
) {
    surface.set_fill(Some(fill(color)));
    surface.draw_text(
        Point::from_xy(x, baseline),
        face.font.clone(),
        size,
        text,
        false,
        TextDirection::Auto,
    );
}

fn rule(surface: &mut Surface<'_>, y: f32) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(MARGIN, y, body_width(), 0.6) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(fill(RULE)));
        surface.draw_path(&path);
    }
}

fn artifact(surface: &mut Surface<'_>, kind: ArtifactType, draw: impl FnOnce(&mut Surface<'_>)) {
    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
    draw(surface);
    surface.end_tagged();
}

fn draw_frame(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    frame: &Frame,
    page_no: usize,
    page_count: usize,
) {
    artifact(surface, ArtifactType::Header, |s| {
        let title_w = fonts.bold.width(&frame.title, 10.0);
        let (name, size, with_title) = header_name(fonts, frame);
        set_text(s, &fonts.bold, BLACK, MARGIN, 40.0, size, &name);
        if with_title {
            set_text(
                s,
                &fonts.bold,
                GREY,
                PAGE_WIDTH - MARGIN - title_w,
                40.0,
                10.0,
                &frame.title,
            );
        }
        set_text(
            s,
            &fonts.regular,
            BLACK,
            MARGIN,
            56.0,
            9.5,
            &frame.child_ids,
        );
        if let Some(state) = &frame.state {
            let w = fonts.bold.width(state, 10.0);
            set_text(
                s,
                &fonts.bold,
                RED,
                PAGE_WIDTH - MARGIN - w,
                56.0,
                10.0,
                state,
            );
        }
        rule(s, 66.0);
    });
    artifact(surface, ArtifactType::Footer, |s| {
        let footer_top = PAGE_HEIGHT - 48.0;
        rule(s, footer_top);
        let page = page_label(page_no, page_count);
        let page_w = fonts.bold.width(&page, 8.5);
        for (i, l) in footer_lines(fonts, frame, &page).iter().enumerate() {
            set_text(
                s,
                &fonts.regular,
                GREY,
                MARGIN,
                footer_top + 14.0 + 10.0 * i as f32,
                8.0,
                l,
            );
        }
        set_text(
            s,
            &fonts.bold,
            BLACK,
            PAGE_WIDTH - MARGIN - page_w,
            footer_top + 14.0,
            8.5,
            &page,
        );
    });
}

/// The diagonal watermark, drawn last and translucent (PDF/A-2 allows it) so that it lies over
/// the page's photos and text, which stay readable through it: drawn first, a photo hid it.
fn draw_watermark(surface: &mut Surface<'_>, fonts: &Fonts, frame: &Frame) {
    let Some(w) = &frame.watermark else {
        return;
    };
    artifact(surface, ArtifactType::Watermark, |s| {
        let size = 44.0;
        let width = fonts.bold.width(w, size);
        s.push_transform(&Transform::from_rotate_at(
            -40.0,
            PAGE_WIDTH / 2.0,
            PAGE_HEIGHT / 2.0,
        ));
        let (r, g, b) = WATERMARK;
        s.set_fill(Some(Fill {
            paint: rgb::Color::new(r, g, b).into(),
            opacity: NormalizedF32::new(WATERMARK_OPACITY).unwrap_or(NormalizedF32::ONE),
            rule: Default::default(),
        }));
        s.draw_text(
            Point::from_xy((PAGE_WIDTH - width) / 2.0, PAGE_HEIGHT / 2.0 + size / 3.0),
            fonts.bold.font.clone(),
            size,
            w,
            false,
            TextDirection::Auto,
        );
        s.pop();
    });
}

/// The frame's texts on page `page_no` of `page_count`, as [`draw_frame`] sets them (the
/// watermark is [`Frame::watermark`], drawn last by [`draw_watermark`]).
pub fn frame_texts(fonts: &Fonts, frame: &Frame, page_no: usize, page_count: usize) -> Vec<String> {
    let mut v = Vec::new();
    let (name, _, with_title) = header_name(fonts, frame);
    v.push(name);
    if with_title {
        v.push(frame.title.clone());
    }
    v.push(frame.child_ids.clone());
    v.extend(frame.state.clone());
    v.extend(footer_lines(fonts, frame, &page_label(page_no, page_count)));
    v.push(page_label(page_no, page_count));
    v
}

fn page_label(page_no: usize, page_count: usize) -> String {
    format!("Page {page_no} of {page_count}")
}

/// The child's name for the header, its size, and whether the report title still fits beside
/// it: 12 pt beside the title; for a long name, down to 9 pt beside it, then the whole width
/// without the title (it is also the page's first heading) down to 6 pt (about 115
/// characters); cut with `…` only beyond that.
fn header_name(fonts: &Fonts, frame: &Frame) -> (String, f32, bool) {
    let name = &frame.child_name;
    let beside = body_width() - fonts.bold.width(&frame.title, 10.0) - 12.0;
    let at12 = fonts.bold.width(name, 12.0);
    if at12 <= beside {
        return (name.clone(), 12.0, true);
    }
    if at12 * 9.0 / 12.0 <= beside {
        return (name.clone(), 12.0 * beside / at12, true);
    }
    let room = body_width();
    let size = (12.0 * room / at12).clamp(6.0, 12.0);
    if fonts.bold.width(name, size) <= room {
        return (name.clone(), size, false);
    }
    let first = wrap(&fonts.bold, name, size, room - fonts.bold.width("…", size))
        .into_iter()
        .next()
        .unwrap_or_default();
    (format!("{first}…"), size, false)
}

fn footer_lines(fonts: &Fonts, frame: &Frame, page: &str) -> Vec<String> {
    let page_w = fonts.bold.width(page, 8.5);
    wrap(
        &fonts.regular,
        &frame.produced,
        8.0,
        body_width() - page_w - 16.0,
    )
    .into_iter()
    .take(3)
    .collect()
}

fn pdf_date(at: chrono::DateTime<chrono::Utc>) -> PdfDateTime {
    use chrono::{Datelike, Timelike};
    // Narrowing casts cannot truncate: chrono bounds each component.
    PdfDateTime::new(u16::try_from(at.year()).unwrap_or(2000))
        .month(at.month() as u8)
        .day(at.day() as u8)
        .hour(at.hour() as u8)
        .minute(at.minute() as u8)
        .second(at.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

fn tag_for(role: Role, text: &str) -> TagKind {
    let level = |n: u16| NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN);
    match role {
        Role::Title => Tag::Hn(level(1), Some(text.to_owned())).into(),
        Role::Heading => Tag::Hn(level(2), Some(text.to_owned())).into(),
        Role::Subheading => Tag::Hn(level(3), Some(text.to_owned())).into(),
        Role::Text => Tag::P.into(),
    }
}

/// Sets `pages` inside `frame` as PDF/A-2b bytes.
pub fn write(
    fonts: &Fonts,
    frame: &Frame,
    pages: &[PageLayout],
    media: &ReportMedia,
) -> Result<Vec<u8>> {
    let configuration = ConfigurationBuilder::new()
        .set_validator(Validator::A(Archival::A2_B))
        .finish()
        .map_err(|e| Error::Internal(format!("PDF configuration: {e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} — {}", frame.title, frame.child_name))
            .language("en-GB".to_owned())
            .creator("HomeVisit".to_owned())
            .producer("HomeVisit (krilla)".to_owned())
            .creation_date(pdf_date(frame.produced_at)),
    );
    let mut tree = TagTree::new();
    // One structure element per block, in reading order; lines of a block that crosses a
    // page join the same element.
    let mut current: Option<(usize, TagGroup)> = None;
    let page_count = pages.len().max(1);
    let Some(settings) = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT) else {
        return Err(Error::Internal("A4 page size refused".into()));
    };
    for (i, p) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        draw_frame(&mut surface, fonts, frame, i + 1, page_count);
        for r in &p.rules {
            artifact(&mut surface, ArtifactType::PaginationOther, |s| rule(s, *r));
        }
        // Lines and pictures in reading order: by block, a picture before its caption.
        let mut items: Vec<Item<'_>> = p
            .images
            .iter()
            .map(Item::Image)
            .chain(p.lines.iter().map(Item::Line))
            .collect();
        items.sort_by_key(|i| match i {
            Item::Image(im) => (im.block, 0),
            Item::Line(l) => (l.block, 1),
        });
        for item in items {
            let (block, id, kind) = match item {
                Item::Line(l) => {
                    let (face, color) = match l.style {
                        Style::Regular => (&fonts.regular, BLACK),
                        Style::Bold => (&fonts.bold, BLACK),
                        Style::Alert => (&fonts.bold, RED),
                    };
                    let id: Identifier = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
                    set_text(&mut surface, face, color, l.x, l.baseline, l.size, &l.text);
                    surface.end_tagged();
                    (l.block, id, tag_for(l.role, &l.text))
                }
                Item::Image(im) => {
                    let Some(image) = media.get(im.media).and_then(image) else {
                        // Checked before layout (`usable`); a picture that cannot be read is
                        // replaced by a line saying so, never dropped silently.
                        continue;
                    };
                    let Some(size) = Size::from_wh(im.width, im.height) else {
                        continue;
                    };
                    let id: Identifier = surface.start_tagged(ContentTag::Other);
                    surface.push_transform(&Transform::from_translate(im.x, im.top));
                    surface.draw_image(image, size);
                    surface.pop();
                    surface.end_tagged();
                    (im.block, id, Tag::Figure(Some(im.alt.clone())).into())
                }
            };
            match &mut current {
                Some((b, group)) if *b == block => group.push(id),
                _ => {
                    if let Some((_, group)) = current.take() {
                        tree.push(group);
                    }
                    let mut group = TagGroup::new(kind);
                    group.push(id);
                    current = Some((block, group));
                }
            }
        }
        draw_watermark(&mut surface, fonts, frame);
        surface.finish();
        page.finish();
    }
    if let Some((_, group)) = current.take() {
        tree.push(group);
    }
    doc.set_tag_tree(tree);
    doc.finish()
        .map_err(|e| Error::Internal(format!("PDF could not be written: {e:?}")))
}
