"""Swap engines behind one small interface, chosen by SWAP_ENGINE (style_backend.config).

- facechain: ModelScope's face-fusion pipeline as FaceChain uses it (GPU image only);
- cpu: landmark warp + colour match + seamless blend with models from registry packages.
"""

from __future__ import annotations

from facechain_serving.engines.base import Engine, find_face
from style_backend import config
from style_backend.config import EnvVar

ENGINE_NAMES = ("facechain", "cpu")
DEFAULT_ENGINE = "facechain"  # the image's purpose; the local runtime and tests set cpu
__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "Engine",
    "create_engine",
    "engine_from_env",
    "find_face",
]


def engine_from_env() -> Engine:
    name = config.get(EnvVar.SWAP_ENGINE, DEFAULT_ENGINE).lower()
    return create_engine(name)


def create_engine(name: str) -> Engine:
    if name == "cpu":
        from facechain_serving.engines.cpu import CpuEngine

        return CpuEngine()
    if name == "facechain":
        from facechain_serving.engines.facechain import FaceChainEngine

        return FaceChainEngine()
    raise config.ConfigError(f"SWAP_ENGINE={name!r} is not one of {list(ENGINE_NAMES)}")
