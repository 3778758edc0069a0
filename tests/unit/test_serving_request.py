"""request.py in-process: the S3 fetch against moto (a subprocess cannot see mock_aws)."""

from __future__ import annotations

import boto3
import pytest
from facechain_serving import request
from facechain_serving.errors import BadRequest
from facechain_serving.request import ImageRef, decode_rgb, fetch_bytes, parse_request
from moto import mock_aws

from facekit import imaging
from local.photos import astronaut

BUCKET = "style-images"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        yield client


def test_s3_uri_is_fetched_and_decoded(s3):
    jpeg = imaging.encode_jpeg(astronaut())
    s3.put_object(Bucket=BUCKET, Key="base/style 1.jpg", Body=jpeg)
    parsed = parse_request(
        f'{{"source": {{"s3Uri": "s3://{BUCKET}/base/style 1.jpg"}}, "target": {{"b64": "aGk="}},'
        ' "processId": "p1"}'.encode()
    )
    assert parsed.process_id == "p1" and parsed.target.inline == b"hi"
    data = fetch_bytes(parsed.source)
    assert data == jpeg
    assert decode_rgb(data, "source").shape == astronaut().shape


def test_missing_object_is_not_found(s3):
    with pytest.raises(BadRequest) as raised:
        fetch_bytes(ImageRef("target", s3_uri=f"s3://{BUCKET}/base/none.jpg"))
    assert (raised.value.status, raised.value.code) == (400, "NOT_FOUND")
    assert "target" in raised.value.message


def test_missing_bucket_is_not_found(s3):
    with pytest.raises(BadRequest, match="not found"):
        fetch_bytes(ImageRef("source", s3_uri="s3://no-such-bucket/k.png"))


def test_object_over_the_limit_is_refused_unread(s3, monkeypatch):
    monkeypatch.setattr(request, "MAX_OBJECT_BYTES", 1000)
    s3.put_object(Bucket=BUCKET, Key="big.jpg", Body=b"\xff" * 1001)
    with pytest.raises(BadRequest) as raised:
        fetch_bytes(ImageRef("source", s3_uri=f"s3://{BUCKET}/big.jpg"))
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
    body = f'{{"source": {{"b64": "aGk="}}, "target": {{"b64": "aGk="}}, "options": {options}}}'
    with pytest.raises(BadRequest, match=message):
        parse_request(body.encode())


def test_decode_refuses_a_pixel_bomb_before_decoding():
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("L", (5000, 5000)).save(out, format="PNG")  # 25 MP, a few KiB on disk
    with pytest.raises(BadRequest) as raised:
        decode_rgb(out.getvalue(), "target")
    assert raised.value.code == "IMAGE_TOO_LARGE"
