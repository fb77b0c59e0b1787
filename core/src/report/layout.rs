//! Page layout: turns a report's blocks (headings, paragraphs, label–value fields) into lines
//! placed on A4 pages. Text wraps at word boundaries (a word wider than the column breaks
//! between characters), nothing is set outside the body area, and what does not fit flows
//! onto new pages. Pure geometry, no PDF: `pdf.rs` sets the lines.

use super::fonts::{Face, Fonts};

/// A4 width in points.
pub const PAGE_WIDTH: f32 = 595.0;
/// A4 height in points.
pub const PAGE_HEIGHT: f32 = 842.0;
/// Left and right margin.
pub const MARGIN: f32 = 48.0;
/// Top of the body area (below the child header on every page).
pub const BODY_TOP: f32 = 100.0;
/// Bottom of the body area (above the footer on every page).
pub const BODY_BOTTOM: f32 = PAGE_HEIGHT - 62.0;
/// Width of the label column of a field.
pub const LABEL_WIDTH: f32 = 170.0;
/// Body text size.
pub const BODY_SIZE: f32 = 9.5;
/// Caption text size (under pictures).
pub const CAPTION_SIZE: f32 = 8.5;
/// A field of at most this many lines is not split across pages.
const KEEP_TOGETHER_ROWS: usize = 8;
/// Space kept free at a line's end for kerning the measurement leaves out.
const SLACK: f32 = 2.0;

/// Width of the body area.
pub fn body_width() -> f32 {
    PAGE_WIDTH - 2.0 * MARGIN
}

/// One piece of a report's content, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document's title, once at the top.
    Title(String),
    /// A section heading (`A. Visit`), kept with what follows it.
    Heading(String),
    /// A smaller heading inside a section (one task, one item).
    Subheading(String),
    /// Running text; `\n` starts a new line.
    Paragraph(String),
    /// A label and its value side by side.
    Field {
        /// What the value is.
        label: String,
        /// The value, in clinical units.
        value: String,
    },
    /// A warning set in bold red (entered in error, conflicts, amendments).
    Alert(String),
    /// Vertical space.
    Gap,
    /// A picture (a photo, a drawn signature) scaled to fit the body width and `max_height`,
    /// with its caption under it; the two stay on one page.
    Image {
        /// Which of the report's pictures.
        media: MediaRef,
        /// Its pixel width.
        width_px: u32,
        /// Its pixel height.
        height_px: u32,
        /// Tallest it may be set, in points.
        max_height: f32,
        /// Printed under it; also its alternative text in the tagged PDF.
        caption: String,
    },
}

/// One of the report's pictures ([`ReportMedia`](super::ReportMedia)), by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRef {
    /// `media.photos[n]`.
    Photo(usize),
    /// `media.signatures[n]`.
    Signature(usize),
}

/// A picture at its place on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedImage {
    /// Which picture.
    pub media: MediaRef,
    /// Left edge.
    pub x: f32,
    /// Top edge, from the top of the page.
    pub top: f32,
    /// Set width in points.
    pub width: f32,
    /// Set height in points.
    pub height: f32,
    /// Alternative text (the caption).
    pub alt: String,
    /// Index of its block.
    pub block: usize,
}

impl Block {
    /// A field.
    pub fn field(label: impl Into<String>, value: impl Into<String>) -> Self {
        Block::Field {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// How a line is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Regular body text.
    Regular,
    /// Bold: labels, headings.
    Bold,
    /// Bold red: alerts.
    Alert,
}

/// One line of text at its place on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Left edge.
    pub x: f32,
    /// Baseline, from the top of the page.
    pub baseline: f32,
    /// Font size in points.
    pub size: f32,
    /// How it is set.
    pub style: Style,
    /// The text (already made printable).
    pub text: String,
    /// Its measured width.
    pub width: f32,
    /// What it is in the document's structure (tagged PDF).
    pub role: Role,
    /// Index of the block it belongs to: lines of one block form one structure element.
    pub block: usize,
}

/// A line's part in the document structure, for the PDF tag tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The title (`H1`).
    Title,
    /// A section heading (`H2`).
    Heading,
    /// A subheading (`H3`).
    Subheading,
    /// Running text, a field or an alert (`P`).
    Text,
}

/// One page's body: its lines and horizontal rules (y positions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLayout {
    /// Lines in reading order.
    pub lines: Vec<Line>,
    /// Thin rules under headings.
    pub rules: Vec<f32>,
    /// Pictures.
    pub images: Vec<PlacedImage>,
}

