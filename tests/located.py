"""Photos that say where they were taken, made in the test from real photos: EXIF GPS (as a
phone writes it: latitude, longitude, altitude, time) and an XMP packet holding location
properties beside ones that must survive. Nothing here is committed or downloaded."""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
from PIL import Image, PngImagePlugin

pillow_heif.register_heif_opener()  # HEIC read and written as Pillow's "HEIF"

GPS = {
    1: "N",
    2: (48.0, 51.0, 29.6),
    3: "E",
    4: (2.0, 17.0, 40.2),
    5: b"\x00",
    6: 35.0,
    7: (14.0, 33.0, 8.0),
    29: "2024:07:14",
}
XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    ' <rdf:Description rdf:about=""'
    ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
    ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    ' exif:GPSLatitude="48,51.4933N" exif:GPSLongitude="2,17.67E"'
    ' photoshop:City="Paris" xmp:CreatorTool="Camera 1.0">\n'
    "  <photoshop:Country>France</photoshop:Country>\n"
    "  <exif:GPSAltitude>35/1</exif:GPSAltitude>\n"
    '  <Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType="Resource">'
    "<Iptc4xmpExt:City>Paris</Iptc4xmpExt:City></rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>\n"
    "  <xmp:Rating>5</xmp:Rating>\n"
    " </rdf:Description>\n"
    "</rdf:RDF></x:xmpmeta>\n" + " " * 200 + '\n<?xpacket end="w"?>'
).encode()
PNG_XMP = "XML:com.adobe.xmp"  # the iTXt keyword of a PNG's XMP
PLACES = (b"GPS", b"Paris", b"France", b"LocationShown")
KEPT = (b'xmp:CreatorTool="Camera 1.0"', b"<xmp:Rating>5</xmp:Rating>")


def exif_with_location() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Apple", "iPhone 13 Pro", 1
    exif.get_ifd(0x8769)[0x9003] = "2024:07:14 18:30:05"
    exif.get_ifd(0x8825).update(GPS)
    return exif


def located(rgb: np.ndarray, fmt: str, *, compressed_xmp: bool = False) -> bytes:
    """`rgb` saved as `fmt` (JPEG, HEIF, AVIF, PNG, WEBP) with EXIF GPS and the XMP packet (in a
    PNG, an iTXt chunk, deflated when `compressed_xmp`)."""
    out = io.BytesIO()
    params = {"exif": exif_with_location().tobytes()}
    if fmt == "PNG":
        params["pnginfo"] = PngImagePlugin.PngInfo()
        params["pnginfo"].add_itxt(PNG_XMP, XMP.decode(), zip=compressed_xmp)
    else:
        params["xmp"] = XMP
    Image.fromarray(rgb).save(out, fmt, **params)
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return dict(exif.get_ifd(0x8825)) if 0x8825 in exif else {}


def xmp_of(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        xmp = image.info.get("xmp") or image.info.get(PNG_XMP) or b""
        return xmp.encode() if isinstance(xmp, str) else xmp


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def jpeg_with_location(original: bytes) -> bytes:
    """A real JPEG, not re-encoded, with EXIF GPS and the XMP packet spliced in after its SOI
    marker (as APP1 segments, before its own)."""
    exif = exif_with_location().tobytes()  # starts "Exif\0\0"
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP
    segments = b"".join(
        b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body for body in (exif, xmp)
    )
    return original[:2] + segments + original[2:]


def scan_data(jpeg: bytes) -> bytes:
    """A JPEG's compressed picture: everything from its first start-of-scan marker on (found by
    walking the segments: those bytes may also occur inside metadata)."""
    position = 2
    while jpeg[position + 1] != 0xDA:
        position += 2 + int.from_bytes(jpeg[position + 2 : position + 4], "big")
    return jpeg[position:]


def exif_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())
