"""Where a photo was taken, removed from its bytes without touching its pixels: what a share
ships unless its owner asked to keep the location.

Removed: the EXIF GPS directory (the GPSInfo pointer taken out of its directory, the GPS entries
and their values zeroed), the XMP properties that say where (`exif:GPS…`, `photoshop:City`,
`State`, `Country`, `Iptc4xmpCore:Location`, `CountryCode`, `Iptc4xmpExt:LocationCreated`,
`LocationShown`, `drone-dji:Gps…`), overwritten with spaces, which XMP allows anywhere between
properties, and a JPEG's IPTC-IIM place datasets (spaces too). Every edit keeps each metadata
block's length, so no offset anywhere in the file moves: a JPEG's segments, a HEIF/AVIF's item
locations (`iloc`), a WebP's chunk sizes are all still right, and the compressed picture is byte
for byte the original's. A photo without location comes back as the very same bytes.

Where the metadata lives, by format (sniffed from the bytes, facekit.formats):
- JPEG: APP1 `Exif` and XMP segments (extended XMP too), and the APP13 Photoshop segment's
  IPTC-IIM place datasets (city, sub-location, state, country, content location), in every image
  of the file (an MPO's depth map or second view follows the first);
- HEIF (HEIC) and AVIF: the `Exif` item and the XMP item (`mime`, application/rdf+xml), wherever
  `iloc` puts their extents (the file or the `idat` box);
- PNG: the `eXIf` chunk and the XMP `iTXt` chunk (their CRCs recomputed; a compressed XMP chunk
  is inflated, edited and deflated again: PNG chunks carry their own lengths);
- WebP: the `EXIF` and `XMP ` chunks.
A file whose metadata cannot be found where its format says (a damaged container, XMP stored
compressed inside a HEIF) raises LocationUnknown: shipping it could ship the location.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

from facekit.formats import AVIF, HEIF, JPEG, PNG, WEBP, sniff_format

GPS_INFO = 0x8825  # the IFD0 tag pointing to the GPS directory
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
_IPTC_RESOURCE = 0x0404  # the Photoshop image resource holding IPTC-IIM datasets
# IPTC-IIM application record (2) datasets naming a place: content location code and name,
# city, sub-location, province/state, country code and name.
_IPTC_PLACES = frozenset({26, 27, 90, 92, 95, 100, 101})
_NAMES = (
    rb"(?:exif:GPS[\w]*|photoshop:(?:City|State|Country)|Iptc4xmpCore:(?:Location|CountryCode)"
    rb"|Iptc4xmpExt:Location(?:Created|Shown)|drone-dji:Gps[\w]*)(?![\w.:-])"
)
_XMP_LOCATION = re.compile(
    rb"\s" + _NAMES + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')"  # an attribute
    rb"|<(" + _NAMES + rb")(?:\s[^>]*?)?/>"  # an empty element
    rb"|<(" + _NAMES + rb")(?:\s[^>]*)?>.*?</\2\s*>",  # an element and all it holds
    re.DOTALL,
)


class LocationUnknown(ValueError):
    """The photo's metadata could not be read where its format keeps it."""


def without_location(data: bytes) -> bytes:
    """The photo with its location removed in place; `data` itself when it had none."""
    try:
        return _without_location(data)
    except LocationUnknown:
        raise
    except (IndexError, ValueError, struct.error, zlib.error) as err:  # a crafted layout
        raise LocationUnknown(f"unreadable metadata ({type(err).__name__})") from err


def _without_location(data: bytes) -> bytes:
    fmt = sniff_format(data)
    if fmt == PNG:
        return _png(data)
    edited = bytearray(data)
    blocks = {JPEG: _jpeg_blocks, HEIF: _heif_blocks, AVIF: _heif_blocks, WEBP: _webp_blocks}
    if fmt not in blocks:
        raise LocationUnknown(f"{fmt or 'an unknown format'}: no known metadata layout")
    blank = {"exif": blank_gps, "xmp": blank_xmp, "photoshop": blank_iptc}
    changed = False
    for kind, start, end in blocks[fmt](data):
        changed |= blank[kind](edited, start, end)
    return bytes(edited) if changed else data


# ---------------------------------------------------------------- EXIF (TIFF) and XMP


