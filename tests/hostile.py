"""Uploads built in the test, from real photos: hostile files that must end FAILED with a reason,
and awkward but valid pictures that must succeed. Nothing here is committed or downloaded."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
from PIL import Image

from local.photos import astronaut

# The astronaut's head in the 512² portrait (rows, columns): the face box is about 87 px wide.
HEAD = (slice(20, 276), slice(95, 351))


def _save(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def jpeg(rgb: np.ndarray, quality: int = 92, **params) -> bytes:
    return _save(Image.fromarray(rgb), "JPEG", quality=quality, **params)


def png(rgb: np.ndarray) -> bytes:
    return _save(Image.fromarray(rgb), "PNG")


# --- hostile -------------------------------------------------------------------------------


def empty() -> bytes:
    return b""


def text() -> bytes:
    return b"name,selfie\nalice,me.jpg\n" * 20


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="512" '
        b'height="512"><circle cx="256" cy="256" r="200" fill="peru"/></svg>\n'
    )


def truncated_jpeg() -> bytes:
    data = jpeg(astronaut())
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A well-formed PNG header declaring width×height RGB pixels, with a few bytes of data:
    a decompression bomb in miniature (a real one would be all zeros, compressed 1000:1)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * (1 + 3 * min(width, 1024)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) claims width×height: a bomb for naive decoders."""
    data = bytearray(jpeg(astronaut()))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _frames() -> list[Image.Image]:
    face = Image.fromarray(astronaut())
    return [face, face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]


def animated_gif() -> bytes:
    first, second = _frames()
    return _save(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def animated_webp() -> bytes:
    first, second = _frames()
    return _save(first, "WEBP", save_all=True, append_images=[second], duration=100, loop=0)


def animated_png() -> bytes:
    first, second = _frames()
    return _save(first, "PNG", save_all=True, append_images=[second], duration=100, loop=0)


def tiny_image() -> bytes:
    return png(np.asarray(Image.fromarray(astronaut()).resize((32, 32))))


def small_face() -> bytes:
    """The portrait at 200²: the detector finds the face only upsampled, ~34 px wide."""
    return png(np.asarray(Image.fromarray(astronaut()).resize((200, 200))))


def no_face() -> bytes:
    """A real photo without a person: a cup of coffee (scikit-image, public domain)."""
    from skimage import data

    return jpeg(data.coffee())


def animated_avif() -> bytes:
    first, second = _frames()
    return _save(first, "AVIF", save_all=True, append_images=[second], duration=100, quality=60)


def truncated_heic() -> bytes:
    """A real HEIC cut short, as an upload that stopped half-way: libheif alone would decode the
    tiles it still has and fill the rest."""
    data = heic(astronaut())
    return data[: len(data) * 2 // 3]


def heic_declaring_no_pixels() -> bytes:
    """A real HEIC whose image spatial extent (`ispe`) says 0×0: a zero-size item."""
    data = bytearray(heic(astronaut()))
    at = data.index(b"ispe") + 8  # past the box type and its version/flags
    data[at : at + 8] = bytes(8)
    return bytes(data)


def heic_without_pixels() -> bytes:
    """A real HEIC whose media data box is emptied (its length kept 8): the items point nowhere."""
    data = bytearray(heic(astronaut()))
    at = data.index(b"mdat") - 4
    return bytes(data[:at]) + struct.pack(">I", 8) + b"mdat"


# --- awkward but valid ---------------------------------------------------------------------


def heic(rgb: np.ndarray, quality: int = 85, **params) -> bytes:
    """HEIC, as an iPhone saves: HEVC in a HEIF container (pillow-heif's x265 encoder)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _save(Image.fromarray(rgb), "HEIF", quality=quality, **params)


def avif(rgb: np.ndarray, quality: int = 85, **params) -> bytes:
    """AVIF, as Android and browsers save: AV1 in a HEIF container (Pillow's libavif)."""
    return _save(Image.fromarray(rgb), "AVIF", quality=quality, **params)


def exif_rotated(fmt: str) -> bytes:
    """The portrait stored turned, EXIF Orientation 6 saying to turn it back, as HEIC or AVIF."""
    stored = Image.fromarray(astronaut()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return (heic if fmt == "HEIF" else avif)(np.asarray(stored), exif=exif.tobytes())


def heic_portrait() -> bytes:
    return heic(astronaut())


def avif_portrait() -> bytes:
    return avif(astronaut())


def exif_rotated_heic() -> bytes:
    return exif_rotated("HEIF")


def heif_burst() -> bytes:
    """Two top-level images in one HEIF (a burst, a stereo pair): the first is the primary."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    first, second = _frames()
    return _save(first, "HEIF", save_all=True, append_images=[second], quality=85)


def exif_rotated_jpeg() -> bytes:
    """Pixels stored turned 90° counter-clockwise, EXIF Orientation 6 says to turn them back:
    what a phone held upright writes."""
    stored = Image.fromarray(astronaut()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(stored, "JPEG", quality=92, exif=exif.tobytes())


def cmyk_jpeg() -> bytes:
    return _save(Image.fromarray(astronaut()).convert("CMYK"), "JPEG", quality=92)


def grayscale_jpeg() -> bytes:
    return _save(Image.fromarray(astronaut()).convert("L"), "JPEG", quality=92)


def gray16_values() -> np.ndarray:
    """The portrait's luminance spread over the full 16-bit range."""
    gray = np.asarray(Image.fromarray(astronaut()).convert("L")).astype(np.uint16)
    return gray * 257


def png16() -> bytes:
    return _save(Image.fromarray(gray16_values()), "PNG")


def rgba_png() -> bytes:
    """The portrait with a fully transparent 40 px frame (composited on white when decoded)."""
    rgba = np.dstack([astronaut(), np.full((512, 512), 255, np.uint8)])
    rgba[:40, :, 3] = 0
    rgba[-40:, :, 3] = 0
    return png(rgba)


def webp() -> bytes:
    return _save(Image.fromarray(astronaut()), "WEBP", quality=90)


@cache
def twelve_megapixel_rgb() -> np.ndarray:
    """4000×3000: the portrait enlarged to 2400² on a photographic background (coffee)."""
    from skimage import data

    canvas = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BICUBIC)
    canvas.paste(
        Image.fromarray(astronaut()).resize((2400, 2400), Image.Resampling.LANCZOS), (800, 300)
    )
    return np.asarray(canvas)


def twelve_megapixel_jpeg() -> bytes:
    return jpeg(twelve_megapixel_rgb(), quality=90)


def two_faces_rgb() -> tuple[np.ndarray, tuple[int, int]]:
    """Two heads side by side: the portrait's head in colour at 256², and the same head in
    grey at 384² — a crop in grey proves the larger one won. Also returns the column range of
    the larger head."""
    head = Image.fromarray(np.ascontiguousarray(astronaut()[HEAD]))
    large = head.convert("L").convert("RGB").resize((384, 384), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (256 + 384, 384), (255, 255, 255))
    canvas.paste(head, (0, 64))
    canvas.paste(large, (256, 0))
    return np.asarray(canvas), (256, 640)


def two_faces_jpeg() -> bytes:
    return jpeg(two_faces_rgb()[0])
