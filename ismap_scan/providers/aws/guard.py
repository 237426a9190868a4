"""The read-only guard (DESIGN §7): refuse any AWS operation not declared as a read, before it is sent.

:func:`install_guard` registers a handler for botocore's ``provide-client-params`` event on a session. That
event fires first when a client method is called (before parameter validation, request building, signing and
sending), so a refused operation never leaves the process. The allow-list is derived from the resource-type
declarations (``types.allowed_operations()``), which include the few identity calls (``sts:GetCallerIdentity``,
``sts:AssumeRole``, ``iam:GenerateCredentialReport``, ``ec2:DescribeRegions``).

Data-plane reads are refused even if someone adds them to the allow-list: they return object contents,
secret values, plaintext or code, none of which a configuration check needs (:data:`DATA_PLANE_DENY`).

Presigning is refused outright, whatever the operation: a presigned URL (``generate_presigned_url``,
``generate_presigned_post``) or an RDS IAM auth token (``generate_db_auth_token``, a presigned
``rds-db:connect`` URL) is a bearer credential minted from the scanner's own keys without any request being
sent, so the allow-list, which is about what goes over the wire, cannot judge it. Two hooks:

- ``provide-client-params`` sees ``context["is_presign_request"]`` (botocore sets it in the client's
  ``generate_presigned_url`` / ``generate_presigned_post``) and refuses before anything is serialised;
- ``before-sign`` fires inside ``RequestSigner.sign`` for every signature, including the ones
  ``generate_db_auth_token`` makes by calling ``RequestSigner.generate_presigned_url`` directly (no client
  method, so no ``provide-client-params``). There the ``signature_version`` carries botocore's presign suffix
  (``v4-query``, ``s3v4-presign-post``; ``RequestSigner._choose_signer``), and it is refused before the
  signer computes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from ...errors import IsmapScanError

#: Operations that read data rather than configuration; never allowed, whatever the allow-list says.
#: ``(boto3 service name, operation)``. Why each is here:
DATA_PLANE_DENY: frozenset[tuple[str, str]] = frozenset(
    {
        # object contents
        ("s3", "GetObject"),
        ("s3", "GetObjectTorrent"),
        ("s3", "SelectObjectContent"),
        ("glacier", "GetJobOutput"),
        # secret values and plaintext
        ("secretsmanager", "GetSecretValue"),
        ("secretsmanager", "BatchGetSecretValue"),
        ("kms", "Decrypt"),
        ("kms", "ReEncrypt"),
        ("kms", "GenerateDataKey"),
        ("kms", "GenerateDataKeyPair"),
        ("kms", "GenerateDataKeyWithoutPlaintext"),
        ("kms", "GenerateDataKeyPairWithoutPlaintext"),
        ("kms", "DeriveSharedSecret"),
        ("kms", "GetParametersForImport"),
        # instance passwords, console output (may hold secrets printed at boot)
        ("ec2", "GetPasswordData"),
        ("ec2", "GetConsoleOutput"),
        ("ec2", "GetConsoleScreenshot"),
        # function code (GetFunction returns a presigned URL to the code) and invocation
        ("lambda", "GetFunction"),
        ("lambda", "GetLayerVersion"),
        ("lambda", "GetLayerVersionByArn"),
        ("lambda", "Invoke"),
        ("lambda", "InvokeAsync"),
        ("lambda", "InvokeWithResponseStream"),
        # table, queue, stream and log contents
        ("dynamodb", "GetItem"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "Query"),
        ("dynamodb", "Scan"),
        ("sqs", "ReceiveMessage"),
        ("kinesis", "GetRecords"),
        ("logs", "GetLogEvents"),
        ("logs", "FilterLogEvents"),
        ("athena", "GetQueryResults"),
        ("rds", "DownloadDBLogFilePortion"),
        # credentials
        ("ecr", "GetAuthorizationToken"),
        ("sts", "GetSessionToken"),
        ("sts", "GetFederationToken"),
    }
)

#: SSM parameter reads are configuration unless they ask for decryption of SecureString values.
_SSM_DECRYPTING = frozenset({"GetParameter", "GetParameters", "GetParametersByPath", "GetParameterHistory"})


class ReadOnlyViolation(IsmapScanError):
    """An AWS operation outside the read-only allow-list was attempted; nothing was sent.

    Raised from inside the boto3 client call. It is a defect in ismap-scan (or a harness hook), never an AWS
    condition, so the collector does not turn it into a ``CollectionError``.
    """

    def __init__(self, service: str, operation: str, reason: str) -> None:
        self.service = service
        self.operation = operation
        super().__init__(f"read-only guard refused {service}:{operation} ({reason}); nothing was sent")


def check_operation(
    service: str, operation: str, params: dict[str, Any], allowed: Collection[tuple[str, str]]
) -> None:
    """Raise :class:`ReadOnlyViolation` unless ``service:operation`` with ``params`` is a permitted read.

    ``service`` is the boto3 client name (``s3control``), ``operation`` botocore's name (``GetObject``).
    """
    if (service, operation) in DATA_PLANE_DENY:
        raise ReadOnlyViolation(service, operation, "data-plane read")
    if service == "ssm" and operation in _SSM_DECRYPTING and params.get("WithDecryption"):
        raise ReadOnlyViolation(service, operation, "decrypting parameter read")
    if (service, operation) not in allowed:
        raise ReadOnlyViolation(service, operation, "not in the allow-list of declared read operations")


#: ``signature_version`` suffixes botocore appends when signing for a presigned URL or POST
#: (``RequestSigner._choose_signer``: ``presign-url`` -> ``-query``, ``presign-post`` -> ``-presign-post``).
_PRESIGN_SUFFIXES = ("-query", "-presign-post")


def make_guard_handler(allowed: Collection[tuple[str, str]]) -> Callable[..., None]:
    """A botocore ``provide-client-params`` handler enforcing ``allowed`` (see :func:`check_operation`).

    Also refuses every client-level presign (``context["is_presign_request"]``), allowed operation or not.
    """
    frozen = frozenset(allowed)

    def _guard(params: dict[str, Any], model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        if context and context.get("is_presign_request"):
            raise ReadOnlyViolation(service, operation, "presigned URLs are never generated")
        check_operation(service, operation, params or {}, frozen)

    return _guard


def refuse_presign(
    request: Any = None,
    signature_version: Any = None,
    signing_name: Any = None,
    operation_name: Any = None,
    **_: Any,
) -> None:
    """A botocore ``before-sign`` handler: raise :class:`ReadOnlyViolation` when the signature being made is a
    presign (``generate_db_auth_token``, ``generate_presigned_url``/``_post``); standard request signing passes.

    ``signature_version`` is a string such as ``"v4-query"`` (or ``botocore.UNSIGNED``, which signs nothing).
    """
    context = getattr(request, "context", None) or {}
    presign_suffix = isinstance(signature_version, str) and signature_version.endswith(_PRESIGN_SUFFIXES)
    if presign_suffix or context.get("is_presign_request"):
        raise ReadOnlyViolation(str(signing_name), str(operation_name), "presigned URLs are never generated")


def _register(events: Any, allowed: Collection[tuple[str, str]]) -> None:
    events.register(
        "provide-client-params", make_guard_handler(allowed), unique_id="ismap-scan-read-only-guard"
    )
    events.register("before-sign", refuse_presign, unique_id="ismap-scan-presign-guard")


def install_guard(session: Any, allowed: Collection[tuple[str, str]] | None = None) -> None:
    """Register the guard on a ``boto3.Session`` (``.events``) or botocore session (``.get_component``).

    Clients created from the session afterwards carry it (botocore copies the session's event handlers into
    each client). ``allowed`` defaults to the provider's declared operations.
    """
    if allowed is None:
        from .types import allowed_operations

        allowed = allowed_operations()
    events = getattr(session, "events", None)
    if events is None:
        events = session.get_component("event_emitter")
    _register(events, allowed)


def install_guard_on_client(client: Any, allowed: Collection[tuple[str, str]] | None = None) -> None:
    """Register the guard on an existing client (``client.meta.events``)."""
    if allowed is None:
        from .types import allowed_operations

        allowed = allowed_operations()
    _register(client.meta.events, allowed)
