//! A family member's signature as drawn on the tablet (DOMAIN.md §4.1 `RK-SIGN-FAMILY`):
//! strokes of points with times, rendered to a PNG for screens and reports.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::error::{Error, Result};

/// One point of a stroke: position on the signature pad (its own pixels) and the time since
/// the pad was first touched, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrokePoint {
    /// Column on the pad.
    pub x: u32,
    /// Row on the pad.
    pub y: u32,
    /// Milliseconds since the first touch.
    pub t_ms: u32,
}

/// Most strokes one signature may have, and most points in all of them: far above any real
/// signature, so a hostile peer cannot make rendering costly.
pub const MAX_STROKES: usize = 200;
/// See [`MAX_STROKES`].
pub const MAX_POINTS: usize = 20_000;
/// Largest pad coordinate accepted.
pub const MAX_PAD_SIDE: u32 = 4_000;

/// Checks strokes from the pad: at least one point, bounded counts and coordinates, times
/// not going backwards within a stroke.
pub fn check_strokes(strokes: &[Vec<StrokePoint>]) -> Result<()> {
    let refuse = |d: &str| Error::InvalidInput {
        rule_id: "RK-SIGN-FAMILY".into(),
        detail: d.into(),
    };
    let points: usize = strokes.iter().map(Vec::len).sum();
    if points == 0 {
        return Err(refuse("a signature needs at least one drawn point"));
    }
    if strokes.len() > MAX_STROKES || points > MAX_POINTS {
        return Err(refuse("the signature has too many strokes or points"));
    }
    for s in strokes {
        if s.iter().any(|p| p.x > MAX_PAD_SIDE || p.y > MAX_PAD_SIDE) {
            return Err(refuse("a stroke point lies outside the signature pad"));
        }
        if s.windows(2).any(|w| w[1].t_ms < w[0].t_ms) {
            return Err(refuse("a stroke's times go backwards"));
        }
    }
    Ok(())
}

/// Renders strokes as dark ink on white, fitted with a margin into `width` × `height`, as
/// PNG bytes.
pub fn render_png(strokes: &[Vec<StrokePoint>], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut img = RgbImage::from_pixel(width.max(1), height.max(1), Rgb([255, 255, 255]));
    let pts = strokes.iter().flatten();
    let (min_x, max_x) = pts
        .clone()
        .fold((u32::MAX, 0), |(a, b), p| (a.min(p.x), b.max(p.x)));
    let (min_y, max_y) = pts.fold((u32::MAX, 0), |(a, b), p| (a.min(p.y), b.max(p.y)));
    if min_x <= max_x {
        let margin = 10.0;
        let sw = f64::from((max_x - min_x).max(1));
        let sh = f64::from((max_y - min_y).max(1));
        let scale = ((f64::from(width) - 2.0 * margin) / sw)
            .min((f64::from(height) - 2.0 * margin) / sh)
            .max(0.01);
        let map = |p: &StrokePoint| {
            (
                (margin + f64::from(p.x - min_x) * scale) as i64,
                (margin + f64::from(p.y - min_y) * scale) as i64,
            )
        };
        for s in strokes {
            let mapped: Vec<(i64, i64)> = s.iter().map(map).collect();
            if let [only] = mapped.as_slice() {
                pen(&mut img, only.0, only.1);
            }
            for w in mapped.windows(2) {
                let (a, b) = (w[0], w[1]);
                let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
                for i in 0..=steps {
                    pen(
                        &mut img,
                        a.0 + (b.0 - a.0) * i / steps,
                        a.1 + (b.1 - a.1) * i / steps,
                    );
                }
            }
        }
    }
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

fn pen(img: &mut RgbImage, x: i64, y: i64) {
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (px, py) = (x + dx, y + dy);
            if px >= 0 && py >= 0 && px < i64::from(img.width()) && py < i64::from(img.height()) {
                img.put_pixel(px as u32, py as u32, Rgb([20, 30, 90]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: u32, y: u32, t_ms: u32) -> StrokePoint {
        StrokePoint { x, y, t_ms }
    }

    #[test]
    fn rk_sign_family_strokes_are_checked_and_rendered() {
        assert!(check_strokes(&[]).is_err());
        assert!(check_strokes(&[vec![p(1, 1, 10), p(2, 2, 5)]]).is_err());
        let strokes = vec![vec![p(0, 0, 0), p(100, 50, 40)], vec![p(120, 10, 90)]];
        check_strokes(&strokes).unwrap();
        let png = render_png(&strokes, 300, 100).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (300, 100));
        assert!(img.pixels().any(|px| px[0] < 100), "ink was drawn");
    }
}
