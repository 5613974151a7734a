//! The seller's brand (issue 17): the name, logo and accent colour on every page, the sign-in
//! pages and mail, with Portico only as a small "powered by". Pure rules: what an accent colour
//! may be (readable under white button text and as link text on the page, WCAG AA 4.5:1, so the
//! axe check on every page keeps passing whatever the seller picks), the shades derived from it,
//! the stylesheet that carries them (the CSP allows no inline style), and what a logo may be
//! (PNG, JPEG or WebP, decoded to prove it, at most [`MAX_LOGO_BYTES`], resized to the header).

use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// The name shown when the seller has not set theirs.
pub const DEFAULT_NAME: &str = "Portico";
/// The largest logo file accepted.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// A logo larger than this box is resized into it (twice the header's size, for sharp screens).
pub const LOGO_BOX: (u32, u32) = (480, 128);
/// The least contrast the accent needs against white and the page's background (WCAG AA, text).
pub const MIN_CONTRAST: f64 = 4.5;

/// The page background (`--bg` in app.css): links in the accent stand on it as well as on white.
const PAGE_BG: Accent = Accent { r: 0xf5, g: 0xf6, b: 0xf8 };
const WHITE: Accent = Accent { r: 0xff, g: 0xff, b: 0xff };
const BLACK: Accent = Accent { r: 0, g: 0, b: 0 };
/// The top bar (`--slate`): the active menu item's underline is a light shade of the accent on it.
const TOPBAR: Accent = Accent { r: 0x1e, g: 0x29, b: 0x3b };

/// An accent colour, `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accent {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Accent {
    /// Parses `#rrggbb` (either case); nothing else (no names, no short form, no alpha).
    pub fn parse(text: &str) -> Result<Accent, String> {
        let t = text.trim();
        let hex = t.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(h) = hex else {
            return Err("Give the accent colour as # and six hex digits, e.g. #1d5fd1.".into());
        };
        let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0);
        Ok(Accent { r: byte(0), g: byte(2), b: byte(4) })
    }

    /// Parses and checks that white text on it, and it as text on the page, are readable.
    pub fn parse_readable(text: &str) -> Result<Accent, String> {
        let a = Accent::parse(text)?;
        let worst = a.contrast(&WHITE).min(a.contrast(&PAGE_BG));
        if worst < MIN_CONTRAST {
            return Err(format!(
                "{} is too light: white button text on it and links in it have a contrast of {:.1}:1, and at least \
                 {MIN_CONTRAST}:1 is needed to be readable (WCAG AA). Choose a darker shade.",
                a.hex(),
                (worst * 10.0).floor() / 10.0
            ));
        }
        Ok(a)
    }

    /// `#rrggbb`, lower case.
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Relative luminance (WCAG 2).
    fn luminance(&self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.r) + 0.7152 * channel(self.g) + 0.0722 * channel(self.b)
    }

    /// Contrast ratio with another colour (1 to 21).
    pub fn contrast(&self, other: &Accent) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// This colour moved `t` (0 to 1) of the way to `other`.
    fn mix(&self, other: &Accent, t: f64) -> Accent {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round().clamp(0.0, 255.0) as u8;
        Accent { r: m(self.r, other.r), g: m(self.g, other.g), b: m(self.b, other.b) }
    }

    /// The hover shade of buttons and links.
    pub fn dark(&self) -> Accent {
        self.mix(&BLACK, 0.2)
    }

    /// A pale tint for backgrounds (information notices).
    pub fn soft(&self) -> Accent {
        self.mix(&WHITE, 0.9)
    }

    /// A light shade that stands out on the dark top bar (3:1, as a non-text mark needs).
    pub fn on_dark(&self) -> Accent {
        (0..=20).map(|i| self.mix(&WHITE, f64::from(i) / 20.0)).find(|c| c.contrast(&TOPBAR) >= 4.5).unwrap_or(WHITE)
    }
}

/// The stylesheet that carries the accent: custom properties app.css uses. Under `scope` (a
/// selector) for the admin's preview, else for the whole page. Empty without an accent: app.css's
/// own colours stand.
pub fn stylesheet(accent: Option<&Accent>, scope: &str) -> String {
    let Some(a) = accent else {
        return "/* The seller has chosen no accent colour: app.css's own colours apply. */\n".into();
    };
    format!(
        "/* The seller's accent colour (Your company). */\n{scope} {{\n  --accent: {};\n  --accent-dark: {};\n  \
         --accent-soft: {};\n  --accent-on-dark: {};\n  --focus: 0 0 0 3px rgba({}, {}, {}, .35);\n}}\n",
        a.hex(),
        a.dark().hex(),
        a.soft().hex(),
        a.on_dark().hex(),
        a.r,
        a.g,
        a.b
    )
}