/// Breaks `text` into lines no wider than `width` at `size`: at spaces where it can, inside a
/// word where a word alone is too wide. `\n` always breaks. Never returns an empty list.
pub fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let width = (width - SLACK).max(size);
    let space = face.advance(' ', size);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let word_w = face.width(word, size);
            let extra = if line.is_empty() { 0.0 } else { space };
            if line_w + extra + word_w <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += extra + word_w;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= width {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // A word wider than the column: break it between characters.
            for c in word.chars() {
                let cw = face.advance(c, size);
                if line_w + cw > width && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += cw;
            }
        }
        out.push(line);
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<PageLayout>,
    y: f32,
    block: usize,
    role: Role,
}

impl<'f> Flow<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: vec![PageLayout::default()],
            y: BODY_TOP,
            block: 0,
            role: Role::Text,
        }
    }

    fn face(&self, style: Style) -> &'f Face {
        match style {
            Style::Regular => &self.fonts.regular,
            Style::Bold | Style::Alert => &self.fonts.bold,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(PageLayout::default());
        self.y = BODY_TOP;
    }

    /// Makes room for `height`, starting a new page when the body area is full.
    fn reserve(&mut self, height: f32) {
        if self.y + height > BODY_BOTTOM && self.y > BODY_TOP {
            self.new_page();
        }
    }

    fn page(&mut self) -> &mut PageLayout {
        if self.pages.is_empty() {
            self.pages.push(PageLayout::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// One row of up to two cells `(x, style, text)` sharing a baseline.
    fn row(&mut self, size: f32, cells: &[(f32, Style, &str)]) {
        let height = size * 1.4;
        self.reserve(height);
        let baseline = self.y + size;
        for &(x, style, text) in cells {
            if text.is_empty() {
                continue;
            }
            let width = self.face(style).width(text, size);
            let (role, block) = (self.role, self.block);
            self.page().lines.push(Line {
                x,
                baseline,
                size,
                style,
                text: text.to_owned(),
                width,
                role,
                block,
            });
        }
        self.y += height;
    }

    fn text(&mut self, text: &str, size: f32, style: Style, x: f32, width: f32) {
        let face = self.face(style);
        for l in wrap(face, text, size, width) {
            self.row(size, &[(x, style, &l)]);
        }
    }

    /// An image block's width and height on the page, in points, and its caption's lines.
    fn image_box(&self, b: &Block) -> Option<(f32, f32, Vec<String>)> {
        let Block::Image {
            width_px,
            height_px,
            max_height,
            caption,
            ..
        } = b
        else {
            return None;
        };
        let w = body_width();
        let (wpx, hpx) = ((*width_px).max(1) as f32, (*height_px).max(1) as f32);
        // Fit the body width and the height cap, never larger than one point a pixel.
        let scale = (w / wpx)
            .min(max_height.min(BODY_BOTTOM - BODY_TOP - 40.0) / hpx)
            .min(1.0);
        let lines = wrap(&self.fonts.regular, caption, CAPTION_SIZE, w);
        Some((wpx * scale, hpx * scale, lines))
    }

    /// Lays out `b`; `next` is the block after it, which a heading keeps on its page.
    fn block(&mut self, b: &Block, next: Option<&Block>) {
        let w = body_width();
        self.role = match b {
            Block::Title(_) => Role::Title,
            Block::Heading(_) => Role::Heading,
            Block::Subheading(_) => Role::Subheading,
            _ => Role::Text,
        };
        match b {
            Block::Title(t) => {
                self.text(t, 15.0, Style::Bold, MARGIN, w);
                self.y += 4.0;
            }
            Block::Heading(t) => {
                // Keep a heading with at least three lines of what follows, or with the
                // whole picture when a picture follows.
                let follow = match next.and_then(|n| self.image_box(n)) {
                    Some((_, height, lines)) => {
                        8.0 + height + lines.len() as f32 * CAPTION_SIZE * 1.4
                    }
                    None => 3.0 * BODY_SIZE * 1.4,
                };
                self.y += 6.0;
                self.reserve(12.0 * 1.4 + follow + 4.0);
                self.text(t, 12.0, Style::Bold, MARGIN, w);
                let y = self.y - 2.0;
                self.page().rules.push(y);
                self.y += 3.0;
            }
            Block::Subheading(t) => {
                self.y += 3.0;
                self.reserve(10.5 * 1.4 + 2.0 * BODY_SIZE * 1.4);
                self.text(t, 10.5, Style::Bold, MARGIN, w);
            }
            Block::Paragraph(t) => {
                self.text(t, BODY_SIZE, Style::Regular, MARGIN, w);
                self.y += 2.0;
            }
            Block::Alert(t) => {
                self.text(t, 10.0, Style::Alert, MARGIN, w);
                self.y += 2.0;
            }
            Block::Field { label, value } => {
                let labels = wrap(&self.fonts.bold, label, BODY_SIZE, LABEL_WIDTH - 8.0);
                let values = wrap(&self.fonts.regular, value, BODY_SIZE, w - LABEL_WIDTH);
                let rows = labels.len().max(values.len());
                // A short field stays on one page; a long one (a long note) flows.
                if rows <= KEEP_TOGETHER_ROWS {
                    self.reserve(rows as f32 * BODY_SIZE * 1.4);
                }
                for i in 0..rows {
                    let l = labels.get(i).map(String::as_str).unwrap_or("");
                    let v = values.get(i).map(String::as_str).unwrap_or("");
                    self.row(
                        BODY_SIZE,
                        &[
                            (MARGIN, Style::Bold, l),
                            (MARGIN + LABEL_WIDTH, Style::Regular, v),
                        ],
                    );
                }
                self.y += 1.5;
            }
            Block::Gap => self.y += BODY_SIZE,
            Block::Image { media, caption, .. } => {
                let (width, height, lines) = self.image_box(b).unwrap_or_default();
                self.y += 4.0;
                self.reserve(height + 4.0 + lines.len() as f32 * CAPTION_SIZE * 1.4);
                let (top, block) = (self.y, self.block);
                self.page().images.push(PlacedImage {
                    media: *media,
                    x: MARGIN,
                    top,
                    width,
                    height,
                    alt: caption.clone(),
                    block,
                });
                self.y += height + 4.0;
                for l in lines {
                    self.row(CAPTION_SIZE, &[(MARGIN, Style::Regular, &l)]);
                }
                self.y += 4.0;
            }
        }
    }
}

/// Lays `blocks` out on as many pages as they need (at least one).
pub fn lay_out(fonts: &Fonts, blocks: &[Block]) -> Vec<PageLayout> {
    let mut flow = Flow::new(fonts);
    for (i, b) in blocks.iter().enumerate() {
        flow.block = i;
        flow.block(b, blocks.get(i + 1));
    }
    flow.pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load().unwrap()
    }

    #[test]
    fn wrapped_lines_fit_the_column_and_keep_every_word() {
        let f = fonts();
        let text =
            "The child transfers from bed to wheelchair with a mobile hoist and two carers, \
                    using a divided-leg sling size medium. "
                .repeat(20);
        let lines = wrap(&f.regular, &text, BODY_SIZE, 200.0);
        assert!(lines.len() > 20);
        for l in &lines {
            assert!(f.regular.width(l, BODY_SIZE) <= 200.0, "{l}");
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let back: Vec<String> = lines
            .join(" ")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(back, words);
    }

    #[test]
    fn a_word_wider_than_the_column_breaks_between_characters() {
        let f = fonts();
        let word = "x".repeat(500);
        let lines = wrap(&f.regular, &word, BODY_SIZE, 100.0);
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| f.regular.width(l, BODY_SIZE) <= 100.0));
        assert_eq!(lines.concat(), word);
    }

    #[test]
    fn a_short_field_is_not_split_across_pages() {
        let f = fonts();
        let mut blocks = vec![Block::Paragraph("line\n".repeat(44))];
        blocks.push(Block::field(
            "A label long enough to wrap onto two lines or more",
            "v\nv\nv",
        ));
        let pages = lay_out(&f, &blocks);
        let label_pages: Vec<usize> = pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.lines.iter().any(|l| l.style == Style::Bold))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            label_pages.len(),
            1,
            "label split over pages {label_pages:?}"
        );
    }

    #[test]
    fn long_content_flows_onto_new_pages_inside_the_body_area() {
        let f = fonts();
        let note = "word ".repeat(20_000);
        let pages = lay_out(&f, &[Block::Title("T".into()), Block::Paragraph(note)]);
        assert!(pages.len() > 5, "{} pages", pages.len());
        for p in &pages {
            assert!(!p.lines.is_empty());
            for l in &p.lines {
                assert!(l.baseline - l.size >= BODY_TOP - 0.01 && l.baseline <= BODY_BOTTOM);
                assert!(
                    l.x >= MARGIN && l.x + l.width <= PAGE_WIDTH - MARGIN,
                    "{l:?}"
                );
            }
        }
    }

    #[test]
    fn a_heading_stays_on_the_page_of_the_picture_that_follows_it() {
        let f = fonts();
        let blocks = vec![
            // Fill most of the first page, leaving room for a heading and three lines but not
            // for a picture 260 points tall.
            Block::Paragraph("line\n".repeat(40)),
            Block::Heading("Photographs".into()),
            Block::Image {
                media: MediaRef::Photo(0),
                width_px: 1600,
                height_px: 1200,
                max_height: 260.0,
                caption: "Photo 1. Stairs".into(),
            },
        ];
        let pages = lay_out(&f, &blocks);
        let heading_page = pages
            .iter()
            .position(|p| p.lines.iter().any(|l| l.text == "Photographs"));
        let image_page = pages.iter().position(|p| !p.images.is_empty());
        assert!(image_page.is_some());
        assert_eq!(heading_page, image_page, "heading left behind its picture");
        assert_eq!(image_page, Some(1));
    }
}
