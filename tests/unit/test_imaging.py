import io

import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from facekit import imaging
from local.photos import astronaut
from style_backend.domain.errors import Failure
from tests import hostile

LIMITS = {"max_pixels": 40_000_000, "max_bytes": 10 * 1024 * 1024}


def decode(data: bytes, **kwargs) -> imaging.DecodedImage:
    return imaging.decode_image(data, **(LIMITS | kwargs))


def reason(data: bytes, **kwargs) -> str:
    with pytest.raises(Failure) as caught:
        decode(data, **kwargs)
    assert caught.value.message  # always something a person can read
    return caught.value.code


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (hostile.empty, "UNREADABLE_IMAGE"),
        (hostile.text, "UNSUPPORTED_FORMAT"),
        (hostile.svg, "UNSUPPORTED_FORMAT"),
        (hostile.animated_gif, "UNSUPPORTED_FORMAT"),
        (hostile.animated_webp, "UNSUPPORTED_FORMAT"),
        (hostile.animated_png, "UNSUPPORTED_FORMAT"),
        (hostile.truncated_jpeg, "UNREADABLE_IMAGE"),
        (lambda: hostile.png_declaring(40000, 40000), "IMAGE_TOO_LARGE"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_hostile_files_are_refused_with_their_reason(make, code):
    assert reason(make()) == code


@pytest.mark.parametrize(
    "data", [hostile.jpeg_declaring(60000, 60000), hostile.jpeg_declaring(9000, 9000)]
)
def test_jpeg_declaring_too_many_pixels_is_refused_with_a_readable_message(data):
    with pytest.raises(Failure) as caught:
        decode(data)
    assert caught.value.code == "IMAGE_TOO_LARGE"
    assert "0×0" not in caught.value.message and "megapixels" in caught.value.message


def test_pixel_limit_is_ours_not_only_pillows():
    # 64 MP is below Pillow's own bomb limit (~179 MP): our header check must refuse it.
    assert Image.MAX_IMAGE_PIXELS > 8000 * 8000
    assert reason(hostile.png_declaring(8000, 8000)) == "IMAGE_TOO_LARGE"


def test_pixel_limit_is_checked_before_decoding(monkeypatch):
    loaded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: loaded.append(self) or real_load(self)
    )
    assert reason(hostile.png_declaring(8000, 8000)) == "IMAGE_TOO_LARGE"
    assert loaded == []


def test_the_loader_spy_sees_real_decodes(monkeypatch):
    loaded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: loaded.append(self) or real_load(self)
    )
    decode(hostile.png(astronaut()))
    assert loaded


def test_byte_limit():
    assert reason(hostile.webp(), max_bytes=1000) == "FILE_TOO_LARGE"


def test_format_comes_from_the_bytes_not_the_name():
    # A GIF is refused even though nothing here says "gif"; a PNG is accepted whatever it is called.
    assert imaging.sniff_format(hostile.animated_gif()) is None
    assert decode(hostile.png(astronaut())).format == "PNG"
    assert decode(hostile.webp()).format == "WEBP"


def test_exif_orientation_is_applied():
    decoded = decode(hostile.exif_rotated_jpeg())
    assert decoded.size == (512, 512)
    # Stored turned; decoded upright: close to the original, far from the stored pixels.
    upright = np.abs(decoded.rgb.astype(int) - astronaut()).mean()
    turned = np.rot90(astronaut())
    assert upright < 6 < np.abs(decoded.rgb.astype(int) - turned).mean()


def test_exif_orientation_swaps_the_reported_size():
    stored = Image.fromarray(astronaut()[:, :300]).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", exif=exif.tobytes())
    decoded = decode(out.getvalue())
    assert decoded.original_size == (300, 512) == decoded.size


def test_cmyk_becomes_the_same_colours():
    decoded = decode(hostile.cmyk_jpeg())
    assert decoded.rgb.shape == (512, 512, 3)
    assert np.abs(decoded.rgb.astype(int) - astronaut()).mean() < 6


def test_grayscale_becomes_three_equal_channels():
    rgb = decode(hostile.grayscale_jpeg()).rgb
    assert rgb.shape == (512, 512, 3)
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_sixteen_bit_is_scaled_not_clipped():
    rgb = decode(hostile.png16()).rgb
    want = (hostile.gray16_values() / 257).round()
    assert rgb.max() > 200  # clipping 16-bit values would give 255 almost everywhere
    assert np.abs(rgb[..., 0].astype(int) - want).max() <= 1


def test_alpha_is_composited_on_white():
    rgb = decode(hostile.rgba_png()).rgb
    assert (rgb[:40] == 255).all() and (rgb[-40:] == 255).all()
    assert np.array_equal(rgb[40:-40], astronaut()[40:-40])


def test_palette_transparency_is_composited_on_white():
    image = Image.fromarray(astronaut()).quantize(64)
    image.info["transparency"] = 0
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    rgb = decode(out.getvalue()).rgb
    index = np.asarray(image) == 0
    assert index.any()
    assert (rgb[index] == 255).all()


def test_large_jpeg_is_decoded_downscaled_by_draft_mode(monkeypatch):
    drafts = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        drafts.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    decoded = decode(hostile.twelve_megapixel_jpeg(), target_max_side=1536)
    assert drafts == [(2000, 1500)]  # libjpeg decoded at 1/2: never 12 MP in memory
    assert decoded.size == (1536, 1152)
    assert decoded.original_size == (4000, 3000)
    assert decoded.scale == pytest.approx(1536 / 4000)


def test_small_pictures_are_not_resized():
    decoded = decode(hostile.jpeg(astronaut()), target_max_side=1536)
    assert decoded.size == (512, 512) and decoded.scale == 1.0


def test_png_round_trip():
    rgb = astronaut()
    assert np.array_equal(decode(imaging.encode_png(rgb)).rgb, rgb)


def test_png_encoder_handles_any_size_and_layout():
    rng = np.random.default_rng(7)
    odd = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    strided = astronaut()[::3, ::2]  # not contiguous
    for rgb in (odd, strided):
        image = Image.open(io.BytesIO(imaging.encode_png(rgb)))
        image.load()
        assert image.format == "PNG" and image.mode == "RGB"
        assert np.array_equal(np.asarray(image), rgb)


def test_the_stored_crop_is_a_full_chroma_jpeg_visually_equal_to_the_aligned_crop():
    from facekit import faces

    crop = faces.crop_main_face(astronaut())[0]
    stored = faces.encode_crop(crop)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (512, 512)
    assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4
    error = np.asarray(image.convert("RGB"), np.float64) - crop
    assert 10 * np.log10(255**2 / np.mean(error**2)) > 45  # dB: no visible loss
    assert len(stored) < len(imaging.encode_png(crop)) / 3
