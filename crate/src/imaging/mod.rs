//! Images as the user has them (8-bit RGBA) and as networks want them (planar RGB floats).

pub mod bicubic;
pub mod metrics;

use crate::error::{Error, Result};

/// Largest side we accept: beyond this, browsers cannot even hold the canvas.
pub const MAX_SIDE: usize = 16384;
/// Largest image we produce or accept, in pixels (256 MiB of RGBA), so a browser tab survives.
pub const MAX_OUTPUT_PIXELS: usize = 64 << 20;
/// Largest image measured or scored whole (metrics, patch grids): that work holds several
/// float planes of it at once. 32 Mi pixels takes an 8K frame.
pub const MAX_ANALYSIS_PIXELS: usize = 32 << 20;

/// An 8-bit RGBA image, rows top to bottom, no padding: the layout of `ImageData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbaImage {
    /// Wraps a buffer after checking it matches the dimensions.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        check_dimensions(width, height)?;
        if data.len() != width * height * 4 {
            return Err(Error::image(format!(
                "{width}x{height} RGBA needs {} bytes, got {}",
                width * height * 4,
                data.len()
            )));
        }
        Ok(Self { width, height, data })
    }

    pub fn filled(width: usize, height: usize, rgba: [u8; 4]) -> Result<Self> {
        check_dimensions(width, height)?;
        Ok(Self { width, height, data: rgba.repeat(width * height) })
    }

    pub fn has_alpha(&self) -> bool {
        self.data.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// One channel (0 = R .. 3 = A) of a region as floats in [0, 1], row-major.
    pub fn channel(&self, c: usize, region: Region) -> Vec<f32> {
        let mut out = Vec::with_capacity(region.width * region.height);
        for y in region.y..region.y + region.height {
            let row = &self.data[(y * self.width + region.x) * 4..(y * self.width + region.x + region.width) * 4];
            out.extend(row.chunks_exact(4).map(|p| p[c] as f32 / 255.0));
        }
        out
    }

    /// A region as planar RGB floats in [0, 1] (`[3, h, w]`), the layout of a network input.
    pub fn planes(&self, region: Region) -> Vec<f32> {
        let mut out = Vec::with_capacity(region.width * region.height * 3);
        for c in 0..3 {
            out.extend(self.channel(c, region));
        }
        out
    }

    /// Writes planar floats (`[channels, region.h, region.w]`, values in [0, 1]) into the
    /// first `channels` channels of a region, rounding to the nearest 8-bit value.
    pub fn put_planes(&mut self, planes: &[f32], channels: usize, region: Region) {
        let n = region.width * region.height;
        for c in 0..channels {
            let plane = &planes[c * n..(c + 1) * n];
            for (row, y) in (region.y..region.y + region.height).enumerate() {
                let start = (y * self.width + region.x) * 4;
                for (x, &v) in plane[row * region.width..(row + 1) * region.width].iter().enumerate() {
                    self.data[start + x * 4 + c] = quantize(v);
                }
            }
        }
    }

    /// Copies `region` of `src`, an image of the same size, into the same place here.
    pub fn copy_region(&mut self, src: &RgbaImage, region: Region) {
        debug_assert_eq!((src.width, src.height), (self.width, self.height));
        for y in region.y..region.y + region.height {
            let row = (y * self.width + region.x) * 4..(y * self.width + region.x + region.width) * 4;
            self.data[row.clone()].copy_from_slice(&src.data[row]);
        }
    }

    pub fn full(&self) -> Region {
        Region { x: 0, y: 0, width: self.width, height: self.height }
    }

    /// The top-left crop whose sides are multiples of `m` (the field's "modcrop").
    pub fn crop_to_multiple(&self, m: usize) -> Result<RgbaImage> {
        self.crop(self.width / m * m, self.height / m * m)
    }

    /// The top-left `w x h` pixels.
    pub fn crop(&self, w: usize, h: usize) -> Result<RgbaImage> {
        self.crop_at(0, 0, w, h)
    }

    /// The central `w x h` pixels.
    pub fn crop_centre(&self, w: usize, h: usize) -> Result<RgbaImage> {
        self.crop_at(self.width.saturating_sub(w) / 2, self.height.saturating_sub(h) / 2, w, h)
    }

    /// The `w x h` pixels whose top-left corner is at `(x, y0)`.
    pub fn crop_at(&self, x: usize, y0: usize, w: usize, h: usize) -> Result<RgbaImage> {
        if x + w > self.width || y0 + h > self.height {
            return Err(Error::image(format!("cannot crop {w}x{h} from a {}x{} image", self.width, self.height)));
        }
        let mut out = RgbaImage::filled(w, h, [0, 0, 0, 255])?;
        for y in 0..h {
            let src = ((y0 + y) * self.width + x) * 4;
            out.data[y * w * 4..(y + 1) * w * 4].copy_from_slice(&self.data[src..src + w * 4]);
        }
        Ok(out)
    }
}

