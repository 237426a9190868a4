"""Credentials, role assumption and per-thread boto3 sessions/clients, each guarded read-only.

boto3 sessions are not thread-safe (boto3 docs, "Multithreading or multiprocessing with resources"), so each
worker thread gets its own ``boto3.Session`` and its own clients, built from one set of credentials resolved
once up front (default chain, a profile, or ``sts:AssumeRole`` with an external ID). Every session carries the
read-only guard and the harness's client hooks before any client is made from it.

boto3 is imported here lazily (inside functions), so the CLI's ``--help`` never pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ... import __version__
from ...errors import IsmapScanError
from .guard import install_guard
from .settings import AwsSettings


class AwsCredentialsError(IsmapScanError):
    """No usable AWS credentials, or the role could not be assumed: nothing can be collected (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class FrozenCredentials:
    """Static credentials handed to every worker session (the secret is kept in memory only)."""

    access_key: str
    secret_key: str
    token: str | None

    def __repr__(self) -> str:  # never print the secret, even in a traceback's locals
        return (
            f"FrozenCredentials(access_key={self.access_key[:4]}..., token={'set' if self.token else 'none'})"
        )


class SessionFactory:
    """Per-thread boto3 sessions and clients for one scanned account.

    Construct with :meth:`create`, which resolves credentials (and assumes ``role_arn`` if set). Then
    :meth:`client` gives a cached client per (thread, service, region), guarded and hooked.
    """

    def __init__(
        self,
        settings: AwsSettings,
        credentials: FrozenCredentials,
        default_region: str,
        hooks: Sequence[Callable[[Any], None]] = (),
        loader: Any = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.default_region = default_region
        self._hooks = tuple(hooks)
        self._local = threading.local()
        self._config = _client_config(settings)
        # botocore's data loader (parsed service models), shared with factories made by :meth:`assume`.
        self._loader: Any = loader
        self._loader_lock = threading.Lock()

    @classmethod
    def create(cls, settings: AwsSettings, hooks: Sequence[Callable[[Any], None]] = ()) -> SessionFactory:
        """Resolve credentials once and return a factory.

        Source: ``profile`` (or the default chain), then ``sts:AssumeRole(RoleArn, RoleSessionName,
        ExternalId)`` when ``role_arn`` is set. Raises :class:`AwsCredentialsError` when no credentials are
        found or the role cannot be assumed (the message names the cause, never a secret).
        """
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            base = boto3.Session(profile_name=settings.profile)
        except BotoCoreError as e:  # ProfileNotFound
            raise AwsCredentialsError(f"AWS profile: {e}") from e
        install_guard(base)
        for hook in hooks:
            hook(base)
        default_region = base.region_name or "us-east-1"
        creds = base.get_credentials()
        if creds is None:
            raise AwsCredentialsError(
                "no AWS credentials found (environment, shared config/credentials files, SSO, or instance role)"
            )
        frozen = creds.get_frozen_credentials()
        current = FrozenCredentials(frozen.access_key, frozen.secret_key, frozen.token)
        if settings.role_arn:
            sts = base.client(
                "sts",
                region_name=default_region,
                endpoint_url=settings.endpoint_url,
                config=_client_config(settings),
            )
            try:
                current = _assume(sts, settings.role_arn, settings.role_session_name, settings.external_id)
            except (ClientError, BotoCoreError) as e:
                raise AwsCredentialsError(f"cannot assume role {settings.role_arn}: {e}") from e
        return cls(settings, current, default_region, hooks)

    def assume(self, role_arn: str, external_id: str | None = None) -> SessionFactory:
        """A factory for ``role_arn`` (another account's role), assumed with this factory's credentials.

        Calls ``sts:AssumeRole(RoleArn, RoleSessionName=settings.role_session_name, ExternalId)``. Raises
        botocore's ``ClientError`` (``AccessDenied`` when the trust policy or an SCP refuses) or
        ``BotoCoreError`` unchanged, so the caller can record the failure on that account's record.
        """
        creds = _assume(self.client("sts"), role_arn, self.settings.role_session_name, external_id)
        return SessionFactory(self.settings, creds, self.default_region, self._hooks, self._loader)

    def session(self) -> Any:
        """This thread's ``boto3.Session`` (created on first use, guard and hooks registered)."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            import boto3
            import botocore.session

            core = botocore.session.Session()
            # Share one data loader (parsed service models, read-only after loading) across the worker
            # sessions: each session would otherwise parse the same JSON models again (~0.1-0.3 s each).
            with self._loader_lock:
                if self._loader is None:
                    self._loader = core.get_component("data_loader")
                else:
                    core.register_component("data_loader", self._loader)
            sess = boto3.Session(
                botocore_session=core,
                aws_access_key_id=self.credentials.access_key,
                aws_secret_access_key=self.credentials.secret_key,
                aws_session_token=self.credentials.token,
                region_name=self.default_region,
            )
            install_guard(sess)
            for hook in self._hooks:
                hook(sess)
            self._local.session = sess
            self._local.clients = {}
        return sess

    def client(self, service: str, region: str | None = None) -> Any:
        """A client of ``service`` (boto3 name) in ``region`` (default: the session's), cached per thread."""
        sess = self.session()
        key = (service, region or self.default_region)
        clients: dict[tuple[str, str], Any] = self._local.clients
        cl = clients.get(key)
        if cl is None:
            cl = sess.client(
                service, region_name=key[1], endpoint_url=self.settings.endpoint_url, config=self._config
            )
            clients[key] = cl
        return cl


def _assume(sts: Any, role_arn: str, session_name: str, external_id: str | None) -> FrozenCredentials:
    """``sts:AssumeRole`` -> the temporary credentials (raises botocore errors unchanged)."""
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id:
        kwargs["ExternalId"] = external_id
    assumed = sts.assume_role(**kwargs)["Credentials"]
    return FrozenCredentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])


def _client_config(settings: AwsSettings) -> Any:
    """botocore ``Config``: retry mode (throttling is retried with backoff), attempts, user agent."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": settings.retry_mode}
    if settings.max_attempts is not None:
        # ``total_max_attempts`` counts the first request; botocore's ``max_attempts`` would count retries only.
        retries["total_max_attempts"] = settings.max_attempts
    return Config(
        retries=retries,
        user_agent_extra=f"ismap-scan/{__version__}",
        connect_timeout=10,
        read_timeout=60,
    )
