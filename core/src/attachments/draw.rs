//! Measured annotations drawn onto a photo (DOMAIN.md §4.1): points and lines over the
//! picture, a line's end marks and its length as a label ("820 mm"). Coordinates are pixels of
//! the stored (upright) picture. Drawn by hand onto the `image` buffer: a few lines and a
//! 5 × 7 bitmap font for the digits and "mm" are all a measurement label needs.

use image::{Rgb, RgbImage};

/// One annotation as the document holds it (`photos.<item_id>.annotations.<annotation_id>`),
/// in pixels of the stored picture.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A marked point.
    Point {
        /// Pixel column.
        x: u32,
        /// Pixel row.
        y: u32,
    },
    /// A measured line from one point to another.
    Line {
        /// Start column.
        x1: u32,
        /// Start row.
        y1: u32,
        /// End column.
        x2: u32,
        /// End row.
        y2: u32,
        /// The length measured in the home, in mm (DOMAIN.md §1.1), printed as the label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length_mm: Option<u32>,
    },
}

const INK: Rgb<u8> = Rgb([255, 214, 0]);
const OUTLINE: Rgb<u8> = Rgb([0, 0, 0]);
const LABEL_BG: Rgb<u8> = Rgb([255, 255, 255]);
const LABEL_FG: Rgb<u8> = Rgb([0, 0, 0]);

/// Draws every shape onto `img`; shapes partly or wholly outside the picture are clipped.
pub fn draw(img: &mut RgbImage, shapes: &[Shape]) {
    let side = img.width().max(img.height()).max(1);
    let thick = (side / 400).max(2) as i64;
    for s in shapes {
        match *s {
            Shape::Point { x, y } => {
                let r = thick * 4;
                disc(img, i64::from(x), i64::from(y), r + thick, OUTLINE);
                disc(img, i64::from(x), i64::from(y), r, INK);
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                length_mm,
            } => {
                let (x1, y1, x2, y2) = (i64::from(x1), i64::from(y1), i64::from(x2), i64::from(y2));
                line(img, x1, y1, x2, y2, thick + 2, OUTLINE);
                line(img, x1, y1, x2, y2, thick, INK);
                // End marks: short strokes across the line at both ends.
                let (dx, dy) = ((x2 - x1) as f64, (y2 - y1) as f64);
                let len = (dx * dx + dy * dy).sqrt().max(1.0);
                let (nx, ny) = (-dy / len, dx / len);
                let m = (thick * 6) as f64;
                for (px, py) in [(x1, y1), (x2, y2)] {
                    let (ax, ay) = (px + (nx * m) as i64, py + (ny * m) as i64);
                    let (bx, by) = (px - (nx * m) as i64, py - (ny * m) as i64);
                    line(img, ax, ay, bx, by, thick + 2, OUTLINE);
                    line(img, ax, ay, bx, by, thick, INK);
                }
                if let Some(mm) = length_mm {
                    let scale = (side / 250).max(2) as i64;
                    label(
                        img,
                        (x1 + x2) / 2,
                        (y1 + y2) / 2,
                        &format!("{mm} mm"),
                        scale,
                    );
                }
            }
        }
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && x < i64::from(img.width()) && y < i64::from(img.height()) {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn disc(img: &mut RgbImage, cx: i64, cy: i64, r: i64, c: Rgb<u8>) {
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy <= r * r {
                put(img, cx + dx, cy + dy, c);
            }
        }
    }
}

/// A thick line: a square brush stepped along the longer axis. Bounded by the picture so a
/// hostile coordinate costs no more than the picture's size.
fn line(img: &mut RgbImage, x1: i64, y1: i64, x2: i64, y2: i64, thick: i64, c: Rgb<u8>) {
    let limit = i64::from(img.width().max(img.height())) * 2;
    let clamp = |v: i64| v.clamp(-limit, limit);
    let (x1, y1, x2, y2) = (clamp(x1), clamp(y1), clamp(x2), clamp(y2));
    let steps = (x2 - x1).abs().max((y2 - y1).abs()).max(1);
    let h = thick / 2;
    for i in 0..=steps {
        let x = x1 + (x2 - x1) * i / steps;
        let y = y1 + (y2 - y1) * i / steps;
        for dy in -h..=h {
            for dx in -h..=h {
                put(img, x + dx, y + dy, c);
            }
        }
    }
}

/// Glyph rows, 5 bits wide (bit 4 = leftmost), 7 rows.
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x15, 0x15],
        ' ' => [0; 7],
        _ => return None,
    })
}

/// A label centred on (`cx`, `cy`) on a white box, `scale` pixels per font dot.
fn label(img: &mut RgbImage, cx: i64, cy: i64, text: &str, scale: i64) {
    let glyphs: Vec<[u8; 7]> = text.chars().filter_map(glyph).collect();
    let w = glyphs.len() as i64 * 6 * scale + scale;
    let h = 9 * scale;
    let (left, top) = (cx - w / 2, cy - h / 2);
    for y in top..top + h {
        for x in left..left + w {
            put(img, x, y, LABEL_BG);
        }
    }
    for (n, g) in glyphs.iter().enumerate() {
        let gx = left + scale + n as i64 * 6 * scale;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) != 0 {
                    for sy in 0..scale {
                        for sx in 0..scale {
                            put(
                                img,
                                gx + col * scale + sx,
                                top + scale + row as i64 * scale + sy,
                                LABEL_FG,
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measured_line_is_drawn_with_its_label_and_clipped_at_the_edges() {
        let mut img = RgbImage::from_pixel(400, 300, Rgb([40, 40, 40]));
        draw(
            &mut img,
            &[
                Shape::Line {
                    x1: 50,
                    y1: 150,
                    x2: 350,
                    y2: 150,
                    length_mm: Some(820),
                },
                Shape::Point { x: 399_999, y: 10 },
            ],
        );
        assert_eq!(*img.get_pixel(100, 150), INK);
        // The label box sits on the midpoint.
        assert_eq!(*img.get_pixel(200 - 25, 145), LABEL_BG);
        assert_eq!(*img.get_pixel(5, 5), Rgb([40, 40, 40]));
    }
}
