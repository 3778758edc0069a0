"""Settings from environment variables: each product names its own (style_backend.config.EnvVar,
faceflow.config.AlbumEnv); reading them, and the few both products' edges share, is here.

Production code never knows whether it runs on AWS or locally: only endpoint URLs (AWS_ENDPOINT_URL,
read by boto3 itself) and these values differ.
"""

from __future__ import annotations

import os

# API functions: comma-separated origins CORS allows ("*": any), as the API preflight does.
CORS_ALLOWED_ORIGINS = "CORS_ALLOWED_ORIGINS"


class ConfigError(RuntimeError):
    """A required setting is missing: a deployment error, never a client error."""


def get(name: str, default: str | None = None) -> str:
    value = os.environ.get(str(name), default)
    if value is None or value == "":
        raise ConfigError(f"environment variable {name} is not set")
    return value


def get_int(name: str, default: int | None = None) -> int:
    return int(get(name, None if default is None else str(default)))
