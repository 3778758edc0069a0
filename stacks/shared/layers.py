"""The Lambda layers. Layers follow the packages, so a function ships only what it imports:

- SharedLayer: the neutral package (`common`), the styling package (`style_backend`), facekit's
  and faceflow's pure modules,
  Powertools, pydantic and cryptography (wheels for python3.12 x86_64): every function.
- ImagingLayer: facekit's imaging modules (decoding, detection, alignment) with what the face
  crop runs (numpy, Pillow, onnxruntime wheels for python3.12 x86_64; no dlib, no OpenCV: the
  crop is YuNet's) and the pinned YuNet/SFace files under /opt/face_models: only functions that
  decode images. With SharedLayer and its code the face crop holds 184 MiB unzipped, 74 % of
  Lambda's 250 MiB (`benchmarks/bench_package_sizes.py --layers`; cryptography, for FaceFlow's
  URL signer, is 15 MiB of it); OpenCV in onnxruntime's place would make it ~256 MiB, too much.

Which facekit module goes where follows its imports (bundling.face_modules).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.bundling import (
    ARCHITECTURE,
    LAMBDA_DIR,
    LAMBDA_REQUIREMENTS,
    PIP_PLATFORM_FLAGS,
    RUNTIME,
    SHARED_DIR,
    SHARED_REQUIREMENTS,
    bundle_imaging_layer,
    bundle_shared_layer,
    face_modules,
    fingerprint,
    layer_models,
    local_bundling,
    shared_layer_sources,
)


class SharedLayer(lambda_.LayerVersion):
    def __init__(self, scope: Construct, construct_id: str = "SharedLayer") -> None:
        super().__init__(
            scope,
            construct_id,
            code=lambda_.Code.from_asset(
                str(SHARED_DIR),
                asset_hash=fingerprint(
                    [*shared_layer_sources(), SHARED_REQUIREMENTS],
                    *PIP_PLATFORM_FLAGS,
                    "shared-layer-v5",
                ),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                bundling=local_bundling(bundle_shared_layer),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=(
                "common, style_backend, facekit's and faceflow's pure modules, Powertools, "
                "pydantic, cryptography"
            ),
        )


class ImagingLayer(lambda_.LayerVersion):
    def __init__(self, scope: Construct, construct_id: str = "ImagingLayer") -> None:
        super().__init__(
            scope,
            construct_id,
            code=lambda_.Code.from_asset(
                str(LAMBDA_DIR),
                asset_hash=fingerprint(
                    [LAMBDA_REQUIREMENTS, *face_modules()[1]],
                    *PIP_PLATFORM_FLAGS,
                    *(f"{name}={sha256}" for name, sha256 in layer_models().items()),
                ),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                bundling=local_bundling(bundle_imaging_layer),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="facekit's imaging modules, numpy, Pillow, onnxruntime, YuNet/SFace models",
        )
