"""SageMaker's serving contract over an exported model (embedding or detection), on waitress.

The endpoint extracts model.tar.gz into /opt/ml/model (SM_MODEL_DIR in tests); model.json says
which task it holds.
- GET /ping: 200 once the model is loaded.
- POST /invocations, embedding model: an aligned face crop (image/jpeg, image/png), or
  application/json {"images": [base64 crop, …]} (at most MAX_BATCH) →
  {"embeddings": [[512 floats, unit length], …], "dimension": 512}.
- POST /invocations, detection model: a photo (image/jpeg, image/png) →
  {"faces": [{"box": [x1, y1, x2, y2], "score": s}, …]} in the photo's pixels.
Bad requests answer 4xx with {"error": {"code", "message"}}.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from faceflow_models.contract import ML_ROOT
from faceflow_models.detection.model import detect
from faceflow_models.errors import BadRequest
from faceflow_models.imaging import letterbox, to_chw
from faceflow_models.training import load_exported

log = logging.getLogger("faceflow_models.serving")
MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker real-time invocations carry at most 6 MB
MAX_BATCH = 64
MAX_PIXELS = 40_000_000
IMAGE_TYPES = ("image/jpeg", "image/png")
StartResponse = Callable[..., object]


def model_dir() -> Path:
    return Path(os.environ.get("SM_MODEL_DIR", ML_ROOT / "model"))


def decode(data: bytes, what: str = "the image") -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise BadRequest(f"{what} has more than {MAX_PIXELS} pixels", "IMAGE_TOO_LARGE", 413)
        return image.convert("RGB")
    except BadRequest:
        raise
    except (OSError, ValueError, Image.DecompressionBombError):
        raise BadRequest(f"{what} is not a readable JPEG or PNG", "UNREADABLE_IMAGE") from None


class Model:
    """The exported program and what model.json says about it."""

    def __init__(self, directory: Path) -> None:
        self.module, self.meta = load_exported(directory)
        self.task = self.meta["task"]
        self._lock = threading.Lock()

    def embed(self, crops: list[Image.Image]) -> np.ndarray:
        size = int(self.meta["image_size"])
        batch = np.stack([to_chw(c.resize((size, size), Image.Resampling.BILINEAR)) for c in crops])
        with self._lock, torch.no_grad():
            return self.module(torch.from_numpy(batch)).numpy()

    def detect(self, photo: Image.Image, threshold: float = 0.5) -> list[dict]:
        size = int(self.meta["input_size"])
        canvas, _ = letterbox(photo, np.zeros((0, 4), np.float32), size)
        scale = size / max(photo.size)
        with self._lock, torch.no_grad():
            boxes, scores = self.module(torch.from_numpy(to_chw(canvas)[None]))
        return [
            {"box": [round(v / scale, 1) for v in box], "score": round(score, 4)}
            for box, score in detect(boxes[0], scores[0], threshold)
        ]


class ServingApp:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.model: Model | None = None
        self.error: str | None = None
        self._loaded = threading.Event()

    def load(self) -> None:
        try:
            self.model = Model(self.directory)
            self._loaded.set()
        except Exception as err:  # /ping says so; SageMaker replaces the instance
            log.exception("model failed to load")
            self.error = f"{type(err).__name__}: {err}"

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/ping" and method in ("GET", "HEAD"):
            if self.error:
                return respond(start_response, 500, {"status": "failed", "message": self.error})
            if not self._loaded.is_set():
                return respond(start_response, 503, {"status": "loading"})
            return respond(start_response, 200, {"status": "ok", "task": self.model.task})
        if path == "/invocations" and method == "POST":
            try:
                if not self._loaded.is_set():
                    raise BadRequest("the model is still loading", "NOT_READY", 503)
                return respond(start_response, 200, self.invoke(environ))
            except BadRequest as err:
                return respond(start_response, err.status, error_body(err.code, err.message))
            except Exception as err:
                log.exception("invocation failed")
                return respond(start_response, 500, error_body("INTERNAL", type(err).__name__))
        return respond(start_response, 404, error_body("NOT_FOUND", f"{method} {path}"))

    def invoke(self, environ: dict) -> dict:
        body = read_body(environ)
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if self.model.task == "detection":
            if content_type not in IMAGE_TYPES:
                raise BadRequest(
                    f"send a photo as {' or '.join(IMAGE_TYPES)}", "UNSUPPORTED_MEDIA_TYPE", 415
                )
            return {"faces": self.model.detect(decode(body))}
        if content_type in IMAGE_TYPES:
            crops = [decode(body)]
        elif content_type == "application/json":
            crops = json_crops(body)
        else:
            raise BadRequest(
                "send a face crop as image/jpeg or image/png, "
                'or application/json {"images": [...]}',
                "UNSUPPORTED_MEDIA_TYPE",
                415,
            )
        vectors = self.model.embed(crops)
        return {"embeddings": vectors.round(6).tolist(), "dimension": int(vectors.shape[1])}


def json_crops(body: bytes) -> list[Image.Image]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("the body is not JSON") from None
    images = doc.get("images") if isinstance(doc, dict) else None
    if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
        raise BadRequest('expected {"images": [base64 string, …]} with at least one image')
    if len(images) > MAX_BATCH:
        raise BadRequest(
            f"{len(images)} images: at most {MAX_BATCH} per request", "BATCH_TOO_LARGE", 413
        )
    crops = []
    for i, text in enumerate(images):
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"images[{i}] is not base64") from None
        crops.append(decode(data, f"images[{i}]"))
    return crops


def read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None
    if length <= 0:
        raise BadRequest("the request body is empty")
    if length > MAX_BODY_BYTES:
        raise BadRequest(f"the body is over {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE", 413)
    return environ["wsgi.input"].read(length)


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def respond(start_response: StartResponse, status: int, doc: dict) -> list[bytes]:
    body = json.dumps(doc).encode()
    reason = {
        200: "OK",
        400: "Bad Request",
        404: "Not Found",
        413: "Payload Too Large",
        415: "Unsupported Media Type",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def create_server(app: ServingApp, host: str = "0.0.0.0", port: int = 8080, threads: int = 4):
    from waitress import create_server as waitress_server

    return waitress_server(app, host=host, port=port, threads=threads)


def serve_forever(port: int = 8080) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = ServingApp(model_dir())
    threading.Thread(target=app.load, name="model-load", daemon=True).start()
    create_server(app, port=port).run()
    return 0
