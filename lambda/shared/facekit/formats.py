"""Image formats by their magic bytes. No numpy or Pillow here: functions that only need to know
what a file is (the swap completion) import this without the imaging layer.

HEIF (HEIC, what iPhones save) and AVIF are both ISO base media files: an `ftyp` box first, whose
brands say which codec the pictures use (HEVC or AV1).
"""

from __future__ import annotations

JPEG, PNG, WEBP, HEIF, AVIF = "JPEG", "PNG", "WEBP", "HEIF", "AVIF"
ALLOWED_FORMATS = (JPEG, PNG, WEBP, HEIF, AVIF)
CONTENT_TYPES = {
    JPEG: "image/jpeg",
    PNG: "image/png",
    WEBP: "image/webp",
    HEIF: "image/heic",
    AVIF: "image/avif",
}

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
# Brands of "some HEIF image": no codec named, libheif finds out (HEVC here; AV1 is Pillow's).
_GENERIC_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_MAX_FTYP = 4096  # brands read from the ftyp box at most (a real one has a handful)


def sniff_format(data: bytes) -> str | None:
    """JPEG, PNG, WEBP, HEIF or AVIF from the magic bytes; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return _isobmff_format(data)


def _isobmff_format(data: bytes) -> str | None:
    """HEIF or AVIF from the ftyp box's brands: the major brand decides, then the compatible
    ones (an AV1 brand before an HEVC one, as a file listing both is an AVIF); a file naming only
    the generic image brand is handed to libheif as HEIF."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    size = int.from_bytes(data[:4], "big")
    if size < 16 or size > _MAX_FTYP or size % 4:
        return None
    major = data[8:12]
    brands = [data[i : i + 4] for i in range(16, min(size, len(data)) - 3, 4)]
    for candidates in ([major], brands):
        if any(b in _AVIF_BRANDS for b in candidates):
            return AVIF
        if any(b in _HEVC_BRANDS for b in candidates):
            return HEIF
    if major in _GENERIC_BRANDS or any(b in _GENERIC_BRANDS for b in brands):
        return HEIF
    return None
