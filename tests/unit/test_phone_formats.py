"""HEIC/HEIF and AVIF, what phones send: sniffed by their brands, decoded under the same limits as
JPEG, their EXIF read, hostile ones refused with a reason. Real phone HEICs (pillow-heif's test
photos, fetched at set-up) beside HEIC/AVIF files made here from real photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from faceflow.domain import ingest
from facekit import imaging, yunet
from facekit.errors import Failure, Reason
from local import photos
from local.photos import astronaut
from tests import hostile
from tests.prerequisites import require

LIMITS = {"max_pixels": 50_000_000, "max_bytes": 50 * 1024 * 1024}


def decode(data: bytes, **kwargs) -> imaging.DecodedImage:
    return imaging.decode_image(data, **(LIMITS | kwargs))


def refusal(data: bytes) -> Failure:
    with pytest.raises(Failure) as caught:
        decode(data)
    assert caught.value.message
    return caught.value


def phone(name: str) -> bytes:
    path = photos.phone_photo(name)
    require(path is not None, f".cache/photos/pillow_heif/{name} (scripts/fetch_photos.py)")
    return path.read_bytes()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + bytes(4) + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(16)


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "HEIF"),
        (_ftyp(b"mif1", b"heic"), "HEIF"),
        (_ftyp(b"msf1", b"hevc"), "HEIF"),
        (_ftyp(b"avif", b"mif1", b"miaf"), "AVIF"),
        (_ftyp(b"mif1", b"avif"), "AVIF"),
        (_ftyp(b"avis", b"msf1"), "AVIF"),
        (_ftyp(b"mif1", b"miaf"), "HEIF"),  # no codec named: libheif finds out
        (_ftyp(b"isom", b"mp41"), None),  # an MP4 video is no photo
        (_ftyp(b"qt  "), None),
        (b"\x00\x00\x00\x08ftyp", None),  # a box too short to hold a brand
    ],
)
def test_heif_and_avif_are_told_apart_by_their_brands(head, fmt):
    assert imaging.sniff_format(head) == fmt


@pytest.mark.parametrize(("make", "fmt"), [(hostile.heic, "HEIF"), (hostile.avif, "AVIF")])
def test_heic_and_avif_of_a_real_photo_decode_to_its_pixels(make, fmt):
    decoded = decode(make(astronaut()))
    assert decoded.format == fmt and decoded.size == (512, 512)
    assert np.abs(decoded.rgb.astype(int) - astronaut()).mean() < 4  # lossy, not another image
    assert yunet.detect_faces(decoded.rgb)  # the face is still found


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_their_exif_orientation_is_applied(fmt):
    decoded = decode(hostile.exif_rotated(fmt))
    assert decoded.size == decoded.original_size == (512, 512)
    upright = np.abs(decoded.rgb.astype(int) - astronaut()).mean()
    assert upright < 6 < np.abs(decoded.rgb.astype(int) - np.rot90(astronaut())).mean()


def test_a_heif_burst_decodes_its_primary_image():
    decoded = decode(hostile.heif_burst())
    assert np.abs(decoded.rgb.astype(int) - astronaut()).mean() < 4  # the first, not the mirror


def test_an_iphone_heic_grid_decodes_downscaled_with_its_exif():
    # iPhone 13 Pro: 4032×3024 in 512² tiles, EXIF with GPS, an HDR gain map and a depth map
    # beside the photo (never decoded: only the primary image is).
    data = phone("pug.heic")
    decoded = decode(data, target_max_side=1536)
    assert decoded.format == "HEIF" and decoded.original_size == (4032, 3024)
    assert decoded.size == (1536, 1152)
    exif = ingest.read_exif(data)
    assert (exif.camera, exif.taken_at) == ("Apple iPhone 13 Pro", "2023-02-21T14:33:08")


def test_a_phone_heic_turned_by_its_orientation_is_ingested_upright():
    photo = ingest.ingest_photo(phone("arrow.heic"), max_bytes=LIMITS["max_bytes"])
    assert (photo.width, photo.height) == (3024, 4032)  # stored landscape, Orientation 6
    assert photo.exif.orientation == 6 and photo.exif.camera == "Apple iPhone 8 Plus"
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG" and thumb.size == (240, 320)


def test_a_xiaomi_heic_is_ingested_with_its_camera():
    photo = ingest.ingest_photo(phone("xiaomi.heic"), max_bytes=LIMITS["max_bytes"])
    assert photo.format == "HEIF" and (photo.width, photo.height) == (2592, 1944)
    assert photo.exif.camera == "Xiaomi M2012K11AG"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: phone("empty.heic"), Reason.UNREADABLE_IMAGE),
        (lambda: phone("corrupted.heic"), Reason.UNREADABLE_IMAGE),
        (lambda: phone("truncated.heic"), Reason.UNREADABLE_IMAGE),
        (lambda: phone("pug.heic")[:600_000], Reason.UNREADABLE_IMAGE),
        (hostile.truncated_heic, Reason.UNREADABLE_IMAGE),
        (hostile.heic_declaring_no_pixels, Reason.UNREADABLE_IMAGE),
        (hostile.heic_without_pixels, Reason.UNREADABLE_IMAGE),
        (hostile.animated_avif, Reason.UNSUPPORTED_FORMAT),
        (lambda: phone("200MP.heic"), Reason.IMAGE_TOO_LARGE),
    ],
    ids=[
        "empty",
        "corrupted",
        "truncated",
        "iphone-cut",
        "cut",
        "0x0",
        "no-data",
        "avif-sequence",
        "200MP-grid",
    ],
)
def test_hostile_heic_and_avif_are_refused_with_their_reason(make, code):
    assert refusal(make()).code == code


def test_a_huge_grid_is_refused_before_any_tile_is_decoded(monkeypatch):
    loaded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: loaded.append(self) or real_load(self)
    )
    failure = refusal(phone("200MP.heic"))
    assert failure.code == Reason.IMAGE_TOO_LARGE and "50 megapixels" in failure.message
    assert loaded == []


def test_our_pixel_limit_holds_below_pillows():
    data = hostile.heic(astronaut())
    assert refusal_with(data, max_pixels=512 * 511).code == Reason.IMAGE_TOO_LARGE


def refusal_with(data: bytes, **limits) -> Failure:
    with pytest.raises(Failure) as caught:
        decode(data, **limits)
    return caught.value


def test_the_byte_limit_holds_for_heic():
    assert refusal_with(phone("pug.heic"), max_bytes=1_000_000).code == Reason.FILE_TOO_LARGE


def test_hostile_heic_ends_ingestion_failed_with_a_reason():
    with pytest.raises(Failure) as caught:
        ingest.ingest_photo(hostile.truncated_heic(), max_bytes=LIMITS["max_bytes"])
    assert caught.value.code == Reason.UNREADABLE_IMAGE