/// A rectangle of pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Region {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

impl Region {
    /// This region grown by `by` pixels on every side, clipped to `within`.
    pub fn expanded(&self, by: usize, within: &Region) -> Region {
        let (x0, y0) = (self.x.saturating_sub(by).max(within.x), self.y.saturating_sub(by).max(within.y));
        let x1 = (self.x + self.width + by).min(within.x + within.width);
        let y1 = (self.y + self.height + by).min(within.y + within.height);
        Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
    }
}

/// Rounds a [0, 1] value to 8 bits, clamping what a network overshoots.
pub fn quantize(v: f32) -> u8 {
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

pub fn check_dimensions(width: usize, height: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::image(format!("image is {width}x{height}; it must have at least one pixel")));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::image(format!(
            "image is {width}x{height}; sides larger than {MAX_SIDE} pixels are not supported"
        )));
    }
    if width * height > MAX_OUTPUT_PIXELS {
        return Err(Error::image(format!("image is {width}x{height}; more than {} Mi pixels are not supported", MAX_OUTPUT_PIXELS >> 20)));
    }
    Ok(())
}

/// [`check_dimensions`], and small enough to measure or score whole.
pub fn check_analysis(width: usize, height: usize) -> Result<()> {
    check_dimensions(width, height)?;
    if width * height > MAX_ANALYSIS_PIXELS {
        return Err(Error::image(format!("image is {width}x{height}; measuring or scoring more than {} Mi pixels at once is not supported", MAX_ANALYSIS_PIXELS >> 20)));
    }
    Ok(())
}

/// Decodes PNG, JPEG, WebP, BMP or GIF bytes. The browser decodes with its own codecs instead.
#[cfg(not(target_arch = "wasm32"))]
pub fn decode(bytes: &[u8]) -> Result<RgbaImage> {
    let img = ::image::load_from_memory(bytes).map_err(|e| Error::Decode(e.to_string()))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    RgbaImage::new(w, h, img.into_rgba8().into_raw())
}

/// Encodes as PNG, keeping alpha.
#[cfg(not(target_arch = "wasm32"))]
pub fn encode_png(img: &RgbaImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ::image::write_buffer_with_format(
        &mut std::io::Cursor::new(&mut out),
        &img.data,
        img.width as u32,
        img.height as u32,
        ::image::ExtendedColorType::Rgba8,
        ::image::ImageFormat::Png,
    )
    .map_err(|e| Error::Decode(e.to_string()))?;
    Ok(out)
}

/// A deterministic texture for tests: edges and patterns in every channel, shifted `shift`
/// pixels to the left (a moving frame).
#[cfg(test)]
pub(crate) fn test_pattern(w: usize, h: usize, shift: usize) -> RgbaImage {
    let data = (0..w * h).flat_map(|i| {
        let (x, y) = (i % w + shift, i / w);
        [((x * 37 + y * 11) % 256) as u8, ((x * y) % 251) as u8, ((x ^ y) * 9 % 256) as u8, 255]
    });
    RgbaImage { width: w, height: h, data: data.collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_round_trip_and_quantize() {
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 10) as u8).collect();
        let img = RgbaImage::new(2, 3, data).unwrap();
        let planes = img.planes(img.full());
        assert_eq!(planes.len(), 18);
        assert_eq!(planes[0], 0.0); // R of pixel 0
        assert_eq!(planes[6], 10.0 / 255.0); // G of pixel 0
        let mut out = RgbaImage::filled(2, 3, [0, 0, 0, 7]).unwrap();
        out.put_planes(&planes, 3, out.full());
        for (a, b) in out.data.chunks(4).zip(img.data.chunks(4)) {
            assert_eq!(&a[..3], &b[..3]);
            assert_eq!(a[3], 7);
        }
        assert_eq!(quantize(1.7), 255);
        assert_eq!(quantize(-0.2), 0);
        assert_eq!(quantize(0.5), 128);
    }

    #[test]
    fn rejects_empty_huge_and_short_images() {
        assert!(RgbaImage::new(0, 0, vec![]).unwrap_err().to_string().contains("at least one pixel"));
        assert!(RgbaImage::filled(20000, 20000, [0; 4]).unwrap_err().to_string().contains("not supported"));
        assert!(RgbaImage::new(2, 2, vec![0; 15]).unwrap_err().to_string().contains("needs 16 bytes"));
    }

    #[test]
    fn decode_rejects_non_images() {
        let err = decode(b"this is not an image").unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err}");
    }
}
