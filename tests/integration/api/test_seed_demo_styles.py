"""The demo style set the local runtime seeds: real faces (a swap needs one), clean JPEGs."""

import io

import boto3
import numpy as np
import pytest
from PIL import Image

from scripts.seed_styles import DEMO_STYLES, main, write_demo_styles
from style_backend.faces import find_main_face
from tests.integration.api.conftest import BUCKET


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    return write_demo_styles(tmp_path_factory.mktemp("demo"))


def test_demo_command_seeds_every_demo_style(api, demo_folder, capsys):
    assert main(["--demo", str(demo_folder)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(DEMO_STYLES)
    listed = api.call("GET", "/apis/styles", "someone").json["items"]
    assert sorted(item["resourceId"] for item in listed) == sorted(DEMO_STYLES)


def test_every_seeded_demo_style_holds_a_face_the_swap_can_use(aws, demo_folder):
    main([str(demo_folder)])
    s3 = boto3.client("s3")
    for resource_id in DEMO_STYLES:
        body = s3.get_object(Bucket=BUCKET, Key=f"base/{resource_id}.jpg")["Body"]
        with Image.open(io.BytesIO(body.read())) as image:
            assert image.format == "JPEG"
            rgb = np.asarray(image.convert("RGB"))
        face = find_main_face(rgb)  # raises NO_FACE / FACE_TOO_SMALL otherwise
        assert face.width >= 80, resource_id


def test_a_folder_or_demo_is_required(capsys):
    with pytest.raises(SystemExit):
        main([])
