import io
import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from PIL import Image

from style_backend.domain.styles import SeedError, StyleSource, load_manifest
from style_backend.edge.seeding import main, seed_styles
from tests.integration.api.conftest import BUCKET, STYLES, new_user, style_png


def test_styles_lists_active_base_resources_with_image_urls(api, styles):
    reply = api.call("GET", "/apis/styles", new_user())
    assert reply.status == 200
    items = reply.json["items"]
    active = sorted(rid for rid, *_, is_active in STYLES if is_active)
    assert [i["resourceId"] for i in items] == active
    street = next(i for i in items if i["resourceId"] == "street-f-light")
    assert (street["theme"], street["gender"], street["skinTone"]) == ("street", "female", "light")
    url = urlsplit(street["imageUrl"])
    assert url.path.endswith("/base/street-f-light.jpg")
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["900"]
    assert "X-Amz-Signature" in query


def test_a_style_row_without_image_key_uses_the_layout_key(api):
    """One hand-written BaseResource item must not break the list for everyone."""
    boto3.resource("dynamodb").Table("BaseResource").put_item(
        Item={"resourceId": "bare", "theme": "t", "gender": "g", "skinTone": "s", "active": True}
    )
    reply = api.call("GET", "/apis/styles", new_user())
    assert reply.status == 200
    (item,) = reply.json["items"]
    assert urlsplit(item["imageUrl"]).path.endswith("/base/bare.jpg")


def test_no_styles_is_an_empty_list(api):
    assert api.call("GET", "/apis/styles", new_user()).json == {"items": []}


def test_seeding_stores_clean_jpegs_and_items(aws, styles):
    s3 = boto3.client("s3")
    obj = s3.get_object(Bucket=BUCKET, Key="base/retro-m-dark.jpg")
    assert obj["ContentType"] == "image/jpeg"
    with Image.open(io.BytesIO(obj["Body"].read())) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (512, 640))
    item = (
        boto3.resource("dynamodb")
        .Table("BaseResource")
        .get_item(Key={"resourceId": "retro-m-dark"})["Item"]
    )
    assert item == {
        "resourceId": "retro-m-dark",
        "theme": "retro",
        "gender": "male",
        "skinTone": "dark",
        "imageKey": "base/retro-m-dark.jpg",
        "active": True,
        "styleKey": "retro#male#dark",
    }


def test_seeding_command_reads_a_folder_manifest(aws, tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(style_png())
    manifest = {
        "styles": [
            {"resourceId": "a1", "file": "a.png", "theme": "t", "gender": "g", "skinTone": "s"}
        ]
    }
    (tmp_path / "styles.json").write_text(json.dumps(manifest))
    assert main([str(tmp_path)]) == 0
    assert "a1\tbase/a1.jpg\tt#g#s" in capsys.readouterr().out
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["base/a1.jpg"]


def test_seeding_refuses_a_broken_image_and_writes_nothing(aws, tmp_path, capsys):
    (tmp_path / "good.png").write_bytes(style_png())
    (tmp_path / "broken.jpg").write_bytes(style_png()[:40])  # truncated
    manifest = {
        "styles": [
            {"resourceId": r, "file": f, "theme": "t", "gender": "g", "skinTone": "s"}
            for r, f in (("good", "good.png"), ("broken", "broken.jpg"))
        ]
    }
    (tmp_path / "styles.json").write_text(json.dumps(manifest))
    assert main([str(tmp_path)]) == 1
    assert "broken.jpg: not a readable image" in capsys.readouterr().err
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "is missing"),
        ("[]", "not a manifest"),
        ('{"styles": [{"file": "x.png"}]}', "lacks 'resourceId'"),
        (
            '{"styles": [{"resourceId": "../x", "file": "x", "theme": "t", "gender": "g",'
            ' "skinTone": "s"}]}',
            "bad resourceId",
        ),
    ],
)
def test_bad_manifests_are_refused(tmp_path, manifest, message):
    if manifest is not None:
        (tmp_path / "styles.json").write_text(manifest)
    with pytest.raises(SeedError, match=message):
        load_manifest(tmp_path)


def test_a_missing_image_file_is_refused(aws, tmp_path):
    with pytest.raises(SeedError, match="No such file"):
        seed_styles([StyleSource("x", tmp_path / "x.png", "t", "g", "s")])
