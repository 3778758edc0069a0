"""The Lambda layers. Layers follow the packages, so a function ships only what it imports:

- SharedLayer: the styling domain (`style_backend`), facekit's and faceflow's pure modules,
  Powertools, pydantic and cryptography (wheels for python3.12 x86_64): every function.
- ImagingLayer: facekit's imaging modules (decoding, detection, alignment) with what they import
  (numpy, Pillow, dlib wheels for python3.12 x86_64) and the model files under /opt/face_models:
  only functions that decode images.

Which facekit module goes where follows its imports (bundling.face_modules).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.bundling import (
    ARCHITECTURE,
    FIVE_POINT_MODEL,
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
                "style_backend, facekit's and faceflow's pure modules, Powertools, pydantic, "
                "cryptography"
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
                    [LAMBDA_REQUIREMENTS, *face_modules()[1]], *PIP_PLATFORM_FLAGS, FIVE_POINT_MODEL
                ),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                bundling=local_bundling(bundle_imaging_layer),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="facekit's imaging modules, numpy, Pillow, dlib, 5-point landmark model",
        )
