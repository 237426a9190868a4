"""Shared fixtures: a moto server on 127.0.0.1 for the whole session, reset before each test that uses it.

Every test runs with explicit fake AWS credentials and no shared config files, metadata probing disabled and
one attempt per call (``AWS_MAX_ATTEMPTS=1``), so no test can reach a real credential chain or the instance
metadata address (TESTING-NOTES §8).

Fixtures for other test files:

- ``moto_server`` (session): the :class:`~ismap_scan.demo.aws.server.MotoHandle`.
- ``moto_endpoint``: the server URL, after ``POST /moto-api/reset``, with ``AWS_ENDPOINT_URL`` set to it.
- ``aws_settings``: :class:`AwsSettings` for that endpoint, regions ``us-east-1`` and ``ap-northeast-1``.
- ``aws_session``: a ``boto3.Session`` for seeding (fake credentials, s3control hook registered).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ismap_scan.demo.aws.server import (
    FAKE_CREDENTIALS_ENV,
    MotoHandle,
    s3control_host_prefix_hook,
    start_moto,
)
from ismap_scan.providers.aws.settings import AwsSettings

TEST_REGIONS = ("ap-northeast-1", "us-east-1")


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Explicit fake credentials and no shared config for every test (nothing can find real ones)."""
    for name, value in FAKE_CREDENTIALS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Scans store evidence by default: keep it in a per-test folder, never the user's data directory.
    monkeypatch.setenv("ISMAP_SCAN_DATA_DIR", str(tmp_path_factory.mktemp("ismap-data")))
    monkeypatch.delenv("ISMAP_SCAN_STORE", raising=False)
    monkeypatch.delenv("ISMAP_SCAN_SIGNING_KEY", raising=False)
    missing = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoHandle]:
    """One in-process moto server (account 111122223333) for the test session."""
    with start_moto() as handle:
        yield handle


@pytest.fixture
def moto_endpoint(moto_server: MotoHandle, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto URL with all state dropped first; ``AWS_ENDPOINT_URL`` points at it for this test."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", moto_server.account_id)
    return moto_server.endpoint


@pytest.fixture
def aws_settings(moto_endpoint: str) -> AwsSettings:
    """Provider settings for the moto server: two regions, one attempt, the endpoint explicit."""
    return AwsSettings(regions=list(TEST_REGIONS), endpoint_url=moto_endpoint, max_attempts=1, max_workers=4)


@pytest.fixture
def aws_session(moto_endpoint: str) -> Any:
    """A ``boto3.Session`` for seeding moto in tests (clients reach moto through ``AWS_ENDPOINT_URL``)."""
    import boto3

    session = boto3.Session(region_name="us-east-1")
    s3control_host_prefix_hook(session)
    return session
