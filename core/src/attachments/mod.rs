//! Photos and drawn signatures before they are stored (DOMAIN.md §4.1, docs/PHOTOS.md).
//!
//! [`sanitise`] is the only way bytes from a camera or a photo picker reach the store: the
//! format is recognised from the leading bytes (`RK-PHOTO-FORMAT`), the input size and the
//! declared pixel count are capped before anything is decoded (`RK-PHOTO-BYTES`,
//! `RK-PHOTO-PIXELS`), the image must decode completely (`RK-PHOTO-CORRUPT`), and what is
//! stored is the upright picture re-encoded as a plain JPEG with no metadata block at all
//! (`RK-PHOTO-META`), plus a thumbnail. Content addresses are the SHA-256 of the stored bytes.
//!
//! `header.rs` reads formats and declared dimensions, `draw.rs` draws measured annotations
//! onto a photo, `signature.rs` renders a family member's strokes.

pub mod draw;
pub mod header;
pub mod signature;

use std::io::Cursor;

use image::{
    codecs::jpeg::JpegEncoder, DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader,
    Limits, RgbImage,
};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Largest input accepted, in bytes (`RK-PHOTO-BYTES`): a 12-megapixel phone JPEG is 3–8 MB,
/// a 50-megapixel one about 20 MB.
pub const MAX_INPUT_BYTES: usize = 25 * 1024 * 1024;
/// Most pixels an image may declare (`RK-PHOTO-PIXELS`).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest side an image may declare, in pixels (`RK-PHOTO-PIXELS`).
pub const MAX_SIDE: u32 = 20_000;
/// Most memory the decoder may allocate (the decoded picture included).
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// JPEG quality of stored photos and thumbnails.
pub const JPEG_QUALITY: u8 = 85;

/// An image format the store accepts as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `image/jpeg` — also the format of everything stored.
    Jpeg,
    /// `image/png` — drawn signatures are rendered as PNG.
    Png,
    /// `image/webp`
    Webp,
}

impl MediaType {
    /// The MIME type, as the document's metadata item holds it.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The media type of a MIME string.
    pub fn from_mime(s: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp]
            .into_iter()
            .find(|m| m.mime() == s)
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// Stored image bytes with what the store keeps beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The bytes as stored.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lower-case hex: the content address.
    pub hash: String,
    /// Always JPEG for photos.
    pub media_type: MediaType,
    /// Width in pixels (upright).
    pub width_px: u32,
    /// Height in pixels (upright).
    pub height_px: u32,
}

/// A photo made safe to store: the full picture and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitised {
    /// The upright, metadata-free picture.
    pub full: StoredImage,
    /// The list screens' thumbnail (longest side [`THUMBNAIL_SIDE`]).
    pub thumbnail: StoredImage,
    /// The format the input came in.
    pub source: MediaType,
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn refuse(rule: &str, detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        rule_id: rule.into(),
        detail: detail.into(),
    }
}

