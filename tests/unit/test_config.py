from __future__ import annotations

import dataclasses

import pytest

from chalicelib.config import Settings, env_name, load_settings


def test_defaults_and_overrides():
    s = load_settings({"SL_DATA_BUCKET": "b", "AWS_REGION": "eu-west-1", "SL_INVITATION_TTL_HOURS": "5"})
    assert s.data_bucket == "b" and s.region == "eu-west-1" and s.invitation_ttl_hours == 5
    assert load_settings({}).stage == "dev"


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().stage = "prod"  # type: ignore[misc]


def test_jwks_url_follows_the_endpoint():
    cloud = load_settings({"SL_USER_POOL_ID": "us-east-1_A"})
    assert cloud.jwks_url == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A/.well-known/jwks.json"
    local = load_settings({"SL_USER_POOL_ID": "us-east-1_A", "AWS_ENDPOINT_URL": "http://127.0.0.1:5555/"})
    assert local.jwks_url == "http://127.0.0.1:5555/us-east-1_A/.well-known/jwks.json"
    assert local.cognito_issuer == cloud.cognito_issuer


def test_every_setting_is_documented():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if env_name(f.name) not in readme]
    assert not missing, f"document these in README.md: {missing}"
