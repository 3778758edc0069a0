"""Image loading and the augmentations both trainings use (numpy + Pillow, seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from faceflow_models.errors import DataError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def load_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError as err:
        raise DataError(f"{path}: not a readable image ({err})") from None


def to_chw(image: Image.Image) -> np.ndarray:
    """RGB 0–255 float32, channels first: what both networks take."""
    return np.asarray(image, dtype=np.float32).transpose(2, 0, 1).copy()


def photometric(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness/contrast/saturation jitter, sometimes greyscale or a slight blur."""
    pixels = np.asarray(image, dtype=np.float32)
    gain, bias = rng.uniform(0.7, 1.3), rng.uniform(-25, 25)
    mean = pixels.mean(axis=(0, 1), keepdims=True)
    pixels = (pixels - mean) * rng.uniform(0.7, 1.3) + mean
    grey = pixels.mean(axis=2, keepdims=True)
    pixels = grey + (pixels - grey) * rng.uniform(0.6, 1.4)
    pixels = pixels * gain + bias
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.1:
        out = out.convert("L").convert("RGB")
    if rng.random() < 0.2:
        out = out.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.2))))
    return out


def letterbox(
    image: Image.Image, boxes: np.ndarray, size: int, rng: np.random.Generator | None = None
) -> tuple[Image.Image, np.ndarray]:
    """Scales the image so its longest side is `size` (randomly 0.6–1.0 of it when `rng` is
    given, placed at a random offset, maybe mirrored) on a size×size grey canvas; boxes follow."""
    scale = size / max(image.size)
    if rng is not None:
        scale *= rng.uniform(0.6, 1.0)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((w, h), Image.Resampling.BILINEAR)
    boxes = boxes * scale
    if rng is not None and rng.random() < 0.5:
        resized = resized.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        boxes = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
    dx = int(rng.integers(0, size - w + 1)) if rng is not None else 0
    dy = int(rng.integers(0, size - h + 1)) if rng is not None else 0
    canvas = Image.new("RGB", (size, size), (114, 114, 114))
    canvas.paste(resized, (dx, dy))
    return canvas, (boxes + np.array([dx, dy, dx, dy], dtype=np.float32)).astype(np.float32)


def jitter_crop(image: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """An aligned face, slightly shifted, scaled, rotated and maybe mirrored, back at size²."""
    angle = float(rng.uniform(-8, 8))
    scale = float(rng.uniform(0.9, 1.1))
    shift = rng.uniform(-0.05, 0.05, size=2) * size
    out = image.resize((size, size), Image.Resampling.BILINEAR).rotate(
        angle, resample=Image.Resampling.BILINEAR, translate=tuple(shift), fillcolor=(114,) * 3
    )
    if scale != 1.0:
        side = size / scale
        left = (size - side) / 2
        out = out.transform(
            (size, size),
            Image.Transform.EXTENT,
            (left, left, left + side, left + side),
            resample=Image.Resampling.BILINEAR,
            fillcolor=(114, 114, 114),
        )
    if rng.random() < 0.5:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return photometric(out, rng)
