//! Product images (issue 17): several per product, one primary, shown in the catalog, on the
//! product page, in the cart and in quick-order results. Pure rules: what an upload may be (PNG,
//! JPEG or WebP, at most [`MAX_IMAGE_BYTES`], at most [`MAX_SIDE`] pixels a side, decoded whole
//! with memory limits so a decompression bomb is refused before its pixels are allocated), the
//! files kept of it (re-encoded, so no metadata of the upload survives: a full image capped at
//! [`FULL_MAX`] pixels, and square [`MEDIUM`] and [`THUMB`] renditions on white, whose fixed sizes
//! let pages reserve their space), how many a product may have and which is primary.

use super::branding::{UploadFormat, claimed_dimensions, decode_limited, looks_like_svg};
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// The largest file accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// At most this many pixels on either side of an upload.
pub const MAX_SIDE: u32 = 8192;
/// At most this many pixels in all (a 48-megapixel phone photo fits; its RGBA is under 200 MB).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The memory a decode may take.
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
/// The full image is scaled down to fit this many pixels a side.
pub const FULL_MAX: u32 = 1600;
/// The product page's image: a square of this many pixels.
pub const MEDIUM: u32 = 480;
/// Thumbnails (catalog, cart, quick order, the product page's others): a square of this size.
pub const THUMB: u32 = 160;
/// The most images one product may have.
pub const MAX_IMAGES_PER_PRODUCT: usize = 12;
/// The longest alt text.
pub const MAX_ALT_CHARS: usize = 300;
/// JPEG quality of the stored files.
const QUALITY: u8 = 85;

/// The renditions of an image a URL may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSize {
    Thumb,
    Medium,
    Full,
}

impl ImageSize {
    pub fn parse(s: &str) -> Option<ImageSize> {
        match s {
            "thumb" => Some(ImageSize::Thumb),
            "medium" => Some(ImageSize::Medium),
            "full" => Some(ImageSize::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageSize::Thumb => "thumb",
            ImageSize::Medium => "medium",
            ImageSize::Full => "full",
        }
    }
}

/// An image as a page links it: its URLs and alt text. An image's id names files that never
/// change (a new upload is a new image), so the id is the URL's version and browsers may keep
/// what they fetched for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub id: String,
    pub alt: String,
}

impl ImageRef {
    pub fn url(&self, size: ImageSize) -> String {
        format!("/product-images/{}/{}", self.id, size.as_str())
    }

    pub fn thumb_url(&self) -> String {
        self.url(ImageSize::Thumb)
    }

    pub fn medium_url(&self) -> String {
        self.url(ImageSize::Medium)
    }

    pub fn full_url(&self) -> String {
        self.url(ImageSize::Full)
    }
}

/// An image as stored: the full image and its two squares, all JPEG, with the full image's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedImage {
    pub full: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub medium: Vec<u8>,
    pub thumb: Vec<u8>,
    /// A strong validator of the full image (the files are derived from it): the ETag, and the
    /// key under which identical uploads share one copy.
    pub etag: String,
}

impl PreparedImage {
    pub const CONTENT_TYPE: &'static str = "image/jpeg";
}

/// Checks an upload and makes the files kept of it. Every refusal says what is wrong.
pub fn prepare_image(bytes: &[u8]) -> Result<PreparedImage, String> {
    if bytes.is_empty() {
        return Err("The file is empty: choose a PNG, JPEG or WebP image.".into());
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "The image is {:.1} MB; it may be at most {} MB. Save it smaller (pages show it at most {FULL_MAX} pixels wide).",
            bytes.len() as f64 / (1024.0 * 1024.0),
            MAX_IMAGE_BYTES >> 20
        ));
    }
    let Some(format) = UploadFormat::sniff(bytes) else {
        if looks_like_svg(bytes) {
            return Err(
                "SVG images are not accepted (an SVG file can carry script): upload a PNG, JPEG or WebP.".into()
            );
        }
        return Err("The file is not a PNG, JPEG or WebP image.".into());
    };
    let unreadable =
        || format!("The image could not be read as a {}: the file is damaged or incomplete.", format.name());
    let (w, h) = claimed_dimensions(bytes, format).ok_or_else(unreadable)?;
    if w == 0 || h == 0 {
        return Err("The image has no pixels.".into());
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "The image is {w}×{h} pixels; it may be at most {MAX_SIDE} pixels a side and {} megapixels. Scale it down first.",
            MAX_PIXELS / 1_000_000
        ));
    }
    // The JPEG decoder fills in what a cut-off file lacks; a file without its end marker was cut.
    if format == UploadFormat::Jpeg && !jpeg_has_end(bytes) {
        return Err(unreadable());
    }
    let image = decode_limited(bytes, format, MAX_SIDE, MAX_DECODE_ALLOC).map_err(|_| unreadable())?;
    Ok(renditions(image))
}

