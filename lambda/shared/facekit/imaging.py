"""Safe decoding of untrusted uploads into an upright RGB uint8 array, and image encoding.

The order of checks is the defence: byte size, then format by magic bytes (never the file name or
the declared content type), then the pixel count from the header, and only then decoding — so a
decompression bomb or an unsupported container never reaches a decoder. Large JPEGs are decoded
downscaled by libjpeg itself (draft mode), which is what keeps a 12-megapixel photo cheap.

HEIC/HEIF (iPhones) is decoded by pillow-heif (libheif + libde265, registered here as Pillow's
HEIF opener, its own security limits on), AVIF by Pillow itself (libavif). A HEIF file's primary
image is the photo: the other images of a burst or a stereo pair, and the thumbnails, depth maps
and gain maps beside it, are never decoded. A HEIC grid (how phones tile a photo) declares its
whole size, so the pixel limit holds before any tile is decoded.

Needs numpy, Pillow and pillow-heif (all three in the Lambda layer and the FaceFlow image).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from facekit.errors import Failure, Reason
from facekit.formats import (
    ALLOWED_FORMATS,
    AVIF,
    CONTENT_TYPES,
    HEIF,
    JPEG,
    PNG,
    WEBP,
    sniff_format,
)

try:
    import pillow_heif
except ImportError:  # an image without it refuses HEIC with a clear reason (_decoded)
    pillow_heif = None
else:
    # Only the primary image is ever wanted: thumbnails, depth and auxiliary images (HDR gain
    # maps, portrait mattes) stay undecoded, and an embedded thumbnail never stands in for it.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

__all__ = [
    "ALLOWED_FORMATS",
    "AVIF",
    "CONTENT_TYPES",
    "HEIF",
    "JPEG",
    "PNG",
    "WEBP",
    "sniff_format",
]
# Formats whose extra frames are not animation: a JPEG's MPO depth map, a HEIF burst or stereo
# pair (the primary image is the photo).
_PRIMARY_FRAME_FORMATS = frozenset({JPEG, HEIF})

_WHITE = (255, 255, 255, 255)
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # orientations that swap width and height
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  # (height, width, 3) uint8, upright (EXIF orientation applied)
    format: str  # JPEG | PNG | WEBP | HEIF | AVIF
    original_size: tuple[int, int]  # (width, height) of the full picture, upright
    scale: float  # decoded width / original width (1.0 when decoded at full size)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def _unsupported(data: bytes) -> Failure:
    head = data[:256].lstrip().lower()
    if head.startswith(b"gif8"):
        what = "GIF pictures are"
    elif b"<svg" in head or head.startswith(b"<?xml"):
        what = "SVG drawings are"
    else:
        what = "This file is"
    return Failure(
        Reason.UNSUPPORTED_FORMAT, f"{what} not supported: upload a JPEG, PNG, WebP, HEIC or AVIF."
    )


def _unreadable(detail: str) -> Failure:
    return Failure(Reason.UNREADABLE_IMAGE, f"The picture could not be read ({detail}).")


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> Failure:
    what = f"The picture is {size[0]}×{size[1]} pixels" if size else "The picture is too large"
    return Failure(Reason.IMAGE_TOO_LARGE, f"{what}; the limit is {max_pixels / 1e6:g} megapixels.")


def decode_image(
    data: bytes, *, max_pixels: int, max_bytes: int, target_max_side: int | None = None
) -> DecodedImage:
    """Decode an uploaded picture or raise Failure with a reason a client can show.

    target_max_side: the longest side wanted; larger pictures are decoded downscaled (JPEG draft
    mode) and then resized to it. None decodes at full size.
    """
    fmt = _accepted_format(data, max_bytes)
    image, (width, height) = _decoded(data, fmt, max_pixels, target_max_side)
    turned = _orientation(image) in _QUARTER_TURNS
    image = _upright(image)
    original_size = (height, width) if turned else (width, height)
    rgb = np.asarray(_fitted(to_rgb(image), target_max_side), dtype=np.uint8)
    return DecodedImage(
        rgb=rgb,
        format=fmt,
        original_size=original_size,
        scale=rgb.shape[1] / original_size[0],
    )


def _accepted_format(data: bytes, max_bytes: int) -> str:
    """The file's format, once its size and magic bytes pass (before any decoder sees it)."""
    if not data:
        raise _unreadable("the file is empty")
    if len(data) > max_bytes:
        raise Failure(
            Reason.FILE_TOO_LARGE,
            f"The file is {len(data)} bytes; the limit is {max_bytes} bytes.",
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise _unsupported(data)
    if fmt == HEIF and pillow_heif is None:
        raise Failure(Reason.UNSUPPORTED_FORMAT, "HEIC pictures are not supported here.")
    if fmt in (HEIF, AVIF) and not _boxes_complete(data):
        raise _unreadable("the file is damaged or incomplete")
    return fmt


def _boxes_complete(data: bytes) -> bool:
    """Whether an ISO media file's top-level boxes fill it exactly. libheif decodes a grid whose
    tiles are cut off (a truncated upload) into a picture with holes rather than an error, so a
    short file is refused here, before any decoder runs."""
    position, end = 0, len(data)
    while position < end:
        if end - position < 8:
            return False
        size = int.from_bytes(data[position : position + 4], "big")
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if end - position < 16:
                return False
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:  # the last box runs to the end of the file
            return True
        if size < header or position + size > end:
            return False
        position += size
    return True


def _decoded(
    data: bytes, fmt: str, max_pixels: int, target_max_side: int | None
) -> tuple[Image.Image, tuple[int, int]]:
    """The picture decoded (JPEG: downscaled by libjpeg towards target_max_side), and the size
    its header declares, checked against max_pixels before any pixel is decoded."""
    with warnings.catch_warnings():
        # Our own pixel check below is the limit; Pillow's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError:
            raise _too_large(_declared_size(data, fmt), max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise _unreadable("not a valid image") from err

        width, height = image.size
        if width <= 0 or height <= 0:
            raise _unreadable("no pixels")
        if width * height > max_pixels:
            raise _too_large((width, height), max_pixels)
        # JPEG files may carry extra frames (MPO depth maps from phones), HEIF ones other top-level
        # images (bursts, stereo pairs): the primary one is the photo. An AVIF sequence animates.
        if fmt not in _PRIMARY_FRAME_FORMATS and getattr(image, "n_frames", 1) > 1:
            raise Failure(
                Reason.UNSUPPORTED_FORMAT, "Animated pictures are not supported: upload a photo."
            )

        if fmt == JPEG and target_max_side and max(width, height) > target_max_side:
            factor = target_max_side / max(width, height)
            # draft() keeps both sides >= the request, so libjpeg scales by 1/2, 1/4 or 1/8 only
            # as far as the target allows; _fitted does the rest.
            image.draft("RGB", (max(1, int(width * factor)), max(1, int(height * factor))))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise _unreadable("the file is damaged or incomplete") from err
    return image, (width, height)


def _fitted(rgb_image: Image.Image, target_max_side: int | None) -> Image.Image:
    """Resized (bilinear) so its longest side is target_max_side, when longer."""
    if target_max_side and max(rgb_image.size) > target_max_side:
        factor = target_max_side / max(rgb_image.size)
        new_size = (
            max(1, round(rgb_image.width * factor)),
            max(1, round(rgb_image.height * factor)),
        )
        rgb_image = rgb_image.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return rgb_image


def _declared_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """The size a PNG header declares (for the message when Pillow refused to open it)."""
    if fmt == PNG and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block must not cost the user their photo
        return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: alpha composited on white, 16-bit scaled (not clipped), CMYK/L/P converted."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(_high_depth_to_8bit(image)).convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, _WHITE)
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_8bit(image: Image.Image) -> np.ndarray:
    values = np.asarray(image).astype(np.float64)
    if image.mode.startswith("I;16") or (image.mode == "I" and values.max(initial=0) > 255):
        values = values / 257.0  # 65535 → 255: the whole 16-bit range, not its low byte
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG of an RGB uint8 image: Sub filter, Huffman-only deflate.

    Written here rather than by Pillow because Pillow's encoder (level 1) takes about twice as
    long for the 512² crop, the crop handler's largest cost after detection; after the Sub
    filter, Huffman coding alone compresses within 3% of deflate level 1, faster. Pillow (and
    every PNG reader) decodes it.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    rows = rgb.reshape(height, width * 3)
    sub = rows.copy()
    sub[:, 3:] -= rows[:, :-3]  # PNG filter 1 (Sub): each byte minus the pixel to its left
    scanlines = np.hstack([np.ones((height, 1), np.uint8), sub]).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", _deflate_huffman_only(scanlines)),
            _png_chunk(b"IEND", b""),
        ]
    )


def _deflate_huffman_only(data: bytes) -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_jpeg(rgb: np.ndarray, quality: int = 92, *, full_chroma: bool = False) -> bytes:
    """JPEG, chroma subsampled 4:2:0 unless `full_chroma` (4:4:4: sharper colour edges)."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(
        out, format=JPEG, quality=quality, subsampling=0 if full_chroma else 2
    )
    return out.getvalue()
