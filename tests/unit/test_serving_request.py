"""request.py in-process: the request carries both images; nothing is fetched."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from facechain_serving.errors import BadRequest
from facechain_serving.request import MAX_INLINE_BYTES, decode_rgb, parse_request

from facekit import imaging
from local.photos import astronaut
from style_backend.domain import swap
from tests.fresh_python import assert_runs, blocking, importing

ROOT = Path(__file__).resolve().parents[2]


def body(source: dict, target: dict | None = None, **extra: object) -> bytes:
    return json.dumps({"source": source, "target": target or {"b64": "aGk="}, **extra}).encode()


def test_inline_images_are_decoded():
    jpeg = imaging.encode_jpeg(astronaut())
    parsed = parse_request(body({"b64": base64.b64encode(jpeg).decode()}, processId="p1"))
    assert parsed.process_id == "p1" and parsed.target.inline == b"hi"
    assert parsed.source.inline == jpeg
    assert decode_rgb(parsed.source.inline, "source").shape == astronaut().shape


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"s3Uri": "s3://bucket/crops/a.png"}, "has no network"),
        ({"b64": "aGk=", "s3Uri": "s3://b/k"}, "has no network"),
        ({"b64": "aGk=", "extra": 1}, "exactly 'b64'"),
        ({}, "exactly 'b64'"),
        ({"b64": 7}, "must be a string"),
    ],
)
def test_anything_but_one_inline_image_is_refused(ref, message):
    with pytest.raises(BadRequest, match=message) as raised:
        parse_request(body(ref))
    assert raised.value.status == 400
    assert "s3://" not in raised.value.message  # what exists where is never echoed


def test_the_inline_limit_is_the_one_the_swap_function_applies():
    assert MAX_INLINE_BYTES == swap.INFERENCE_IMAGE_MAX_BYTES
    too_large = "A" * (MAX_INLINE_BYTES * 4 // 3 + 8)
    with pytest.raises(BadRequest) as raised:
        parse_request(body({"b64": too_large}))
    assert raised.value.code == "FILE_TOO_LARGE"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('{"jpegQuality": 101}', "jpegQuality"),
        ('{"jpegQuality": true}', "jpegQuality"),
        ('{"blend": "alpha"}', "blend"),
        ("[]", "options must be an object"),
    ],
)
def test_bad_options_are_refused(options, message):
    raw = f'{{"source": {{"b64": "aGk="}}, "target": {{"b64": "aGk="}}, "options": {options}}}'
    with pytest.raises(BadRequest, match=message):
        parse_request(raw.encode())


def test_decode_refuses_a_pixel_bomb_before_decoding():
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("L", (5000, 5000)).save(out, format="PNG")  # 25 MP, a few KiB on disk
    with pytest.raises(BadRequest) as raised:
        decode_rgb(out.getvalue(), "target")
    assert raised.value.code == "IMAGE_TOO_LARGE"


def test_the_serving_code_imports_no_aws_sdk():
    """The image has no boto3 (requirements.txt): nothing the server loads may import it."""
    modules = (
        "facechain_serving.__main__",
        "facechain_serving.server",
        "facechain_serving.engines.cpu",
        "facechain_serving.engines.facechain",
    )
    assert_runs(
        blocking("boto3", "botocore") + importing(modules),
        [str(ROOT / "byoc" / "facechain"), str(ROOT / "lambda" / "shared")],
    )
    requirements = (ROOT / "byoc" / "facechain" / "requirements.txt").read_text()
    assert "boto3==" not in requirements