/// Whether a JPEG's end-of-image marker is near its end (some cameras append a little data after
/// it; an embedded preview's marker sits near the start of a large file).
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024).max(2)..];
    tail.windows(2).any(|w| w == [0xff, 0xd9])
}

/// The files kept of a decoded image.
pub fn renditions(image: DynamicImage) -> PreparedImage {
    let flat = on_white(&image);
    let full = if flat.width() > FULL_MAX || flat.height() > FULL_MAX {
        DynamicImage::ImageRgb8(flat).resize(FULL_MAX, FULL_MAX, FilterType::Triangle)
    } else {
        DynamicImage::ImageRgb8(flat)
    };
    let medium = square(&full, MEDIUM);
    let thumb = square(&medium, THUMB);
    let full_bytes = jpeg(&full);
    let etag = hex::encode(&Sha256::digest(&full_bytes)[..12]);
    PreparedImage {
        width: full.width(),
        height: full.height(),
        full: full_bytes,
        medium: jpeg(&medium),
        thumb: jpeg(&thumb),
        etag,
    }
}

/// The image composed on white (JPEG has no transparency; a transparent product shot on white is
/// what catalogs show).
fn on_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// The image scaled to fit a `side`-pixel square, centred on white.
fn square(image: &DynamicImage, side: u32) -> DynamicImage {
    let fitted = image.resize(side, side, FilterType::Triangle).to_rgb8();
    let mut canvas = RgbImage::from_pixel(side, side, image::Rgb([255, 255, 255]));
    let x = i64::from((side - fitted.width().min(side)) / 2);
    let y = i64::from((side - fitted.height().min(side)) / 2);
    image::imageops::overlay(&mut canvas, &fitted, x, y);
    DynamicImage::ImageRgb8(canvas)
}

fn jpeg(image: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
    // Encoding RGB pixels into memory cannot fail.
    image.to_rgb8().write_with_encoder(encoder).expect("a JPEG encodes into memory");
    out.into_inner()
}

/// Checks an image's alt text: one line, at most [`MAX_ALT_CHARS`]; returns it trimmed.
pub fn check_alt(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.chars().any(char::is_control) {
        return Err("The alt text must be one line of text without control characters.".into());
    }
    if t.chars().count() > MAX_ALT_CHARS {
        return Err(format!("The alt text is at most {MAX_ALT_CHARS} characters (describe the image in a sentence)."));
    }
    Ok(t.to_string())
}

/// Whether a product with `existing` images may take `adding` more.
pub fn check_room(existing: usize, adding: usize) -> Result<(), String> {
    if existing + adding <= MAX_IMAGES_PER_PRODUCT {
        return Ok(());
    }
    let left = MAX_IMAGES_PER_PRODUCT.saturating_sub(existing);
    Err(format!(
        "A product may have at most {MAX_IMAGES_PER_PRODUCT} images; it has {existing}, so {} Delete some first.",
        match left {
            0 => "no more can be added.".to_string(),
            1 => "one more can be added.".to_string(),
            n => format!("{n} more can be added."),
        }
    ))
}

/// An image of a product as the primary rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub id: String,
    pub position: i64,
    pub primary: bool,
}

/// Which image is primary once `removed` is gone from `images`: the primary stays if it is not
/// the one removed; else the first remaining by position; none when nothing remains.
pub fn primary_after_removal(images: &[Placed], removed: &str) -> Option<String> {
    let left = images.iter().filter(|i| i.id != removed);
    if let Some(p) = left.clone().find(|i| i.primary) {
        return Some(p.id.clone());
    }
    left.min_by_key(|i| (i.position, i.id.clone())).map(|i| i.id.clone())
}

/// Whether a new image becomes primary: the first image of a product does, or when asked.
pub fn new_is_primary(existing: &[Placed], asked: bool) -> bool {
    asked || !existing.iter().any(|i| i.primary)
}

