"""The file names a share's ZIP holds (faceflow.domain.archive): what any unzip tool extracts in
place, whatever the uploaded name, and unique ignoring case."""

from __future__ import annotations

import io
import zipfile

import pytest

from faceflow.domain.archive import MAX_NAME, safe_name, unique_names


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [
        ("IMG_0001.JPG", "IMG_0001.jpg"),
        ("../../etc/passwd", "passwd.jpg"),
        ("..\\..\\Windows\\system.ini", "system.jpg"),
        ("/abs/path/photo.jpeg", "photo.jpg"),
        ("a\x00b\r\nc.jpg", "abc.jpg"),
        ("\u202egpj.exe", "gpj.jpg"),  # a right-to-left override is a format character
        ("CON.jpg", "_CON.jpg"),
        ("lpt1", "_lpt1.jpg"),
        ('what?*<>|:".jpg', "what_______.jpg"),
        ("...", "photo.jpg"),
        ("   .hidden.png", "hidden.jpg"),
        ("", "photo.jpg"),
        ("Cafe\u0301.jpg", "Caf\u00e9.jpg"),  # NFC: one é, as every file system expects
    ],
)
def test_a_name_is_a_plain_file_name_with_the_photos_real_extension(uploaded, expected):
    assert safe_name(uploaded, "jpg") == expected


def test_long_names_keep_their_extension_within_the_limit():
    name = safe_name("x" * 300 + ".png", "png")
    assert len(name) == MAX_NAME and name.endswith(".png")


def test_collisions_are_numbered_ignoring_case_and_stay_within_the_limit():
    long = "y" * (MAX_NAME - 4) + ".jpg"
    names = unique_names(["a.jpg", "A.jpg", "a.jpg", "a (2).jpg", long, long])
    assert names[:4] == ["a.jpg", "A (2).jpg", "a (3).jpg", "a (2) (2).jpg"]
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= MAX_NAME for n in names) and names[5].endswith(" (2).jpg")


def test_every_name_extracts_inside_the_target_folder(tmp_path):
    hostile = ["../evil.jpg", "/etc/x.jpg", "a/../../b.jpg", "C:\\x.jpg", "\x1b[31m.jpg"]
    names = unique_names([safe_name(n, "jpg") for n in hostile])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    with zipfile.ZipFile(buffer) as archive:
        archive.extractall(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert all("/" not in n and "\\" not in n for n in names)
