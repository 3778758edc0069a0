"""Asset bundling, in one place: layer contents, function code and the container build source.

Everything bundles LOCALLY (a Python `ILocalBundling` called through jsii): `cdk synth` needs no
Docker. The imaging layer is pip-installed for the Lambda runtime's interpreter and platform, not
this machine's. Asset hashes are computed here from the inputs (CUSTOM), so a hash changes exactly
when what goes into the asset changes, and unit tests can skip bundling yet see stable hashes.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = REPO_ROOT / "lambda"
SHARED_DIR = LAMBDA_DIR / "shared"
COMMON_PACKAGE = SHARED_DIR / "common"  # what both products need of AWS: pure Python
DOMAIN_PACKAGE = SHARED_DIR / "style_backend"  # the styling package (domain, storage, edge)
FACE_PACKAGE = SHARED_DIR / "facekit"  # the face package: split between the two layers
# FaceFlow (domain/, storage/, edge/): its modules that import no imaging package (album storage,
# uploads, the starter, the exporter, signing) ship in the shared layer (the user erasure erases
# albums; the exporter and the signing key are zip functions); its imaging modules do not.
FACEFLOW_PACKAGE = SHARED_DIR / "faceflow"
# What the FaceChain container COPYs: these packages whole.
SHARED_PACKAGES = (COMMON_PACKAGE, DOMAIN_PACKAGE, FACE_PACKAGE)
# Third-party packages only the imaging layer ships (lambda/requirements.txt: native wheels).
IMAGING_IMPORTS = frozenset({"numpy", "PIL", "pillow_heif", "dlib", "cv2", "onnxruntime", "onnx"})
# What a shared-layer module may import: the standard library, the runtime's boto3 and the
# shared layer's own packages (anything else makes a module imaging: see face_modules).
_PURE_IMPORTS = frozenset(sys.stdlib_module_names) | {
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "pydantic",
    "cryptography",
    "common",
    "style_backend",
    "facekit",
    "faceflow",
}
LAMBDA_REQUIREMENTS = LAMBDA_DIR / "requirements.txt"
# Powertools + pydantic for every function (SharedLayer); pinned, bundled with --no-deps.
SHARED_REQUIREMENTS = SHARED_DIR / "requirements.txt"
CONTAINER_DIR = REPO_ROOT / "byoc" / "facechain"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
# Mount point of the imaging layer's model files inside the Lambda sandbox.
FACE_MODELS_DIR = "/opt/face_models"
# Model files the serving image's engines load (YuNet; Face Mesh's network and topology), taken
# from .cache/models where set-up put them checksum-pinned (scripts/fetch_photos.py); the imaging
# layer's come from there too (layer_models).
CONTAINER_MODELS = (
    "face_detection_yunet_2023mar_int8bq.onnx",
    "face_landmark.tflite",
    "face_mesh_connections.py",
)
DEV_MODELS_DIR = REPO_ROOT / ".cache" / "models"
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


def local_bundling(bundle: Callable[[Path], None]) -> cdk.BundlingOptions:
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


def layer_models() -> dict[str, str]:
    """The model files the imaging layer ships, with their pinned sha256: YuNet, which the crop
    runs, and SFace, the shared face module's identity model (facekit.model_files)."""
    from facekit import model_files

    return {name: digest for name, (_, digest) in model_files.FILES.items()}


def checked_model(name: str, sha256: str, cache: Path = DEV_MODELS_DIR) -> Path:
    """A set-up model file whose bytes are the pinned ones, or BundlingError saying why not."""
    path = cache / name
    if not path.is_file():
        raise BundlingError(f"{path} is missing: run scripts/fetch_photos.py (make's set-up)")
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        raise BundlingError(f"{path}: checksum mismatch (expected {sha256}); fetch it again")
    return path


def _imported_names(path: Path) -> set[str]:
    """Every module name `path` imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_name(path: Path) -> str:
    """The dotted name a file is imported by (a package's __init__.py: the package's)."""
    parts = path.relative_to(SHARED_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def face_modules(package: Path = FACE_PACKAGE) -> tuple[list[Path], list[Path]]:
    """A package's modules (facekit's, or faceflow's: every subpackage walked) as (pure, imaging).
    A module is imaging when it imports one of
    IMAGING_IMPORTS or an imaging facekit module; it then ships in the imaging layer, every other
    one in the shared layer, so a function without the imaging layer cannot import it by mistake
    (it fails in tests, not on the first upload)."""
    files = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    names = {p: _module_name(p) for p in files}
    imports = {p: _imported_names(p) for p in files}
    imaging = {p for p in files if {n.split(".")[0] for n in imports[p]} - _PURE_IMPORTS}
    while True:  # a module importing an imaging module is imaging too
        more = {p for p in files if imports[p] & {names[i] for i in imaging}} - imaging
        if not more:
            break
        imaging |= more
    return [p for p in files if p not in imaging], [p for p in files if p in imaging]


def shared_layer_sources() -> list[Path]:
    """What every function imports: the neutral package, the styling package and facekit's and
    faceflow's pure modules."""
    return [
        COMMON_PACKAGE,
        DOMAIN_PACKAGE,
        *face_modules()[0],
        *face_modules(FACEFLOW_PACKAGE)[0],
    ]