/// A simple generated product picture (the demo's): a coloured field with a shape drawn per
/// `shape` (0–3) in a lighter shade, `side` pixels square. Fast enough to make a few dozen.
pub fn generated_picture(rgb: [u8; 3], shape: u8, side: u32) -> DynamicImage {
    let light = rgb.map(|c| (u16::from(c) + (255 - u16::from(c)) * 3 / 4) as u8);
    let dark = rgb.map(|c| c / 2);
    let s = side as f32;
    let img = RgbImage::from_fn(side, side, |x, y| {
        let (fx, fy) = ((x as f32 + 0.5) / s, (y as f32 + 0.5) / s);
        let (dx, dy) = (fx - 0.5, fy - 0.5);
        let inside = match shape % 4 {
            // A disc.
            0 => dx * dx + dy * dy < 0.09,
            // A box with a lid.
            1 => dx.abs() < 0.3 && (dy > -0.2 && dy < 0.3 || (dy > -0.28 && dy < -0.2 && dx.abs() < 0.34)),
            // A bottle: a body and a neck.
            2 => (dx.abs() < 0.17 && dy > -0.1 && dy < 0.35) || (dx.abs() < 0.07 && dy > -0.32 && dy <= -0.1),
            // A diamond.
            _ => dx.abs() + dy.abs() < 0.33,
        };
        // A soft shadow under the shape, and a band at the bottom.
        let shadow = !inside && (0.36..0.4).contains(&dy) && dx.abs() < 0.3;
        let c = if inside {
            rgb
        } else if shadow || fy > 0.92 {
            dark
        } else {
            light
        };
        image::Rgb(c)
    });
    DynamicImage::ImageRgb8(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 128]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn uploads_become_a_capped_full_image_and_two_squares() {
        let p = prepare_image(&png(2000, 1000)).unwrap();
        assert_eq!((p.width, p.height), (FULL_MAX, 800));
        let medium = image::load_from_memory(&p.medium).unwrap();
        let thumb = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!((medium.width(), medium.height(), thumb.width(), thumb.height()), (MEDIUM, MEDIUM, THUMB, THUMB));
        // Padding is white; the half-transparent red is composed on white.
        let m = medium.to_rgb8();
        assert!(m.get_pixel(240, 5).0.iter().all(|c| *c > 245), "{:?}", m.get_pixel(240, 5));
        let c = m.get_pixel(240, 240).0;
        assert!(c[0] > 200 && c[1] < 170 && c[1] > 120, "{c:?}");
        assert!(p.full.starts_with(&[0xff, 0xd8, 0xff]));
        // A small image keeps its size; the same upload gives the same ETag.
        let small = prepare_image(&png(300, 200)).unwrap();
        assert_eq!((small.width, small.height), (300, 200));
        assert_eq!(small.etag, prepare_image(&png(300, 200)).unwrap().etag);
        assert_ne!(small.etag, p.etag);
    }

    #[test]
    fn bad_uploads_are_refused_with_their_reason() {
        assert!(prepare_image(b"").unwrap_err().contains("empty"));
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert!(prepare_image(svg).unwrap_err().contains("SVG"));
        assert!(prepare_image(b"GIF89a......").unwrap_err().contains("not a PNG, JPEG or WebP"));
        let mut truncated = png(64, 64);
        truncated.truncate(truncated.len() / 2);
        assert!(prepare_image(&truncated).unwrap_err().contains("damaged"));
        let mut jpeg = Cursor::new(Vec::new());
        generated_picture([1, 2, 3], 0, 200).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        let jpeg = jpeg.into_inner();
        assert!(prepare_image(&jpeg).is_ok());
        assert!(prepare_image(&jpeg[..jpeg.len() / 3]).unwrap_err().contains("damaged"), "a cut-off JPEG");
        assert!(prepare_image(&vec![0u8; MAX_IMAGE_BYTES + 1]).unwrap_err().contains("at most 5 MB"));
        // A PNG header claiming 100,000 × 100,000 pixels: refused before anything is decoded.
        let bomb = png_header(100_000, 100_000);
        assert!(prepare_image(&bomb).unwrap_err().contains("100000×100000"), "{}", prepare_image(&bomb).unwrap_err());
        let wide = png_header(8000, 8000);
        assert!(prepare_image(&wide).unwrap_err().contains("megapixels"));
    }

    /// A small real PNG whose header claims `w`×`h` (its checksum recomputed: only the size lies).
    pub(crate) fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut out = png(4, 4);
        out[16..20].copy_from_slice(&w.to_be_bytes());
        out[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32(&out[12..29]);
        out[29..33].copy_from_slice(&crc.to_be_bytes());
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn one_primary_first_upload_and_the_next_on_removal() {
        let placed = |id: &str, position, primary| Placed { id: id.into(), position, primary };
        assert!(new_is_primary(&[], false));
        let two = [placed("a", 1, true), placed("b", 2, false), placed("c", 3, false)];
        assert!(!new_is_primary(&two, false) && new_is_primary(&two, true));
        assert_eq!(primary_after_removal(&two, "a").as_deref(), Some("b"));
        assert_eq!(primary_after_removal(&two, "c").as_deref(), Some("a"));
        assert_eq!(primary_after_removal(&[placed("a", 1, true)], "a"), None);
        assert!(check_room(11, 1).is_ok());
        assert!(check_room(12, 1).unwrap_err().contains("no more"));
        assert!(check_room(10, 3).unwrap_err().contains("2 more"));
        assert_eq!(check_alt("  Blue gloves ").unwrap(), "Blue gloves");
        assert!(check_alt("a\u{0}b").is_err());
        assert!(check_alt(&"x".repeat(301)).is_err());
        assert_eq!(ImageSize::parse("medium"), Some(ImageSize::Medium));
        assert_eq!(ImageSize::parse("huge"), None);
    }

    #[test]
    fn generated_pictures_are_prepared_like_uploads() {
        let p = renditions(generated_picture([30, 90, 160], 2, 240));
        assert_eq!((p.width, p.height), (240, 240));
        assert!(!p.thumb.is_empty());
    }
}