/// An uploaded image's format (a logo, a product image): PNG, JPEG or WebP, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadFormat {
    Png,
    Jpeg,
    WebP,
}

impl UploadFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            UploadFormat::Png => "image/png",
            UploadFormat::Jpeg => "image/jpeg",
            UploadFormat::WebP => "image/webp",
        }
    }

    pub fn parse_content_type(s: &str) -> Option<UploadFormat> {
        [UploadFormat::Png, UploadFormat::Jpeg, UploadFormat::WebP].into_iter().find(|f| f.content_type() == s)
    }

    pub(crate) fn image_format(self) -> ImageFormat {
        match self {
            UploadFormat::Png => ImageFormat::Png,
            UploadFormat::Jpeg => ImageFormat::Jpeg,
            UploadFormat::WebP => ImageFormat::WebP,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UploadFormat::Png => "PNG",
            UploadFormat::Jpeg => "JPEG",
            UploadFormat::WebP => "WebP",
        }
    }

    /// The format by the file's first bytes (never by its name or declared type).
    pub fn sniff(bytes: &[u8]) -> Option<UploadFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(UploadFormat::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(UploadFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(UploadFormat::WebP)
        } else {
            None
        }
    }
}

/// A logo as stored and served: verified, and no larger than [`LOGO_BOX`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub format: UploadFormat,
    pub width: u32,
    pub height: u32,
}

impl Logo {
    /// A strong validator of the bytes, for `ETag` and the version in the logo's URL.
    pub fn etag(&self) -> String {
        hex::encode(&Sha256::digest(&self.bytes)[..12])
    }
}

/// Whether the bytes look like an SVG document (XML text with an `<svg` element).
pub fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let t = head.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('<') && t.contains("<svg")
}

/// Decodes an image of a known format with limits, so that a small file claiming huge dimensions
/// (a decompression bomb) is refused before its pixels are allocated: at most `max_side` pixels
/// on each side and `max_alloc` bytes of memory. Product images use it too.
pub(crate) fn decode_limited(
    bytes: &[u8],
    format: UploadFormat,
    max_side: u32,
    max_alloc: u64,
) -> image::ImageResult<image::DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    reader.decode()
}

/// The dimensions an image's header claims, read without decoding its pixels.
pub(crate) fn claimed_dimensions(bytes: &[u8], format: UploadFormat) -> Option<(u32, u32)> {
    ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_dimensions().ok()
}

/// Checks an uploaded logo and brings it to the header's size: PNG, JPEG or WebP, at most
/// [`MAX_LOGO_BYTES`], decoded whole (a renamed file or a damaged one is refused). One inside
/// [`LOGO_BOX`] is kept as it came; a larger one is resized into the box and stored as PNG.
pub fn prepare_logo(bytes: &[u8]) -> Result<Logo, String> {
    if bytes.is_empty() {
        return Err("Choose a logo file (PNG, JPEG or WebP).".into());
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "The logo is {} KB; it may be at most {} KB. Save it smaller (a logo needs no more than {}×{} pixels).",
            bytes.len().div_ceil(1024),
            MAX_LOGO_BYTES / 1024,
            LOGO_BOX.0,
            LOGO_BOX.1
        ));
    }
    let Some(format) = UploadFormat::sniff(bytes) else {
        if looks_like_svg(bytes) {
            return Err("SVG logos are not accepted (an SVG file can carry script): upload a PNG, JPEG or WebP.".into());
        }
        return Err("The logo must be a PNG, JPEG or WebP image; this file is none of these.".into());
    };
    let image = decode_limited(bytes, format, 8192, 128 * 1024 * 1024).map_err(|_| {
        format!("The logo could not be read as a {} image: the file is damaged or not an image.", format.name())
    })?;
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 {
        return Err("The logo has no pixels.".into());
    }
    if width <= LOGO_BOX.0 && height <= LOGO_BOX.1 {
        return Ok(Logo { bytes: bytes.to_vec(), format, width, height });
    }
    let small = image.resize(LOGO_BOX.0, LOGO_BOX.1, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|_| "The logo could not be resized; try a smaller image.".to_string())?;
    Ok(Logo { bytes: out.into_inner(), format: UploadFormat::Png, width: small.width(), height: small.height() })
}

