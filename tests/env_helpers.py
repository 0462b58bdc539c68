"""A test's environment: no credential source of the machine running the tests leaks in."""

from __future__ import annotations

from pathlib import Path

import pytest

AWS_CHAIN_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "QINGSTOR_CONFIG_PATH",
)


def hermetic_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """botocore's chain sees no config file, container or web identity of the machine and
    never asks an instance metadata service; a test opts in to each source it exercises."""
    for name in AWS_CHAIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
