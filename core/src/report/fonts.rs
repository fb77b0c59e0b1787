//! The embedded typeface: DejaVu Sans (regular and bold, Bitstream Vera licence, see
//! `fonts/LICENSE-DejaVu.txt`). It covers Latin with every European diacritic families'
//! names use (Latin-1, Latin Extended-A and -B, Vietnamese), Greek, Cyrillic, Armenian,
//! Georgian, Hebrew and Arabic letters, and the monochrome emoticons U+1F600–U+1F640. It does
//! not cover CJK, Indic scripts (Devanagari, Bengali, Gurmukhi, Tamil…), Thai, or most
//! emoji (hands, people, skin tones, flags, colour emoji): such characters print as
//! U+FFFD `�` so the page still renders, stays searchable and remains valid PDF/A (which
//! forbids the empty `.notdef` glyph). docs/REPORTS.md lists the coverage.

use krilla::text::Font;

use crate::error::{Error, Result};

static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

/// What a report prints in place of a character the font lacks.
pub const REPLACEMENT: char = '\u{FFFD}';

/// One face: the font krilla embeds and the parsed tables used to measure text for wrapping.
#[derive(Clone)]
pub struct Face {
    pub(crate) font: Font,
    parsed: ttf_parser::Face<'static>,
    units_per_em: f32,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("units_per_em", &self.units_per_em)
            .finish_non_exhaustive()
    }
}

impl Face {
    fn load(bytes: &'static [u8], name: &str) -> Result<Self> {
        let parsed = ttf_parser::Face::parse(bytes, 0)
            .map_err(|e| Error::Internal(format!("embedded font {name} does not parse: {e}")))?;
        let font = Font::new(bytes.into(), 0)
            .ok_or_else(|| Error::Internal(format!("embedded font {name} is refused")))?;
        Ok(Self {
            font,
            units_per_em: f32::from(parsed.units_per_em()),
            parsed,
        })
    }

    /// Whether the face has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.parsed.glyph_index(c).is_some_and(|g| g.0 != 0)
    }

    /// Advance width of `c` at `size` points (the replacement glyph's for uncovered ones).
    pub fn advance(&self, c: char, size: f32) -> f32 {
        let glyph = self
            .parsed
            .glyph_index(c)
            .or_else(|| self.parsed.glyph_index(REPLACEMENT));
        let units = glyph
            .and_then(|g| self.parsed.glyph_hor_advance(g))
            .unwrap_or(0);
        f32::from(units) * size / self.units_per_em
    }

    /// Width of `text` at `size` points (no kerning: wrapping keeps a small margin for it).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }
}

/// The regular and bold faces a report uses.
#[derive(Debug, Clone)]
pub struct Fonts {
    /// Body text.
    pub regular: Face,
    /// Headings, labels, banners.
    pub bold: Face,
}

impl Fonts {
    /// Loads the embedded faces (parsing only; the bytes are compiled in).
    pub fn load() -> Result<Self> {
        Ok(Self {
            regular: Face::load(REGULAR, "DejaVuSans")?,
            bold: Face::load(BOLD, "DejaVuSans-Bold")?,
        })
    }
}

/// Text made safe to set: control characters (other than the line breaks the layout
/// handles) become spaces, tabs four spaces, and characters neither face covers become
/// [`REPLACEMENT`]. Nothing is dropped silently: a replaced character stays visible as `�`.
pub fn printable(fonts: &Fonts, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\r' => {}
            '\t' => out.push_str("    "),
            // Zero-width joiners and variation selectors belong to emoji sequences whose
            // base is already replaced; direction marks have no glyph but steer shaping.
            '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' => {}
            '\u{200E}' | '\u{200F}' => {}
            c if c.is_control() => out.push(' '),
            c if fonts.regular.covers(c) && fonts.bold.covers(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_covers_names_with_diacritics() {
        let fonts = Fonts::load().unwrap();
        for name in [
            "Zoë Łukasiewicz",
            "Siobhán Ó Dálaigh",
            "Nguyễn Thị Ánh",
            "Jürgen Groß",
            "Çağla Şahin",
            "Ørjan Ærø",
            "Ιωάννα",
            "Дмитрий",
            "שרה",
            "فاطمة",
        ] {
            assert_eq!(printable(&fonts, name), name, "{name}");
        }
    }

    #[test]
    fn uncovered_characters_print_as_replacement_not_dropped() {
        let fonts = Fonts::load().unwrap();
        assert_eq!(
            printable(&fonts, "Mia 🦄 李 👍🏽"),
            "Mia \u{FFFD} \u{FFFD} \u{FFFD}\u{FFFD}"
        );
        // The monochrome emoticons DejaVu has (U+1F600 block) are kept.
        assert_eq!(printable(&fonts, "😀"), "😀");
        assert_eq!(printable(&fonts, "a\u{0007}b\tc"), "a b    c");
        assert!(fonts.regular.covers(REPLACEMENT));
    }

    #[test]
    fn width_grows_with_text_and_size() {
        let fonts = Fonts::load().unwrap();
        let w = fonts.regular.width("Hello", 10.0);
        assert!(w > 10.0 && w < 40.0, "{w}");
        assert!((fonts.regular.width("Hello", 20.0) - 2.0 * w).abs() < 0.01);
    }
}
