"""The interface every cloud provider implements: discovery, collection and a read-only guard.

Providers are found through the ``ismap_scan.providers`` entry-point group (``aws = ...:AwsProvider``), so
no module outside ``providers/<cloud>/`` names a cloud. A provider only calls APIs and writes records; it
never judges (that is the engine's job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from ..errors import InputError
from ..model import Resource


@dataclass
class CollectOptions:
    """What the scan asks of a provider.

    ``settings`` is the provider's own block of ``ismap-scan.yaml`` (e.g. ``aws: {profile, role_arn,
    regions}``), already validated by :meth:`Provider.settings_model`. ``resource_types`` limits collection
    to the types the selected checks need (``None``: all declared types). ``max_workers`` bounds threads.
    ``client_hooks`` are callables the demo/test harness passes to adjust SDK sessions (e.g. moto quirks);
    production code leaves it empty.
    """

    settings: Any = None
    resource_types: set[str] | None = None
    max_workers: int = 8
    client_hooks: list[Callable[[Any], None]] = field(default_factory=list)


class Progress(Protocol):
    """Progress sink for collection (the CLI backs it with a rich progress bar)."""

    def add_total(self, n: int) -> None: ...

    def advance(self, description: str) -> None: ...


class NullProgress:
    def add_total(self, n: int) -> None:
        pass

    def advance(self, description: str) -> None:
        pass


class Provider(Protocol):
    """A cloud provider plugin.

    ``name`` is the snapshot ``provider`` value (``"aws"``). :meth:`resource_types` lists the declared
    type names (``"aws.s3.bucket"``) without importing the SDK. :meth:`collect` yields records, scope records
    (``<provider>.account``, ``<provider>.region``) included; it must not raise for a denied or failed read:
    those become :class:`~ismap_scan.model.CollectionError` entries on the records they affect.
    """

    name: str

    def settings_model(self) -> type[Any]: ...

    def resource_types(self) -> list[str]: ...

    def collect(self, options: CollectOptions, progress: Progress) -> Iterator[Resource]: ...


def load_providers() -> dict[str, Callable[[], Provider]]:
    """Provider factories by name, from the ``ismap_scan.providers`` entry points (not imported yet)."""
    out: dict[str, Callable[[], Provider]] = {}
    for ep in entry_points(group="ismap_scan.providers"):
        out[ep.name] = ep.load
    return out


def get_provider(name: str) -> Provider:
    """Instantiate the provider ``name``. Raises :class:`InputError` for an unknown provider."""
    eps = {ep.name: ep for ep in entry_points(group="ismap_scan.providers")}
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise InputError(f"unknown provider {name!r} (known: {known})")
    cls = eps[name].load()
    provider: Provider = cls()
    return provider
