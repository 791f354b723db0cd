//! The seal image a deployer may supply (PNG): decoded once per rendering
//! into the RGB samples and alpha mask a PDF image XObject holds.

use std::io::Cursor;

use png::{ColorType, Decoder, Transformations};

/// Larger images are refused: a seal is printed about 2 cm wide.
pub const MAX_SIDE: u32 = 1024;

/// A decoded image: 8-bit RGB samples, and the alpha channel when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealImage {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    pub(crate) alpha: Option<Vec<u8>>,
}

impl SealImage {
    /// Decodes a PNG of any colour type and depth (at most [`MAX_SIDE`]
    /// pixels a side); the reason in Chinese when it cannot be used.
    pub fn from_png(bytes: &[u8]) -> Result<SealImage, String> {
        let mut decoder = Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
        let mut reader = decoder
            .read_info()
            .map_err(|e| format!("不是可读的 PNG 图片（{e}）"))?;
        let (width, height) = reader.info().size();
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!(
                "图片为 {width}×{height} 像素，每边应在 1 到 {MAX_SIDE} 之间"
            ));
        }
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| "图片过大".to_owned())?;
        let mut pixels = vec![0; size];
        let frame = reader
            .next_frame(&mut pixels)
            .map_err(|e| format!("PNG 图片无法解码（{e}）"))?;
        pixels.truncate(frame.buffer_size());
        let (channels, has_alpha, gray) = match frame.color_type {
            ColorType::Grayscale => (1, false, true),
            ColorType::GrayscaleAlpha => (2, true, true),
            ColorType::Rgb => (3, false, false),
            ColorType::Rgba => (4, true, false),
            ColorType::Indexed => return Err("PNG 调色板未能展开".to_owned()),
        };
        let count = (width * height) as usize;
        let mut rgb = Vec::with_capacity(count * 3);
        let mut alpha = Vec::with_capacity(if has_alpha { count } else { 0 });
        for pixel in pixels.chunks_exact(channels).take(count) {
            if gray {
                rgb.extend_from_slice(&[pixel[0]; 3]);
            } else {
                rgb.extend_from_slice(&pixel[..3]);
            }
            if has_alpha {
                alpha.push(pixel[channels - 1]);
            }
        }
        if rgb.len() != count * 3 {
            return Err("PNG 图片数据不完整".to_owned());
        }
        Ok(SealImage {
            width,
            height,
            rgb,
            alpha: has_alpha.then_some(alpha),
        })
    }

    /// Width over height.
    pub(crate) fn aspect(&self) -> f32 {
        self.width as f32 / self.height as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 24×24 red ring with a square in it, on a transparent background.
    const RING_PNG: &[u8] = include_bytes!("../../tests/fixtures/seal-ring.png");

    #[test]
    fn a_transparent_png_decodes_to_rgb_and_a_mask() {
        let image = SealImage::from_png(RING_PNG).unwrap();
        assert_eq!((image.width, image.height), (24, 24));
        assert_eq!(image.rgb.len(), 24 * 24 * 3);
        let alpha = image.alpha.unwrap();
        assert_eq!(alpha[0], 0, "the corner is transparent");
        assert_eq!(alpha[12 * 24 + 12], 255, "the centre is opaque");
    }

    #[test]
    fn what_is_not_a_usable_png_is_refused_with_a_reason() {
        assert!(SealImage::from_png(b"GIF89a").is_err());
        assert!(SealImage::from_png(&RING_PNG[..RING_PNG.len() / 2]).is_err());
        assert!(SealImage::from_png(&[]).is_err());
    }
}