def blank_gps(buffer: bytearray, start: int, end: int) -> bool:
    """The GPS directory of the TIFF block buffer[start:end] removed in place: its pointer taken
    out of IFD0 (and IFD1), its entries and out-of-line values zeroed. True if there was one."""
    if end - start < 8 or bytes(buffer[start : start + 2]) not in (b"II", b"MM"):
        raise LocationUnknown("EXIF without a TIFF header")
    order = "<" if buffer[start] == ord("I") else ">"
    tiff = _Tiff(buffer, start, end, order)
    found = False
    ifd = tiff.u32(4)
    for _ in range(2):  # IFD0, then IFD1 (the thumbnail's): GPSInfo belongs in IFD0
        if not ifd:
            break
        gps, ifd = tiff.drop_entry(ifd, GPS_INFO)
        if gps is not None:
            tiff.zero_directory(gps)
            found = True
    return found


class _Tiff:
    """Bounded reads and writes inside one TIFF block (offsets are the block's own)."""

    def __init__(self, buffer: bytearray, start: int, end: int, order: str):
        self.buffer, self.start, self.end, self.order = buffer, start, end, order

    def _at(self, offset: int, size: int) -> int:
        if offset < 0 or self.start + offset + size > self.end:
            raise LocationUnknown("an EXIF offset points outside its block")
        return self.start + offset

    def u16(self, offset: int) -> int:
        return struct.unpack_from(self.order + "H", self.buffer, self._at(offset, 2))[0]

    def u32(self, offset: int) -> int:
        return struct.unpack_from(self.order + "I", self.buffer, self._at(offset, 4))[0]

    def zero(self, offset: int, size: int) -> None:
        at = self._at(offset, size)
        self.buffer[at : at + size] = bytes(size)

    def drop_entry(self, ifd: int, tag: int) -> tuple[int | None, int]:
        """(the value of `tag`'s entry, or None; the next IFD's offset), the entry taken out:
        the later entries and the next-IFD pointer move up 12 bytes, the freed 12 are zeroed."""
        count = self.u16(ifd)
        entries = ifd + 2
        size = 12 * count + 4  # the entries and the next-IFD pointer
        at = self._at(entries, size)
        following = self.u32(entries + 12 * count)
        for index in range(count):
            if self.u16(entries + 12 * index) != tag:
                continue
            value = self.u32(entries + 12 * index + 8)
            entry = at + 12 * index
            self.buffer[entry : at + size - 12] = self.buffer[entry + 12 : at + size]
            self.buffer[at + size - 12 : at + size] = bytes(12)
            struct.pack_into(self.order + "H", self.buffer, self._at(ifd, 2), count - 1)
            return value, following
        return None, following

    def zero_directory(self, ifd: int) -> None:
        """Every entry's out-of-line value, then the directory itself, zeroed."""
        count = self.u16(ifd)
        for index in range(count):
            entry = ifd + 2 + 12 * index
            kind, items = self.u16(entry + 2), self.u32(entry + 4)
            size = _TYPE_SIZES.get(kind, 1) * items
            if size > 4:
                self.zero(self.u32(entry + 8), min(size, self.end - self.start))
        self.zero(ifd, 2 + 12 * count + 4)


def blank_xmp(buffer: bytearray, start: int, end: int) -> bool:
    """Every location property of the XMP packet buffer[start:end] overwritten with spaces."""
    packet = bytes(buffer[start:end])
    blanked = _XMP_LOCATION.sub(lambda m: b" " * len(m.group(0)), packet)
    if blanked == packet:
        return False
    buffer[start:end] = blanked
    return True


def blank_iptc(buffer: bytearray, start: int, end: int) -> bool:
    """The place datasets of the IPTC-IIM record inside a JPEG's Photoshop resources
    (APP13, buffer[start:end]) overwritten with spaces. True if there was one."""
    found, position = False, start
    while position + 12 <= end and buffer[position : position + 4] == b"8BIM":
        resource = int.from_bytes(buffer[position + 4 : position + 6], "big")
        name = buffer[position + 6]
        at = position + 6 + name + 1 + ((name + 1) & 1)  # a Pascal string padded to even
        size = int.from_bytes(buffer[at : at + 4], "big")
        body, following = at + 4, at + 4 + size + (size & 1)
        if body + size > end:
            raise LocationUnknown("a Photoshop resource runs past its segment")
        if resource == _IPTC_RESOURCE:
            found |= _blank_iptc_places(buffer, body, body + size)
        position = following
    return found


def _blank_iptc_places(buffer: bytearray, start: int, end: int) -> bool:
    found, position = False, start
    while position + 5 <= end and buffer[position] == 0x1C:
        record, dataset = buffer[position + 1], buffer[position + 2]
        size = int.from_bytes(buffer[position + 3 : position + 5], "big")
        if size & 0x8000 or position + 5 + size > end:  # extended lengths: never for text
            raise LocationUnknown("an IPTC dataset of unexpected length")
        if record == 2 and dataset in _IPTC_PLACES and size:
            buffer[position + 5 : position + 5 + size] = b" " * size
            found = True
        position += 5 + size
    return found