/// Checks format, size and declared dimensions, decodes, applies the EXIF orientation and
/// re-encodes without any metadata; makes the thumbnail. Every refusal is `InvalidInput`
/// with its rule ID; a hostile image never panics the caller.
pub fn sanitise(bytes: &[u8]) -> Result<Sanitised> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(refuse(
            "RK-PHOTO-BYTES",
            format!(
                "the file is {} MB; photos up to {} MB are accepted",
                bytes.len() / (1024 * 1024),
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let source = header::sniff(bytes).ok_or_else(|| {
        refuse(
            "RK-PHOTO-FORMAT",
            if bytes.is_empty() {
                "the file is empty".to_owned()
            } else {
                "the file is not a JPEG, PNG or WebP image".to_owned()
            },
        )
    })?;
    let (w, h) = header::dimensions(source, bytes).ok_or_else(|| {
        refuse(
            "RK-PHOTO-CORRUPT",
            "the image header cannot be read (truncated or damaged)",
        )
    })?;
    check_pixels(w, h)?;
    if source == MediaType::Jpeg && !jpeg_has_end(bytes) {
        return Err(refuse(
            "RK-PHOTO-CORRUPT",
            "the JPEG ends before its end-of-image marker (truncated)",
        ));
    }
    let img = guarded(|| decode_upright(source, bytes))?;
    let full = encode(&img)?;
    let thumb = encode(&img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE))?;
    Ok(Sanitised {
        full,
        thumbnail: thumb,
        source,
    })
}

fn check_pixels(w: u32, h: u32) -> Result<()> {
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(refuse("RK-PHOTO-CORRUPT", "the image declares no pixels"));
    }
    if w > MAX_SIDE || h > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(refuse(
            "RK-PHOTO-PIXELS",
            format!(
                "the image declares {w} × {h} pixels; at most {} megapixels and {MAX_SIDE} \
                 pixels a side are accepted",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// Whether the JPEG's top-level marker walk reaches a scan and an end-of-image marker after
/// it. Entropy-coded data never holds `FF D9` (an `FF` there is followed by `00` or a restart
/// marker), and an embedded EXIF thumbnail's markers sit inside an APP segment the walk skips.
fn jpeg_has_end(b: &[u8]) -> bool {
    let mut i = 2;
    let scan = loop {
        let (Some(&ff), Some(&marker)) = (b.get(i), b.get(i + 1)) else {
            return false;
        };
        if ff != 0xFF {
            return false;
        }
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0xDA {
            break i;
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let Some(len) = b
            .get(i + 2..i + 4)
            .map(|s| usize::from(s[0]) << 8 | usize::from(s[1]))
        else {
            return false;
        };
        i += 2 + len;
    };
    b[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Runs a decode so that a panic inside a decoder on hostile bytes is a typed refusal.
fn guarded<T>(f: impl FnOnce() -> Result<T> + std::panic::UnwindSafe) -> Result<T> {
    match std::panic::catch_unwind(f) {
        Ok(r) => r,
        Err(_) => Err(refuse(
            "RK-PHOTO-CORRUPT",
            "the image could not be decoded (damaged)",
        )),
    }
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_DECODE_ALLOC);
    l
}

fn decode_error(e: ImageError) -> Error {
    match e {
        ImageError::Limits(l) => refuse(
            "RK-PHOTO-PIXELS",
            format!("the image is too large to decode: {l}"),
        ),
        other => refuse(
            "RK-PHOTO-CORRUPT",
            format!("the image could not be decoded: {other}"),
        ),
    }
}

/// Decodes under [`limits`] and turns the picture upright from its EXIF orientation.
fn decode_upright(media: MediaType, bytes: &[u8]) -> Result<DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), media.image_format());
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    check_pixels(w, h)?;
    // An unreadable orientation tag is no reason to refuse the photo: it stays as decoded.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Decodes bytes the store holds (always sanitised JPEG) for drawing on them.
pub fn decode_stored(bytes: &[u8]) -> Result<DynamicImage> {
    let media = header::sniff(bytes).ok_or_else(|| Error::Corrupt {
        record: None,
        detail: "stored image bytes are not an image".into(),
    })?;
    guarded(|| {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), media.image_format());
        reader.limits(limits());
        reader.decode().map_err(|e| Error::Corrupt {
            record: None,
            detail: format!("stored image does not decode: {e}"),
        })
    })
}

/// Flattens onto white (a PNG's transparency) and encodes as a baseline JPEG with no
/// metadata segment but the encoder's JFIF header.
pub fn encode(img: &DynamicImage) -> Result<StoredImage> {
    let rgb = flatten(img);
    let mut out = Vec::with_capacity(rgb.as_raw().len() / 8);
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| Error::Internal(format!("JPEG encoding failed: {e}")))?;
    Ok(StoredImage {
        hash: content_hash(&out),
        media_type: MediaType::Jpeg,
        width_px: rgb.width(),
        height_px: rgb.height(),
        bytes: out,
    })
}

fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(p[3]);
        for c in 0..3 {
            o[c] = ((u16::from(p[c]) * a + 255 * (255 - a)) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([10, 200, 30])));
        encode(&img).unwrap().bytes
    }

    #[test]
    fn a_jpeg_is_stored_with_a_thumbnail_and_content_addressed() {
        let s = sanitise(&jpeg(1200, 800)).unwrap();
        assert_eq!((s.full.width_px, s.full.height_px), (1200, 800));
        assert_eq!((s.thumbnail.width_px, s.thumbnail.height_px), (320, 213));
        assert_eq!(s.full.hash, content_hash(&s.full.bytes));
        assert_eq!(s.full.hash.len(), 64);
    }

    #[test]
    fn rk_photo_corrupt_a_truncated_jpeg_is_refused() {
        let b = jpeg(400, 300);
        let e = sanitise(&b[..b.len() / 2]).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref rule_id, .. } if rule_id == "RK-PHOTO-CORRUPT"),
            "{e}"
        );
    }

    #[test]
    fn rk_photo_bytes_and_rk_photo_format_refuse_before_decoding() {
        let e = sanitise(&vec![0u8; MAX_INPUT_BYTES + 1]).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref rule_id, .. } if rule_id == "RK-PHOTO-BYTES")
        );
        let e = sanitise(b"").unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref rule_id, .. } if rule_id == "RK-PHOTO-FORMAT")
        );
    }

    #[test]
    fn a_png_with_transparency_is_flattened_onto_white() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            10,
            10,
            image::Rgba([0, 0, 0, 0]),
        ));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let s = sanitise(&png).unwrap();
        assert_eq!(s.source, MediaType::Png);
        let back = decode_stored(&s.full.bytes).unwrap().to_rgb8();
        assert!(back.get_pixel(5, 5)[0] > 240);
    }
}
