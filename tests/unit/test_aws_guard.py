"""The read-only guard refuses writes and data-plane reads before anything is sent.

Proof of "nothing was sent": the clients point at a local TCP listener that counts connections. A permitted
read through the same client does connect (so the counter works); a refused call leaves the count at zero.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ismap_scan.providers.aws.guard import ReadOnlyViolation, check_operation, install_guard
from ismap_scan.providers.aws.session import SessionFactory
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.aws.types import allowed_operations


class ConnectionCounter:
    """A loopback listener that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def counter() -> Iterator[ConnectionCounter]:
    c = ConnectionCounter()
    yield c
    c.close()


def _guarded_client(service: str, endpoint: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    install_guard(session)
    cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1)  # type: ignore[typeddict-unknown-key]
    return session.client(service, endpoint_url=endpoint, config=cfg)


def test_permitted_read_reaches_the_wire(counter: ConnectionCounter) -> None:
    s3 = _guarded_client("s3", counter.endpoint)
    with pytest.raises(Exception) as info:  # the listener hangs up: any transport error
        s3.list_buckets()
    assert not isinstance(info.value, ReadOnlyViolation)
    assert counter.count >= 1


@pytest.mark.parametrize(
    "service,method,kwargs",
    [
        ("s3", "create_bucket", {"Bucket": "example-bucket"}),
        ("s3", "get_object", {"Bucket": "example-bucket", "Key": "k"}),
        (
            "ec2",
            "authorize_security_group_ingress",
            {
                "GroupId": "sg-0123456789abcdef0",
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "CidrIp": "0.0.0.0/0",
            },
        ),
        ("secretsmanager", "get_secret_value", {"SecretId": "db"}),
        ("kms", "decrypt", {"CiphertextBlob": b"x"}),
        ("lambda", "get_function", {"FunctionName": "f"}),
        ("ec2", "get_password_data", {"InstanceId": "i-0123456789abcdef0"}),
        ("iam", "delete_user", {"UserName": "alice"}),
    ],
)
def test_refused_before_sending(
    counter: ConnectionCounter, service: str, method: str, kwargs: dict[str, Any]
) -> None:
    client = _guarded_client(service, counter.endpoint)
    with pytest.raises(ReadOnlyViolation) as info:
        getattr(client, method)(**kwargs)
    assert "nothing was sent" in str(info.value)
    assert counter.count == 0


def test_data_plane_refused_even_if_allow_listed() -> None:
    allowed = set(allowed_operations()) | {("s3", "GetObject"), ("secretsmanager", "GetSecretValue")}
    for service, op in [("s3", "GetObject"), ("secretsmanager", "GetSecretValue")]:
        with pytest.raises(ReadOnlyViolation, match="data-plane"):
            check_operation(service, op, {}, allowed)


def test_ssm_decryption_refused() -> None:
    allowed = {("ssm", "GetParameters")}
    check_operation("ssm", "GetParameters", {"Names": ["p"]}, allowed)  # configuration read: fine
    with pytest.raises(ReadOnlyViolation, match="decrypting"):
        check_operation("ssm", "GetParameters", {"Names": ["p"], "WithDecryption": True}, allowed)


def test_provider_sessions_are_guarded(counter: ConnectionCounter) -> None:
    """Clients from the provider's own factory (worker threads included) carry the guard."""
    factory = SessionFactory.create(AwsSettings(endpoint_url=counter.endpoint, max_attempts=1))
    results: list[BaseException] = []

    def worker() -> None:
        try:
            factory.client("s3", "ap-northeast-1").put_bucket_versioning(
                Bucket="example-bucket", VersioningConfiguration={"Status": "Suspended"}
            )
        except BaseException as e:
            results.append(e)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert len(results) == 1 and isinstance(results[0], ReadOnlyViolation)
    assert counter.count == 0


# Presigning mints a bearer credential from the scanner's keys without sending anything, so "nothing was
# sent" is not enough: the guard must refuse to produce the URL or token at all.
PRESIGN_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "rds",
        "generate_db_auth_token",
        {"DBHostname": "db.example.internal", "Port": 5432, "DBUsername": "app"},
    ),
    ("sts", "generate_presigned_url", {"ClientMethod": "get_caller_identity"}),
    ("s3", "generate_presigned_url", {"ClientMethod": "list_buckets"}),  # an allow-listed read
    ("s3", "generate_presigned_url", {"ClientMethod": "get_object", "Params": {"Bucket": "b", "Key": "k"}}),
    ("s3", "generate_presigned_post", {"Bucket": "example-bucket", "Key": "k"}),
]


@pytest.mark.parametrize("service,method,kwargs", PRESIGN_CALLS)
def test_unguarded_client_would_presign(service: str, method: str, kwargs: dict[str, Any]) -> None:
    """Control for the test below: the same call on an unguarded client does produce a signed credential."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    out = getattr(session.client(service, endpoint_url="http://127.0.0.1:9"), method)(**kwargs)
    assert "signature" in str(out).lower()  # X-Amz-Signature / Signature= (URL, token) or POST fields


@pytest.mark.parametrize("service,method,kwargs", PRESIGN_CALLS)
def test_presigning_refused(
    counter: ConnectionCounter, service: str, method: str, kwargs: dict[str, Any]
) -> None:
    client = _guarded_client(service, counter.endpoint)
    produced: list[Any] = []
    with pytest.raises(ReadOnlyViolation, match="presigned URLs are never generated"):
        produced.append(getattr(client, method)(**kwargs))
    assert produced == [] and counter.count == 0


def test_presign_refused_on_provider_sessions(counter: ConnectionCounter) -> None:
    factory = SessionFactory.create(AwsSettings(endpoint_url=counter.endpoint, max_attempts=1))
    rds = factory.client("rds", "ap-northeast-1")
    with pytest.raises(ReadOnlyViolation) as info:
        rds.generate_db_auth_token(DBHostname="db.example.internal", Port=3306, DBUsername="app")
    assert info.value.service == "rds-db" and info.value.operation == "connect"
    with pytest.raises(ReadOnlyViolation):
        factory.client("sts", "ap-northeast-1").generate_presigned_url("get_caller_identity")


def test_guard_on_existing_client_refuses_presign() -> None:
    from ismap_scan.providers.aws.guard import install_guard_on_client

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    rds = session.client("rds", endpoint_url="http://127.0.0.1:9")
    install_guard_on_client(rds)
    with pytest.raises(ReadOnlyViolation):
        rds.generate_db_auth_token(DBHostname="db.example.internal", Port=5432, DBUsername="app")
