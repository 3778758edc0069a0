"""Which head poses the engines handle: the yaw/pitch limits a style image must keep to.

    .venv/bin/python benchmarks/bench_style_pose.py

Every face YuNet finds in the registry photos (scripts/fetch_photos.py: 39 faces, frontal to
profile) is framed as a style is (local.seed.frame_person), its pose estimated (facekit.pose),
and the CPU swap engine puts the uploader (the astronaut's crop, the styling tests' selfie) onto
it. A face passes when the engine finds it, the result is nearer the uploader than the style's
person (SFace cosine), and the result's landmarks land on the style's (mean distance ≤
MAX_LANDMARK_ERROR of the style face's eye distance). Pose is estimated as seeding does
(facekit.pose.steady_head_pose on the style image). Printed: one row per face by |yaw|, then the
limits style_backend.domain.styles keeps: how far, in 10° steps from frontal, faces still pass more
often than not (`_limit`), |yaw| among the faces within the |pitch| limit and the other way
round. Also: how YuNet's landmarks drift as a face shrinks, for the minimum eye distance.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared"), str(ROOT / "byoc/facechain")]

from facechain_serving.engines.cpu import CpuEngine  # noqa: E402
from facechain_serving.errors import NoFace  # noqa: E402
from facechain_serving.request import SwapOptions  # noqa: E402

from facekit import analysis, faces, imaging, pose, yunet  # noqa: E402
from local import photos, seed  # noqa: E402
from tests import hostile  # noqa: E402

# A result whose five landmarks sit farther than this (mean, in style eye distances) from the
# style's own did not keep the style's pose.
MAX_LANDMARK_ERROR = 0.15
MIN_WINDOW = 3


def _decode(path: Path) -> np.ndarray:
    data = path.read_bytes()
    return imaging.decode_image(data, max_pixels=50_000_000, max_bytes=1 << 26).rgb


def _embedding(rgb: np.ndarray, near: np.ndarray | None = None) -> tuple[np.ndarray, object]:
    found = analysis.find_faces(rgb)
    if near is not None:  # the face at the style face's place, not a bystander
        found.sort(key=lambda f: np.linalg.norm(f.face.landmarks[:2].mean(0) - near))
    return analysis.embed_faces(found[:1])[0], found[0].face


def faces_of_the_photos() -> list[tuple[str, np.ndarray, yunet.DetectedFace]]:
    names = ["insightface_t1.jpg", *(f"face_api/sample{i}.jpg" for i in range(1, 7))]
    names += list(photos.LABELLED)
    out = []
    for name in names:
        path = photos.PHOTO_CACHE / name
        if not path.exists():
            continue
        rgb = _decode(path)
        for i, face in enumerate(yunet.detect_faces(rgb)):
            out.append((f"{name.split('/')[-1]}#{i}", rgb, face))
    return out


def pose_limits() -> None:
    engine = CpuEngine()
    engine.load()
    source = faces.crop_from_upload(hostile.jpeg(hostile.astronaut()), max_bytes=10 << 20)
    uploader, _ = _embedding(source)
    rows = []
    for label, rgb, face in faces_of_the_photos():
        style, framed = seed.frame_person(rgb, face)
        person, _ = _embedding(rgb, near=face.landmarks[:2].mean(0))
        # As seeding measures it: on the style image, the steady estimate (a face blurred past
        # detection by the framing's enlargement keeps the photo's landmarks).
        again = yunet.detect_faces(style)
        if again:
            mid = framed.landmarks[:2].mean(0)
            main = min(again, key=lambda f: np.linalg.norm(f.landmarks[:2].mean(0) - mid))
            estimate = pose.steady_head_pose(style, main)
        else:
            estimate = pose.head_pose(framed.landmarks)
        try:
            result = engine.swap(source, style, SwapOptions())
        except NoFace:
            rows.append((label, estimate, "engine: no face", None, None, None))
            continue
        centre = framed.landmarks[:2].mean(0)
        found, got = _embedding(result, near=centre)
        error = np.linalg.norm(got.landmarks - framed.landmarks, axis=1).mean()
        error /= framed.eye_distance
        to_uploader, to_person = float(found @ uploader), float(found @ person)
        verdict = "ok"
        if to_uploader <= to_person:
            verdict = "nearer the style's person"
        elif error > MAX_LANDMARK_ERROR:
            verdict = "landmarks off"
        rows.append((label, estimate, verdict, to_uploader, to_person, error))
    rows.sort(key=lambda r: abs(r[1].yaw))
    print(f"{'face':<18} {'yaw':>6} {'pitch':>6} {'roll':>6}  cos→uploader cos→person  lm err")
    for label, p, verdict, up, person, error in rows:
        figures = f"{up:12.2f} {person:10.2f} {error:7.2f}" if up is not None else " " * 31
        print(f"{label:<18} {p.yaw:6.1f} {p.pitch:6.1f} {p.roll:6.1f}  {figures}  {verdict}")
    # Each limit is found on the faces within the other one (pitch and yaw failures mix), from
    # all faces, until neither moves.
    yaw_limit, pitch_limit = _limit(rows, "yaw", quiet=True), float("inf")
    for _ in range(5):
        pitch = _limit([r for r in rows if abs(r[1].yaw) <= yaw_limit], "pitch", quiet=True)
        yaw = _limit([r for r in rows if abs(r[1].pitch) <= pitch], "yaw", quiet=True)
        if (yaw, pitch) == (yaw_limit, pitch_limit):
            break
        yaw_limit, pitch_limit = yaw, pitch
    _limit([r for r in rows if abs(r[1].pitch) <= pitch_limit], "yaw")
    _limit([r for r in rows if abs(r[1].yaw) <= yaw_limit], "pitch")


def _limit(rows: list, axis: str, quiet: bool = False) -> float:
    """The end of the last of the consecutive 10°-wide windows of |angle| from 0° in which faces
    pass more often than not; a window of fewer than MIN_WINDOW faces is too little evidence
    and ends the search too."""
    angles = [(abs(getattr(r[1], axis)), r[2] == "ok") for r in rows]
    limit, report = 0.0, []
    for lo in range(0, 90, 10):
        inside = [ok for a, ok in angles if lo <= a < lo + 10]
        report.append(f"  {lo:3d}–{lo + 10:<3d}° {sum(inside):3d}/{len(inside)}")
        if len(inside) < MIN_WINDOW or sum(inside) * 2 <= len(inside):
            break
        limit = lo + 10.0
    if not quiet:
        within = [ok for a, ok in angles if a <= limit]
        beyond = [ok for a, ok in angles if a > limit]
        print(f"|{axis}|, {len(angles)} faces: passing by 10°-window", *report, sep="\n")
        print(
            f"|{axis}| limit {limit:g}°: {sum(within)}/{len(within)} pass within, "
            f"{sum(beyond)}/{len(beyond)} beyond"
        )
    return limit


def landmark_drift() -> None:
    """Mean landmark error (÷ eye distance) of a portrait shrunk until its eyes are N px apart."""
    from PIL import Image

    print("eye distance (px) → YuNet landmark error, median over the portraits (÷ eye distance)")
    portraits = [_decode(path) for _, path in photos.labelled_photos()]
    for target in (16, 24, 32, 40, 48, 64, 96):
        errors = []
        for rgb in portraits:
            (full,) = yunet.detect_faces(rgb, max_side=max(rgb.shape))[:1]
            factor = target / full.eye_distance
            size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
            small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
            found = yunet.detect_faces(small)
            if not found:
                errors.append(float("inf"))
                continue
            moved = full.landmarks * factor
            errors.append(np.linalg.norm(found[0].landmarks - moved, axis=1).mean() / target)
        print(f"  {target:3d} px: {statistics.median(errors):.3f}")


if __name__ == "__main__":
    pose_limits()
    landmark_drift()