/// A simple generated logo: a rounded square in the accent with a light bar, then nothing else
/// (the demo's; the name is written beside it as text).
pub fn generated_logo(accent: &Accent) -> Logo {
    let size = 96u32;
    let light = accent.mix(&WHITE, 0.85);
    let img = image::RgbaImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f64 + 0.5, y as f64 + 0.5);
        let r = 20.0;
        let s = size as f64;
        // Outside the rounded corners: transparent.
        let cx = fx.clamp(r, s - r);
        let cy = fy.clamp(r, s - r);
        if (fx - cx).powi(2) + (fy - cy).powi(2) > r * r {
            return image::Rgba([0, 0, 0, 0]);
        }
        // A bold "P"-like mark: a stem and a bowl in the light shade.
        let stem = (28.0..42.0).contains(&fx) && (22.0..76.0).contains(&fy);
        let d = ((fx - 50.0).powi(2) + (fy - 40.0).powi(2)).sqrt();
        let bowl = (11.0..20.0).contains(&d) && fx >= 40.0;
        let top = (22.0..31.0).contains(&fy) && (28.0..50.0).contains(&fx);
        let mid = (49.0..58.0).contains(&fy) && (28.0..50.0).contains(&fx);
        let c = if stem || bowl || top || mid { light } else { *accent };
        image::Rgba([c.r, c.g, c.b, 255])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img).write_to(&mut out, ImageFormat::Png).expect("a PNG encodes into memory");
    Logo { bytes: out.into_inner(), format: UploadFormat::Png, width: size, height: size }
}

/// What pages and mail show of the seller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Brand {
    /// The seller's name as set (empty: not set).
    pub name: String,
    pub accent: Option<Accent>,
    /// The stored logo's ETag, when there is one.
    pub logo_etag: Option<String>,
    /// The seller's time zone: pages show times in it to users who chose none.
    pub time_zone: crate::domain::time_zone::Zone,
}

impl Brand {
    /// The name to show: the seller's, else [`DEFAULT_NAME`].
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() { DEFAULT_NAME } else { self.name.trim() }
    }

    /// The brand stylesheet's version, for its URL and ETag.
    pub fn css_version(&self) -> String {
        self.accent.map(|a| a.hex()[1..].to_string()).unwrap_or_else(|| "default".into())
    }

    /// The brand stylesheet's URL: a new URL whenever the accent changes, so it can be cached.
    pub fn css_url(&self) -> String {
        format!("/brand.css?v={}", self.css_version())
    }

    /// The logo's URL (with its version), if there is a logo.
    pub fn logo_url(&self) -> Option<String> {
        self.logo_etag.as_ref().map(|e| format!("/brand/logo?v={e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_six_hex_digits_dark_enough_for_white_text() {
        assert_eq!(Accent::parse("#1D5FD1").unwrap().hex(), "#1d5fd1");
        for bad in ["1d5fd1", "#1d5fd", "#1d5fd1ff", "blue", "#gggggg", ""] {
            assert!(Accent::parse(bad).is_err(), "{bad}");
        }
        assert!(Accent::parse_readable("#1d5fd1").is_ok());
        assert!(Accent::parse_readable("#000000").is_ok());
        let e = Accent::parse_readable("#ffcc00").unwrap_err();
        assert!(e.contains("too light") && e.contains("4.5:1"), "{e}");
        // Between the two backgrounds: fine on white, too light on the page's grey.
        let a = Accent::parse("#767676").unwrap();
        assert!(a.contrast(&WHITE) >= 4.5 && Accent::parse_readable("#767676").is_err());
        assert!((WHITE.contrast(&BLACK) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn shades_keep_their_purpose() {
        let a = Accent::parse("#0b6e4f").unwrap();
        assert!(a.dark().contrast(&WHITE) > a.contrast(&WHITE));
        assert!(a.on_dark().contrast(&TOPBAR) >= 4.5);
        let css = stylesheet(Some(&a), ":root");
        assert!(css.contains("--accent: #0b6e4f;") && css.starts_with("/*"), "{css}");
        assert!(!stylesheet(None, ":root").contains("--accent"));
    }

    #[test]
    fn logos_are_checked_and_resized() {
        let a = Accent::parse("#0b6e4f").unwrap();
        let small = generated_logo(&a);
        let kept = prepare_logo(&small.bytes).unwrap();
        assert_eq!((kept.format, kept.width, kept.height, &kept.bytes), (UploadFormat::Png, 96, 96, &small.bytes));

        let wide = image::RgbaImage::from_pixel(1200, 300, image::Rgba([10, 20, 30, 255]));
        let mut png = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(wide).write_to(&mut png, ImageFormat::Png).unwrap();
        let resized = prepare_logo(png.get_ref()).unwrap();
        assert_eq!((resized.width, resized.height), (480, 120));

        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert!(prepare_logo(svg).unwrap_err().contains("SVG"));
        assert!(prepare_logo(b"GIF89a....").unwrap_err().contains("PNG, JPEG or WebP"));
        let mut broken = small.bytes.clone();
        broken.truncate(60);
        assert!(prepare_logo(&broken).unwrap_err().contains("could not be read"));
        assert!(prepare_logo(&vec![0u8; MAX_LOGO_BYTES + 1]).unwrap_err().contains("512 KB"));
        assert_ne!(small.etag(), resized.etag());
    }
}