def _copy_files(files: Iterable[Path], python_dir: Path) -> None:
    for source in files:
        target = python_dir / source.relative_to(SHARED_DIR)
        if source.is_dir():
            _copy_tree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# ---------------------------------------------------------------- bundle functions (output dir)


def _pip_install(requirements: Path, target: Path, *flags: str) -> None:
    """Wheels for the Lambda runtime's interpreter and platform into `target`."""
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
        *flags,
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundlingError(f"pip install -r {requirements.name} failed:\n{result.stderr[-4000:]}")
    # Console scripts (f2py, …) are useless in a layer.
    shutil.rmtree(target / "bin", ignore_errors=True)


def bundle_shared_layer(output_dir: Path) -> None:
    _pip_install(SHARED_REQUIREMENTS, output_dir / "python", "--no-deps")
    _copy_files(shared_layer_sources(), output_dir / "python")


def bundle_imaging_modules(output_dir: Path) -> None:
    """facekit's imaging modules, beside the shared layer's part of the package: Lambda extracts
    a function's layers into the same /opt, so /opt/python/facekit/ holds both parts."""
    _copy_files(face_modules()[1], output_dir / "python")


def bundle_face_models(output_dir: Path, cache: Path = DEV_MODELS_DIR) -> Path:
    """The pinned model files into output_dir/face_models (FACE_MODELS_DIR on Lambda)."""
    models = output_dir / "face_models"
    models.mkdir(parents=True, exist_ok=True)
    for name, sha256 in layer_models().items():
        shutil.copyfile(checked_model(name, sha256, cache), models / name)
    return models


def bundle_imaging_layer(output_dir: Path) -> None:
    # --no-deps: every package is pinned in the file; onnxruntime's declared extras (sympy,
    # protobuf, flatbuffers, coloredlogs: ~40 MB) serve its tools, not an InferenceSession.
    _pip_install(LAMBDA_REQUIREMENTS, output_dir / "python", "--no-deps")
    bundle_face_models(output_dir)
    bundle_imaging_modules(output_dir)


def bundle_container_source(output_dir: Path) -> None:
    _copy_tree(CONTAINER_DIR, output_dir)
    for package in SHARED_PACKAGES:
        _copy_tree(package, output_dir / package.name)
    models = output_dir / "face_models"  # the Dockerfile COPYs it to FACE_MODELS_DIR
    models.mkdir(parents=True, exist_ok=True)
    for name in CONTAINER_MODELS:
        path = DEV_MODELS_DIR / name
        if not path.is_file():
            raise BundlingError(f"{path} is missing: run scripts/fetch_photos.py (make venv)")
        shutil.copy2(path, models / name)


# ---------------------------------------------------------------- assets


def function_code(group: str) -> lambda_.Code:
    """A function group's folder (lambda/apis, lambda/image_processing, …) as its code asset."""
    folder = LAMBDA_DIR / group
    if not folder.is_dir():
        raise BundlingError(f"Lambda source folder {folder} does not exist")
    return lambda_.Code.from_asset(str(folder), exclude=list(_IGNORED))


def function_image(dockerfile: str, handler: str) -> lambda_.DockerImageCode:
    """A container image function's code: lambda/ as the build context of `dockerfile` (a path
    under lambda/), `handler` as its CMD. Synth only stages the folder; `cdk deploy` builds it."""
    if not (LAMBDA_DIR / dockerfile).is_file():
        raise BundlingError(f"{LAMBDA_DIR / dockerfile} does not exist")
    return lambda_.DockerImageCode.from_image_asset(
        str(LAMBDA_DIR),
        file=dockerfile,
        cmd=[handler],
        exclude=list(_IGNORED),
        platform=ecr_assets.Platform.LINUX_AMD64,
    )


def container_source(scope: Construct, construct_id: str) -> s3_assets.Asset:
    """byoc/facechain plus common/, style_backend/, facekit/ and the engines' model files (the
    Dockerfile COPYs them): the CodeBuild source."""
    return s3_assets.Asset(
        scope,
        construct_id,
        path=str(CONTAINER_DIR),
        asset_hash=fingerprint(
            [CONTAINER_DIR, *SHARED_PACKAGES], "container-source-v4", *CONTAINER_MODELS
        ),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=local_bundling(bundle_container_source),
    )