# ---------------------------------------------------------------- JPEG


def _jpeg_blocks(data: bytes) -> Iterator[tuple[str, int, int]]:
    """("exif" | "xmp", start, end) of every APP1 metadata block, in every image of the file."""
    position = 0
    while data[position : position + 2] == b"\xff\xd8":
        position = yield from _jpeg_image(data, position + 2)
        if position is None:
            return


def _jpeg_image(data: bytes, position: int) -> Iterator[tuple[str, int, int]]:
    """One image's blocks from its first segment; returns where the next image starts (None
    when nothing but trailing bytes follows its end)."""
    end = len(data)
    while position < end:
        if data[position] != 0xFF:
            raise LocationUnknown("a JPEG segment does not start with a marker")
        marker = data[position + 1] if position + 1 < end else None
        if marker is None:
            break
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI: another image (MPO) may follow
            return position + 2 if data[position + 2 : position + 4] == b"\xff\xd8" else None
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        body, following = position + 4, position + 2 + length
        if length < 2 or following > end:
            raise LocationUnknown("a JPEG segment runs past the end of the file")
        if marker in (0xE1, 0xED):  # APP1 (EXIF, XMP), APP13 (Photoshop, IPTC)
            yield from _app_block(data, body, following)
        position = _after_scan(data, following) if marker == 0xDA else following
    return None


def _app_block(data: bytes, body: int, end: int) -> Iterator[tuple[str, int, int]]:
    segment = data[body:end]
    if segment.startswith(_PHOTOSHOP_HEADER):  # APP13
        yield "photoshop", body + len(_PHOTOSHOP_HEADER), end
        return
    if segment.startswith(_EXIF_HEADER):
        yield "exif", body + len(_EXIF_HEADER), end
    elif segment.startswith(_XMP_HEADER):
        yield "xmp", body + len(_XMP_HEADER), end
    elif segment.startswith(_XMP_EXTENSION):  # GUID (32), full length (4), offset (4), part
        yield "xmp", body + len(_XMP_EXTENSION) + 40, end


def _after_scan(data: bytes, position: int) -> int:
    """The first marker after a scan's entropy-coded data (stuffed FF00 and restarts skipped)."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


# ---------------------------------------------------------------- HEIF / AVIF


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in data[start:end]."""
    position = start
    while position + 8 <= end:
        size, kind = (
            int.from_bytes(data[position : position + 4], "big"),
            data[position + 4 : position + 8],
        )
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise LocationUnknown(f"the {kind!r} box runs past its parent")
        yield kind, position + header, position + size
        position += size


def _heif_blocks(data: bytes) -> Iterator[tuple[str, int, int]]:
    """The Exif item's TIFF block and the XMP item, each extent by extent: a block split over
    several extents is edited as a whole (_joined) by the caller through its pieces."""
    metas = [(s, e) for kind, s, e in _boxes(data, 0, len(data)) if kind == b"meta"]
    if len(metas) != 1:
        raise LocationUnknown("a HEIF file without exactly one meta box")
    children = {kind: (s, e) for kind, s, e in _boxes(data, metas[0][0] + 4, metas[0][1])}
    if b"iinf" not in children:
        return
    if b"iloc" not in children:
        raise LocationUnknown("a HEIF file with items but no item locations")
    wanted = _metadata_items(data, *children[b"iinf"])
    if not wanted:
        return
    idat = children.get(b"idat", (0, 0))[0]
    for item_id, extents in _item_extents(data, *children[b"iloc"], idat):
        if item_id in wanted:
            yield from _heif_item(data, wanted[item_id], extents)


def _heif_item(data: bytes, kind: str, extents: list[tuple[int, int]]):
    if len(extents) != 1:
        raise LocationUnknown("a metadata item in several extents")
    start, end = extents[0]
    if end > len(data):
        raise LocationUnknown("a metadata item runs past the end of the file")
    if kind == "xmp":
        yield "xmp", start, end
        return
    # An Exif item: the offset of its TIFF header, after which (often "Exif\0\0" and) the TIFF.
    skip = int.from_bytes(data[start : start + 4], "big")
    yield "exif", start + 4 + skip, end


