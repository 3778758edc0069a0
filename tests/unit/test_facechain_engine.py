"""The FaceChain engine's request/response handling, with ModelScope's pipeline (the third-party
callable at the module boundary) replaced: the GPU model cannot run here."""

from __future__ import annotations

import numpy as np
import pytest
from facechain_serving.engines import create_engine
from facechain_serving.engines.facechain import OUTPUT_IMG, FaceChainEngine
from facechain_serving.errors import NoFace, SwapFailed
from facechain_serving.request import SwapOptions
from PIL import Image

from local.photos import astronaut


class RecordingPipeline:
    """Answers like modelscope's face_fusion_torch: {OUTPUT_IMG: BGR ndarray}."""

    def __init__(self, answer=None, scale: float = 1.0) -> None:
        self.calls: list[dict] = []
        self.answer = answer
        self.scale = scale

    def __call__(self, inputs: dict):
        self.calls.append(inputs)
        if self.answer is not None:
            return self.answer
        template = np.asarray(inputs["template"])
        if self.scale != 1.0:
            size = (int(template.shape[1] * self.scale), int(template.shape[0] * self.scale))
            template = np.asarray(inputs["template"].resize(size))
        return {OUTPUT_IMG: template[..., ::-1].copy()}  # RGB → BGR, as cv2-based models return


def engine_with(pipeline) -> FaceChainEngine:
    engine = FaceChainEngine(build_pipeline=lambda: pipeline)
    engine.load()
    return engine


def coloured(rgb: np.ndarray) -> np.ndarray:
    """The astronaut with a red cast: any channel swap shows."""
    out = rgb.astype(np.int16)
    out[..., 0] = np.minimum(out[..., 0] + 60, 255)
    return out.astype(np.uint8)


def test_template_is_the_target_and_user_the_source_as_rgb_images():
    pipeline = RecordingPipeline()
    source, target = astronaut(), coloured(astronaut())
    engine_with(pipeline).swap(source, target, SwapOptions())
    (inputs,) = pipeline.calls
    assert isinstance(inputs["template"], Image.Image) and inputs["template"].mode == "RGB"
    assert np.array_equal(np.asarray(inputs["template"]), target)
    assert np.array_equal(np.asarray(inputs["user"]), source)


def test_bgr_output_comes_back_as_rgb():
    target = coloured(astronaut())
    result = engine_with(RecordingPipeline()).swap(astronaut(), target, SwapOptions())
    assert result.dtype == np.uint8 and np.array_equal(result, target)


def test_output_is_resized_to_the_target():
    target = coloured(astronaut())
    result = engine_with(RecordingPipeline(scale=0.5)).swap(astronaut(), target, SwapOptions())
    assert result.shape == target.shape
    assert np.abs(result.astype(int) - target.astype(int)).mean() < 12  # same picture, resized


@pytest.mark.parametrize("answer", [{OUTPUT_IMG: None}, {}, {OUTPUT_IMG: np.zeros((4, 4))}])
def test_a_pipeline_without_an_image_is_a_clear_failure(answer):
    with pytest.raises(SwapFailed, match="face-fusion pipeline returned") as raised:
        engine_with(RecordingPipeline(answer=answer)).swap(astronaut(), astronaut(), SwapOptions())
    assert raised.value.status == 500


def test_no_face_is_refused_before_the_pipeline():
    pipeline = RecordingPipeline()
    with pytest.raises(NoFace, match="target"):
        engine_with(pipeline).swap(astronaut(), np.full((64, 64, 3), 90, np.uint8), SwapOptions())
    assert pipeline.calls == []


def test_swap_before_load_fails_clearly():
    with pytest.raises(SwapFailed, match="not loaded"):
        FaceChainEngine(build_pipeline=RecordingPipeline).swap(
            astronaut(), astronaut(), SwapOptions()
        )


def test_engine_is_chosen_by_name():
    assert create_engine("facechain").name == "facechain"
