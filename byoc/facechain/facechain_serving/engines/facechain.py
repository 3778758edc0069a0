"""FaceChain's face swap: ModelScope's face-fusion pipeline (`damo/cv_unet_face_fusion_torch`).

Called exactly as FaceChain calls it: `pipeline('face_fusion_torch', model=MODEL_ID,
model_revision=MODEL_REVISION)` on `dict(template=target, user=source)`, the result under
`OutputKeys.OUTPUT_IMG` as a BGR array. GPU image only: modelscope and torch are imported inside
`load()`/`download()`, and the weights are fetched by `download()` at image BUILD time into
MODELSCOPE_CACHE; at run time the pipeline is built from that local snapshot only, so a missing
weight fails the load (/ping 500) instead of reaching the network when an instance starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from facechain_serving.engines.base import find_face
from facechain_serving.errors import SwapFailed
from facechain_serving.request import SwapOptions
from facekit import yunet

TASK = "face_fusion_torch"
MODEL_ID = "damo/cv_unet_face_fusion_torch"
MODEL_REVISION = "v1.0.3"  # FaceChain's pin; a new revision is a new image (new tag)
OUTPUT_IMG = "output_img"  # modelscope.outputs.OutputKeys.OUTPUT_IMG, without importing it here

FusionPipeline = Callable[[dict[str, Any]], Any]


def modelscope_pipeline() -> FusionPipeline:
    """The third-party pipeline (the module boundary tests replace), from the baked weights only:
    `local_files_only` makes a missing snapshot an error at load, never a download."""
    from modelscope.hub.snapshot_download import snapshot_download
    from modelscope.pipelines import pipeline

    local_dir = snapshot_download(MODEL_ID, revision=MODEL_REVISION, local_files_only=True)
    return pipeline(TASK, model=local_dir)


def download_weights() -> str:
    """Fetch the pinned weights into MODELSCOPE_CACHE (the Dockerfile runs this at build time)."""
    from modelscope.hub.snapshot_download import snapshot_download

    return snapshot_download(MODEL_ID, revision=MODEL_REVISION)


class FaceChainEngine:
    name = "facechain"

    def __init__(self, build_pipeline: Callable[[], FusionPipeline] | None = None) -> None:
        self._build_pipeline = build_pipeline or modelscope_pipeline
        self._pipeline: FusionPipeline | None = None

    def load(self) -> None:
        yunet.warm_up()  # the NO_FACE check before the GPU
        self._pipeline = self._build_pipeline()

    def download(self) -> None:
        print(download_weights())

    def swap(
        self, source_rgb: np.ndarray, target_rgb: np.ndarray, options: SwapOptions
    ) -> np.ndarray:
        if self._pipeline is None:
            raise SwapFailed("the face-fusion pipeline is not loaded")
        # The fusion model answers a faceless input with an opaque error or an unchanged
        # template: check both faces first so the client gets NO_FACE (400), not a 500.
        find_face(source_rgb, "source")
        find_face(target_rgb, "target")
        # PIL images are RGB to modelscope's loader (a bare ndarray would be read as BGR).
        output = self._pipeline(
            dict(template=Image.fromarray(target_rgb), user=Image.fromarray(source_rgb))
        )
        bgr = output.get(OUTPUT_IMG) if isinstance(output, dict) else None
        if bgr is None:
            raise SwapFailed("the face-fusion pipeline returned no image")
        bgr = np.asarray(bgr)
        if bgr.ndim != 3 or bgr.shape[2] != 3:
            raise SwapFailed(f"the face-fusion pipeline returned an image of shape {bgr.shape}")
        rgb = np.ascontiguousarray(bgr[..., ::-1]).astype(np.uint8, copy=False)
        height, width = target_rgb.shape[:2]
        if rgb.shape[:2] != (height, width):
            rgb = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BICUBIC))
        return rgb
