"""app.py and deploy-time settings: context parsing and validation."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.settings import Settings


def _settings(**context) -> Settings:
    return Settings.from_context(cdk.App(context=context))


def test_cli_strings_are_parsed_to_the_field_types():
    settings = _settings(
        cognito_user_password_auth="true", endpoint_max_instances="4", process_ttl_days="7"
    )
    assert settings.cognito_user_password_auth is True
    assert settings.endpoint_max_instances == 4
    assert settings.process_ttl_days == 7
    assert _settings(cognito_user_password_auth="false").cognito_user_password_auth is False
    assert _settings(cognito_user_password_auth=False).cognito_user_password_auth is False


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("removal_policy", "keep", "removal_policy"),
        ("swap_engine", "gpu", "swap_engine"),
        ("endpoint_instance_type", "g5.xlarge", "endpoint_instance_type"),
        ("endpoint_max_instances", 0, "endpoint_max_instances"),
        ("log_retention_days", 31, "log_retention_days"),
        ("cors_allowed_origins", " , ", "cors_allowed_origins"),
        ("max_upload_bytes", 0, "max_upload_bytes"),
        # Above what docs/openapi.json declares an upload's size may be.
        ("album_max_photo_bytes", 50 * 1024 * 1024 + 1, "album_max_photo_bytes"),
        ("album_max_photo_bytes", 0, "album_max_photo_bytes"),
    ],
)
def test_bad_settings_stop_the_synth_with_the_key_named(key, value, message):
    with pytest.raises(ValueError, match=message):
        _settings(**{key: value})


def test_origins_and_callback_urls_are_comma_separated():
    settings = _settings(
        cors_allowed_origins="https://a.example, https://b.example",
        cognito_callback_urls="https://a.example/cb",
    )
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.callback_urls == ["https://a.example/cb"]


def test_build_app_applies_project_context_unless_the_caller_set_it():
    from app import apply_project_context

    app = cdk.App(context={"terms_version": "2030-01-01"})
    apply_project_context(app)
    assert app.node.try_get_context("terms_version") == "2030-01-01"
    assert app.node.try_get_context("endpoint_instance_type") == "ml.g5.xlarge"
    assert app.node.try_get_context("@aws-cdk/core:defaultCrossStackReferences") == "strong"