def _metadata_items(data: bytes, start: int, end: int) -> dict[int, str]:
    """item id → "exif" | "xmp" from the item information box (infe version 2 and 3)."""
    version = data[start]
    count_size = 2 if version == 0 else 4
    found = {}
    for kind, s, e in _boxes(data, start + 4 + count_size, end):
        if kind != b"infe" or data[s] < 2:
            continue
        id_size = 2 if data[s] == 2 else 4
        item_id = int.from_bytes(data[s + 4 : s + 4 + id_size], "big")
        at = s + 4 + id_size + 2  # past the protection index
        item_type = data[at : at + 4]
        if item_type == b"Exif":
            found[item_id] = "exif"
        elif item_type == b"mime":
            name_end = data.index(b"\x00", at + 4, e)
            content_type, _, encoding = data[name_end + 1 : e].partition(b"\x00")
            if content_type.rstrip(b"\x00") == b"application/rdf+xml":
                if encoding.strip(b"\x00"):
                    raise LocationUnknown("an XMP item stored compressed")
                found[item_id] = "xmp"
    return found


def _item_extents(data: bytes, start: int, end: int, idat: int):
    """(item id, [(start, end) in the file]) of every item of the item location box."""
    version = data[start]
    sizes = data[start + 4], data[start + 5]
    offset_size, length_size = sizes[0] >> 4, sizes[0] & 15
    base_size, index_size = sizes[1] >> 4, (sizes[1] & 15) if version in (1, 2) else 0
    reader = _Reader(data, start + 6, end)
    for _ in range(reader.uint(2 if version < 2 else 4)):
        item_id = reader.uint(2 if version < 2 else 4)
        method = reader.uint(2) & 15 if version in (1, 2) else 0
        reader.uint(2)  # data reference index
        base = reader.uint(base_size)
        extents = []
        for _ in range(reader.uint(2)):
            reader.uint(index_size)
            offset, length = reader.uint(offset_size), reader.uint(length_size)
            origin = {0: 0, 1: idat}.get(method)
            if origin is None:
                raise LocationUnknown("an item built from other items")
            first = origin + base + offset
            extents.append((first, first + length if length else len(data)))
        yield item_id, extents


class _Reader:
    def __init__(self, data: bytes, position: int, end: int):
        self.data, self.position, self.end = data, position, end

    def uint(self, size: int) -> int:
        if self.position + size > self.end:
            raise LocationUnknown("the item location box is cut short")
        value = int.from_bytes(self.data[self.position : self.position + size], "big")
        self.position += size
        return value


# ---------------------------------------------------------------- WebP and PNG


def _webp_blocks(data: bytes) -> Iterator[tuple[str, int, int]]:
    for kind, start, end in _riff_chunks(data):
        if kind == b"EXIF":
            skip = len(_EXIF_HEADER) if data[start:end].startswith(_EXIF_HEADER) else 0
            yield "exif", start + skip, end
        elif kind == b"XMP ":
            yield "xmp", start, end


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    position, end = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while position + 8 <= end:
        kind, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "little"),
        )
        if position + 8 + size > end:
            raise LocationUnknown(f"the {kind!r} chunk runs past the end of the file")
        yield kind, position + 8, position + 8 + size
        position += 8 + size + (size & 1)  # chunks are padded to an even size


def _png(data: bytes) -> bytes:
    """PNG: eXIf blanked in place, the XMP iTXt edited (inflated and deflated again when
    compressed); each edited chunk's CRC recomputed. `data` itself when nothing was found."""
    out, position, changed = [data[:8]], 8, False
    while position + 12 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        kind, body_end = data[position + 4 : position + 8], position + 8 + size
        if body_end + 4 > len(data):
            raise LocationUnknown(f"the {kind!r} chunk runs past the end of the file")
        body = bytearray(data[position + 8 : body_end])
        edited = False
        if kind == b"eXIf":
            edited = blank_gps(body, 0, len(body))
        elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
            body, edited = _png_xmp(body)
        if edited:
            changed = True
            crc = zlib.crc32(kind + bytes(body)).to_bytes(4, "big")
            out.append(len(body).to_bytes(4, "big") + kind + bytes(body) + crc)
        else:
            out.append(data[position : body_end + 4])
        position = body_end + 4
        if kind == b"IEND":
            break
    out.append(data[position:])
    return b"".join(out) if changed else data


def _png_xmp(body: bytearray) -> tuple[bytearray, bool]:
    """An iTXt chunk: keyword, NUL, compression flag and method, language tag, NUL, translated
    keyword, NUL, then the text."""
    keyword_end = body.index(0)
    compressed = body[keyword_end + 1]
    language_end = body.index(0, keyword_end + 3)
    text_start = body.index(0, language_end + 1) + 1
    text = bytearray(zlib.decompress(bytes(body[text_start:])) if compressed else body[text_start:])
    if not blank_xmp(text, 0, len(text)):
        return body, False
    packed = zlib.compress(bytes(text)) if compressed else bytes(text)
    return bytearray(body[:text_start] + packed), True
